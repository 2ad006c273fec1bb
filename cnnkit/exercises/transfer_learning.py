"""Checks for the exercises of notebook 08 (transfer learning and fine-tuning).

1. the trainable and non-trainable parameters of a classifier with a frozen base, and with its
   top convolution unfrozen (the notebook's :func:`cnnkit.transfer.small_base` and a 5-class head);
2. a function that unfreezes the convolutions of the top blocks and keeps the rest frozen;
3. a classifier whose base keeps batch normalisation in inference mode while it is fine-tuned;
4. a fine-tuned classifier of the digits 5-9, trained on 5 labelled digits per class, that
   beats training from scratch on the held-back test digits.

The checks build their own copies of the base and read the bundled MNIST sample, as the
notebook does, so their verdicts do not depend on quick mode or on what the notebook trained.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnkit.data import load_mnist_csv
from cnnkit.exercises.checking import (
    Mistake,
    answer_entries,
    as_array,
    as_model,
    call_answer,
    compare_number,
    exercise,
)
from cnnkit.exercises.trained import accuracy, all_layers
from cnnkit.transfer import small_base

import keras
import numpy as np

N_CLASSES = 5
"""The target task: the digits 5-9, as classes 0-4 (class ``i`` is the digit ``5 + i``)."""
BLOCKS = 3
"""The base's blocks, each a convolution ``conv1``... and a batch normalisation ``bn1``..."""
ACCURACY_FLOOR = 0.80
"""Exercise 4: the lowest accuracy accepted on the sample's test digits 5-9, in every mode."""


def _counts(model: keras.Model) -> tuple[int, int]:
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable, non_trainable


def _classifier(base: keras.Model) -> keras.Model:
    inputs = keras.Input(shape=(28, 28, 1))
    return keras.Model(inputs, keras.layers.Dense(N_CLASSES)(base(inputs)))


@exercise("transfer_learning.1")
def check_1(frozen: Any, top_block: Any) -> None:
    """Check the (trainable, non-trainable) parameter counts of a transfer classifier.

    The classifier is ``small_base()`` followed by ``Dense(5)``. `frozen`: the counts with the
    whole base frozen (``base.trainable = False``). `top_block`: the counts with only the last
    convolution ``conv3`` trainable in the base, batch normalisation included in the frozen
    rest. Exact.

    Parameters
    ----------
    frozen : pair of int
        (trainable, non-trainable) with the base frozen.
    top_block : pair of int
        (trainable, non-trainable) with only ``conv3`` trainable in the base.

    Examples
    --------
    >>> check_1(..., ...)
    Exercise transfer_learning.1: not attempted yet: replace `...` with your answer.
    """
    base = small_base()
    model = _classifier(base)
    head = 128 * N_CLASSES + N_CLASSES
    base.trainable = False
    frozen_expected = _counts(model)
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name == "conv3"
    top_expected = _counts(model)
    total = base.count_params()
    moving = sum(2 * layer.gamma.shape[0] for layer in base.layers if "bn" in layer.name)
    bn3_half = 2 * base.get_layer("bn3").gamma.shape[0]

    trainable, non_trainable = answer_entries(frozen, 2, "`frozen`", "trainable, non-trainable")
    compare_number(
        trainable,
        frozen_expected[0],
        name="`frozen`: the trainable parameters",
        mistakes={
            "the new Dense head is not frozen: its weights and biases still train": 0,
            "do not forget the head's 5 biases": head - N_CLASSES,
            "that is the whole base: base.trainable = False freezes all of it, only the head "
            "trains": total + head,
        },
    )
    compare_number(
        non_trainable,
        frozen_expected[1],
        name="`frozen`: the non-trainable parameters",
        mistakes={
            "that leaves out the batch-normalisation moving means and variances, which are "
            "non-trainable weights too (model.non_trainable_weights lists them)": total - moving,
            "the head trains, so its parameters are not in the non-trainable count": total + head,
            "the base's convolutions have no bias (use_bias=False)": total + 32 + 64 + 128,
        },
    )
    trainable, non_trainable = answer_entries(
        top_block, 2, "`top_block`", "trainable, non-trainable"
    )
    compare_number(
        trainable,
        top_expected[0],
        name="`top_block`: the trainable parameters",
        mistakes={
            "bn3 stays frozen (section 6), so its scale (gamma) and shift (beta) do not train": (
                top_expected[0] + bn3_half
            ),
            "bn3 stays frozen, and its moving mean and variance are never trainable anyway": (
                top_expected[0] + 2 * bn3_half
            ),
            "the Dense head still trains: add its weights and biases": top_expected[0] - head,
            "conv3 has no bias (use_bias=False)": top_expected[0] + 128,
            "conv3 trains now: add its 3 x 3 x 64 x 128 kernel": head,
            "do not forget the head's 5 biases": top_expected[0] - N_CLASSES,
        },
    )
    compare_number(
        non_trainable,
        top_expected[1],
        name="`top_block`: the non-trainable parameters",
        mistakes={
            "bn3 stays frozen: its 4 x 128 numbers are all non-trainable": (
                top_expected[1] - bn3_half
            ),
            "that leaves out the batch-normalisation moving means and variances, which are "
            "non-trainable weights too": top_expected[1] - moving,
        },
    )


