"""CIFAR-10 records: the reader against hand-built records, the bundled sample, the loader."""

import gzip
import hashlib
import logging
import re

from cnnkit import cifar10, data

import numpy as np
import pytest

SAMPLE = data.get_data_home() / "cifar10_sample"


@pytest.fixture(autouse=True)
def no_data_env(monkeypatch):
    monkeypatch.delenv("CNNKIT_DATA_HOME", raising=False)


def records(labels, seed=0):
    """Random records in the official layout, and the images they hold (built pixel by pixel)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (len(labels), 32, 32, 3), dtype=np.uint8)
    raw = bytearray()
    for label, image in zip(labels, images, strict=True):
        raw.append(label)
        for channel in range(3):  # red plane, then green, then blue, each row by row
            for row in range(32):
                for col in range(32):
                    raw.append(image[row, col, channel])
    return bytes(raw), images


def test_reader_pixel_layout_on_a_hand_written_record(tmp_path):
    record = bytearray(3073)
    record[0] = 6  # frog
    record[1 + 0] = 11  # red, row 0, column 0
    record[1 + 31] = 12  # red, row 0, column 31
    record[1 + 32] = 13  # red, row 1, column 0
    record[1 + 1024 + 5 * 32 + 7] = 21  # green, row 5, column 7
    record[1 + 2048 + 31 * 32 + 31] = 31  # blue, row 31, column 31
    (tmp_path / "one.bin").write_bytes(bytes(record))
    X, y = data.read_cifar10_bin(tmp_path / "one.bin")
    assert X.shape == (1, 32, 32, 3) and X.dtype == np.uint8 and X.flags.c_contiguous
    assert y.tolist() == [6] and y.dtype == np.int64
    expected = np.zeros((32, 32, 3), np.uint8)
    expected[0, 0, 0], expected[0, 31, 0], expected[1, 0, 0] = 11, 12, 13
    expected[5, 7, 1], expected[31, 31, 2] = 21, 31
    np.testing.assert_array_equal(X[0], expected)


def test_reader_plain_and_gzip_agree_with_images_built_pixel_by_pixel(tmp_path):
    raw, images = records([0, 9, 3, 3, 5])
    (tmp_path / "b.bin").write_bytes(raw)
    (tmp_path / "b.bin.gz").write_bytes(gzip.compress(raw))
    for name in ("b.bin", "b.bin.gz"):
        X, y = data.read_cifar10_bin(tmp_path / name)
        np.testing.assert_array_equal(X, images)
        assert y.tolist() == [0, 9, 3, 3, 5]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty\.bin is empty: expected CIFAR-10 binary records of 3,073 bytes"),
        (
            b"\x01" * (2 * 3073 + 100),
            r"6,246 bytes is not a whole number of records.*2 complete records and then 100 "
            r"bytes of record 3; the file is truncated",
        ),
        (b"\x01" * (3 * 3074), r"is it CIFAR-100, which has two label bytes\?"),
        (
            b"\x02" * 3073 + b"\x0a" + b"\x00" * 3072,
            r"record 2 \(byte offset 3,073\) has label byte 10, expected 0\.\.9",
        ),
    ],
)
def test_reader_rejects_bad_files_naming_file_record_and_expectation(tmp_path, content, message):
    path = tmp_path / "empty.bin" if not content else tmp_path / "bad.bin"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        data.read_cifar10_bin(path)


def test_reader_truncated_gzip_and_missing_file(tmp_path):
    raw, _ = records([1, 2])
    (tmp_path / "cut.bin.gz").write_bytes(gzip.compress(raw)[:-30])
    with pytest.raises(ValueError, match=r"cut\.bin\.gz: cannot decompress .*truncated or corrupt"):
        data.read_cifar10_bin(tmp_path / "cut.bin.gz")
    with pytest.raises(FileNotFoundError, match=r"No CIFAR-10 record file at .*CNNKIT_DATA_HOME"):
        data.read_cifar10_bin(tmp_path / "missing.bin")


# ------------------------------------------------------------------------ bundled sample


def test_bundled_sample_shapes_labels_and_classes():
    (X_train, y_train), (X_test, y_test), class_names = data.load_cifar10(SAMPLE)
    assert X_train.shape == (3728, 32, 32, 3) and X_test.shape == (846, 32, 32, 3)
    assert X_train.dtype == X_test.dtype == np.uint8
    assert y_train.dtype == y_test.dtype == np.int64
    assert class_names == (
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
    # As in the official test set (and ../shared/data/cifar10-sample/README.md).
    first = "cat ship ship airplane frog frog automobile frog cat automobile".split()
    assert [class_names[k] for k in y_test[:10]] == first
    # Roughly balanced: each class 70..113 per file, so 280..452 in the four training files.
    assert np.bincount(y_train, minlength=10).min() >= 280
    assert np.bincount(y_test, minlength=10).min() >= 70
    # Real photos: all 256 values occur, and the mean is near CIFAR-10's (about 120 of 255).
    assert len(np.unique(X_train)) == 256 and 100 < X_train.mean() < 140


def test_bundled_sample_matches_data_readme_checksums():
    readme = (data.get_data_home() / "README.md").read_text()
    for path in sorted(SAMPLE.glob("*.bin.gz")):
        packed = hashlib.sha256(path.read_bytes()).hexdigest()
        raw = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
        line = re.search(rf"^\|.*{re.escape(path.name)}.*$", readme, re.MULTILINE)
        assert line, f"{path.name} not in data/README.md"
        assert packed in line.group() and raw in line.group(), f"{path.name}: {packed} / {raw}"


# ------------------------------------------------------------------------------- loader


def make_full_set(folder, n_per_file=3):
    """Stand-ins for the six official files (each with ``n_per_file`` records)."""
    folder.mkdir(parents=True)
    arrays = {}
    for i, name in enumerate(cifar10._FULL_FILES):
        labels = [(i + k) % 10 for k in range(n_per_file)]
        raw, images = records(labels, seed=i)
        (folder / name).write_bytes(raw)
        arrays[name] = images, labels
    return arrays


def test_loader_prefers_the_fetched_full_set_and_logs_its_choice(tmp_path, caplog):
    home = tmp_path / "home"
    (home / "cifar10_sample").mkdir(parents=True)
    for name in ("data_batch_1.bin", "test_batch.bin"):
        (home / "cifar10_sample" / name).write_bytes(records([4])[0])
    with caplog.at_level(logging.INFO, logger="cnnkit.cifar10"):
        (X_train, _), (X_test, _), _ = data.load_cifar10(data_home=home)
    assert len(X_train) == len(X_test) == 1
    assert f"bundled CIFAR-10 sample in {home / 'cifar10_sample'}/" in caplog.text

    arrays = make_full_set(home / "cifar10")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="cnnkit.cifar10"):
        (X_train, y_train), (X_test, _), _ = data.load_cifar10(data_home=home)
    assert "the full CIFAR-10 (50,000 training + 10,000 test images)" in caplog.text
    np.testing.assert_array_equal(
        X_train, np.concatenate([arrays[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    )
    assert y_train.tolist() == [k for i in range(1, 6) for k in arrays[f"data_batch_{i}.bin"][1]]
    np.testing.assert_array_equal(X_test, arrays["test_batch.bin"][0])


def test_loader_incomplete_full_set_falls_back_to_sample_with_a_warning(tmp_path, caplog):
    home = tmp_path / "home"
    make_full_set(home / "cifar10_sample", n_per_file=1)
    make_full_set(home / "cifar10")
    (home / "cifar10" / "data_batch_4.bin").unlink()
    with caplog.at_level(logging.INFO, logger="cnnkit.cifar10"):
        (X_train, _), _, _ = data.load_cifar10(data_home=home)
    assert len(X_train) == 5
    assert "lacks data_batch_4.bin; using the sample" in caplog.text


def test_loader_env_var_directory_order_and_missing_files(tmp_path, monkeypatch):
    home = tmp_path / "home"
    make_full_set(home / "cifar10")
    monkeypatch.setenv("CNNKIT_DATA_HOME", str(home))
    (X_train, _), _, _ = data.load_cifar10()
    assert len(X_train) == 15
    folder = tmp_path / "mine"
    folder.mkdir()
    for k in (10, 2):  # numeric batch order, not alphabetical; .gz files too
        (folder / f"data_batch_{k}.bin.gz").write_bytes(gzip.compress(records([k % 10])[0]))
    (folder / "test_batch.bin").write_bytes(records([0])[0])
    train_files, _, why = data.find_cifar10(folder)
    assert [f.name for f in train_files] == ["data_batch_2.bin.gz", "data_batch_10.bin.gz"]
    assert "given as argument" in why
    (_, y_train), _, _ = data.load_cifar10(folder)
    assert y_train.tolist() == [2, 0]
    (folder / "test_batch.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"No test_batch\.bin or test_batch\.bin\.gz in"):
        data.load_cifar10(folder)
    with pytest.raises(FileNotFoundError, match=r"No data_batch_<k>\.bin .*cifar10_sample"):
        data.load_cifar10(data_home=tmp_path / "empty")
