"""The ResNet exercise checks accept correct answers in other forms and name typical mistakes."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import math

import keras
import numpy as np
import pytest

from cnnkit.exercises import resnet
from cnnkit.layers import ResidualUnit


# ---------------------------------------------------------------- resnet.1
def test_check_1_accepts_arrays_and_numpy_integers():
    result = resnet.check_1(np.array([18560, 128]), [np.int64(32544), 288.0])
    assert result.status == "correct", result


@pytest.mark.parametrize(
    ("params_a", "params_b", "words"),
    [
        ((18560 + 128, 0), (32544, 288), "only gamma and beta are trainable"),
        ((18560 + 64, 128), (32544, 288), "no biases"),
        ((18560, 128), (31296, 192), "needs a 1x1 projection"),
        ((18560 + 1024 + 64, 192), (32544, 288), "the shortcut is the identity"),
        ((18560, 128), (32544, 0), "2 non-trainable parameters per channel"),
        ((18560, 128), (32544, 288, 0), "two numbers"),
    ],
)
def test_check_1_names_the_mistake(params_a, params_b, words):
    result = resnet.check_1(params_a, params_b)
    assert result.status == "wrong" and words in result.message, result


def test_check_1_partly_answered():
    result = resnet.check_1((18560, 128), ...)
    assert result.status == "not attempted" and "params_b" in result.message


# ---------------------------------------------------------------- resnet.2
SHAPES_224 = [(56, 56, 64), (56, 56, 64), (28, 28, 128), (14, 14, 256), (7, 7, 512)]
SHAPES_ODD = [(25, 19, 64), (25, 19, 64), (13, 10, 128), (7, 5, 256), (4, 3, 512)]


def test_check_2_accepts_an_array():
    assert resnet.check_2(np.array(SHAPES_224), [list(s) for s in SHAPES_ODD]).status == "correct"


@pytest.mark.parametrize(
    ("shapes_odd", "words"),
    [
        ([(24, 18, 64), (24, 18, 64), (12, 9, 128), (6, 4, 256), (3, 2, 512)], "ceil(n / 2)"),
        ([(50, 38, 64), (50, 38, 64), (25, 19, 128), (13, 10, 256), (7, 5, 512)], "max pooling"),
        ([(25, 19, 64), (13, 10, 64), (7, 5, 128), (4, 3, 256), (2, 2, 512)], "stride 1"),
        ([(25, 19, 64), (25, 19, 64), (13, 10, 128), (7, 5, 256), (4, 3, 1024)], "after stage 5"),
        ([(1, 25, 19, 64)] * 5, "batch dimension"),
        (SHAPES_ODD[1:], "expected 5 shapes"),
    ],
)
def test_check_2_names_the_mistake(shapes_odd, words):
    result = resnet.check_2(SHAPES_224, shapes_odd)
    assert result.status == "wrong" and words in result.message, result


# ---------------------------------------------------------------- resnet.3
def _weight_layers(layer):
    """A different form from the solution: recursion over every sublayer by attribute name."""
    if isinstance(layer, keras.Model):
        return sum(_weight_layers(sub) for sub in layer.layers)
    if isinstance(layer, ResidualUnit):
        return _weight_layers(layer.conv1) + _weight_layers(layer.conv2)
    return int(isinstance(layer, keras.layers.Conv2D | keras.layers.Dense))


def test_check_3_accepts_a_recursive_count():
    result = resnet.check_3(_weight_layers)
    assert result.status == "correct" and "34 layers" in result.message, result


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (lambda model: sum(1 for layer in model.layers if layer.weights), "look inside"),
        (lambda model: 34, "expected 9, got 34"),
        (
            lambda model: (
                _weight_layers(model)
                + sum(
                    isinstance(la, ResidualUnit) and la.skip_conv is not None for la in model.layers
                )
            ),
            "projection shortcuts",
        ),
        (lambda model: _weight_layers(model) - 1, "Dense output layer"),
    ],
)
def test_check_3_names_the_mistake(count, words):
    result = resnet.check_3(count)
    assert result.status == "wrong" and words in result.message, result


def test_check_3_unwritten_function():
    def count_weight_layers(model): ...

    assert resnet.check_3(count_weight_layers).status == "not attempted"


# ---------------------------------------------------------------- resnet.4
@keras.saving.register_keras_serializable(package="tests_resnet")
class OtherBottleneck(keras.layers.Layer):
    """A different form from the solution: the activation as a layer, sublayers built by
    calling them on symbolic inputs, "valid" 1x1 convolutions, keras.ops.add."""

    stride_on_first = False
    final_activation = True
    projection_on_channel_change = True
    use_bias = False

    def __init__(self, filters, strides=1, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides = filters, strides
        self.activation = activation
        self.act = keras.layers.Activation(activation)
        first, second = (strides, 1) if self.stride_on_first else (1, strides)
        bias = self.use_bias
        self.conv1 = keras.layers.Conv2D(filters, 1, strides=first, use_bias=bias)
        self.conv2 = keras.layers.Conv2D(filters, 3, second, padding="same", use_bias=bias)
        self.conv3 = keras.layers.Conv2D(4 * filters, 1, use_bias=bias)
        self.bn1, self.bn2, self.bn3 = (keras.layers.BatchNormalization() for _ in range(3))
        self.skip_conv = self.skip_bn = None

    def build(self, input_shape):
        changes = input_shape[-1] != 4 * self.filters and self.projection_on_channel_change
        if self.strides > 1 or changes:
            self.skip_conv = keras.layers.Conv2D(4 * self.filters, 1, self.strides, use_bias=False)
            self.skip_bn = keras.layers.BatchNormalization()
        inputs = keras.Input(input_shape[1:])
        self.call(inputs)  # builds every sublayer

    def call(self, inputs, training=None):
        x = self.act(self.bn1(self.conv1(inputs), training=training))
        x = self.act(self.bn2(self.conv2(x), training=training))
        x = self.bn3(self.conv3(x), training=training)
        skip = inputs
        if self.skip_conv is not None:
            skip = self.skip_bn(self.skip_conv(inputs), training=training)
        x = keras.ops.add(x, skip)
        return self.act(x) if self.final_activation else x

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides, activation=self.activation)
        return config


def test_check_4_accepts_another_form():
    result = resnet.check_4(OtherBottleneck)
    assert result.status == "correct", result


def _variant(name, **attributes):
    # Registered under its own name, so each variant saves and loads as itself.
    return keras.saving.register_keras_serializable(package="tests_resnet")(
        type(name, (OtherBottleneck,), attributes)
    )


def _config_without_strides(self):
    config = keras.layers.Layer.get_config(self)
    config.update(filters=self.filters, activation=self.activation)
    return config


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (_variant("StrideFirst", stride_on_first=True), "stride on the 3x3 convolution"),
        (_variant("NoFinalActivation", final_activation=False), "after the addition"),
        (_variant("NoChannelProjection", projection_on_channel_change=False), "projection"),
        (_variant("WithBias", use_bias=True), "use_bias=False"),
        (type("NotRegistered", (OtherBottleneck,), {}), "register_keras_serializable"),
        (_variant("NoStridesInConfig", get_config=_config_without_strides), "strides"),
        (OtherBottleneck(4), "not an instance"),
        (ResidualUnit, "no attribute conv3"),
    ],
)
def test_check_4_names_the_mistake(cls, words):
    result = resnet.check_4(cls)
    assert result.status == "wrong" and words in result.message, result


def test_check_4_unwritten_class():
    class BottleneckUnit(keras.layers.Layer):
        def __init__(self, filters, strides=1, activation="relu", **kwargs):
            super().__init__(**kwargs)
            ...

        def call(self, inputs, training=None): ...

    assert resnet.check_4(BottleneckUnit).status == "not attempted"


def test_stage_shapes_by_formula_match_the_oracle():
    # The hints' formula with the right rounding reproduces the model's shapes (the oracle).
    for key, shape in resnet.SHAPE_INPUTS.items():
        formula = resnet._stage_shapes_by_formula(shape, lambda n: math.ceil(n / 2))
        assert tuple(formula) == resnet._resnet_stage_shapes()[key]
