"""Tests for cnnkit.layers.ResidualUnit and CentreTapResidualUnit, against the same block built
from stock Keras layers."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnkit.layers import CentreTapResidualUnit, ResidualUnit

UNIT_CLASSES = [ResidualUnit, CentreTapResidualUnit]


def _images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _stock_block(unit: ResidualUnit, inputs):
    """The unit's computation from stock Keras layers (plain Conv2D everywhere), applied to
    the symbolic ``inputs``. Returns the output and (stock layer, unit sublayer) pairs whose
    weights are copied once the unit is built."""
    pairs = []

    def twin(source, layer):
        pairs.append((layer, source))
        return layer

    def conv(source):
        return twin(
            source,
            keras.layers.Conv2D(
                unit.filters, source.kernel_size, source.strides, padding="same", use_bias=False
            ),
        )

    def bn(source):
        return twin(source, keras.layers.BatchNormalization(momentum=unit.bn_momentum))

    x = bn(unit.bn1)(conv(unit.conv1)(inputs))
    x = keras.layers.Activation(unit.activation)(x)
    x = bn(unit.bn2)(conv(unit.conv2)(x))
    skip = inputs
    if unit.skip_conv is not None:
        skip = bn(unit.skip_bn)(conv(unit.skip_conv)(inputs))
    outputs = keras.layers.Activation(unit.activation)(keras.layers.Add()([x, skip]))
    return outputs, pairs


def _stock_model(units, channels):
    """A (None, None, channels) model of stock Keras layers with the weights of ``units``."""
    inputs = keras.Input((None, None, channels))
    x, pairs = inputs, []
    for unit in units:
        x, unit_pairs = _stock_block(unit, x)
        pairs += unit_pairs
    for layer, source in pairs:
        layer.set_weights(source.get_weights())
    return keras.Model(inputs, x), pairs


def _outputs_and_gradients(call, x, weights):
    """Output of ``call(x)`` and gradients of a fixed random projection of it with respect
    to ``x`` and ``weights``."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = call(x)
        probe = tf.constant(_images(y.shape, seed=7))
        loss = tf.reduce_sum(y * probe)
    return y.numpy(), [g.numpy() for g in tape.gradient(loss, [x, *weights])]


def _assert_matches_stock_block(unit, x, training):
    stock, pairs = _stock_model([unit], x.shape[-1])
    trainable = [v for _, source in pairs for v in source.trainable_weights]
    stock_trainable = [v for layer, _ in pairs for v in layer.trainable_weights]
    y, grads = _outputs_and_gradients(lambda t: unit(t, training=training), x, trainable)
    y_ref, grads_ref = _outputs_and_gradients(
        lambda t: stock(t, training=training), x, stock_trainable
    )
    assert y.shape == y_ref.shape
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-4)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        np.testing.assert_allclose(g, g_ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("in_shape", "filters", "strides"),
    [
        ((2, 8, 8, 4), 4, 1),  # identity skip
        ((2, 8, 8, 4), 6, 2),  # projection, stride 2
        ((2, 7, 7, 4), 6, 2),  # odd size: "same" pads one more zero after
        ((2, 8, 8, 4), 6, 1),  # projection for a channel change with stride 1
        ((3, 1, 1, 5), 5, 1),  # 1x1 maps: both 3x3 convolutions see only the centre tap
        ((3, 1, 1, 5), 4, 2),
        ((3, 2, 2, 5), 4, 2),  # 2x2 -> 1x1: the second convolution sees only the centre tap
    ],
)
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("unit_class", UNIT_CLASSES)
def test_matches_stock_keras_block(unit_class, in_shape, filters, strides, training):
    keras.utils.set_random_seed(2)
    unit = unit_class(filters, strides=strides, activation="elu", bn_momentum=0.9)
    x = _images(in_shape, seed=3)
    unit(x)
    # Non-trivial moving statistics, so that inference mode is checked too.
    for bn in (unit.bn1, unit.bn2, unit.skip_bn):
        if bn is not None:
            bn.moving_mean.assign(_images(bn.moving_mean.shape, seed=4))
            bn.moving_variance.assign(np.exp(_images(bn.moving_variance.shape, seed=5)))
    stock, _ = _stock_model([unit], in_shape[-1])
    assert unit.count_params() == stock.count_params()
    assert tuple(unit.compute_output_shape(in_shape)) == tuple(stock(x).shape)
    _assert_matches_stock_block(unit, x, training)


@pytest.mark.parametrize("batch", [2, 1])
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("unit_class", UNIT_CLASSES)
def test_built_on_1x1_then_called_on_4x4(unit_class, batch, training):
    # Regression (issue 9): the 1x1 shortcut was decided in build, so a unit built on 1x1
    # maps raised on (2, 4, 4, 8) and returned shape (16, 4, 4, 8) for (1, 4, 4, 8).
    keras.utils.set_random_seed(3)
    unit = unit_class(8)
    unit(_images((2, 1, 1, 8)))
    _assert_matches_stock_block(unit, _images((batch, 4, 4, 8), seed=1), training)
    _assert_matches_stock_block(unit, _images((batch, 1, 1, 8), seed=2), training)


