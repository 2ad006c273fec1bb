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
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_IDX_DIR",
    "FASHION_MNIST_MIRRORS",
    "MNIST_CSV_DATASETS",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "N_COLUMNS",
    "N_PIXELS",
    "fetch_cifar10",
    "fetch_fashion_mnist",
    "fetch_mnist",
    "find_cifar10",
    "find_mnist_csv",
    "get_data_home",
    "idx_dir_to_csv",
    "idx_to_csv",
    "load_cifar10",
    "load_mnist_csv",
    "load_sample_images",
    "mnist_csv_available",
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
# Fashion-MNIST's four files (Zalando Research, MIT licence) with the MD5 sums its authors
# publish (github.com/zalandoresearch/fashion-mnist), tried on each mirror in order.
FASHION_MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_MNIST_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
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

#: The digit CSV data sets a notebook can name, and the folder each lives in (in the data home).
MNIST_CSV_DATASETS = {
    "mnist": "mnist",
    "mnist-sample": "mnist_sample",
    "fashion-mnist": "fashion-mnist",
}
#: Fashion-MNIST's class names, in label order (Xiao, Rasul & Vollgraf, 2017).
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def find_mnist_csv(
    dataset: str | os.PathLike = "mnist", *, data_home: str | os.PathLike | None = None
) -> tuple[Path, Path, str]:
    """Find the digit CSV files of a data set, and say which data set they are.

    Parameters
    ----------
    dataset : {"mnist", "mnist-sample", "fashion-mnist"} or path-like, default="mnist"
        ``"mnist"``: the full MNIST in the data home's ``mnist/`` if :func:`fetch_mnist` has
        fetched it, else the bundled 5,000-digit sample. ``"mnist-sample"``: always the
        bundled sample. ``"fashion-mnist"``: the data home's ``fashion-mnist/``, which
        :func:`fetch_fashion_mnist` fills, or which is converted once from Debian's
        ``dataset-fashion-mnist`` package where that is installed. Anything else is a folder
        holding ``train.csv`` and ``test.csv`` (or ``.csv.gz``).
    data_home : str or path-like, optional
        The data home (see :func:`get_data_home`).

    Returns
    -------
    train_file, test_file : Path
        The training and test CSV files.
    description : str
        One sentence that says which data set it is.

    Raises
    ------
    FileNotFoundError
        If the data set is not there; the message says how to get it.

    Examples
    --------
    >>> train_file, test_file, about = find_mnist_csv("mnist-sample")
    >>> train_file.name, test_file.name
    ('train.csv.gz', 'test.csv.gz')
    """
    if not isinstance(dataset, str) or dataset not in MNIST_CSV_DATASETS:
        folder = Path(dataset)
        return (*_split_files(folder), f"the digit CSV files in {folder}")
    home = get_data_home(data_home)
    folder = home / MNIST_CSV_DATASETS[dataset]
    where = display_path(home, MNIST_CSV_DATASETS[dataset])
    if dataset == "fashion-mnist":
        if not _has_splits(folder) and _has_idx_files(FASHION_MNIST_IDX_DIR):
            logger.info("cnnkit.data: converting %s to CSV in %s", FASHION_MNIST_IDX_DIR, folder)
            idx_dir_to_csv(FASHION_MNIST_IDX_DIR, folder)
        if not _has_splits(folder):
            raise FileNotFoundError(
                f"Fashion-MNIST is not in {folder}. Run `python -m cnnkit fetch-fashion-mnist` "
                "(needs a network), or on Debian/Ubuntu `sudo apt-get install "
                "dataset-fashion-mnist`."
            )
        return (*_split_files(folder), f"Fashion-MNIST (70,000 clothing images) in {where}")
    if dataset == "mnist" and _has_splits(folder):
        return (*_split_files(folder), f"the full MNIST (60,000 + 10,000 digits) in {where}")
    sample = home / MNIST_CSV_DATASETS["mnist-sample"]
    about = (
        f"the bundled MNIST sample in {display_path(home, 'mnist_sample')} (4,000 training "
        "+ 1,000 test digits"
    )
    if dataset == "mnist":
        about += "; run `python -m cnnkit fetch-mnist` for the full 70,000"
    return (*_split_files(sample), about + ")")


def mnist_csv_available(dataset: str, *, data_home: str | os.PathLike | None = None) -> bool:
    """Whether :func:`load_mnist_csv` can load `dataset` here without a download.

    Examples
    --------
    >>> mnist_csv_available("mnist-sample")
    True
    """
    try:
        find_mnist_csv(dataset, data_home=data_home)
    except FileNotFoundError:
        return False
    return True


def _has_splits(directory: Path) -> bool:
    return all(_split_file(directory, split) for split in ("train", "test"))


def _has_idx_files(directory: Path) -> bool:
    return all((directory / name).is_file() for name in FASHION_MNIST_FILES)