def _trainable_names(model: keras.Model) -> set[str]:
    """``"conv3/kernel"``-style names of the weights that `model` trains."""
    names = {
        id(weight): f"{layer.name}/{weight.name}"
        for layer in all_layers(model)
        for weight in layer.weights
    }
    return {names.get(id(weight), weight.name) for weight in model.trainable_weights}


def _block_names(blocks: range, batch_norm: bool = False) -> set[str]:
    names = set()
    for block in blocks:
        names.add(f"conv{block}/kernel")
        if batch_norm:
            names |= {f"bn{block}/gamma", f"bn{block}/beta"}
    return names


@exercise("transfer_learning.2")
def check_2(unfreeze_top: Callable[..., Any]) -> None:
    """Check a function that makes only the top `n_blocks` convolutions of the base trainable.

    ``unfreeze_top(base, n_blocks)`` takes ``small_base()`` (frozen or not), makes the
    convolutions of the last `n_blocks` blocks trainable (``conv3`` for one block), keeps every
    other layer frozen, batch normalisation included, and returns the base. Tried with
    ``n_blocks`` 0 to 3 on fresh bases, some frozen beforehand.

    Parameters
    ----------
    unfreeze_top : callable
        The learner's function.

    Examples
    --------
    >>> check_2(...)
    Exercise transfer_learning.2: not attempted yet: replace `...` with your answer.
    """
    for n_blocks, frozen_before in [(1, True), (2, False), (0, False), (3, True), (1, False)]:
        base = small_base()
        base.trainable = not frozen_before
        got = call_answer(unfreeze_top, base, n_blocks, name="your unfreeze_top")
        if not isinstance(got, keras.Model):
            raise Mistake(
                f"unfreeze_top(base, {n_blocks}) returned {type(got).__name__}: return the base."
            )
        names = _trainable_names(got)
        expected = _block_names(range(BLOCKS - n_blocks + 1, BLOCKS + 1))
        if names == expected:
            continue
        state = "a frozen" if frozen_before else "a trainable"
        call = f"unfreeze_top({state} base, {n_blocks})"
        if n_blocks and not names:
            raise Mistake(
                f"after {call} nothing is trainable: while base.trainable is False, Keras hides "
                "every weight of its layers, whatever their own flags say. Set "
                "base.trainable = True first, then freeze the layers you keep."
            )
        if names == _block_names(range(1, n_blocks + 1)):
            raise Mistake(
                f"after {call} the first {n_blocks} block(s) are trainable: unfreeze the top "
                "ones (the last layers, nearest the head), whose features are the most "
                "specific to the source task."
            )
        all_batch_norm = _block_names(range(1, BLOCKS + 1), True) - _block_names(
            range(1, BLOCKS + 1)
        )
        if n_blocks and names == expected | all_batch_norm:
            raise Mistake(
                f"after {call} batch normalisation layers are trainable too: keep every "
                "BatchNormalization layer frozen. In Keras 3 an unfrozen one runs in training "
                "mode inside fit and moves its pretrained statistics (section 6)."
            )
        if n_blocks and names == _block_names(range(BLOCKS - n_blocks + 1, BLOCKS + 1), True):
            raise Mistake(
                f"after {call} the batch normalisations of the unfrozen blocks train too: keep "
                "every BatchNormalization layer frozen (section 6); unfreeze the convolutions."
            )
        if n_blocks < BLOCKS and names == _block_names(range(BLOCKS - n_blocks, BLOCKS + 1)):
            raise Mistake(f"after {call} {n_blocks + 1} blocks are trainable: off by one.")
        if names >= _block_names(range(1, BLOCKS + 1)) and n_blocks < BLOCKS:
            raise Mistake(
                f"after {call} the whole base is trainable: freeze every layer outside the "
                f"last {n_blocks} block(s) (layer.trainable = False)."
            )
        extra = sorted(names - expected)
        missing = sorted(expected - names)
        raise Mistake(
            f"after {call} the trainable weights are not those of the last {n_blocks} "
            f"block(s): trainable but should not be {extra}, frozen but should train {missing}."
        )