def _unknown_size_model(unit_class=ResidualUnit):
    keras.utils.set_random_seed(4)
    inputs = keras.Input((None, None, 3))
    units = [unit_class(4, strides=2), unit_class(4), unit_class(6, strides=2)]
    x = inputs
    for unit in units:
        x = unit(x)
    return keras.Model(inputs, x), units


@pytest.mark.parametrize("unit_class", UNIT_CLASSES)
def test_unknown_height_and_width_model_on_several_sizes(unit_class):
    model, units = _unknown_size_model(unit_class)
    assert model.output_shape == (None, None, None, 6)
    stock, _ = _stock_model(units, 3)
    for size in (1, 2, 4, 5, 9):
        x = _images((3, size, size, 3), seed=size)
        expected = keras.ops.convert_to_numpy(stock(x))
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected, atol=1e-5)
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)


@pytest.mark.parametrize("unit_class", UNIT_CLASSES)
def test_unknown_size_model_keras_file_round_trip(unit_class, tmp_path):
    model, units = _unknown_size_model(unit_class)
    stock, _ = _stock_model(units, 3)
    path = tmp_path / "any_size.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for size in (1, 2, 6):
        x = _images((2, size, size, 3), seed=size)
        np.testing.assert_allclose(
            loaded.predict(x, verbose=0), keras.ops.convert_to_numpy(stock(x)), atol=1e-5
        )


def test_identity_skip_adds_the_input():
    x = _images((3, 5, 5, 4))
    unit = ResidualUnit(4)
    unit(x)
    assert unit.skip_conv is None
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
    # momentum 0.5: the moving mean moves half way to the batch mean of conv1's output.
    batch_mean = keras.ops.convert_to_numpy(unit.conv1(x)).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(unit.bn1.moving_mean.numpy(), 0.5 * before + 0.5 * batch_mean)


@pytest.mark.parametrize("activation", ["relu", "elu", keras.activations.gelu])
@pytest.mark.parametrize("unit_class", UNIT_CLASSES)
def test_config_round_trip(unit_class, activation):
    unit = unit_class(3, strides=2, activation=activation, bn_momentum=0.9, name="unit")
    config = unit.get_config()
    assert config["filters"] == 3 and config["strides"] == 2 and config["bn_momentum"] == 0.9
    assert isinstance(config["activation"], str)
    clone = unit_class.from_config(config)
    assert clone.get_config() == config
    x = _images((2, 6, 6, 2))
    unit(x)
    clone(x)
    clone.set_weights(unit.get_weights())
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(unit(x)), keras.ops.convert_to_numpy(clone(x))
    )


@pytest.mark.parametrize("unit_class", UNIT_CLASSES)
def test_keras_file_round_trip_without_custom_objects(unit_class, tmp_path):
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input(shape=(4, 4, 3)),
            unit_class(4, strides=2, activation=keras.activations.elu),
            unit_class(6),
            unit_class(6, strides=2),  # 2x2 -> 1x1: CentreTapResidualUnit's conv2 takes the tap
            unit_class(6),  # 1x1 maps: both of CentreTapResidualUnit's convs take the tap
            keras.layers.GlobalAvgPool2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    for weight in model.weights:  # non-trivial batch-norm statistics must survive the trip
        if "moving" in weight.path:
            weight.assign(np.exp(_images(weight.shape, seed=len(weight.path))))
    x = _images((8, 4, 4, 3))
    path = tmp_path / "unit.keras"
    model.save(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.saving.load_model(path)
    assert not [w for w in caught if "build" in str(w.message).lower()]
    assert type(loaded.layers[0]) is unit_class
    assert loaded.layers[0].activation is keras.activations.elu
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(loaded(x))
    )
    for a, b in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((2, 4, 4), "expected ndim=4, found ndim=3"),
        ((2, 1, 4, 4, 4), "expected ndim=4, found ndim=5"),
    ],
)
def test_wrong_rank_raises(shape, message):
    with pytest.raises(ValueError, match=message):
        ResidualUnit(4)(np.zeros(shape, "float32"))


def test_other_channel_count_after_build_raises():
    unit = ResidualUnit(4)
    unit(np.zeros((1, 3, 3, 4), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        unit(np.zeros((1, 3, 3, 5), "float32"))


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


def test_centre_tap_unit_takes_the_matrix_product_on_1x1_maps_only(monkeypatch):
    # The speed-up is there: on 1x1 maps no stride-1 3x3 Conv2D runs, on larger maps both do.
    calls = []
    original = keras.layers.Conv2D.call

    def counting_call(self, inputs):
        calls.append(self.name)
        return original(self, inputs)

    monkeypatch.setattr(keras.layers.Conv2D, "call", counting_call)
    unit = CentreTapResidualUnit(4)
    unit(_images((2, 3, 3, 4)))
    assert calls == ["conv1", "conv2"]
    calls.clear()
    unit(_images((2, 1, 1, 4)))
    assert calls == []
    calls.clear()
    ResidualUnit(4)(_images((2, 1, 1, 4)))
    assert calls == ["conv1", "conv2"]  # the textbook unit always convolves
