"""CIFAR-10: read the official binary record files, load the data set, fetch the full one.

CIFAR-10 (Alex Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009)
holds 60,000 colour photos of 32x32 pixels in 10 classes. Its *binary version* stores each
image as one 3,073-byte record: a label byte 0..9, then 1,024 red, 1,024 green and 1,024
blue bytes, each colour plane row by row. The repository bundles a sample of 4,574 real
images in that layout (``data/cifar10_sample/``); :func:`fetch_cifar10` downloads the full
set into ``data/cifar10/``.
"""

import gzip
import logging
import os
import re
import shutil
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from cnnkit.data_home import GET_DATA_HELP, display_path, get_data_home
from cnnkit.download import atomic_file, download, file_digest

import numpy as np

logger = logging.getLogger(__name__)

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
RECORD_BYTES = 1 + 32 * 32 * 3
# The official binary version (170,052,171 bytes) and the MD5 published on the data set's
# page, https://www.cs.toronto.edu/~kriz/cifar.html (it publishes no stronger hash).
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
_FULL_FILES = (*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin")
_ARCHIVE_FOLDER = "cifar-10-batches-bin"
_MEMBERS = (*_FULL_FILES, "batches.meta.txt", "readme.html")
_TRAIN_NAME = re.compile(r"data_batch_(\d+)\.bin(\.gz)?")
_LAYOUT = (
    "CIFAR-10 binary records of 3,073 bytes each: a label byte 0..9, then 1,024 red, 1,024 "
    "green and 1,024 blue pixel bytes"
)


def read_cifar10_bin(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a CIFAR-10 binary record file (plain or gzip-compressed) into arrays.

    Reads the official files (``data_batch_1.bin`` ... ``test_batch.bin``, 10,000 records
    each) and the bundled sample's ``.bin.gz`` files alike.

    Parameters
    ----------
    path : str or path-like
        A file of 3,073-byte records: the label byte, then the red, green and blue planes
        of a 32x32 image, each row by row. A name ending in ``.gz`` is decompressed.

    Returns
    -------
    X : ndarray of shape (n, 32, 32, 3), dtype uint8
        The images, channels last (height, width, RGB), values 0..255.
    y : ndarray of shape (n,), dtype int64
        The labels 0..9 (see :data:`CIFAR10_CLASSES`).

    Raises
    ------
    FileNotFoundError
        If the file does not exist; the message says how to get the data.
    ValueError
        If the file is empty, cannot be decompressed, is not a whole number of records
        (the message says how many complete records it holds) or has a label byte above
        9 (the message names the record, counted from 1).

    Examples
    --------
    >>> X, y = read_cifar10_bin(get_data_home() / "cifar10_sample" / "test_batch.bin.gz")
    >>> X.shape, X.dtype, [CIFAR10_CLASSES[k] for k in y[:3]]
    ((846, 32, 32, 3), dtype('uint8'), ['cat', 'ship', 'ship'])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No CIFAR-10 record file at {path}. {GET_DATA_HELP}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(
            f"{path}: cannot decompress ({exc}); the .gz file is truncated or corrupt."
        ) from exc
    if not raw:
        raise ValueError(f"{path} is empty: expected {_LAYOUT}.")
    n, extra = divmod(len(raw), RECORD_BYTES)
    if extra:
        hint = (
            " (a multiple of 3,074 bytes: is it CIFAR-100, which has two label bytes?)"
            if len(raw) % (RECORD_BYTES + 1) == 0
            else ""
        )
        raise ValueError(
            f"{path}: {len(raw):,} bytes is not a whole number of records: expected {_LAYOUT}. "
            f"It holds {n:,} complete records and then {extra:,} bytes of record {n + 1}; the "
            f"file is truncated or not in the CIFAR-10 binary layout{hint}."
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(n, RECORD_BYTES)
    bad = np.flatnonzero(records[:, 0] > 9)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{path}: record {i + 1} (byte offset {i * RECORD_BYTES:,}) has label byte "
            f"{records[i, 0]}, expected 0..9 at the start of each record ({_LAYOUT}); the "
            "file is corrupt or in another layout."
        )
    X = records[:, 1:].reshape(n, 3, 32, 32).transpose(0, 2, 3, 1).copy()  # planes -> NHWC
    return X, records[:, 0].astype(np.int64)


def find_cifar10(
    directory: str | os.PathLike | None = None, *, data_home: str | os.PathLike | None = None
) -> tuple[tuple[Path, ...], Path, str]:
    """Find the CIFAR-10 record files to use, and say which data set it is and why.

    With ``directory=None`` the choice is the full CIFAR-10 in ``cifar10/`` of the data
    home if :func:`fetch_cifar10` has fetched it, else the bundled sample in
    ``cifar10_sample/`` (see :func:`~cnnkit.data_home.get_data_home` for the data home).

    Parameters
    ----------
    directory : str or path-like, optional
        A folder holding ``data_batch_<k>.bin`` files and ``test_batch.bin`` (or ``.gz``).
    data_home : str or path-like, optional
        The data home; by default ``$CNNKIT_DATA_HOME``, else the repository's ``data/``.

    Returns
    -------
    train_files : tuple of Path
        The record files of the training batches, in batch order.
    test_file : Path
        The record file of the test batch.
    description : str
        One sentence that says which data set it is and why it was chosen.

    Raises
    ------
    FileNotFoundError
        If there is no data home, or the folder lacks training or test files; the message
        says how to get the data.

    Examples
    --------
    >>> train_files, test_file, why = find_cifar10(get_data_home() / "cifar10_sample")
    >>> [f.name for f in train_files[:2]], len(train_files), test_file.name
    (['data_batch_1.bin.gz', 'data_batch_2.bin.gz'], 4, 'test_batch.bin.gz')
    """
    if directory is not None:
        folder = Path(directory)
        why = f"CIFAR-10 record files in {directory} (given as argument)"
    else:
        home = get_data_home(data_home)
        full = home / "cifar10"
        missing = [name for name in _FULL_FILES if not (full / name).is_file()]
        if not missing:
            folder = full
            why = (
                "the full CIFAR-10 (50,000 training + 10,000 test images) fetched into "
                f"{display_path(home, 'cifar10')}"
            )
        else:
            if full.is_dir():
                logger.warning(
                    "%s lacks %s; using the sample. Run `python -m cnnkit fetch-cifar10` again.",
                    full,
                    ", ".join(missing),
                )
            folder = home / "cifar10_sample"
            why = (
                f"the bundled CIFAR-10 sample in {display_path(home, 'cifar10_sample')} (3,728 "
                "training + 846 test images; run `python -m cnnkit fetch-cifar10` for the "
                "full 60,000)"
            )
    train_files = _batch_files(folder)
    test_file = next(
        (p for p in (folder / "test_batch.bin", folder / "test_batch.bin.gz") if p.is_file()), None
    )
    for name, found in (("data_batch_<k>.bin", train_files), ("test_batch.bin", test_file)):
        if not found:
            raise FileNotFoundError(f"No {name} or {name}.gz in {folder}. {GET_DATA_HELP}")
    return train_files, test_file, why


def _batch_files(folder: Path) -> tuple[Path, ...]:
    """The training batch files in a folder, ordered by batch number, plain before .gz."""
    found: dict[int, Path] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir(), key=lambda p: p.name.endswith(".gz")):
            match = _TRAIN_NAME.fullmatch(path.name)
            if match and path.is_file():
                found.setdefault(int(match.group(1)), path)
    return tuple(found[k] for k in sorted(found))


def load_cifar10(
    directory: str | os.PathLike | None = None, *, data_home: str | os.PathLike | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], tuple[str, ...]]:
    """Load CIFAR-10: the full data set once fetched, else the bundled sample.

    Parameters
    ----------
    directory : str or path-like, optional
        A folder of CIFAR-10 record files (see :func:`find_cifar10`). None picks the full
        CIFAR-10 in the data home's ``cifar10/`` if fetched, else the bundled sample in
        ``cifar10_sample/``. The choice is logged at INFO level.
    data_home : str or path-like, optional
        The data home; by default ``$CNNKIT_DATA_HOME``, else the repository's ``data/``.

    Returns
    -------
    (X_train, y_train), (X_test, y_test)
        Images as uint8 arrays of shape (n, 32, 32, 3) (RGB, channels last, 0..255);
        labels as int64 arrays of shape (n,). The training batches are concatenated in
        batch order.
    class_names : tuple of str
        The ten class names in label order: ``class_names[y]`` names label ``y``.

    Raises
    ------
    FileNotFoundError
        If no data is found; the message says how to get it.
    ValueError
        If a record file is malformed (see :func:`read_cifar10_bin`).

    Examples
    --------
    >>> sample = get_data_home() / "cifar10_sample"  # load_cifar10() picks it unless fetched
    >>> (X_train, y_train), (X_test, y_test), class_names = load_cifar10(sample)
    >>> X_train.shape, X_test.shape, class_names[y_test[0]]
    ((3728, 32, 32, 3), (846, 32, 32, 3), 'cat')
    """
    train_files, test_file, description = find_cifar10(directory, data_home=data_home)
    logger.info("cnnkit.data: using %s", description)
    train = [read_cifar10_bin(path) for path in train_files]
    X_test, y_test = read_cifar10_bin(test_file)
    X_train = np.concatenate([X for X, _ in train]) if len(train) > 1 else train[0][0]
    y_train = np.concatenate([y for _, y in train])
    return (X_train, y_train), (X_test, y_test), CIFAR10_CLASSES