@exercise("transfer_learning.3")
def check_3(build_classifier: Callable[..., Any]) -> str:
    """Check a classifier that fine-tunes a base without moving its batch-norm statistics.

    ``build_classifier(base, n_classes)`` returns a model that takes digits (28, 28, 1) with
    their 0..255 values, passes them through `base` (the given model itself, left trainable:
    fine-tuning trains it), and returns `n_classes` scores. One training step on digits whose
    statistics differ from the base's must leave every moving mean and variance of the base's
    batch normalisation unchanged, while the base's convolutions train.

    Parameters
    ----------
    build_classifier : callable
        The learner's function.

    Returns
    -------
    str
        How the base's statistics were kept.

    Examples
    --------
    >>> check_3(...)
    Exercise transfer_learning.3: not attempted yet: replace `...` with your answer.
    """
    base = _pretend_pretrained_base()
    model = as_model(call_answer(build_classifier, base, N_CLASSES, name="your build_classifier"))
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError) as error:
        raise Mistake("your model has no input shape yet: start it with keras.Input.") from error
    if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != (28, 28, 1):
        raise Mistake("your model should take one input of shape (28, 28, 1): keras.Input(...).")
    if len(outputs) != 1 or tuple(outputs[0].shape[1:]) != (N_CLASSES,):
        raise Mistake(f"your model should return {N_CLASSES} scores per image (n_classes).")
    if not base.trainable:
        raise Mistake(
            "build_classifier set base.trainable = False: that avoids the problem during feature "
            "extraction, but fine-tuning must train the base; keep it trainable and freeze only "
            "its batch normalisation layers."
        )
    own = {id(weight) for weight in model.trainable_weights}
    kernel = base.get_layer("conv3").kernel
    if id(kernel) not in own:
        if not any(layer is base for layer in all_layers(model)):
            raise Mistake(
                "your model does not use the base it was given (a copy, or a new one?): call "
                "`base` itself on the inputs."
            )
        raise Mistake("the base's convolutions do not train in your model: keep them trainable.")
    before = [keras.ops.convert_to_numpy(w) for w in _moving_statistics(base)]
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(32, 28, 28, 1)).astype(np.uint8)
    labels = rng.integers(0, N_CLASSES, size=32)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    try:
        model.fit(images, labels, batch_size=32, epochs=1, verbose=0)
    except Exception as error:
        raise Mistake(f"training your model failed: {type(error).__name__}: {error}") from error
    after = [keras.ops.convert_to_numpy(w) for w in _moving_statistics(base)]
    if not all(np.all(np.isfinite(a)) for a in after):
        raise Mistake("one training step made the base's moving statistics NaN or infinite.")
    moved = [
        weight.path
        for weight, b, a in zip(_moving_statistics(base), before, after, strict=True)
        if not np.allclose(a, b)
    ]
    if moved:
        raise Mistake(
            f"one training step changed {len(moved)} moving statistics of the base (e.g. "
            f"{moved[0]}): its batch normalisation ran in training mode, normalising with the "
            "statistics of each new batch and overwriting the pretrained ones. A "
            "training=False written when the model was built does not help in Keras 3 (fit's "
            "training=True replaces it): freeze the BatchNormalization layers themselves "
            "(layer.trainable = False), which keeps them in inference mode (section 6)."
        )
    if np.array_equal(keras.ops.convert_to_numpy(kernel), _PRETEND_KERNEL):
        raise Mistake(
            "the base's convolutions did not change in one training step: keep them trainable."
        )
    return "the base's moving statistics stayed put while its convolutions trained."


