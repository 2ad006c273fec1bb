"""IDX files, the format MNIST and Fashion-MNIST are distributed in, and their conversion to CSV.

An IDX file is a big-endian header (two zero bytes, a type byte, the number of dimensions,
then each dimension as a 4-byte integer) followed by the values. Debian's
``dataset-fashion-mnist`` package installs the complete Fashion-MNIST in this format in
:data:`FASHION_MNIST_IDX_DIR`.
"""

import gzip
import os
from pathlib import Path

from cnnkit.digits_csv import GET_DIGITS_HELP, write_digits_csv

import numpy as np

FASHION_MNIST_IDX_DIR = Path("/usr/share/datasets/fashion-mnist")
_SPLITS = {"train": "train", "test": "t10k"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST distribution format), plain or gzip-compressed.

    Parameters
    ----------
    path : str or path-like
        An ``*-idx1-ubyte`` (labels) or ``*-idx3-ubyte`` (images) file, optionally ``.gz``.

    Returns
    -------
    ndarray of dtype uint8
        Shape (n,) for labels, (n, rows, cols) for images.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the header is not an unsigned-byte IDX header or the data is truncated.

    Examples
    --------
    With Debian's ``dataset-fashion-mnist`` installed::

        labels = read_idx(FASHION_MNIST_IDX_DIR / "t10k-labels-idx1-ubyte.gz")
        labels.shape  # (10000,)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No IDX file at {path}. {GET_DIGITS_HELP}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] == 0:
        raise ValueError(
            f"{path} is not an unsigned-byte IDX file: its first 4 bytes are {raw[:4].hex()}, "
            "expected 0000 08 followed by the number of dimensions (01 labels, 03 images)."
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(
            f"{path}: header says shape {shape} ({expected} bytes with the header), "
            f"but the file has {len(raw)} bytes; it is truncated or corrupt."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def idx_to_csv(
    images: str | os.PathLike, labels: str | os.PathLike, out_csv: str | os.PathLike
) -> Path:
    """Convert an IDX images/labels pair into a digit CSV file (label first, 784 pixels).

    Works for MNIST and for anything in the same format, such as the complete Fashion-MNIST
    that Debian's ``dataset-fashion-mnist`` package installs. The CSV is written to a
    temporary file and renamed, so an interrupted run leaves no partial file.

    Parameters
    ----------
    images : str or path-like
        IDX file of 28x28 images (``*-idx3-ubyte`` or ``.gz``).
    labels : str or path-like
        IDX file of labels 0..9 (``*-idx1-ubyte`` or ``.gz``).
    out_csv : str or path-like
        The CSV to write; a name ending in ``.gz`` is gzip-compressed.

    Returns
    -------
    Path
        ``out_csv``.

    Raises
    ------
    ValueError
        If the images are not 28x28, the counts differ, or a label is outside 0..9.

    Examples
    --------
    With Debian's ``dataset-fashion-mnist`` installed::

        src = FASHION_MNIST_IDX_DIR
        idx_to_csv(src / "t10k-images-idx3-ubyte.gz", src / "t10k-labels-idx1-ubyte.gz",
                   "data/fashion-mnist/test.csv")
    """
    pixels, targets = read_idx(images), read_idx(labels)
    if pixels.ndim != 3 or pixels.shape[1:] != (28, 28):
        raise ValueError(f"{images}: expected images of shape (n, 28, 28), got {pixels.shape}.")
    if targets.ndim != 1 or len(targets) != len(pixels):
        raise ValueError(
            f"{labels}: expected {len(pixels)} labels to match {images}, got shape {targets.shape}."
        )
    if targets.size and targets.max() > 9:
        raise ValueError(f"{labels}: label {targets.max()} is outside 0..9.")
    return write_digits_csv(out_csv, pixels, targets)


def idx_dir_to_csv(source: str | os.PathLike, directory: str | os.PathLike) -> Path:
    """Convert a folder of the four MNIST-style IDX files into ``train.csv`` and ``test.csv``.

    Parameters
    ----------
    source : str or path-like
        Folder with ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``, for example
        ``/usr/share/datasets/fashion-mnist``.
    directory : str or path-like
        Output folder; ``load_mnist_csv(directory)`` then reads it. Existing CSV files are
        kept.

    Returns
    -------
    Path
        ``directory``.

    Examples
    --------
    With Debian's ``dataset-fashion-mnist`` installed::

        idx_dir_to_csv(FASHION_MNIST_IDX_DIR, "data/fashion-mnist")
        load_mnist_csv("data/fashion-mnist")
    """
    source, directory = Path(source), Path(directory)
    for split, prefix in _SPLITS.items():
        out = directory / f"{split}.csv"
        if out.is_file():
            continue
        found = {}
        for kind in ("images-idx3", "labels-idx1"):
            candidates = [source / f"{prefix}-{kind}-ubyte{ext}" for ext in (".gz", "")]
            found[kind] = next((c for c in candidates if c.is_file()), None)
            if found[kind] is None:
                raise FileNotFoundError(f"No {candidates[0].name} in {source}. {GET_DIGITS_HELP}")
        idx_to_csv(found["images-idx3"], found["labels-idx1"], out)
    return directory
