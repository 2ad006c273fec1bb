"""Tests for cnnkit.layers.ResidualUnit."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnkit.layers import ResidualUnit


def _images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.parametrize(
    ("in_shape", "filters", "strides", "out_shape", "projection"),
    [
        ((2, 8, 8, 4), 4, 1, (2, 8, 8, 4), False),
        ((2, 8, 8, 4), 6, 2, (2, 4, 4, 6), True),
        ((2, 7, 7, 4), 6, 2, (2, 4, 4, 6), True),
        ((2, 8, 8, 4), 6, 1, (2, 8, 8, 6), True),  # channel change with stride 1
    ],
)
def test_output_shapes_and_skip_path(in_shape, filters, strides, out_shape, projection):
    unit = ResidualUnit(filters, strides=strides)
    y = unit(_images(in_shape))
    assert tuple(y.shape) == out_shape
    assert tuple(unit.compute_output_shape(in_shape)) == out_shape
    assert (unit.skip_conv is not None) == projection
    c = in_shape[-1]
    main = 9 * c * filters + 9 * filters * filters + 2 * 4 * filters
    skip = c * filters + 4 * filters if projection else 0
    assert unit.count_params() == main + skip


def test_identity_skip_adds_the_input():
    x = _images((3, 5, 5, 4))
    unit = ResidualUnit(4)
    unit(x)
    # Zero the second convolution: the main path becomes bn2(0) = beta in inference mode,
    # so the output must be relu(x + beta).
    unit.conv2.kernel.assign(np.zeros(unit.conv2.kernel.shape, "float32"))
    beta = np.array([0.5, -0.25, 0.0, 1.0], "float32")
    unit.bn2.beta.assign(beta)
    y = keras.ops.convert_to_numpy(unit(x, training=False))
    np.testing.assert_allclose(y, np.maximum(x + beta, 0.0), rtol=0, atol=1e-6)


def test_projection_skip_arithmetic():
    x = _images((2, 4, 4, 3))
    unit = ResidualUnit(2, strides=2, activation="linear")
    unit(x)
    unit.conv2.kernel.assign(np.zeros(unit.conv2.kernel.shape, "float32"))
    w = np.arange(6, dtype="float32").reshape(1, 1, 3, 2)
    unit.skip_conv.kernel.assign(w)
    y = keras.ops.convert_to_numpy(unit(x, training=False))
    eps = unit.skip_bn.epsilon
    expected = (x[:, ::2, ::2, :] @ w[0, 0]) / np.sqrt(1 + eps)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_training_flag_reaches_batch_norm():
    x = _images((4, 4, 4, 2)) * 3 + 2
    unit = ResidualUnit(2, bn_momentum=0.5)
    unit(x, training=False)
    before = unit.bn1.moving_mean.numpy().copy()
    unit(x, training=False)
    np.testing.assert_array_equal(unit.bn1.moving_mean.numpy(), before)
    unit(x, training=True)
    assert not np.allclose(unit.bn1.moving_mean.numpy(), before)
    assert unit.bn1.momentum == 0.5 and unit.bn2.momentum == 0.5


@pytest.mark.parametrize("activation", ["relu", "elu", keras.activations.gelu])
def test_config_round_trip(activation):
    unit = ResidualUnit(3, strides=2, activation=activation, bn_momentum=0.9, name="unit")
    config = unit.get_config()
    assert config["filters"] == 3 and config["strides"] == 2 and config["bn_momentum"] == 0.9
    assert isinstance(config["activation"], str)
    clone = ResidualUnit.from_config(config)
    assert clone.get_config() == config
    x = _images((2, 6, 6, 2))
    unit(x)
    clone(x)
    clone.set_weights(unit.get_weights())
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(unit(x)), keras.ops.convert_to_numpy(clone(x))
    )


def test_keras_file_round_trip_without_custom_objects(tmp_path):
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input(shape=(4, 4, 3)),
            ResidualUnit(4, strides=2, activation=keras.activations.elu),
            ResidualUnit(6),
            ResidualUnit(6, strides=2),  # 2x2 -> 1x1: the second conv takes the centre tap
            ResidualUnit(6),  # 1x1 maps: both convs take the centre tap
            keras.layers.GlobalAvgPool2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = _images((8, 4, 4, 3))
    model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)  # moves the BN statistics
    path = tmp_path / "unit.keras"
    model.save(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.saving.load_model(path)
    assert not [w for w in caught if "build" in str(w.message).lower()]
    assert isinstance(loaded.layers[0], ResidualUnit)
    assert loaded.layers[0].activation is keras.activations.elu
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def _plain(unit):
    """Switch off the 1x1 centre-tap rewrite of a built unit (for comparisons)."""
    unit._centre_tap = (False, False)
    return unit


@pytest.mark.parametrize(
    ("in_shape", "filters", "strides", "centre_tap"),
    [
        ((3, 1, 1, 5), 5, 1, (True, True)),
        ((3, 1, 1, 5), 4, 1, (True, True)),
        ((3, 2, 2, 5), 4, 2, (False, True)),
        ((3, 1, 1, 5), 4, 2, (False, True)),
        ((3, 2, 2, 4), 4, 1, (False, False)),
    ],
)
def test_centre_tap_rewrite_is_exact(in_shape, filters, strides, centre_tap):
    keras.utils.set_random_seed(2)
    fast = ResidualUnit(filters, strides=strides)
    fast.build(in_shape)
    assert fast._centre_tap == centre_tap
    plain = _plain(ResidualUnit(filters, strides=strides))
    plain.build(in_shape)
    plain.set_weights(fast.get_weights())
    assert [w.shape for w in fast.weights] == [w.shape for w in plain.weights]
    x = tf.constant(_images(in_shape, seed=3))
    results = []
    for unit in (fast, plain):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = unit(x, training=True)
            loss = tf.reduce_sum(y * tf.sin(tf.range(tf.size(y), dtype=y.dtype)[: y.shape[-1]]))
        results.append((y, tape.gradient(loss, [x, *unit.trainable_weights])))
    (y_fast, g_fast), (y_plain, g_plain) = results
    np.testing.assert_allclose(y_fast.numpy(), y_plain.numpy(), rtol=1e-5, atol=1e-5)
    for a, b in zip(g_fast, g_plain, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filters": 0}, "filters must be a positive integer, got 0"),
        ({"filters": -3}, "filters must be a positive integer, got -3"),
        ({"filters": 2.5}, "filters must be a positive integer, got 2.5"),
        ({"filters": 8, "strides": 0}, "strides must be a positive integer, got 0"),
        ({"filters": 8, "strides": -1}, "strides must be a positive integer, got -1"),
        ({"filters": 8, "bn_momentum": 1.5}, r"bn_momentum must be in \[0, 1\), got 1.5"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ResidualUnit(**kwargs)
