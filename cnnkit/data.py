"""The course's data sets in one place: sample images, MNIST as digit CSV files, CIFAR-10.

Verbs follow scikit-learn's datasets: ``load_*`` reads what ships with the repository and
never touches the network, ``fetch_*`` may download, ``read_*`` parses a file you name and
``*_to_*`` converts. The data sets live in the data home (:func:`get_data_home`): the
repository's ``data/`` folder, unless ``CNNKIT_DATA_HOME`` or a ``data_home`` argument
names another.

This module holds the MNIST loaders and fetcher and re-exports the rest, each from the
module that does one job: ``cnnkit.digits_csv`` (the digit CSV format), ``cnnkit.idx``
(IDX files), ``cnnkit.cifar10`` (CIFAR-10), ``cnnkit.data_home`` and ``cnnkit.download``.
"""

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cnnkit.cifar10 import (
    CIFAR10_CLASSES,
    CIFAR10_MD5,
    CIFAR10_URL,
    fetch_cifar10,
    find_cifar10,
    load_cifar10,
    read_cifar10_bin,
)
from cnnkit.data_home import display_path, get_data_home
from cnnkit.digits_csv import (
    GET_DIGITS_HELP,
    N_COLUMNS,
    N_PIXELS,
    pixels_to_images,
    read_digits_csv,
    write_digits_csv,
)
from cnnkit.download import download
from cnnkit.idx import FASHION_MNIST_IDX_DIR, idx_dir_to_csv, idx_to_csv, read_idx

import numpy as np

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MD5",
    "CIFAR10_URL",
    "FASHION_MNIST_IDX_DIR",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "N_COLUMNS",
    "N_PIXELS",
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
    "write_digits_csv",
]

logger = logging.getLogger(__name__)

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
                f"No {split}.csv or {split}.csv.gz in {folder}. {GET_DIGITS_HELP}"
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
        (pixels_to_images(X[n_valid:]), y[n_valid:]),
        (pixels_to_images(X[:n_valid]), y[:n_valid]),
        (pixels_to_images(X_test), y_test),
    )


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
