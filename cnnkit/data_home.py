"""Where the course's data lives: the data home, chosen the scikit-learn way.

The data home is a folder holding ``mnist_sample/`` and ``cifar10_sample/`` (bundled with
the repository) and ``mnist/`` and ``cifar10/`` once the full data sets are fetched.
"""

import os
from pathlib import Path

DATA_HOME_ENV = "CNNKIT_DATA_HOME"

GET_DATA_HELP = (
    "The bundled samples ship with the cnnkit repository, not with the installed package: "
    "run from a clone of the repository, or set the CNNKIT_DATA_HOME environment variable "
    "(or pass data_home=) to a folder holding mnist_sample/ and cifar10_sample/, such as a "
    "clone's data/ folder. `python -m cnnkit fetch-mnist` and `python -m cnnkit fetch-cifar10` "
    "download the full data sets into the data home (needs a network)."
)


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder the data sets are read from and fetched into.

    The choice is, in order: the ``data_home`` argument; the ``CNNKIT_DATA_HOME``
    environment variable; the ``data/`` folder of the cnnkit repository when cnnkit is
    imported from a checkout (including an editable install). The folder is not created.

    Parameters
    ----------
    data_home : str or path-like, optional
        An explicit data home; ``~`` is expanded.

    Returns
    -------
    Path
        The data home.

    Raises
    ------
    FileNotFoundError
        If no argument or environment variable is given and cnnkit is not running from a
        checkout (for example after a non-editable ``pip install``); the message says how
        to get the data.

    Examples
    --------
    >>> get_data_home("~/cnnkit-data") == Path.home() / "cnnkit-data"
    True
    >>> (get_data_home() / "mnist_sample").is_dir()  # in the repository
    True
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    from_env = os.environ.get(DATA_HOME_ENV)
    if from_env:
        return Path(from_env).expanduser()
    checkout = _checkout_data_dir()
    if checkout is None:
        raise FileNotFoundError(
            "cnnkit cannot find its data: no data_home argument, no CNNKIT_DATA_HOME "
            f"environment variable, and cnnkit ({Path(__file__).parent}) is not running from "
            f"a repository checkout. {GET_DATA_HELP}"
        )
    return checkout


def display_path(data_home: Path, folder: str) -> str:
    """Name a folder of the data home for a message: ``data/<folder>/`` in a checkout.

    Messages that notebooks print show no machine paths when the data home is the
    repository's ``data/``; any other data home is shown as it is.

    Parameters
    ----------
    data_home : Path
        The data home.
    folder : str
        A folder in it, such as ``"mnist_sample"``.

    Returns
    -------
    str
        ``"data/<folder>/"`` for the repository's data home, else the full path.

    Examples
    --------
    >>> display_path(get_data_home(), "mnist_sample")  # in the repository
    'data/mnist_sample/'
    >>> display_path(Path("/srv/cnnkit"), "mnist")
    '/srv/cnnkit/mnist/'
    """
    checkout = _checkout_data_dir()
    if checkout is not None and data_home.resolve() == checkout.resolve():
        return f"data/{folder}/"
    return f"{data_home / folder}/"


def _checkout_data_dir() -> Path | None:
    """The repository's ``data/`` if this cnnkit package sits in a cnnkit checkout, else None.

    A checkout is recognised by its layout beside the package: ``pyproject.toml`` naming the
    project cnnkit and the bundled ``data/mnist_sample/``. An installed copy in
    site-packages has neither.
    """
    root = Path(__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if not (pyproject.is_file() and (root / "data" / "mnist_sample").is_dir()):
        return None
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    return root / "data" if 'name = "cnnkit"' in text else None
