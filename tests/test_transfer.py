"""cnnkit.transfer: the small base, examples per class, and keras.applications without a network."""

import urllib.error

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit import transfer
from cnnkit.transfer import examples_per_class, load_application, small_base

import h5py
import keras
import numpy as np
import pytest
from keras.src.backend import config as keras_config
from keras.src.legacy.saving import legacy_h5_format
from keras.src.utils import file_utils


def test_small_base_takes_raw_pixels_and_gives_128_features():
    base = small_base()
    assert base.layers[1].name == "rescaling"
    assert base.output.shape == (None, 128)
    assert [layer.name for layer in base.layers if "conv" in layer.name] == [
        "conv1",
        "conv2",
        "conv3",
    ]
    assert all(not layer.use_bias for layer in base.layers if "conv" in layer.name)
    features = base(np.full((2, 28, 28, 1), 255, dtype=np.uint8), training=False)
    assert np.all(np.isfinite(features))


def test_examples_per_class_draws_the_same_examples_for_the_same_seed():
    labels = np.repeat(np.arange(4), 10)
    first = examples_per_class(labels, 3, seed=5)
    assert np.bincount(labels[first]).tolist() == [3, 3, 3, 3]
    assert np.array_equal(first, examples_per_class(labels, 3, seed=5))
    assert not np.array_equal(first, examples_per_class(labels, 3, seed=6))
    assert len(np.unique(first)) == 12
    assert np.array_equal(examples_per_class(labels, None), np.arange(40))


def test_examples_per_class_refuses_more_than_a_class_has():
    with pytest.raises(ValueError, match="class 1 has 2 examples"):
        examples_per_class(np.array([0, 0, 0, 1, 1]), 3)


def test_load_application_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="unknown application"):
        load_application("ResNet1000")


@pytest.fixture
def empty_keras_cache(monkeypatch, tmp_path):
    """Keras' cache is an empty folder, and every download fails as it does offline."""
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    return tmp_path


def test_without_network_or_cache_it_says_so_in_one_line_and_builds_random_weights(
    empty_keras_cache, capsys
):
    model, weights_loaded, message = load_application("MobileNetV3Small", (32, 32, 3))
    assert weights_loaded is False
    assert "\n" not in message
    assert "could not be loaded" in message and "weights=None" in message
    assert "no network" in message
    assert model.output.shape == (None, 1, 1, 576)
    assert capsys.readouterr().out == ""  # Keras' "Downloading data from ..." is hidden


def test_with_the_weights_in_keras_cache_it_loads_them(empty_keras_cache, monkeypatch):
    # A weights file where Keras looks for it; the hash check is skipped (the file is ours).
    reference = keras.applications.MobileNetV3Small(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    rng = np.random.default_rng(0)
    reference.set_weights([rng.normal(size=w.shape).astype("float32") for w in reference.weights])
    models = empty_keras_cache / "models"
    models.mkdir()
    name = "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
    with h5py.File(models / name, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, reference)
    monkeypatch.setattr(file_utils, "validate_file", lambda *args, **kwargs: True)

    model, weights_loaded, message = load_application("MobileNetV3Small", (32, 32, 3))
    assert weights_loaded is True
    assert "ImageNet weights loaded" in message
    for loaded, saved in zip(model.weights, reference.weights, strict=True):
        np.testing.assert_array_equal(np.array(loaded), np.array(saved))


def test_a_corrupt_cached_file_falls_back_too(empty_keras_cache, monkeypatch):
    models = empty_keras_cache / "models"
    models.mkdir()
    (models / "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5").write_bytes(b"not h5")
    monkeypatch.setattr(file_utils, "validate_file", lambda *args, **kwargs: True)
    model, weights_loaded, message = load_application("MobileNetV3Small", (32, 32, 3))
    assert weights_loaded is False
    assert "\n" not in message
    assert len(model.layers) > 100


def test_the_message_names_the_reason_briefly():
    long = RuntimeError("x" * 300)
    assert len(transfer._first_line(long)) == 120
    fetch = Exception("URL fetch failure on https://a/b.h5: None -- [Errno -2] Name unknown")
    assert transfer._first_line(fetch) == "no network: [Errno -2] Name unknown"
