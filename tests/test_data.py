"""Tests for cnnkit.data: bundled sample, CSV reading and checks, IDX conversion, caching."""

import gzip
import hashlib
import re

from cnnkit import data, digits_csv

import numpy as np
import pandas as pd
import pytest


def write_csv(path, rows, *, newline="\n", trailing=True):
    text = newline.join(",".join(str(v) for v in row) for row in rows)
    path.write_text(text + (newline if trailing else ""))
    return path


SAMPLE_DIR = data.get_data_home() / "mnist_sample"


def digit_rows(n, seed=0):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 256, size=(n, 785))
    rows[:, 0] = rng.integers(0, 10, size=n)
    return rows


# ---------------------------------------------------------------- sample images and data


def test_load_sample_images_shape_range_and_pixels():
    from sklearn.datasets import load_sample_images

    images = data.load_sample_images()
    assert images.shape == (2, 427, 640, 3)
    assert images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    china = load_sample_images()["images"][0]
    np.testing.assert_allclose(images[0] * 255, china, atol=1e-3)


def test_bundled_sample_matches_data_readme_checksums():
    readme = (data.get_data_home() / "README.md").read_text()
    for name in ("train.csv.gz", "test.csv.gz"):
        digest = hashlib.sha256((SAMPLE_DIR / name).read_bytes()).hexdigest()
        assert re.search(rf"{re.escape(name)}.*{digest}", readme), f"{name}: {digest} not in README"


@pytest.mark.parametrize(
    ("name", "n_rows", "per_class"), [("train", 4000, 400), ("test", 1000, 100)]
)
def test_bundled_sample_rows_classes_and_pandas_agreement(name, n_rows, per_class):
    path = SAMPLE_DIR / f"{name}.csv.gz"
    X, y = data.read_digits_csv(path)
    assert X.shape == (n_rows, 784) and X.dtype == np.uint8
    assert y.shape == (n_rows,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [per_class] * 10
    table = pd.read_csv(path, header=None).to_numpy()
    np.testing.assert_array_equal(X, table[:, 1:])
    np.testing.assert_array_equal(y, table[:, 0])
    # Real handwritten digits: about a fifth of the pixels are ink, and the image
    # border is (nearly) blank.
    assert 0.1 < (X > 0).mean() < 0.3
    assert X.reshape(-1, 28, 28)[:, 0, :].mean() < 1


# ------------------------------------------------------------------------ read_digits_csv


def test_read_digits_csv_plain_gzip_crlf_and_no_trailing_newline(tmp_path):
    rows = digit_rows(7)
    expected_X, expected_y = rows[:, 1:].astype(np.uint8), rows[:, 0]
    plain = write_csv(tmp_path / "a.csv", rows)
    crlf = write_csv(tmp_path / "b.csv", rows, newline="\r\n", trailing=False)
    gz = tmp_path / "c.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, crlf, gz):
        X, y = data.read_digits_csv(path)
        np.testing.assert_array_equal(X, expected_X)
        np.testing.assert_array_equal(y, expected_y)


def test_read_digits_csv_across_chunk_boundaries_reports_true_row(tmp_path, monkeypatch):
    monkeypatch.setattr(digits_csv, "_CHUNK_BYTES", 1000)  # many chunks, lines split across them
    rows = digit_rows(50, seed=1)
    X, y = data.read_digits_csv(write_csv(tmp_path / "ok.csv", rows))
    np.testing.assert_array_equal(X, rows[:, 1:])
    np.testing.assert_array_equal(y, rows[:, 0])
    rows[37, 200] = 300
    with pytest.raises(
        ValueError, match=r"row 38, column 201: pixel value 300 is outside 0\.\.255"
    ):
        data.read_digits_csv(write_csv(tmp_path / "bad.csv", rows))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda lines: lines.__setitem__(2, lines[2] + ",7"),
            r"row 3 has 786 columns, expected 785",
        ),
        (
            lambda lines: lines.__setitem__(1, lines[1].split(",", 1)[1]),
            r"row 2 has 784 columns, expected 785.*label column missing",
        ),
        (
            lambda lines: lines.__setitem__(3, "4,1.5" + lines[3][lines[3].index(",", 2) :]),
            r"row 4, column 2: '1\.5' is not an integer",
        ),
        (
            lambda lines: lines.__setitem__(2, "3,,0" + lines[2][lines[2].index(",", 2) + 2 :]),
            r"row 3, column 2: the value is missing",
        ),
        (
            lambda lines: lines.__setitem__(0, "12" + lines[0][lines[0].index(",") :]),
            r"row 1, column 1: label value 12 is outside 0\.\.9",
        ),
        (
            lambda lines: lines.__setitem__(4, lines[4].rsplit(",", 1)[0] + ",1000"),
            r"row 5, column 785: the value is too large",
        ),
        (
            lambda lines: lines.insert(0, ",".join(["label"] + [f"px{i}" for i in range(784)])),
            r"row 1, column 1: 'label' is not an integer.*no header line",
        ),
    ],
)
def test_read_digits_csv_rejects_bad_rows_naming_file_row_and_column(tmp_path, edit, message):
    rows = digit_rows(6, seed=2)
    rows[:, 1:] = np.minimum(rows[:, 1:], 99)  # two-digit values keep the edits simple
    lines = [",".join(str(v) for v in row) for row in rows]
    edit(lines)
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=message) as info:
        data.read_digits_csv(path)
    assert str(path) in str(info.value)


