"""The digit CSV format: read and write it fast, with every value checked.

The course's CSV format: no header, one image per row, the label 0..9 in column 0, then 784
pixel values 0..255 (a 28x28 image, row by row). Plain ``.csv`` and gzip-compressed
``.csv.gz`` files are read and written.
"""

import gzip
import itertools
import logging
import os
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from cnnkit.data_home import GET_DATA_HELP
from cnnkit.download import atomic_file

import numpy as np

logger = logging.getLogger(__name__)

N_PIXELS = 28 * 28
N_COLUMNS = 1 + N_PIXELS

GET_DIGITS_HELP = (
    GET_DATA_HELP + " For Fashion-MNIST run `python -m cnnkit fetch-fashion-mnist`, or install "
    "Debian's dataset-fashion-mnist."
)

_COMMA, _NEWLINE, _ZERO = ord(","), ord("\n"), ord("0")
_CHUNK_BYTES = 4 << 20
_N_THREADS = max(1, min(4, os.cpu_count() or 1))


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
        non-integer value, a pixel outside 0..255 or a label outside 0..9 (the message
        names the file, the row (1-based line number) and the column), or if a ``.gz`` file
        is cut short or not gzip at all (the message names the file).

    Examples
    --------
    >>> from cnnkit.data_home import get_data_home
    >>> X, y = read_digits_csv(get_data_home() / "mnist_sample" / "test.csv.gz")
    >>> X.shape, X.dtype, y.shape
    ((1000, 784), dtype('uint8'), (1000,))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No digit CSV file at {path}. {GET_DIGITS_HELP}")
    if cache:
        cached = _read_cache(path)
        if cached is not None:
            return cached

    try:
        X, y = _read_rows(path)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ValueError(
            f"{path} is not a complete gzip file ({type(error).__name__}: {error}); a download "
            "cut short leaves such a file: delete it and fetch or copy it again."
        ) from error
    if cache:
        _write_cache(path, X, y)
    return X, y


def _read_rows(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse every row of `path` in blocks on threads; ``read_digits_csv`` without the cache."""
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
    return X, np.concatenate(label_chunks)


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


def write_digits_csv(path: str | os.PathLike, X: np.ndarray, y: np.ndarray) -> Path:
    """Write images and labels as a digit CSV file (label first, then the pixels).

    The file is written to a temporary file and renamed, so an interrupted run leaves no
    partial file. A name ending in ``.gz`` is gzip-compressed (with a zero timestamp, so the
    same data gives the same bytes).

    Parameters
    ----------
    path : str or path-like
        The CSV file to write; its folder is created if needed.
    X : array-like of shape (n, 784) or (n, 28, 28)
        Pixel values 0..255.
    y : array-like of shape (n,)
        Labels 0..9.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        If the shapes do not match, or a pixel or label is out of range.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "two.csv"
    >>> _ = write_digits_csv(path, np.full((2, 784), 255), [3, 9])
    >>> X, y = read_digits_csv(path)
    >>> X.shape, y.tolist(), path.read_text()[:12]
    ((2, 784), [3, 9], '3,255,255,25')
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim < 2 or X[0].size != N_PIXELS or y.shape != (len(X),):
        raise ValueError(
            f"expected images of shape (n, 784) or (n, 28, 28) and labels of shape (n,), got "
            f"{X.shape} and {y.shape}."
        )
    for values, limit, name in ((X, 255, "pixel"), (y, 9, "label")):
        if values.size and (values.min() < 0 or values.max() > limit):
            raise ValueError(
                f"{name} values must be in 0..{limit}, got {values.min()}..{values.max()}."
            )
    rows = np.column_stack([y, X.reshape(len(X), -1)]).astype(np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as raw_file:
        f = (
            gzip.GzipFile(fileobj=raw_file, mode="wb", mtime=0)
            if path.suffix == ".gz"
            else raw_file
        )
        for start in range(0, len(rows), 5000):
            f.write(_format_rows(rows[start : start + 5000]))
        if f is not raw_file:
            f.close()
    return path


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


def pixels_to_images(pixels: np.ndarray) -> np.ndarray:
    """Scale (n, 784) uint8 pixels to float32 (n, 28, 28, 1) images in [0, 1], in threads.

    Parameters
    ----------
    pixels : ndarray of shape (n, 784), dtype uint8
        Rows of pixel values, as :func:`read_digits_csv` returns them.

    Returns
    -------
    ndarray of shape (n, 28, 28, 1), dtype float32
        The images, channels last, ``pixels / 255``.

    Examples
    --------
    >>> pixels_to_images(np.full((1, 784), 51, np.uint8))[0, 0, 0]
    array([0.2], dtype=float32)
    """
    images = np.empty((len(pixels), 28, 28, 1), dtype=np.float32)
    source = pixels.reshape(images.shape)
    bounds = np.linspace(0, len(images), _N_THREADS + 1).astype(int)
    parts = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    with ThreadPoolExecutor(_N_THREADS) as pool:
        list(pool.map(lambda s: np.divide(source[s], np.float32(255), out=images[s]), parts))
    return images