def fetch_cifar10(
    *,
    data_home: str | os.PathLike | None = None,
    url: str = CIFAR10_URL,
    progress: bool = True,
) -> Path:
    """Download the full CIFAR-10 (binary version) into the data home's ``cifar10/``.

    The official ``cifar-10-binary.tar.gz`` is streamed into a temporary folder in the data
    home and its MD5 checked against the published one before anything is unpacked. Then
    only the expected members of ``cifar-10-batches-bin/`` are unpacked, one by one, into
    that temporary folder (an absolute path, ``..``, a link or any other name stops it
    with an error), every record file is read back with :func:`read_cifar10_bin`, and a
    ``SHA256SUMS`` file records the sha256 of the archive and of each file. Only then are
    the files renamed into ``cifar10/``. A failure or an interruption (Ctrl-C included)
    deletes the temporary folder and leaves ``cifar10/`` as it was. Nothing is downloaded
    if the six record files are already there.

    Parameters
    ----------
    data_home : str or path-like, optional
        The data home (see :func:`~cnnkit.data_home.get_data_home`); created if needed.
    url : str, default=CIFAR10_URL
        Where to get ``cifar-10-binary.tar.gz``; a ``file://`` URL of a copy you already
        have works too (its MD5 is checked all the same).
    progress : bool, default=True
        Show download and unpacking progress on standard error.

    Returns
    -------
    Path
        The ``cifar10/`` folder: ``data_batch_1.bin`` ... ``data_batch_5.bin`` (10,000
        records each), ``test_batch.bin``, ``batches.meta.txt`` (the class names),
        ``readme.html`` and ``SHA256SUMS``.

    Raises
    ------
    OSError
        If the archive could not be downloaded complete and with the published MD5.
    ValueError
        If the archive is truncated or corrupt, holds an unexpected, absolute, ``..`` or
        link member, lacks an expected file, or a record file is malformed.

    Examples
    --------
    With a network connection (170 MB)::

        fetch_cifar10()          # or: python -m cnnkit fetch-cifar10
        load_cifar10()           # now loads the 60,000 images
    """
    home = get_data_home(data_home)
    target = home / "cifar10"
    if all((target / name).is_file() for name in _FULL_FILES):
        logger.info("CIFAR-10 already present in %s", target)
        return target
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".cifar10-", suffix=".part", dir=home) as tmp:
        archive = download(
            [url],
            Path(tmp) / url.rsplit("/", 1)[-1],
            CIFAR10_MD5,
            algorithm="md5",
            progress=progress,
        )
        archive_sha256 = file_digest(archive)
        logger.info("%s: MD5 as published; sha256 %s", archive.name, archive_sha256)
        staged = Path(tmp) / "cifar10"
        staged.mkdir()
        _unpack(archive, staged, url, progress)
        for name in _FULL_FILES:
            read_cifar10_bin(staged / name)  # raises on a malformed record file
        sums = [(archive_sha256, archive.name)]
        sums += [(file_digest(staged / name), name) for name in _MEMBERS]
        with atomic_file(staged / "SHA256SUMS") as f:
            f.write("".join(f"{digest}  {name}\n" for digest, name in sums).encode())
        target.mkdir(exist_ok=True)
        # test_batch.bin last: the loader takes the folder as complete once it is there.
        for name in ("SHA256SUMS", *_MEMBERS[::-1]):
            os.replace(staged / name, target / name)
    logger.info("CIFAR-10 unpacked into %s", target)
    return target