def test_read_digits_csv_empty_and_missing_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match=r"empty\.csv is empty: expected one row per image"):
        data.read_digits_csv(empty)
    with pytest.raises(FileNotFoundError, match=r"nothere\.csv.*python -m cnnkit fetch-mnist"):
        data.read_digits_csv(tmp_path / "nothere.csv")


@pytest.mark.parametrize("cache", [False, True])
def test_read_digits_csv_truncated_or_fake_gzip_names_the_file(tmp_path, cache):
    text = write_csv(tmp_path / "whole.csv", digit_rows(200, seed=6)).read_bytes()
    body = gzip.compress(text)
    cut = tmp_path / "cut.csv.gz"  # a download cut short
    cut.write_bytes(body[: len(body) // 2])
    with pytest.raises(ValueError, match=r"cut\.csv\.gz is not a complete gzip file.*delete it"):
        data.read_digits_csv(cut, cache=cache)
    fake = tmp_path / "fake.csv.gz"  # plain text with a .gz name
    fake.write_text("7," + ",".join(["0"] * 784) + "\n")
    with pytest.raises(ValueError, match=r"fake\.csv\.gz is not a complete gzip file"):
        data.read_digits_csv(fake, cache=cache)
    assert not list(tmp_path.glob("*.npz"))  # no cache written for a bad file


def test_read_digits_csv_cache_reused_and_invalidated(tmp_path):
    rows = digit_rows(5, seed=3)
    path = write_csv(tmp_path / "train.csv", rows)
    X1, _ = data.read_digits_csv(path, cache=True)
    cache_file = tmp_path / "train.csv.cache.npz"
    assert cache_file.is_file()
    with np.load(cache_file) as saved:
        np.testing.assert_array_equal(saved["X"], X1)
    X2, _ = data.read_digits_csv(path, cache=True)
    np.testing.assert_array_equal(X1, X2)
    rows[0, 1] = 255 - rows[0, 1]
    write_csv(path, rows[:4])  # the CSV changes: size differs, cache must not be used
    X3, _ = data.read_digits_csv(path, cache=True)
    assert X3.shape == (4, 784) and X3[0, 0] == rows[0, 1]
    assert not list(tmp_path.glob("*.part"))


# ------------------------------------------------------------------------ load_mnist_csv


def test_load_mnist_csv_bundled_sample_split_shapes_and_raw_pixels():
    (X_train, y_train), (X_valid, y_valid), (X_test, y_test) = data.load_mnist_csv(
        SAMPLE_DIR, cache=False
    )
    assert X_train.shape == (3600, 28, 28, 1) and X_valid.shape == (400, 28, 28, 1)
    assert X_test.shape == (1000, 28, 28, 1)
    for X in (X_train, X_valid, X_test):
        assert X.dtype == np.uint8 and X.min() == 0 and X.max() == 255
    raw_X, raw_y = data.read_digits_csv(SAMPLE_DIR / "train.csv.gz")
    # The first rows of the training file are the validation set.
    np.testing.assert_array_equal(y_valid, raw_y[:400])
    np.testing.assert_array_equal(y_train, raw_y[400:])
    np.testing.assert_array_equal(X_valid[0].ravel(), raw_X[0])
    assert len(y_test) == 1000


def test_load_mnist_csv_directory_choice_and_n_valid(tmp_path):
    write_csv(tmp_path / "train.csv", digit_rows(100, seed=4))
    write_csv(tmp_path / "test.csv", digit_rows(20, seed=5))
    train_file, test_file, why = data.find_mnist_csv(tmp_path)
    assert (train_file, test_file) == (tmp_path / "train.csv", tmp_path / "test.csv")
    assert why == f"the digit CSV files in {tmp_path}"
    (X_train, _), (X_valid, _), (X_test, _) = data.load_mnist_csv(tmp_path, n_valid=5)
    assert (len(X_train), len(X_valid), len(X_test)) == (95, 5, 20)
    (X_train, _), (X_valid, _), _ = data.load_mnist_csv(tmp_path)  # 5000 capped at 10% of 100
    assert (len(X_train), len(X_valid)) == (90, 10)
    with pytest.raises(ValueError, match="n_valid must be 0 or more, got -1"):
        data.load_mnist_csv(tmp_path, n_valid=-1)


def test_an_environment_variable_no_longer_switches_every_notebook_s_data(tmp_path, monkeypatch):
    # A data set is named by the notebook that loads it, never by the Jupyter session's
    # environment (CNNKIT_DATA leaked Fashion-MNIST into every notebook).
    write_csv(tmp_path / "train.csv", digit_rows(100, seed=4))
    write_csv(tmp_path / "test.csv", digit_rows(20, seed=5))
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path))
    assert data.find_mnist_csv("mnist-sample")[0] == SAMPLE_DIR / "train.csv.gz"