_PRETEND_KERNEL: np.ndarray | None = None


def _moving_statistics(base: keras.Model) -> list[Any]:
    return [
        weight
        for layer in base.layers
        if isinstance(layer, keras.layers.BatchNormalization)
        for weight in (layer.moving_mean, layer.moving_variance)
    ]


def _pretend_pretrained_base() -> keras.Model:
    """A base whose moving statistics are far from what random digits give (as if pretrained)."""
    global _PRETEND_KERNEL
    keras.utils.set_random_seed(8)
    base = small_base()
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(np.full(layer.moving_mean.shape, -0.5, dtype="float32"))
            layer.moving_variance.assign(np.full(layer.moving_variance.shape, 2.0, "float32"))
    _PRETEND_KERNEL = keras.ops.convert_to_numpy(base.get_layer("conv3").kernel)
    return base


def target_test_set() -> tuple[np.ndarray, np.ndarray]:
    """The bundled MNIST sample's test digits 5-9, as raw pixels, with labels 0-4.

    Examples
    --------
    >>> images, labels = target_test_set()
    >>> images.dtype, sorted(set(labels.tolist()))
    (dtype('uint8'), [0, 1, 2, 3, 4])
    """
    _, _, (images, digits) = load_mnist_csv("mnist-sample")
    keep = digits >= 5
    return images[keep], digits[keep] - 5


@exercise("transfer_learning.4")
def check_4(model: Any) -> str:
    """Check a classifier of the digits 5-9 on the bundled sample's held-back test digits.

    The model takes digits (28, 28, 1) with their 0..255 values and returns 5 scores (class
    ``i`` is the digit ``5 + i``). It must classify at least :data:`ACCURACY_FLOOR` of the
    sample's test digits 5-9 correctly (the same floor in quick mode).

    Parameters
    ----------
    model : keras.Model or callable
        The trained model, or a function returning it.

    Returns
    -------
    str
        The accuracy and the floor.

    Examples
    --------
    >>> check_4(...)
    Exercise transfer_learning.4: not attempted yet: replace `...` with your answer.
    """
    model = as_model(model, name="your fine-tuned model")
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError) as error:
        raise Mistake("your model has no input shape yet: start it with keras.Input.") from error
    if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != (28, 28, 1):
        raise Mistake("your model should take one input of shape (28, 28, 1).")
    if len(outputs) != 1 or tuple(outputs[0].shape[1:]) != (N_CLASSES,):
        shape = tuple(outputs[0].shape[1:]) if len(outputs) == 1 else "several outputs"
        raise Mistake(
            f"your model returns {shape}: it should return 5 scores, one per digit 5-9 "
            "(class i is the digit 5 + i)."
        )
    images, labels = target_test_set()
    scores = as_array(model.predict(images.copy(), batch_size=500, verbose=0), "its scores")
    if not np.all(np.isfinite(scores)):
        raise Mistake("your model's scores contain NaN or infinite values: did training diverge?")
    share = float(np.mean(scores.argmax(axis=1) == labels))
    summary = (
        f"your model classifies {share:.1%} of the sample's {len(labels)} test digits 5-9 correctly"
    )
    if share >= ACCURACY_FLOOR:
        return f"{summary} (floor {ACCURACY_FLOOR:.0%})."
    if accuracy(model, images / 255.0, labels) >= ACCURACY_FLOOR:
        raise Mistake(
            f"{summary} on raw pixels, but passes on pixels scaled to [0, 1]: keep the scaling "
            "inside the model (the base starts with a Rescaling layer), and train on raw pixels."
        )
    if share < 0.3:
        raise Mistake(
            f"{summary}, about chance (20%): did you train it, with labels 0-4 (digit - 5)?"
        )
    raise Mistake(
        f"{summary}, below the floor of {ACCURACY_FLOOR:.0%}: start from the pretrained base, "
        "train the head first with the base frozen, then unfreeze it (batch normalisation "
        "kept frozen) and fine-tune with a lower learning rate (sections 3 and 6)."
    )
