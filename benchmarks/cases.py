"""The benchmark cases: what each variant runs, which variant is cnnkit's fast path, targets.

Every case has one plain baseline per group (run by the ``baseline`` worker) and
variants run by the ``fast`` worker, which imported cnnkit first. The variant marked
``primary`` is cnnkit's fast path, the one the targets are checked on; the others are
leads measured side by side (batch size, XLA).
"""

import gzip
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "benchmarks" / "out"
SAMPLE_TRAIN = ROOT / "data" / "mnist_sample" / "train.csv.gz"
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


@dataclass
class Variant:
    key: str
    label: str
    role: str  # "baseline" or "fast"
    params: dict
    group: str = ""
    primary: bool = False
    quick: bool = True  # also run in quick mode


@dataclass
class Target:
    description: str
    group: str
    metric: str  # "speedup", "memory_fraction"
    threshold: float
    variant: str = ""  # default: the group's primary variant


@dataclass
class Case:
    name: str
    title: str
    kind: str  # "csv", "train" or "infer"
    variants: list[Variant]
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


CASE_NAMES = ("csv", "small_cnn", "resnet34", "inference")


def csv_file(quick: bool) -> tuple[Path, str]:
    """Build (once) the 60,000-row digit CSV (6,000 in quick mode); return it and its origin."""
    n_rows = 6000 if quick else 60000
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    target = OUT_DIR / f"train-{n_rows}.csv"
    origin_file = OUT_DIR / f"train-{n_rows}.origin.txt"
    if target.is_file() and origin_file.is_file():
        return target, origin_file.read_text().strip()
    tmp = f"{target}.{os.getpid()}.tmp"
    if FASHION_MNIST.is_dir():
        # In a subprocess: the harness itself never imports cnnkit or TensorFlow.
        folder = OUT_DIR / "fashion-mnist"
        subprocess.run(
            [sys.executable, "-m", "cnnkit", "idx-dir-to-csv", str(FASHION_MNIST), str(folder)],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with open(folder / "train.csv", "rb") as src, open(tmp, "wb") as dst:
            for i, line in enumerate(src):
                if i == n_rows:
                    break
                dst.write(line)
        origin = f"the first {n_rows:,} rows of Fashion-MNIST's training set ({FASHION_MNIST})"
    else:
        with gzip.open(SAMPLE_TRAIN, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        with open(tmp, "wb") as dst:
            for i in range(n_rows):
                dst.write(lines[i % len(lines)])
        origin = f"the bundled {len(lines):,}-row MNIST sample tiled to {n_rows:,} rows"
    os.replace(tmp, target)
    origin_file.write_text(origin + "\n")
    return target, origin


def build_cases(names, quick: bool) -> list[Case]:
    cases = []
    for name in names:
        cases.append(_BUILDERS[name](quick))
    return cases


def _csv_case(quick: bool) -> Case:
    path, origin = csv_file(quick)
    size_mb = path.stat().st_size / 1e6
    p = {"path": str(path), "size_mb": size_mb}
    return Case(
        "csv",
        "CSV load: digit CSV to normalised arrays ready for fit",
        "csv",
        [
            Variant(
                "baseline",
                "plain: pd.read_csv(header=None), .values / 255, reshape (float64)",
                "baseline",
                {**p, "method": "pandas"},
            ),
            Variant(
                "fast",
                "cnnkit.data.read_digits_csv, then float32 (n, 28, 28, 1) / 255",
                "fast",
                {**p, "method": "cnnkit"},
                primary=True,
            ),
            Variant(
                "cached",
                "read_digits_csv(cache=True), repeated (.cache.npz), then float32",
                "fast",
                {**p, "method": "cnnkit_cached"},
            ),
            Variant(
                "cached_uint8",
                "read_digits_csv(cache=True) only, repeated: uint8 (n, 784)",
                "fast",
                {**p, "method": "cnnkit_cached_uint8"},
            ),
            Variant(
                "uint8",
                "read_digits_csv only: uint8 (n, 784), no float conversion",
                "fast",
                {**p, "method": "cnnkit_uint8"},
            ),
        ],
        [
            Target(">= 5x faster", "", "speedup", 5.0),
            Target("<= 1/4 of the baseline's peak memory", "", "memory_fraction", 0.25),
            Target("cached >= 50x faster", "", "speedup", 50.0, variant="cached"),
        ],
        [f"File: {path.name}, {size_mb:.0f} MB, {origin}."],
    )


def _train_variants(
    model: str,
    n_train: int,
    fast: list[tuple[int, bool]],
    primary,
    fast_kwargs: dict | None = None,
    **model_kwargs,
) -> list:
    """The baseline and cnnkit's variants; ``fast_kwargs`` go to cnnkit's builder only."""
    base = {"model": model, "n_train": n_train, "model_kwargs": model_kwargs}
    fast_base = {**base, "model_kwargs": {**model_kwargs, **(fast_kwargs or {})}}
    variants = [
        Variant(
            "baseline",
            "plain: float64 arrays, batch 32, default environment",
            "baseline",
            {**base, "dtype": "float64", "batch_size": 32, "jit_compile": "auto"},
        )
    ]
    for batch, xla in fast:
        variants.append(
            Variant(
                f"fast_b{batch}" + ("_xla" if xla else ""),
                f"cnnkit: float32, batch {batch}, XLA {'on' if xla else 'off'}",
                "fast",
                {**fast_base, "dtype": "float32", "batch_size": batch, "jit_compile": xla},
                primary=(batch, xla) == primary,
                quick=(batch, xla) == primary,
            )
        )
    batch, _ = primary
    variants.append(
        Variant(
            f"fast_b{batch}_bf16",
            f"lead: mixed bfloat16 (Keras policy 'mixed_bfloat16'), batch {batch}, XLA off; "
            "native only on CPUs with AMX or AVX512-BF16",
            "fast",
            {
                **fast_base,
                "dtype": "float32",
                "batch_size": batch,
                "jit_compile": False,
                "policy": "mixed_bfloat16",
            },
        )
    )
    return variants


# cnnkit's fast-path settings per model: (batch size, XLA). The other settings are leads.
SMALL_CNN_FAST = (128, False)
RESNET34_FAST = (128, False)


def _small_cnn_case(quick: bool) -> Case:
    n = 512 if quick else 3600
    return Case(
        "small_cnn",
        "Small CNN training throughput (notebook 03's model)",
        "train",
        _train_variants(
            "mnist_cnn",
            n,
            [(32, False), (64, False), (128, False), (128, True)],
            SMALL_CNN_FAST,
        ),
        [Target(">= 2x the baseline's images/s", "", "speedup", 2.0)],
        [
            f"Training on {n:,} images of the bundled MNIST sample, one epoch per repeat after "
            "a warm-up epoch; Nadam, sparse categorical cross-entropy."
        ],
    )


def _resnet34_case(quick: bool) -> Case:
    n = 64 if quick else 2000
    return Case(
        "resnet34",
        "ResNet-34 training throughput (notebook 06's model, 28x28x1 input)",
        "train",
        _train_variants(
            "resnet34",
            n,
            [(32, False), (128, False), (32, True), (128, True)],
            RESNET34_FAST,
            fast_kwargs={"centre_tap": True},
            bn_momentum=0.9,
        ),
        [Target(">= 10x the baseline's images/s (aim 25x)", "", "speedup", 10.0)],
        [
            f"Training on {n:,} images of the bundled MNIST sample, one epoch per repeat after "
            "a warm-up epoch; Nadam, sparse categorical cross-entropy.",
            "Both sides use BatchNormalization(momentum=0.9) instead of Keras' 0.99, so that a "
            "few short epochs give a validation accuracy above chance (with 0.99 the moving "
            "statistics lag and every variant scores ~10%); speed does not depend on it.",
        ],
    )


def _inference_case(quick: bool) -> Case:
    variants = []
    for model, n, batches in (
        ("mnist_cnn", 512 if quick else 3600, [(32, False), (256, False), (256, True)]),
        ("resnet34", 64 if quick else 1000, [(32, False), (128, False), (128, True)]),
    ):
        base = {"model": model, "n_images": n}
        variants.append(
            Variant(
                f"{model}_baseline",
                "plain: float64 arrays, predict() default batch 32",
                "baseline",
                {**base, "dtype": "float64", "batch_size": 32, "jit_compile": "auto"},
                group=model,
            )
        )
        for batch, xla in batches:
            variants.append(
                Variant(
                    f"{model}_b{batch}" + ("_xla" if xla else ""),
                    f"cnnkit: float32, batch {batch}, XLA {'on' if xla else 'off'}",
                    "fast",
                    {**base, "dtype": "float32", "batch_size": batch, "jit_compile": xla},
                    group=model,
                    primary=(batch, xla) == batches[1],
                    quick=(batch, xla) == batches[1],
                )
            )
    return Case(
        "inference",
        "Inference throughput: model.predict on in-memory images",
        "infer",
        variants,
        [],
        ["No target set by the issue; the ratio is reported. Untrained weights (speed only)."],
    )


_BUILDERS = {
    "csv": _csv_case,
    "small_cnn": _small_cnn_case,
    "resnet34": _resnet34_case,
    "inference": _inference_case,
}
