"""Data for the course: sample images, digit CSV files, MNIST download, IDX conversion.

Verbs follow scikit-learn's datasets: ``load_*`` reads what ships with the repository and
never touches the network, ``fetch_*`` may download, ``read_*`` parses a file you name and
``*_to_*`` converts. The data sets live in the data home (:func:`get_data_home`): the
repository's ``data/`` folder, unless ``CNNKIT_DATA_HOME`` or a ``data_home`` argument
names another. CIFAR-10 (:func:`load_cifar10`, :func:`fetch_cifar10`) lives in
``cnnkit.cifar10`` and is importable from here too.

The digit CSV format (the course's "seed" format): no header, one image per row, the label
0..9 in column 0, then 784 pixel values 0..255 (a 28x28 image, row by row).
"""

import gzip
import itertools
import logging
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from cnnkit.cifar10 import (
    CIFAR10_CLASSES,
    CIFAR10_MD5,
    CIFAR10_URL,
    fetch_cifar10,
    find_cifar10,
    load_cifar10,
    read_cifar10_bin,
)
from cnnkit.data_home import GET_DATA_HELP, display_path, get_data_home
from cnnkit.download import atomic_file, download

import numpy as np

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MD5",
    "CIFAR10_URL",
    "FASHION_MNIST_IDX_DIR",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "fetch_cifar10",
    "fetch_mnist",
    "find_cifar10",
    "find_mnist_csv",
    "get_data_home",
    "idx_dir_to_csv",
    "idx_to_csv",
    "load_cifar10",
    "load_mnist_csv",
    "load_sample_images",
    "read_cifar10_bin",
    "read_digits_csv",
    "read_idx",
]

logger = logging.getLogger(__name__)

N_PIXELS = 28 * 28
N_COLUMNS = 1 + N_PIXELS
FASHION_MNIST_IDX_DIR = Path("/usr/share/datasets/fashion-mnist")

# The four official MNIST files (Yann LeCun and Corinna Cortes, CC BY-SA 3.0) and their
# sha256, tried on each mirror in order.
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",  # noqa: E501
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",  # noqa: E501
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_SPLITS = {"train": "train", "test": "t10k"}

_GET_DATA_HELP = (
    "The repository ships a 5000-digit sample in data/mnist_sample/. For the full MNIST run "
    "`python -m cnnkit fetch-mnist` (needs a network); for Fashion-MNIST install Debian's "
    "dataset-fashion-mnist and run `python -m cnnkit idx-dir-to-csv "
    "/usr/share/datasets/fashion-mnist data/fashion-mnist`. " + GET_DATA_HELP
)

_COMMA, _NEWLINE, _ZERO = ord(","), ord("\n"), ord("0")
_CHUNK_BYTES = 4 << 20
_N_THREADS = max(1, min(4, os.cpu_count() or 1))


def load_sample_images() -> np.ndarray:
    """Load scikit-learn's two sample photographs as one float batch.

    The images are china.jpg and flower.jpg, which ship with scikit-learn (no download).

    Returns
    -------
    ndarray of shape (2, 427, 640, 3), dtype float32
        RGB values scaled to [0, 1]; index 0 is china.jpg, index 1 is flower.jpg.

    Examples
    --------
    >>> images = load_sample_images()
    >>> images.shape, images.dtype
    ((2, 427, 640, 3), dtype('float32'))
    """
    from sklearn.datasets import load_sample_images as _sklearn_sample_images

    images = _sklearn_sample_images()["images"]
    return np.stack(images).astype(np.float32) / 255.0


# --------------------------------------------------------------------------- CSV reading


