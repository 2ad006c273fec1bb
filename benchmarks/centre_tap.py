"""What CentreTapResidualUnit's 1x1 matrix product saves: ResNet-34 train steps with and without.

Run: ``python -m benchmarks.centre_tap [--rounds 8] [--steps 8]``. Two copies of
``cnnkit.models.resnet34`` with the same weights train on the same random 28x28x1 batches of
64 images, in interleaved rounds (alternating which goes first), so that a machine whose load
changes affects both alike: ``resnet34(centre_tap=True)``, whose
``cnnkit.layers.CentreTapResidualUnit`` runs the 3x3 convolutions of the last stage's 1x1 maps
as matrix products, and the plain ``resnet34()`` with the textbook ``ResidualUnit`` (Keras'
Conv2D everywhere). Reports wall-clock and process CPU time per step; on a shared machine the
CPU time is the steadier of the two.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow: no start-up lines

import cnnkit  # noqa: F401  (first: sets the fast-path environment before TensorFlow)
from cnnkit.layers import CentreTapResidualUnit, ResidualUnit
from cnnkit.models import resnet34

import keras
import numpy as np


def plain_copy(model: keras.Model) -> keras.Model:
    """A copy of ``model`` with the textbook ResidualUnit for every CentreTapResidualUnit."""

    def clone(layer):
        cls = ResidualUnit if isinstance(layer, CentreTapResidualUnit) else layer.__class__
        return cls.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=8, help="train steps per model and round")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((64 * args.steps, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    fast = resnet34(bn_momentum=0.9, centre_tap=True)
    models = {"centre-tap matmul": fast, "plain Conv2D": plain_copy(fast)}
    for model in models.values():
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x[:128], y[:128], batch_size=64, epochs=2, verbose=0)  # trace, warm up
    wall = {name: [] for name in models}
    cpu = {name: [] for name in models}
    for r in range(args.rounds):
        for name in list(models)[:: 1 if r % 2 == 0 else -1]:
            t, c = time.perf_counter(), time.process_time()
            models[name].fit(x, y, batch_size=64, epochs=1, verbose=0)
            wall[name].append((time.perf_counter() - t) / args.steps)
            cpu[name].append((time.process_time() - c) / args.steps)
    print(f"ResNet-34, batch 64, 28x28x1, {args.rounds} interleaved rounds of {args.steps} steps")
    for name in models:
        print(
            f"{name:18s} ms/step: wall median {1000 * np.median(wall[name]):.0f} "
            f"(best {1000 * min(wall[name]):.0f}), CPU median {1000 * np.median(cpu[name]):.0f}"
        )
    fast_name, plain_name = models
    for label, times in (("wall", wall), ("CPU", cpu)):
        ratios = np.array(times[plain_name]) / np.array(times[fast_name])
        print(
            f"plain / centre-tap, {label} time per round: median {np.median(ratios):.3f} "
            f"(range {ratios.min():.2f}-{ratios.max():.2f})"
        )


if __name__ == "__main__":
    main()