def _split_files(directory: Path) -> tuple[Path, Path]:
    files = []
    for split in ("train", "test"):
        path = _split_file(directory, split)
        if path is None:
            raise FileNotFoundError(
                f"No {split}.csv or {split}.csv.gz in {directory}. {GET_DIGITS_HELP}"
            )
        files.append(path)
    return files[0], files[1]


def _split_file(directory: Path, split: str) -> Path | None:
    for name in (f"{split}.csv", f"{split}.csv.gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def load_mnist_csv(
    dataset: str | os.PathLike = "mnist",
    n_valid: int = 5000,
    *,
    cache: bool = True,
    data_home: str | os.PathLike | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Load a digit CSV data set as training, validation and test arrays of raw pixels.

    The first ``n_valid`` rows of the training file are the validation set (Géron's chapter 14
    holds out the last 5,000 instead); for small files this is capped at 10% of the rows (400 of
    the bundled sample's 4,000).

    Parameters
    ----------
    dataset : {"mnist", "mnist-sample", "fashion-mnist"} or path-like, default="mnist"
        Which data set (see :func:`find_mnist_csv`), or a folder of ``train.csv`` and
        ``test.csv``. The choice is logged at INFO level.
    n_valid : int, default=5000
        Number of leading training rows used for validation (at most 10% of the rows).
    cache : bool, default=True
        Reuse parsed arrays saved beside the CSV files (see :func:`read_digits_csv`).
    data_home : str or path-like, optional
        The data home (see :func:`get_data_home`).

    Returns
    -------
    (X_train, y_train), (X_valid, y_valid), (X_test, y_test)
        Images as uint8 arrays of shape (n, 28, 28, 1), the pixels 0..255 as in the file
        (the course's models scale them with a ``Rescaling`` layer); labels as int64 arrays
        of shape (n,).

    Raises
    ------
    FileNotFoundError
        If the data set is not there; the message says how to get it.
    ValueError
        If ``n_valid`` is negative, or a file is malformed (see :func:`read_digits_csv`).

    Examples
    --------
    >>> (X_train, y_train), (X_valid, y_valid), (X_test, y_test) = load_mnist_csv("mnist-sample")
    >>> X_train.shape, X_valid.shape, X_test.shape, X_train.dtype
    ((3600, 28, 28, 1), (400, 28, 28, 1), (1000, 28, 28, 1), dtype('uint8'))
    """
    if n_valid < 0:
        raise ValueError(f"n_valid must be 0 or more, got {n_valid}.")
    train_file, test_file, description = find_mnist_csv(dataset, data_home=data_home)
    logger.info("cnnkit.data: using %s", description)
    X, y = read_digits_csv(train_file, cache=cache)
    X_test, y_test = read_digits_csv(test_file, cache=cache)
    n_valid = min(n_valid, len(X) // 10)
    images, test_images = X.reshape(-1, 28, 28, 1), X_test.reshape(-1, 28, 28, 1)
    return (images[n_valid:], y[n_valid:]), (images[:n_valid], y[:n_valid]), (test_images, y_test)


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
    return _fetch_idx_as_csv(directory, MNIST_FILES, mirrors, "sha256", progress)


def fetch_fashion_mnist(
    directory: str | os.PathLike | None = None,
    *,
    data_home: str | os.PathLike | None = None,
    mirrors: Sequence[str] = FASHION_MNIST_MIRRORS,
    progress: bool = True,
) -> Path:
    """Download Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017) and convert it to CSV.

    Works like :func:`fetch_mnist`: the four official IDX files are checked against the MD5
    sums their authors publish before they are renamed into place, and a failed or
    interrupted download leaves nothing behind. Nothing is downloaded if the CSV files exist.

    Parameters
    ----------
    directory : str or path-like, optional
        Where the ``.gz`` and CSV files go. Default: ``fashion-mnist/`` in the data home,
        where ``load_mnist_csv("fashion-mnist")`` looks.
    data_home : str or path-like, optional
        The data home (see :func:`get_data_home`); used when ``directory`` is None.
    mirrors : sequence of str, default=FASHION_MNIST_MIRRORS
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
        If a file could not be fetched with the right checksum from any mirror.

    Examples
    --------
    With a network connection::

        fetch_fashion_mnist()              # data/fashion-mnist/train.csv and test.csv
        load_mnist_csv("fashion-mnist")
    """
    directory = (
        Path(directory) if directory is not None else get_data_home(data_home) / "fashion-mnist"
    )
    return _fetch_idx_as_csv(directory, FASHION_MNIST_FILES, mirrors, "md5", progress)


def _fetch_idx_as_csv(
    directory: Path, files: dict[str, str], mirrors: Sequence[str], algorithm: str, progress: bool
) -> Path:
    """Download the four IDX `files` (name -> hash) into `directory` and convert to CSV."""
    if (directory / "train.csv").is_file() and (directory / "test.csv").is_file():
        logger.info("CSV files already present in %s", directory)
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    for name, digest in files.items():
        download(
            [mirror + name for mirror in mirrors],
            directory / name,
            digest,
            algorithm=algorithm,
            progress=progress,
        )
    return idx_dir_to_csv(directory, directory)
