"""The data home: argument, then CNNKIT_DATA_HOME, then the checkout's data/, else a clear error.

The slow test installs cnnkit as a wheel (not editable) and checks the same from outside
the checkout.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

from cnnkit import data, data_home

import pytest

REPO = Path(__file__).resolve().parent.parent
CSV_ROW = "7," + ",".join(["0"] * 784) + "\n"


@pytest.fixture(autouse=True)
def no_data_env(monkeypatch):
    monkeypatch.delenv("CNNKIT_DATA_HOME", raising=False)


def make_home(root, folder="mnist_sample", n_train=20, n_test=5):
    """A data home with one tiny digit data set in ``folder``."""
    (root / folder).mkdir(parents=True, exist_ok=True)
    (root / folder / "train.csv").write_text(CSV_ROW * n_train)
    (root / folder / "test.csv").write_text(CSV_ROW * n_test)
    return root


def test_get_data_home_precedence_argument_then_env_then_checkout(tmp_path, monkeypatch):
    assert data.get_data_home() == REPO / "data"  # these tests run from a checkout
    monkeypatch.setenv("CNNKIT_DATA_HOME", str(tmp_path / "env"))
    assert data.get_data_home() == tmp_path / "env"
    assert data.get_data_home(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.setenv("CNNKIT_DATA_HOME", "")  # empty counts as unset
    assert data.get_data_home() == REPO / "data"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.get_data_home("~/d") == tmp_path / "d"
    assert not (tmp_path / "d").exists()  # nothing is created


def test_get_data_home_outside_a_checkout_says_how_to_get_data(monkeypatch):
    monkeypatch.setattr(data_home, "_checkout_data_dir", lambda: None)
    with pytest.raises(FileNotFoundError, match="not running from a repository checkout") as info:
        data.get_data_home()
    assert "CNNKIT_DATA_HOME" in str(info.value) and "fetch-mnist" in str(info.value)
    with pytest.raises(FileNotFoundError, match="CNNKIT_DATA_HOME"):
        data.load_mnist_csv()
    with pytest.raises(FileNotFoundError, match="CNNKIT_DATA_HOME"):
        data.load_cifar10()


@pytest.mark.parametrize(
    ("files", "is_checkout"),
    [
        ({"pyproject.toml": 'name = "cnnkit"\n', "data/mnist_sample/": None}, True),
        ({"pyproject.toml": 'name = "other"\n', "data/mnist_sample/": None}, False),
        ({"pyproject.toml": 'name = "cnnkit"\n'}, False),
        ({"data/mnist_sample/": None}, False),
    ],
)
def test_checkout_is_recognised_by_pyproject_and_bundled_sample(
    tmp_path, monkeypatch, files, is_checkout
):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            path.mkdir()
        else:
            path.write_text(text)
    (tmp_path / "cnnkit").mkdir()
    monkeypatch.setattr(data_home, "__file__", str(tmp_path / "cnnkit" / "data_home.py"))
    expected = tmp_path / "data" if is_checkout else None
    assert data_home._checkout_data_dir() == expected


def test_mnist_loader_follows_the_data_home(tmp_path, monkeypatch):
    home = make_home(tmp_path / "home")
    train, test, why = data.find_mnist_csv(data_home=home)
    assert (train, test) == (
        home / "mnist_sample" / "train.csv",
        home / "mnist_sample" / "test.csv",
    )
    assert f"bundled MNIST sample in {home / 'mnist_sample'}/" in why
    make_home(home, "mnist", n_train=30)  # "fetched": preferred over the sample
    (X_train, _), (X_valid, _), _ = data.load_mnist_csv(data_home=home, cache=False)
    assert len(X_train) + len(X_valid) == 30
    monkeypatch.setenv("CNNKIT_DATA_HOME", str(home))
    assert data.find_mnist_csv()[0] == home / "mnist" / "train.csv"
    # "mnist-sample" is the bundled sample even where the full MNIST was fetched.
    assert data.find_mnist_csv("mnist-sample")[0] == home / "mnist_sample" / "train.csv"
    assert data.find_mnist_csv(home / "mnist_sample")[0] == home / "mnist_sample" / "train.csv"


def test_mnist_loader_in_an_empty_data_home_names_the_folder(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"No train\.csv or train\.csv\.gz in .*mnist_sample"
    ):
        data.load_mnist_csv(data_home=tmp_path)


def test_sentences_show_repository_folders_without_machine_paths():
    *_, why = data.find_mnist_csv()
    assert "data/mnist" in why and str(REPO) not in why
    *_, why = data.find_cifar10()
    assert "data/cifar10" in why and str(REPO) not in why


# ------------------------------------------------------------------- non-editable install

CHECK_INSTALLED = textwrap.dedent(
    """
    import importlib, os, pkgutil, sys
    import cnnkit
    from cnnkit import data
    assert cnnkit.__file__.startswith(sys.argv[1]), cnnkit.__file__
    installed = sorted(m.name for m in pkgutil.walk_packages(cnnkit.__path__, "cnnkit."))
    for name in installed:
        importlib.import_module(name)
    print("modules", ",".join(installed))
    try:
        data.load_mnist_csv()
    except FileNotFoundError as exc:
        assert "CNNKIT_DATA_HOME" in str(exc), exc
        print("no data home:", exc)
    else:
        raise AssertionError("load_mnist_csv() found data outside a checkout")
    (X, _), _, _ = data.load_mnist_csv(data_home=sys.argv[2], cache=False)
    (C, _), _, names = data.load_cifar10(data_home=sys.argv[2])
    os.environ["CNNKIT_DATA_HOME"] = sys.argv[2]
    (X2, _), _, _ = data.load_mnist_csv(cache=False)
    print("loaded", X.shape, C.shape, X2.shape, names[0])
    """
)


@pytest.mark.slow
def test_non_editable_install_finds_no_data_outside_a_checkout_until_told(tmp_path):
    """Build a wheel, install it into a fresh venv, import it from outside the checkout."""
    build = tmp_path / "build"
    shutil.copytree(REPO / "cnnkit", build / "cnnkit", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, build / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "wheels", build],
        check=True,
    )
    (wheel,) = (tmp_path / "wheels").glob("cnnkit-*.whl")

    # A fresh venv holding only the wheel; a .pth file lends it .venv's dependencies (a
    # plain path entry: .venv's own .pth files, such as its editable cnnkit, do not run).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run([*pip, "install", "--no-deps", "--target", site, wheel], check=True)
    Path(site, "cnnkit_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    assert not Path(site, "data").exists()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CNNKIT_", "PYTHON"))}
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    result = subprocess.run(
        [python, "-c", CHECK_INSTALLED, str(Path(site, "cnnkit")), str(REPO / "data")],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Every module of the checkout is in the wheel and imports (subpackages such as
    # cnnkit.exercises included: pyproject once listed only the top-level package).
    expected = sorted(
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO / "cnnkit").rglob("*.py")
        if path.name != "__init__.py" or path.parent != REPO / "cnnkit"
    )
    assert f"modules {','.join(expected)}\n" in result.stdout
    assert "cnnkit.exercises.checking" in expected
    assert "no data home: cnnkit cannot find its data" in result.stdout
    assert "loaded (3600, 28, 28, 1) (3728, 32, 32, 3) (3600, 28, 28, 1) airplane" in result.stdout
