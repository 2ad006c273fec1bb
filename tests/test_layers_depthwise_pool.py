"""Tests for cnnkit.layers.DepthwiseMaxPool2D (depthwise / channel max pooling)."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnkit.layers import DepthwiseMaxPool2D


def _expected(x: np.ndarray, k: int) -> np.ndarray:
    """TensorFlow's own depthwise max pooling: a pooling window along the channel axis
    (the form Géron's chapter 14 uses before Keras had a layer for it)."""
    return tf.nn.max_pool(x, ksize=(1, 1, 1, k), strides=(1, 1, 1, k), padding="VALID").numpy()


@pytest.mark.parametrize(
    ("shape", "pool_size"),
    [
        ((2, 5, 7, 6), 3),
        ((1, 4, 4, 6), 2),
        ((3, 1, 1, 4), 4),
        ((2, 3, 2, 5), 1),
        ((1, 8, 6, 12), 3),
    ],
)
def test_values_and_shape_match_grouped_max(shape, pool_size):
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    y = keras.ops.convert_to_numpy(DepthwiseMaxPool2D(pool_size=pool_size)(x))
    assert y.shape == (*shape[:-1], shape[-1] // pool_size)
    np.testing.assert_array_equal(y, _expected(x, pool_size))


def test_groups_are_consecutive_channels():
    x = np.array([0, 9, 1, 2, 3, 8], dtype="float32").reshape(1, 1, 1, 6)
    y = keras.ops.convert_to_numpy(DepthwiseMaxPool2D(pool_size=3)(x))
    np.testing.assert_array_equal(y.ravel(), [9.0, 8.0])  # max(0, 9, 1), max(2, 3, 8)


def test_in_functional_model_with_unknown_height_and_width():
    inputs = keras.Input(shape=(None, None, 9))
    model = keras.Model(inputs, DepthwiseMaxPool2D(pool_size=3)(inputs))
    assert model.output_shape == (None, None, None, 3)
    x = np.random.default_rng(1).normal(size=(2, 4, 5, 9)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), _expected(x, 3))


def test_uneven_channels_raise_clear_error():
    layer = DepthwiseMaxPool2D(pool_size=3)
    with pytest.raises(ValueError, match=r"multiple of 3, got 5 channels"):
        layer(np.zeros((1, 2, 2, 5), "float32"))


@pytest.mark.parametrize("bad", [0, -2, 1.5, "3", True])
def test_bad_pool_size_raises(bad):
    with pytest.raises(ValueError, match="pool_size must be a positive integer"):
        DepthwiseMaxPool2D(pool_size=bad)


def test_wrong_rank_raises():
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        DepthwiseMaxPool2D(pool_size=2)(np.zeros((2, 4, 6), "float32"))


def test_config_round_trip():
    layer = DepthwiseMaxPool2D(pool_size=4, name="dw_pool")
    config = layer.get_config()
    assert config["pool_size"] == 4
    clone = DepthwiseMaxPool2D.from_config(config)
    assert clone.pool_size == 4 and clone.name == "dw_pool"
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(restored, DepthwiseMaxPool2D) and restored.pool_size == 4


def test_keras_file_round_trip_without_custom_objects(tmp_path):
    inputs = keras.Input(shape=(6, 6, 3))
    x = keras.layers.Conv2D(6, 3, padding="same")(inputs)
    outputs = DepthwiseMaxPool2D(pool_size=2)(x)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(2).normal(size=(2, 6, 6, 3)).astype("float32")
    path = tmp_path / "depthwise.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # registered: no custom_objects needed
    assert isinstance(loaded.layers[-1], DepthwiseMaxPool2D)
    assert loaded.layers[-1].pool_size == 2
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
