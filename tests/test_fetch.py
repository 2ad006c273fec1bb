"""fetch_mnist against a local HTTP server on 127.0.0.1 that serves IDX files the test makes.

Nothing here reaches the internet. Also the download helpers (cnnkit.download).
"""

import gzip
import hashlib
import http.server
import os
import threading

from cnnkit import data, download
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
    """A loopback HTTP server: ``routes`` maps a path to bytes or to an HTTP error code."""

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
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

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