def test_load_mnist_csv_missing_test_file_says_how_to_get_data(tmp_path):
    write_csv(tmp_path / "train.csv", digit_rows(10))
    with pytest.raises(FileNotFoundError, match=r"No test\.csv or test\.csv\.gz in .*fetch-mnist"):
        data.load_mnist_csv(tmp_path)


# ----------------------------------------------------------------------------- IDX files


def idx_bytes(array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def test_idx_to_csv_round_trip_plain_and_gzip(tmp_path):
    rng = np.random.default_rng(6)
    images = rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=30, dtype=np.uint8)
    (tmp_path / "img.idx3-ubyte").write_bytes(idx_bytes(images))
    (tmp_path / "lab.idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(data.read_idx(tmp_path / "img.idx3-ubyte"), images)
    for out_name in ("out.csv", "out.csv.gz"):
        out = data.idx_to_csv(
            tmp_path / "img.idx3-ubyte", tmp_path / "lab.idx1-ubyte.gz", tmp_path / out_name
        )
        X, y = data.read_digits_csv(out)
        np.testing.assert_array_equal(X, images.reshape(30, 784))
        np.testing.assert_array_equal(y, labels)
    table = pd.read_csv(tmp_path / "out.csv", header=None).to_numpy()
    assert table.shape == (30, 785)


def test_read_idx_and_idx_to_csv_errors(tmp_path):
    (tmp_path / "bad").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match=r"not an unsigned-byte IDX file.*504b0304"):
        data.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(idx_bytes(np.zeros((3, 28, 28)))[:-5])
    with pytest.raises(ValueError, match=r"shape \(3, 28, 28\).*truncated"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "img").write_bytes(idx_bytes(np.zeros((3, 28, 28))))
    (tmp_path / "lab").write_bytes(idx_bytes(np.zeros(4)))
    with pytest.raises(ValueError, match="expected 3 labels"):
        data.idx_to_csv(tmp_path / "img", tmp_path / "lab", tmp_path / "x.csv")
    (tmp_path / "small").write_bytes(idx_bytes(np.zeros((3, 8, 8))))
    with pytest.raises(ValueError, match=r"expected images of shape \(n, 28, 28\)"):
        data.idx_to_csv(tmp_path / "small", tmp_path / "lab", tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_format_rows_matches_numpy_savetxt():
    rows = np.array([[0, 9, 10, 99, 100, 255], [5, 0, 0, 1, 200, 30]], dtype=np.uint8)
    assert digits_csv._format_rows(rows) == b"0,9,10,99,100,255\n5,0,0,1,200,30\n"


def test_write_digits_csv_checks_input_and_writes_reproducible_gzip(tmp_path):
    rows = digit_rows(6, seed=7)
    X, y = rows[:, 1:].reshape(6, 28, 28), rows[:, 0]
    a = data.write_digits_csv(tmp_path / "a.csv.gz", X, y)
    b = data.write_digits_csv(tmp_path / "b.csv.gz", X, y)
    assert a.read_bytes() == b.read_bytes() and a.read_bytes()[4:8] == b"\0\0\0\0"  # mtime 0
    np.testing.assert_array_equal(pd.read_csv(a, header=None).to_numpy(), rows)
    with pytest.raises(ValueError, match=r"got \(6, 28, 28\) and \(5,\)"):
        data.write_digits_csv(tmp_path / "c.csv", X, y[:5])
    with pytest.raises(ValueError, match=r"label values must be in 0\.\.9, got 0\.\.10"):
        data.write_digits_csv(tmp_path / "c.csv", X, np.arange(6) * 2)
    with pytest.raises(ValueError, match=r"pixel values must be in 0\.\.255, got -1\.\."):
        data.write_digits_csv(tmp_path / "c.csv", X.astype(int) - 1, y)
    assert not (tmp_path / "c.csv").exists()