def read_digits_csv(
    path: str | os.PathLike, *, cache: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Read a digit CSV file (label in column 0, then 784 pixels) into arrays.

    Plain ``.csv`` and gzip-compressed ``.csv.gz`` files are read. The file is parsed in
    chunks with vectorised NumPy, so memory stays near the size of the result, and every
    value is checked.

    Parameters
    ----------
    path : str or path-like
        The CSV file: no header, one image per row, 785 integer columns.
    cache : bool, default=False
        If True, keep the parsed arrays in ``<path>.cache.npz`` beside the file and reuse
        them while the file's size and modification time are unchanged. A folder that
        cannot be written is skipped silently.

    Returns
    -------
    X : ndarray of shape (n_rows, 784), dtype uint8
        Pixel values 0..255.
    y : ndarray of shape (n_rows,), dtype int64
        Labels 0..9.

    Raises
    ------
    FileNotFoundError
        If the file does not exist; the message says how to get the data.
    ValueError
        If the file is empty, or a row has the wrong number of columns, a missing or
        non-integer value, a pixel outside 0..255 or a label outside 0..9. The message
        names the file, the row (1-based line number) and the column.

    Examples
    --------
    >>> X, y = read_digits_csv(get_data_home() / "mnist_sample" / "test.csv.gz")
    >>> X.shape, X.dtype, y.shape
    ((1000, 784), dtype('uint8'), (1000,))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No digit CSV file at {path}. {_GET_DATA_HELP}")
    if cache:
        cached = _read_cache(path)
        if cached is not None:
            return cached

    opener = gzip.open if path.suffix == ".gz" else open
    pixel_chunks, label_chunks = [], []
    with opener(path, "rb") as f, ThreadPoolExecutor(_N_THREADS) as pool:
        pending: deque[tuple[Future, bytes, int]] = deque()
        n_rows = 0

        def collect():
            nonlocal n_rows
            future, lines, blank_lines_before = pending.popleft()
            rows = future.result()
            if rows is None:  # the fast path's checks failed: find the bad value, raise
                rows = _parse_lines(lines, n_rows + blank_lines_before + 1, path)
            label_chunks.append(rows[:, 0].astype(np.int64))
            pixel_chunks.append(rows[:, 1:])
            n_rows += len(rows)

        for lines, blank_lines_before in _line_blocks(f):
            pending.append((pool.submit(_parse_block, lines), lines, blank_lines_before))
            while pending and (len(pending) > 2 * _N_THREADS or pending[0][0].done()):
                collect()
        while pending:
            collect()
    if not pixel_chunks:
        raise ValueError(
            f"{path} is empty: expected one row per image with {N_COLUMNS} comma-separated "
            "integers (a label 0..9, then 784 pixel values 0..255)."
        )
    X = np.concatenate(pixel_chunks) if len(pixel_chunks) > 1 else pixel_chunks[0].copy()
    y = np.concatenate(label_chunks)
    if cache:
        _write_cache(path, X, y)
    return X, y


def _line_blocks(f: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Yield blocks of complete lines, each with the number of blank lines skipped before it.

    Lines are counted only in skipped blank blocks: in a block that is parsed, every line is
    a row (a blank line inside it is an error), so rows give the line numbers.
    """
    blank_lines = 0
    carry = b""
    while True:
        block = f.read(_CHUNK_BYTES)
        at_end = not block
        data = carry + block
        if at_end:
            data = data.rstrip(b"\r\n \t")
            if data:
                data += b"\n"
            cut = len(data)
        else:
            cut = data.rfind(b"\n") + 1
        lines = data[:cut]
        if lines and not lines.isspace():
            yield lines, blank_lines
        else:
            blank_lines += lines.count(b"\n")
        carry = data[cut:]
        if at_end:
            return


def _parse_block(text: bytes) -> np.ndarray | None:
    """Parse complete CSV lines of small integers into a (rows, 785) uint8 array.

    The fast path works on whole byte arrays without per-field index arrays: the value of
    each field is assembled at the separator that ends it from the (up to three) digits
    before it. Cheap whole-block checks confirm the result; if any fails it returns None,
    and :func:`_parse_lines` then finds the first bad value and raises an error naming it.
    """
    if b"\r" in text:
        text = text.replace(b"\r", b"")
    b = np.frombuffer(text, dtype=np.uint8)
    digit = b - np.uint8(_ZERO)
    is_digit = digit <= 9
    is_sep = ~is_digit
    digit *= is_digit  # 0 at separators
    value = np.empty(len(b), dtype=np.uint16)
    value[0] = 0
    value[1:] = digit[:-1]
    value[2:] += digit[:-2] * np.uint16(10)
    value[3:] += (digit[:-3] * is_digit[1:-2]) * np.uint16(100)
    # Mark line ends in the top bit, so that one compression gives values and line ends.
    value |= (b == _NEWLINE).astype(np.uint16) << 15
    values = value[is_sep]
    line_end = np.flatnonzero(values >= 0x8000)
    values &= 0x7FFF
    ok = (
        is_digit[0]
        and np.count_nonzero(b == _COMMA) + len(line_end) == len(values)  # only , and \n
        and not np.any(is_sep[1:] & is_sep[:-1])  # no empty field
        and not np.any(is_digit[3:] & is_digit[2:-1] & is_digit[1:-2] & is_digit[:-3])
        and np.array_equal(line_end, np.arange(N_COLUMNS - 1, len(values), N_COLUMNS))
    )
    if ok:
        table = values.reshape(-1, N_COLUMNS)
        if table[:, 0].max() <= 9 and table[:, 1:].max() <= 255:
            return table.astype(np.uint8)
    return None


def _parse_lines(text: bytes, first_row: int, path: Path) -> np.ndarray:
    """Parse CSV lines field by field, raising an error that names the first bad value."""
    if b"\r" in text:
        text = text.replace(b"\r", b"")
    b = np.frombuffer(text, dtype=np.uint8)
    is_sep = (b == _COMMA) | (b == _NEWLINE)
    digit = b - np.uint8(_ZERO)  # wraps to large values for non-digits
    bad = np.flatnonzero(~is_sep & (digit > 9))
    if bad.size:
        row, col = _locate(b, bad[0])
        line = _line_text(text, bad[0])
        raise ValueError(
            f"{path}: row {first_row + row}, column {col + 1}: {_quote_field(line, col)} is not "
            "an integer. Expected only whole numbers separated by commas and no header line "
            f"(row text starts {line[:40]!r})."
        )
    sep = np.flatnonzero(is_sep)
    newline_at = np.flatnonzero(b[sep] == _NEWLINE)
    fields_per_row = np.diff(newline_at, prepend=-1)
    wrong = np.flatnonzero(fields_per_row != N_COLUMNS)
    if wrong.size:
        row = int(wrong[0])
        n = int(fields_per_row[row])
        hint = " (is the label column missing?)" if n == N_PIXELS else ""
        raise ValueError(
            f"{path}: row {first_row + row} has {n} columns, expected {N_COLUMNS}: a label "
            f"0..9 in column 1, then {N_PIXELS} pixel values 0..255{hint}."
        )

    starts = np.empty_like(sep)
    starts[0] = 0
    starts[1:] = sep[:-1] + 1
    length = sep - starts
    short, long = np.flatnonzero(length == 0), np.flatnonzero(length > 3)
    if short.size or long.size:
        field = int(min(short[0] if short.size else sep.size, long[0] if long.size else sep.size))
        row, col = divmod(field, N_COLUMNS)
        what = "is missing" if length[field] == 0 else "is too large"
        raise ValueError(
            f"{path}: row {first_row + row}, column {col + 1}: the value {what}; every column "
            "needs an integer (label 0..9, pixels 0..255)."
        )
    values = digit[sep - 1].astype(np.uint16)
    values += np.where(length >= 2, digit[sep - 2], 0).astype(np.uint16) * 10
    values += np.where(length >= 3, digit[sep - 3], 0).astype(np.uint16) * 100
    table = values.reshape(-1, N_COLUMNS)
    for column_values, limit, name, first_col in (
        (table[:, 1:], 255, "pixel", 2),
        (table[:, :1], 9, "label", 1),
    ):
        over = np.argwhere(column_values > limit)
        if over.size:
            row, col = (int(v) for v in over[0])
            raise ValueError(
                f"{path}: row {first_row + row}, column {col + first_col}: {name} value "
                f"{int(column_values[row, col])} is outside 0..{limit}."
            )
    return table.astype(np.uint8)


def _locate(b: np.ndarray, position: int) -> tuple[int, int]:
    """Return the 0-based (row, column) of a byte position in CSV bytes."""
    before = b[:position]
    row = int(np.count_nonzero(before == _NEWLINE))
    line_start = int(np.flatnonzero(before == _NEWLINE)[-1]) + 1 if row else 0
    col = int(np.count_nonzero(b[line_start:position] == _COMMA))
    return row, col


def _line_text(text: bytes, position: int) -> str:
    start = text.rfind(b"\n", 0, position) + 1
    end = text.find(b"\n", position)
    return text[start : end if end >= 0 else None].decode("utf-8", "replace")


def _quote_field(line: str, col: int) -> str:
    fields = line.split(",")
    return repr(fields[col]) if col < len(fields) else "the value"


def _cache_path(path: Path) -> Path:
    return path.with_name(path.name + ".cache.npz")


def _signature(path: Path) -> np.ndarray:
    stat = path.stat()
    return np.array([stat.st_size, stat.st_mtime_ns], dtype=np.int64)


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    cache_file = _cache_path(path)
    if not cache_file.is_file():
        return None
    try:
        with np.load(cache_file, allow_pickle=False) as saved:
            if np.array_equal(saved["signature"], _signature(path)):
                return saved["X"], saved["y"]
    except (OSError, ValueError, KeyError) as exc:
        logger.info("ignoring unreadable cache %s: %s", cache_file, exc)
    return None


def _write_cache(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    cache_file = _cache_path(path)
    try:
        with atomic_file(cache_file) as f:
            np.savez(f, X=X, y=y, signature=_signature(path))
    except OSError as exc:
        logger.info("could not write cache %s: %s", cache_file, exc)


# ----------------------------------------------------------------------- MNIST loading


def find_mnist_csv(
    directory: str | os.PathLike | None = None, *, data_home: str | os.PathLike | None = None
) -> tuple[Path, Path, str]:
    """Find the digit CSV data set to use, and say which one it is and why.

    The choice is, in order: ``directory``; the folder in the ``CNNKIT_DATA`` environment
    variable (unless ``data_home`` is given); the full MNIST in the data home's ``mnist/``
    if :func:`fetch_mnist` has fetched it; else the bundled 5000-digit sample in the data
    home's ``mnist_sample/``. The data home is ``data_home``, else ``$CNNKIT_DATA_HOME``,
    else the repository's ``data/`` (see :func:`get_data_home`).

    Parameters
    ----------
    directory : str or path-like, optional
        A folder holding ``train.csv`` and ``test.csv`` (or ``.csv.gz``).
    data_home : str or path-like, optional
        The data home to look in; an explicit value also overrides ``CNNKIT_DATA``.

    Returns
    -------
    train_file, test_file : Path
        The training and test CSV files.
    description : str
        One sentence that says which data set it is and why it was chosen.

    Raises
    ------
    FileNotFoundError
        If there is no data home, or the folder lacks a train or test file; the message
        says how to get the data.

    Examples
    --------
    >>> train_file, test_file, why = find_mnist_csv(get_data_home() / "mnist_sample")
    >>> train_file.name, test_file.name
    ('train.csv.gz', 'test.csv.gz')
    """
    if directory is not None:
        folder, why = Path(directory), f"digit CSV files in {directory} (given as argument)"
    elif data_home is None and os.environ.get("CNNKIT_DATA"):
        folder = Path(os.environ["CNNKIT_DATA"])
        why = f"digit CSV files in {folder} (from the CNNKIT_DATA environment variable)"
    else:
        home = get_data_home(data_home)
        full = home / "mnist"
        if _split_file(full, "train") and _split_file(full, "test"):
            folder = full
            where = display_path(home, "mnist")
            why = f"the full MNIST (60,000 + 10,000 digits) fetched into {where}"
        else:
            folder = home / "mnist_sample"
            why = (
                f"the bundled MNIST sample in {display_path(home, 'mnist_sample')} (4,000 "
                "training + 1,000 test digits; run `python -m cnnkit fetch-mnist` for the full "
                "70,000)"
            )
    files = []
    for split in ("train", "test"):
        path = _split_file(folder, split)
        if path is None:
            raise FileNotFoundError(
                f"No {split}.csv or {split}.csv.gz in {folder}. {_GET_DATA_HELP}"
            )
        files.append(path)
    return files[0], files[1], why


def _split_file(directory: Path, split: str) -> Path | None:
    for name in (f"{split}.csv", f"{split}.csv.gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def load_mnist_csv(
    directory: str | os.PathLike | None = None,
    n_valid: int = 5000,
    *,
    cache: bool = True,
    data_home: str | os.PathLike | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Load a digit CSV data set as training, validation and test arrays.

    As in the course's seed code, the first ``n_valid`` rows of the training file are the
    validation set; for small files this is capped at 10% of the rows (400 of the bundled
    sample's 4000).

    Parameters
    ----------
    directory : str or path-like, optional
        Folder with ``train.csv`` and ``test.csv`` (or ``.csv.gz``). None picks, in
        order: ``$CNNKIT_DATA``, the full MNIST in the data home's ``mnist/`` if fetched,
        else the bundled sample (see :func:`find_mnist_csv`). The choice is logged at INFO
        level.
    n_valid : int, default=5000
        Number of leading training rows used for validation (at most 10% of the rows).
    cache : bool, default=True
        Reuse parsed arrays saved beside the CSV files (see :func:`read_digits_csv`).
    data_home : str or path-like, optional
        The data home (see :func:`get_data_home`); an explicit value overrides
        ``CNNKIT_DATA``.

    Returns
    -------
    (X_train, y_train), (X_valid, y_valid), (X_test, y_test)
        Images as float32 arrays of shape (n, 28, 28, 1) scaled to [0, 1]; labels as
        int64 arrays of shape (n,).

    Raises
    ------
    FileNotFoundError
        If there is no data home or a train or test file is missing; the message says how
        to get the data.
    ValueError
        If ``n_valid`` is negative, or a file is malformed (see :func:`read_digits_csv`).

    Examples
    --------
    >>> sample = get_data_home() / "mnist_sample"  # load_mnist_csv() picks it unless fetched
    >>> (X_train, y_train), (X_valid, y_valid), (X_test, y_test) = load_mnist_csv(sample)
    >>> X_train.shape, X_valid.shape, X_test.shape
    ((3600, 28, 28, 1), (400, 28, 28, 1), (1000, 28, 28, 1))
    """
    if n_valid < 0:
        raise ValueError(f"n_valid must be 0 or more, got {n_valid}.")
    train_file, test_file, description = find_mnist_csv(directory, data_home=data_home)
    logger.info("cnnkit.data: using %s", description)
    X, y = read_digits_csv(train_file, cache=cache)
    X_test, y_test = read_digits_csv(test_file, cache=cache)
    n_valid = min(n_valid, len(X) // 10)
    return (
        (_to_images(X[n_valid:]), y[n_valid:]),
        (_to_images(X[:n_valid]), y[:n_valid]),
        (_to_images(X_test), y_test),
    )


def _to_images(pixels: np.ndarray) -> np.ndarray:
    """Scale (n, 784) uint8 pixels to float32 (n, 28, 28, 1) images in [0, 1], in threads."""
    images = np.empty((len(pixels), 28, 28, 1), dtype=np.float32)
    source = pixels.reshape(images.shape)
    bounds = np.linspace(0, len(images), _N_THREADS + 1).astype(int)
    parts = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    with ThreadPoolExecutor(_N_THREADS) as pool:
        list(pool.map(lambda s: np.divide(source[s], np.float32(255), out=images[s]), parts))
    return images


# ------------------------------------------------------------------------------ IDX files


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
        raise FileNotFoundError(f"No IDX file at {path}. {_GET_DATA_HELP}")
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
    rows = np.column_stack([targets, pixels.reshape(len(pixels), -1)])
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out_csv) as raw_file:
        f = (
            gzip.GzipFile(fileobj=raw_file, mode="wb", mtime=0)
            if out_csv.suffix == ".gz"
            else raw_file
        )
        for start in range(0, len(rows), 5000):
            f.write(_format_rows(rows[start : start + 5000]))
        if f is not raw_file:
            f.close()
    return out_csv


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
                raise FileNotFoundError(f"No {candidates[0].name} in {source}. {_GET_DATA_HELP}")
        idx_to_csv(found["images-idx3"], found["labels-idx1"], out)
    return directory


def _format_rows(rows: np.ndarray) -> bytes:
    """Format a (n, k) uint8 array as comma-separated text, vectorised."""
    values = rows.astype(np.int32).ravel()
    width = 1 + (values >= 10) + (values >= 100)
    end = np.cumsum(width + 1)  # one separator after each value
    out = np.empty(int(end[-1]), dtype=np.uint8)
    out[end - 1] = _COMMA
    out[end[rows.shape[1] - 1 :: rows.shape[1]] - 1] = _NEWLINE
    last = end - 2
    out[last] = values % 10 + _ZERO
    two = width >= 2
    out[last[two] - 1] = values[two] // 10 % 10 + _ZERO
    three = width == 3
    out[last[three] - 2] = values[three] // 100 + _ZERO
    return out.tobytes()


# ------------------------------------------------------------------------------- download


def fetch_mnist(
    directory: str | os.PathLike | None = None,
    *,
    data_home: str | os.PathLike | None = None,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    progress: bool = True,
) -> Path:
    """Download the full MNIST and convert it to ``train.csv`` and ``test.csv``.

    The four official IDX files are tried on each mirror in turn, streamed into a
    temporary file in ``directory``, checked against their pinned sha256 and only then
    renamed into place. A download that fails, is interrupted (Ctrl-C included) or has the
    wrong checksum leaves nothing behind. Nothing is downloaded if the CSV files exist.

    Parameters
    ----------
    directory : str or path-like, optional
        Where the ``.gz`` files and the CSV files go. Default: ``mnist/`` in the data home,
        where ``load_mnist_csv()`` looks.
    data_home : str or path-like, optional
        The data home (see :func:`get_data_home`); used when ``directory`` is None.
    mirrors : sequence of str, default=MNIST_MIRRORS
        Base URLs ending in ``/``, tried in order.
    progress : bool, default=True
        Show download progress on standard error.

    Returns
    -------
    Path
        ``directory``, holding ``train.csv`` (60,000 rows) and ``test.csv`` (10,000 rows).

    Raises
    ------
    OSError
        If a file could not be fetched with the right checksum from any mirror; the
        message lists what each mirror answered.

    Examples
    --------
    With a network connection::

        fetch_mnist()                      # data/mnist/train.csv and test.csv
        load_mnist_csv()                   # now picks the full MNIST
    """
    directory = Path(directory) if directory is not None else get_data_home(data_home) / "mnist"
    if (directory / "train.csv").is_file() and (directory / "test.csv").is_file():
        logger.info("MNIST CSV files already present in %s", directory)
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    for name, sha256 in MNIST_FILES.items():
        download([mirror + name for mirror in mirrors], directory / name, sha256, progress=progress)
    return idx_dir_to_csv(directory, directory)
