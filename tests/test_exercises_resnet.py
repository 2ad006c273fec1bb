"""The ResNet exercise checks accept correct answers in other forms and name typical mistakes."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import math

import keras
import numpy as np
import pytest

from cnnkit.exercises import resnet
from cnnkit.layers import ResidualUnit
from verdicts import assert_not_attempted, assert_wrong


# ---------------------------------------------------------------- resnet.1
SHAPES_224 = [(56, 56, 64), (56, 56, 64), (28, 28, 128), (14, 14, 256), (7, 7, 512)]
SHAPES_ODD = [(25, 19, 64), (25, 19, 64), (13, 10, 128), (7, 5, 256), (4, 3, 512)]


def test_check_1_accepts_an_array():
    assert resnet.check_1(np.array(SHAPES_224), [list(s) for s in SHAPES_ODD]).status == "correct"


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
def test_check_1_names_the_mistake(shapes_odd, words):
    result = resnet.check_1(SHAPES_224, shapes_odd)
    assert result.status == "wrong" and words in result.message, result


# ---------------------------------------------------------------- resnet.2
def _pad_with_ops(x, filters, strides):
    """A different form from the solution: keras.ops, a tensor returned."""
    x = keras.ops.convert_to_tensor(x)[:, ::strides, ::strides, :]
    extra = filters - x.shape[-1]
    return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])


def test_check_2_accepts_keras_ops():
    assert resnet.check_2(_pad_with_ops).status == "correct"


def _pad_in_place(x, filters, strides):
    out = _pad_with_ops(x, filters, strides)
    x[...] = 0
    return out


@pytest.mark.parametrize(
    ("function", "words"),
    [
        (lambda x, f, s: np.pad(x[:, ::s, ::s], [(0, 0)] * 3 + [(f - x.shape[-1], 0)]), "after"),
        (lambda x, f, s: np.pad(x, [(0, 0)] * 3 + [(0, f - x.shape[-1])]), "every strides-th"),
        (lambda x, f, s: x[:, ::s, ::s], "needs"),
        (lambda x, f, s: np.full(_pad_with_ops(x, f, s).shape, np.nan), "NaN"),
        (lambda x, f, s: "x", "numbers"),
        (lambda x, f, s: 1 / 0, "ZeroDivisionError"),
        (_pad_in_place, "in place"),
    ],
)
def test_check_2_names_the_mistake(function, words):
    assert_wrong(resnet.check_2(function), words)


def test_check_2_unwritten_function():
    def zero_pad_shortcut(x, filters, strides): ...

    assert_not_attempted(resnet.check_2(zero_pad_shortcut))


# ---------------------------------------------------------------- resnet.3
def _deepen_functional(model):
    """A different form from the solution: a Functional model, the unit after the last unit."""
    inputs = keras.Input(model.input_shape[1:])
    x = inputs
    for layer in model.layers:
        x = layer(x)
        if layer.name == "unit2":
            unit = ResidualUnit(16)
            x = unit(x)
            unit.bn2.gamma.assign(np.zeros(16, "float32"))
            unit.bn2.beta.assign(np.zeros(16, "float32"))
    return keras.Model(inputs, x)


def _deepen(model, position=4, zero=True, filters=8, strides=1, rebuild=False):
    layers = model.layers
    if rebuild:
        layers = [type(la).from_config(la.get_config()) for la in layers]
    unit = ResidualUnit(filters, strides=strides)
    deeper = keras.Sequential([keras.Input(model.input_shape[1:]), *layers[:position], unit])
    for layer in layers[position:]:
        deeper.add(layer)
    if zero:
        unit.bn2.gamma.assign(np.zeros(filters, "float32"))
        unit.bn2.beta.assign(np.zeros(filters, "float32"))
    return deeper


def test_check_3_accepts_a_functional_model():
    assert resnet.check_3(_deepen_functional).status == "correct"


def test_check_3_accepts_the_unit_right_after_the_stem():
    assert resnet.check_3(lambda m: _deepen(m, position=3)).status == "correct"


@pytest.mark.parametrize(
    ("function", "words"),
    [
        (lambda m: _deepen(m, zero=False), "gamma and beta"),
        (lambda m: _deepen(m, position=1), "non-negative"),
        (lambda m: _deepen(m, position=5, filters=16, strides=2), "projection shortcut"),
        (lambda m: _deepen(m, rebuild=True), "weights"),
        (lambda m: m, "expected 3"),
        (lambda m: 3, "keras.Model"),
    ],
)
def test_check_3_names_the_mistake(function, words):
    assert_wrong(resnet.check_3(function), words)


def test_check_3_unwritten_function():
    def deepen(model): ...

    assert_not_attempted(resnet.check_3(deepen))


# ---------------------------------------------------------------- resnet.4
@keras.saving.register_keras_serializable(package="tests_resnet")
class OtherBottleneck(keras.layers.Layer):
    """A different form from the solution: the activation as a layer, sublayers built by
    calling them on symbolic inputs, "valid" 1x1 convolutions, keras.ops.add."""

    stride_on_first = False
    final_activation = True
    projection_on_channel_change = True
    use_bias = False
    always_relu = False

    def __init__(self, filters, strides=1, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides = filters, strides
        self.activation = activation
        self.act = keras.layers.Activation("relu" if self.always_relu else activation)
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


@keras.saving.register_keras_serializable(package="tests_resnet")
class BuildBottleneck(keras.layers.Layer):
    """Every sublayer created in build(), as many learners write it."""

    def __init__(self, filters, strides=1, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides, self.activation = filters, strides, activation

    def build(self, input_shape):
        f, s = self.filters, self.strides
        self.act = keras.layers.Activation(self.activation)
        self.conv1 = keras.layers.Conv2D(f, 1, use_bias=False)
        self.conv2 = keras.layers.Conv2D(f, 3, s, padding="same", use_bias=False)
        self.conv3 = keras.layers.Conv2D(4 * f, 1, use_bias=False)
        self.bn1, self.bn2, self.bn3 = (keras.layers.BatchNormalization() for _ in range(3))
        self.skip_conv = self.skip_bn = None
        if s > 1 or input_shape[-1] != 4 * f:
            self.skip_conv = keras.layers.Conv2D(4 * f, 1, s, use_bias=False)
            self.skip_bn = keras.layers.BatchNormalization()
        x = keras.Input(input_shape[1:])
        self.call(x)

    def call(self, inputs, training=None):
        x = self.act(self.bn1(self.conv1(inputs), training=training))
        x = self.act(self.bn2(self.conv2(x), training=training))
        x = self.bn3(self.conv3(x), training=training)
        skip = inputs
        if self.skip_conv is not None:
            skip = self.skip_bn(self.skip_conv(inputs), training=training)
        return self.act(keras.ops.add(x, skip))

    def get_config(self):
        return super().get_config() | dict(
            filters=self.filters, strides=self.strides, activation=self.activation
        )


def test_check_4_accepts_sublayers_created_in_build():
    # Issue 18: sublayers made in build() were read as an unwritten class ("not attempted").
    assert resnet.check_4(BuildBottleneck).status == "correct"


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
        (_variant("AlwaysReLU", always_relu=True), "not always ReLU"),
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

    class NotebookSkeleton(BottleneckUnit):  # the notebook's cell: build() still `...` too
        def build(self, input_shape): ...

        def get_config(self): ...

    result = resnet.check_4(NotebookSkeleton)
    assert result.status == "not attempted" and "none of its sublayers" in result.message


def test_stage_shapes_by_formula_match_the_oracle():
    # The hints' formula with the right rounding reproduces the model's shapes (the oracle).
    for key, shape in resnet.SHAPE_INPUTS.items():
        formula = resnet._stage_shapes_by_formula(shape, lambda n: math.ceil(n / 2))
        assert tuple(formula) == resnet._resnet_stage_shapes()[key]


@pytest.mark.parametrize("answer", [np.nan, np.inf, None, "12", np.array(3.0), [np.nan] * 5])
def test_check_1_odd_inputs_get_a_verdict(answer):
    result = resnet.check_1(answer, answer)
    assert result.status in ("wrong", "not attempted"), result


@pytest.mark.parametrize("answer", [np.nan, "f", np.array(3.0), 3, [1, 2], keras.Sequential])
def test_checks_taking_functions_never_crash_on_odd_inputs(answer):
    for check in (resnet.check_2, resnet.check_3, resnet.check_4):
        assert check(answer).status == "wrong"
