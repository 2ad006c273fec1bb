"""fetch_mnist against a local HTTP server on 127.0.0.1 that serves IDX files the test makes.

Nothing here reaches the internet. Also the download helpers (cnnkit.download).
"""

import gzip
import hashlib
import http.server
import io
import os
import shutil
import tarfile
import threading

from cnnkit import cifar10, data, download
from cnnkit.__main__ import main as cli_main

import numpy as np
import pytest

N_TRAIN, N_TEST = 12, 5


def idx_gz(array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


@pytest.fixture
def mnist_files():
    """Small stand-ins for the four MNIST files, and their arrays."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TRAIN, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, N_TRAIN),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TEST, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, N_TEST),
    }
    return {name: idx_gz(a) for name, a in arrays.items()}, arrays


class Server:
    """A loopback HTTP server: ``routes`` maps a path to bytes, to (bytes, Content-Length)
    or to an HTTP error code."""

    def __init__(self):
        self.routes, self.requests = {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.routes.get(self.path, 404)
                if isinstance(body, int):
                    self.send_error(body)
                    return
                body, length = body if isinstance(body, tuple) else (body, len(body))
                self.send_response(200)
                self.send_header("Content-Length", str(length))  # a longer one: cut transfer
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def serve(self, prefix, files):
        for name, body in files.items():
            self.routes[f"{prefix}{name}"] = body


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.fixture
def pinned(monkeypatch, mnist_files):
    """Pin the checksums of the test's files, as MNIST_FILES pins the real ones."""
    files, _ = mnist_files
    monkeypatch.setattr(
        data, "MNIST_FILES", {n: hashlib.sha256(b).hexdigest() for n, b in files.items()}
    )
    return files


def test_fetch_mnist_happy_path_writes_csv_in_seed_format(tmp_path, server, pinned, mnist_files):
    _, arrays = mnist_files
    server.serve("/mnist/", pinned)
    out = data.fetch_mnist(tmp_path / "mnist", mirrors=[server.url + "/mnist/"], progress=False)
    X, y = data.read_digits_csv(out / "train.csv")
    np.testing.assert_array_equal(X, arrays["train-images-idx3-ubyte.gz"].reshape(N_TRAIN, 784))
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte.gz"])
    X, y = data.read_digits_csv(out / "test.csv")
    assert X.shape == (N_TEST, 784)
    np.testing.assert_array_equal(y, arrays["t10k-labels-idx1-ubyte.gz"])
    assert not list(out.glob(".*part"))
    (_, y_train), (_, y_valid), (_, y_test) = data.load_mnist_csv(out)
    assert (len(y_train), len(y_valid), len(y_test)) == (11, 1, N_TEST)


def test_fetch_mnist_does_nothing_when_already_present(tmp_path, server, pinned):
    server.serve("/m/", pinned)
    data.fetch_mnist(tmp_path, mirrors=[server.url + "/m/"], progress=False)
    before = len(server.requests)
    assert before == 4
    data.fetch_mnist(tmp_path, mirrors=[server.url + "/m/"], progress=False)
    assert len(server.requests) == before


def test_fetch_mnist_checksum_mismatch_leaves_nothing(tmp_path, server, pinned):
    tampered = dict(pinned)
    tampered["train-images-idx3-ubyte.gz"] = pinned["train-images-idx3-ubyte.gz"][:-1] + b"x"
    server.serve("/m/", tampered)
    with pytest.raises(
        OSError, match=r"train-images-idx3-ubyte\.gz: sha256 [0-9a-f]{64}, expected"
    ):
        data.fetch_mnist(tmp_path / "out", mirrors=[server.url + "/m/"], progress=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []


def test_fetch_mnist_server_error_then_next_mirror(tmp_path, server, pinned, capsys):
    server.serve("/good/", pinned)
    server.routes["/bad/train-images-idx3-ubyte.gz"] = 500
    with pytest.raises(OSError, match=r"/bad/train-images-idx3-ubyte\.gz: HTTP Error 500"):
        data.fetch_mnist(tmp_path / "a", mirrors=[server.url + "/bad/"], progress=False)
    assert list((tmp_path / "a").iterdir()) == []
    out = data.fetch_mnist(tmp_path / "b", mirrors=[server.url + "/bad/", server.url + "/good/"])
    assert (out / "train.csv").is_file() and (out / "test.csv").is_file()
    assert "downloading train-images-idx3-ubyte.gz" in capsys.readouterr().err
    assert "/bad/train-images-idx3-ubyte.gz" in server.requests


def test_fetch_mnist_reuses_downloaded_file_with_right_checksum(tmp_path, server, pinned):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(pinned["train-images-idx3-ubyte.gz"])
    server.serve("/m/", pinned)
    data.fetch_mnist(tmp_path, mirrors=[server.url + "/m/"], progress=False)
    assert "/m/train-images-idx3-ubyte.gz" not in server.requests
    assert len(server.requests) == 3


def test_fetch_mnist_interrupted_download_leaves_no_partial_file(
    tmp_path, server, pinned, monkeypatch
):
    server.serve("/m/", pinned)

    class CtrlC:  # Ctrl-C after the first block was written to the temporary file
        def update(self, block):
            raise KeyboardInterrupt

    monkeypatch.setattr(download.hashlib, "new", lambda name: CtrlC())
    with pytest.raises(KeyboardInterrupt):
        data.fetch_mnist(tmp_path / "m", mirrors=[server.url + "/m/"], progress=False)
    assert list((tmp_path / "m").iterdir()) == []


def test_fetch_fashion_mnist_checks_md5_into_the_data_home(
    tmp_path, server, monkeypatch, mnist_files
):
    files, arrays = mnist_files
    monkeypatch.setattr(
        data, "FASHION_MNIST_FILES", {n: hashlib.md5(b).hexdigest() for n, b in files.items()}
    )
    tampered = dict(files)
    tampered["t10k-labels-idx1-ubyte.gz"] = files["t10k-labels-idx1-ubyte.gz"] + b"x"
    server.serve("/bad/", tampered)
    server.serve("/good/", files)
    home = tmp_path / "home"
    out = data.fetch_fashion_mnist(
        data_home=home, mirrors=[server.url + "/bad/", server.url + "/good/"], progress=False
    )
    assert out == home / "fashion-mnist"
    assert not list(out.glob(".*part"))
    (X_train, _), (X_valid, _), (_, y_test) = data.load_mnist_csv("fashion-mnist", data_home=home)
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    images = arrays["train-images-idx3-ubyte.gz"].reshape(N_TRAIN, 28, 28, 1)
    np.testing.assert_array_equal(np.concatenate([X_valid, X_train]), images)
    assert "Fashion-MNIST" in data.find_mnist_csv("fashion-mnist", data_home=home)[2]


def test_fashion_mnist_missing_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_IDX_DIR", tmp_path / "no-debian-package")
    assert not data.mnist_csv_available("fashion-mnist", data_home=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"fetch-fashion-mnist.*dataset-fashion-mnist"):
        data.load_mnist_csv("fashion-mnist", data_home=tmp_path)
    assert not (tmp_path / "fashion-mnist").exists()


def test_fashion_mnist_from_debian_s_idx_files_is_converted_once(
    tmp_path, monkeypatch, mnist_files
):
    files, arrays = mnist_files
    debian = tmp_path / "usr-share-datasets-fashion-mnist"
    debian.mkdir()
    for name, body in files.items():
        (debian / name).write_bytes(body)
    monkeypatch.setattr(data, "FASHION_MNIST_IDX_DIR", debian)
    home = tmp_path / "home"
    assert data.mnist_csv_available("fashion-mnist", data_home=home)
    train_file, test_file, _ = data.find_mnist_csv("fashion-mnist", data_home=home)
    assert (train_file, test_file) == (
        home / "fashion-mnist" / "train.csv",
        home / "fashion-mnist" / "test.csv",
    )
    X, y = data.read_digits_csv(train_file)
    np.testing.assert_array_equal(X, arrays["train-images-idx3-ubyte.gz"].reshape(N_TRAIN, 784))
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte.gz"])
    stamp = train_file.stat().st_mtime_ns
    data.find_mnist_csv("fashion-mnist", data_home=home)
    assert train_file.stat().st_mtime_ns == stamp


def test_cli_idx_to_csv_and_errors(tmp_path, mnist_files, capsys):
    files, arrays = mnist_files
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    status = cli_main(["idx-dir-to-csv", str(tmp_path), str(tmp_path / "csv")])
    assert status == 0
    X, _ = data.read_digits_csv(tmp_path / "csv" / "train.csv")
    np.testing.assert_array_equal(X, arrays["train-images-idx3-ubyte.gz"].reshape(N_TRAIN, 784))
    status = cli_main(["idx-to-csv", str(tmp_path / "missing"), str(tmp_path / "x"), "o.csv"])
    assert status == 1
    assert "error: No IDX file at" in capsys.readouterr().err


# ---------------------------------------------------------------------------- fetch_cifar10

CIFAR_FILES = (*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin")


def cifar_records(n, seed):
    rng = np.random.default_rng(seed)
    records = rng.integers(0, 256, (n, 3073), dtype=np.uint8)
    records[:, 0] = rng.integers(0, 10, n)
    return records.tobytes()


def tarball(members):
    """A .tar.gz of ``members``: name -> bytes (a file) or a ready TarInfo (link, directory)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            if isinstance(content, tarfile.TarInfo):
                tar.addfile(content)
            else:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def cifar_members(**changes):
    """The members of the official binary tarball, small; ``changes`` replace or drop some."""
    folder = tarfile.TarInfo("cifar-10-batches-bin")
    folder.type = tarfile.DIRTYPE
    members = {"cifar-10-batches-bin": folder}
    for i, name in enumerate(CIFAR_FILES):
        members[f"cifar-10-batches-bin/{name}"] = cifar_records(4, seed=i)
    members["cifar-10-batches-bin/batches.meta.txt"] = "\n".join(cifar10.CIFAR10_CLASSES).encode()
    members["cifar-10-batches-bin/readme.html"] = b"<html>CIFAR-10</html>"
    for name, content in changes.items():
        if content is None:
            members.pop(name)
        else:
            members[name] = content
    return members


def serve_cifar(server, monkeypatch, body, md5_of=None):
    """Serve ``body``; pin the MD5 of ``md5_of`` (default: of ``body``) as the published one."""
    server.routes["/kriz/cifar-10-binary.tar.gz"] = body
    pinned = md5_of if md5_of is not None else body if isinstance(body, bytes) else body[0]
    monkeypatch.setattr(cifar10, "CIFAR10_MD5", hashlib.md5(pinned).hexdigest())
    return server.url + "/kriz/cifar-10-binary.tar.gz"


def test_fetch_cifar10_unpacks_checks_and_records_sha256(tmp_path, server, monkeypatch, capsys):
    members = cifar_members()
    body = tarball(members)
    url = serve_cifar(server, monkeypatch, body)
    home = tmp_path / "home"
    out = data.fetch_cifar10(data_home=home, url=url)
    assert out == home / "cifar10" and list(home.iterdir()) == [out]  # no temporary folder left
    for name in (*CIFAR_FILES, "batches.meta.txt", "readme.html"):
        assert (out / name).read_bytes() == members[f"cifar-10-batches-bin/{name}"]
    sums = dict(line.split("  ")[::-1] for line in (out / "SHA256SUMS").read_text().splitlines())
    assert sums["cifar-10-binary.tar.gz"] == hashlib.sha256(body).hexdigest()
    assert (
        sums["test_batch.bin"] == hashlib.sha256((out / "test_batch.bin").read_bytes()).hexdigest()
    )
    err = capsys.readouterr().err
    assert "downloading cifar-10-binary.tar.gz" in err and "100%" in err
    assert "unpacking cifar-10-batches-bin/data_batch_1.bin (12,292 bytes)" in err
    (X_train, y_train), (X_test, _), _ = data.load_cifar10(data_home=home)
    assert X_train.shape == (20, 32, 32, 3) and X_test.shape == (4, 32, 32, 3)
    first = np.frombuffer(members["cifar-10-batches-bin/data_batch_1.bin"], np.uint8)
    assert y_train[0] == first[0] and X_train[0, 0, 1, 0] == first[1 + 1]  # red, row 0, col 1
    data.fetch_cifar10(data_home=home, url=url)  # already there: no second request
    assert server.requests == ["/kriz/cifar-10-binary.tar.gz"]


def test_fetch_cifar10_md5_mismatch_leaves_nothing(tmp_path, server, monkeypatch):
    good = tarball(cifar_members())
    corrupted = good[:1000] + bytes([good[1000] ^ 1]) + good[1001:]
    url = serve_cifar(server, monkeypatch, corrupted, md5_of=good)
    with pytest.raises(OSError, match=r"cifar-10-binary\.tar\.gz: md5 [0-9a-f]{32}, expected"):
        data.fetch_cifar10(data_home=tmp_path, url=url, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_fetch_cifar10_cut_transfer_leaves_nothing(tmp_path, server, monkeypatch):
    good = tarball(cifar_members())
    url = serve_cifar(server, monkeypatch, (good[: len(good) // 2], len(good)), md5_of=good)
    with pytest.raises(OSError, match=rf"connection closed after {len(good) // 2:,} of"):
        data.fetch_cifar10(data_home=tmp_path, url=url, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_fetch_cifar10_truncated_archive_with_matching_md5_leaves_nothing(
    tmp_path, server, monkeypatch
):
    url = serve_cifar(server, monkeypatch, tarball(cifar_members())[:-500])
    with pytest.raises(ValueError, match="the archive is truncated or corrupt"):
        data.fetch_cifar10(data_home=tmp_path, url=url, progress=False)
    assert list(tmp_path.iterdir()) == []


def link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("../evil", b"x", "an absolute path or a path with '..'"),
        ("cifar-10-batches-bin/../../evil", b"x", "an absolute path or a path with '..'"),
        ("ABSOLUTE", b"x", "an absolute path or a path with '..'"),
        ("cifar-10-batches-bin/data_batch_1.bin", "SYMLINK", "a link"),
        ("cifar-10-batches-bin/test_batch.bin", "HARDLINK", "a link"),
        ("cifar-10-batches-bin/run_me.py", b"import os", "not a file of the CIFAR-10 binary"),
    ],
)
def test_fetch_cifar10_refuses_hostile_members_and_writes_nothing(
    tmp_path, server, monkeypatch, name, content, problem
):
    outside = tmp_path / "evil"
    if name == "ABSOLUTE":
        name = str(outside)
    if content == "SYMLINK":
        content = link(name, str(outside))
    elif content == "HARDLINK":
        content = link(name, "cifar-10-batches-bin/readme.html", tarfile.LNKTYPE)
    members = cifar_members(**{name: content})
    url = serve_cifar(server, monkeypatch, tarball(members))
    home = tmp_path / "home"
    with pytest.raises(ValueError, match=f"refusing archive member .*{problem}"):
        data.fetch_cifar10(data_home=home, url=url, progress=False)
    assert list(home.iterdir()) == [] and not outside.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_fetch_cifar10_missing_member_or_bad_records_leave_cifar10_as_it_was(
    tmp_path, server, monkeypatch
):
    home = tmp_path / "home"
    (home / "cifar10").mkdir(parents=True)
    (home / "cifar10" / "data_batch_1.bin").write_bytes(b"old")  # an earlier, partial set
    url = serve_cifar(
        server, monkeypatch, tarball(cifar_members(**{"cifar-10-batches-bin/readme.html": None}))
    )
    with pytest.raises(ValueError, match=r"the archive lacks cifar-10-batches-bin/readme\.html"):
        data.fetch_cifar10(data_home=home, url=url, progress=False)
    bad = cifar_members(**{"cifar-10-batches-bin/data_batch_3.bin": cifar_records(2, 0)[:-7]})
    url = serve_cifar(server, monkeypatch, tarball(bad))
    with pytest.raises(ValueError, match=r"data_batch_3\.bin: 6,139 bytes is not a whole number"):
        data.fetch_cifar10(data_home=home, url=url, progress=False)
    assert sorted(p.name for p in home.rglob("*")) == ["cifar10", "data_batch_1.bin"]
    assert (home / "cifar10" / "data_batch_1.bin").read_bytes() == b"old"


def test_fetch_cifar10_interrupted_while_unpacking_leaves_nothing(tmp_path, server, monkeypatch):
    url = serve_cifar(server, monkeypatch, tarball(cifar_members()))
    copies = []

    def copy_then_ctrl_c(source, target, length):
        copies.append(target.name)
        if len(copies) == 3:
            raise KeyboardInterrupt
        shutil.copyfileobj(source, target, length)

    monkeypatch.setattr(cifar10.shutil, "copyfileobj", copy_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        data.fetch_cifar10(data_home=tmp_path, url=url, progress=False)
    assert len(copies) == 3 and list(tmp_path.iterdir()) == []


def test_cli_fetch_cifar10(tmp_path, server, monkeypatch, capsys):
    url = serve_cifar(server, monkeypatch, tarball(cifar_members()))
    assert cli_main(["fetch-cifar10", "--data-home", str(tmp_path), "--url", url]) == 0
    assert f"done: {tmp_path / 'cifar10'}" in capsys.readouterr().out
    assert cli_main(["fetch-cifar10", "--data-home", str(tmp_path / "b"), "--url", url + "x"]) == 1
    assert "error: Could not download cifar-10-binary.tar.gzx" in capsys.readouterr().err
    # A local copy of the archive works through a file:// URL, checked all the same.
    copy = tmp_path / "cifar-10-binary.tar.gz"
    copy.write_bytes(tarball(cifar_members()))
    monkeypatch.setattr(cifar10, "CIFAR10_MD5", hashlib.md5(copy.read_bytes()).hexdigest())
    assert (
        cli_main(["fetch-cifar10", "--data-home", str(tmp_path / "c"), "--url", copy.as_uri()]) == 0
    )
    assert (tmp_path / "c" / "cifar10" / "test_batch.bin").is_file()


# --------------------------------------------------------------------- download helpers


def test_atomic_file_leaves_nothing_on_interrupt(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(KeyboardInterrupt):
        with download.atomic_file(target) as f:
            f.write(b"half")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_file_gives_usual_permissions(tmp_path):
    with download.atomic_file(tmp_path / "out.bin") as f:
        f.write(b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out.bin").stat().st_mode & 0o777 == 0o666 & ~umask