def _unpack(archive: Path, folder: Path, url: str, progress: bool) -> None:
    """Copy the expected members of the CIFAR-10 archive into ``folder``, refusing others."""
    expected = {f"{_ARCHIVE_FOLDER}/{name}": name for name in _MEMBERS}
    seen = set()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name
                if member.isdir() and name.rstrip("/") == _ARCHIVE_FOLDER:
                    continue
                if name.startswith("/") or ".." in PurePosixPath(name).parts:
                    problem = "an absolute path or a path with '..'"
                elif member.issym() or member.islnk():
                    problem = f"a link (to {member.linkname!r})"
                elif name not in expected:
                    problem = "not a file of the CIFAR-10 binary version"
                elif not member.isfile():
                    problem = "not a regular file"
                elif name in seen:
                    problem = "a second copy of a member"
                else:
                    problem = None
                if problem:
                    raise ValueError(
                        f"{url}: refusing archive member {name!r}: {problem}. Expected only "
                        f"{', '.join(expected)}; this is not the official "
                        "cifar-10-binary.tar.gz, and nothing was unpacked."
                    )
                seen.add(name)
                if progress:
                    sys.stderr.write(f"unpacking {name} ({member.size:,} bytes)\n")
                with tar.extractfile(member) as source, open(folder / expected[name], "xb") as f:
                    shutil.copyfileobj(source, f, 1 << 20)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(
            f"{url}: the archive is truncated or corrupt ({exc}); nothing was unpacked."
        ) from exc
    missing = [name for name in expected if name not in seen]
    if missing:
        raise ValueError(
            f"{url}: the archive lacks {', '.join(missing)}; this is not the official "
            "cifar-10-binary.tar.gz, and nothing was unpacked."
        )
