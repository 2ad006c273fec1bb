"""The exercise checks accept correct answers in other forms and explain wrong ones."""

import logging

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit import reference
from cnnkit.exercises import conv_variants
from cnnkit.exercises.checking import CORRECT, NOT_ATTEMPTED

import keras
import numpy as np
import pytest
from verdicts import assert_wrong


# ------------------------------------------------------------------------------- conv_variants.1
def dilate_kernel(kernel, rate):
    kh, kw = kernel.shape[:2]
    out = np.zeros((rate * (kh - 1) + 1, rate * (kw - 1) + 1, *kernel.shape[2:]))
    out[::rate, ::rate] = kernel
    return out


def test_check_1_accepts_a_tensor_built_with_kron():
    def by_kron(kernel, rate):
        # Every tap times a rate x rate block with 1 at its top-left, then the trailing zeros cut.
        unit = np.zeros((rate, rate, 1, 1))
        unit[0, 0] = 1
        spread = np.kron(kernel, unit)
        return keras.ops.convert_to_tensor(
            spread[: spread.shape[0] - rate + 1, : spread.shape[1] - rate + 1]
        )

    assert conv_variants.check_1(by_kron).status == CORRECT


def test_check_1_gets_a_copy_of_the_kernel():
    def overwrites_its_input(kernel, rate):
        out = dilate_kernel(kernel, rate)
        kernel[...] = 0
        return out

    assert conv_variants.check_1(overwrites_its_input).status == CORRECT


@pytest.mark.parametrize(
    ("function", "words"),
    [
        (lambda k, r: dilate_kernel(k, r + 1), ["zeros between neighbouring taps"]),
        (
            lambda k, r: np.pad(dilate_kernel(k, r), ((0, r - 1), (0, r - 1), (0, 0), (0, 0))),
            ["BETWEEN", "rate x k"],
        ),
        (lambda k, r: dilate_kernel(k, r) * np.nan, ["NaN"]),
        (lambda k, r: dilate_kernel(k, r)[::-1], ["values differ"]),
        (lambda k, r: k, ["has shape"]),
    ],
)
def test_check_1_names_the_mistake(function, words):
    assert_wrong(conv_variants.check_1(function), *words)


def test_check_1_an_unwritten_function_is_not_attempted():
    def dilate(kernel, rate): ...

    assert conv_variants.check_1(dilate).status == NOT_ATTEMPTED


# ------------------------------------------------------------------------------- conv_variants.2
SEPARABLE_PARAMS = 9 * 32 + 32 + 32 * 64 + 64
STANDARD_PARAMS = 9 * 32 * 64 + 64
SEPARABLE_MACS = (9 * 32 + 32 * 64) * 32 * 32
STANDARD_MACS = 9 * 32 * 64 * 32 * 32
RIGHT = (SEPARABLE_PARAMS, STANDARD_PARAMS, SEPARABLE_MACS, STANDARD_MACS)


def test_check_2_accepts_numpy_numbers_floats_and_lists():
    answers = (np.int64(2432), np.float32(18496), float(SEPARABLE_MACS), [STANDARD_MACS])
    assert conv_variants.check_2(*answers).status == CORRECT


def test_check_2_with_some_answers_left_is_not_attempted():
    result = conv_variants.check_2(SEPARABLE_PARAMS, STANDARD_PARAMS, ..., ...)
    assert result.status == NOT_ATTEMPTED
    assert "separable_macs" in result.message


@pytest.mark.parametrize(
    ("position", "value", "words"),
    [
        (0, 2400, ["DepthwiseConv2D has biases"]),
        (0, 2336, ["both layers have biases"]),
        (0, 320, ["pointwise"]),
        (1, 18432, ["biases"]),
        (1, 640, ["all 32 input channels"]),
        (2, 2 * SEPARABLE_MACS, ["FLOPs"]),
        (2, SEPARABLE_MACS + (32 + 64) * 1024, ["biases"]),
        (2, SEPARABLE_MACS // 1024 * 900, ["1,024", "900"]),
        (3, STANDARD_MACS // 1024, ["per output position"]),
        (3, float("nan"), ["expected"]),
    ],
)
def test_check_2_names_the_mistake(position, value, words):
    answers = list(RIGHT)
    answers[position] = value
    assert_wrong(conv_variants.check_2(*answers), *words)


# ------------------------------------------------------------------------------- conv_variants.3
def einsum_grouped_conv2d(x, kernel, groups):
    """Vectorised over groups with einsum over every kernel tap (the solution loops over
    groups and calls reference.conv2d)."""
    batch, height, width, _ = x.shape
    kh, kw, per_group, filters = kernel.shape
    out_h, out_w = height - kh + 1, width - kw + 1
    x_groups = x.reshape(batch, height, width, groups, per_group)
    k_groups = kernel.reshape(kh, kw, per_group, groups, filters // groups)
    out = np.zeros((batch, out_h, out_w, groups, filters // groups))
    for a in range(kh):
        for b in range(kw):
            patch = x_groups[:, a : a + out_h, b : b + out_w]
            out += np.einsum("nhwgc,cgf->nhwgf", patch, k_groups[a, b])
    return out.reshape(batch, out_h, out_w, filters)


def test_check_3_accepts_an_einsum_grouped_convolution():
    assert conv_variants.check_3(einsum_grouped_conv2d).status == CORRECT


def test_check_3_prints_no_tensorflow_retracing_warning():
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("tensorflow")  # TensorFlow's own logger does not propagate
    logger.addHandler(handler)
    try:
        for _ in range(2):
            assert conv_variants.check_3(einsum_grouped_conv2d).status == CORRECT
    finally:
        logger.removeHandler(handler)
    assert not [record for record in records if "retracing" in record.getMessage()]


def test_check_3_rejects_channels_taken_groups_apart():
    def grouped_conv2d(x, kernel, groups):
        filters = kernel.shape[-1] // groups
        return np.concatenate(
            [
                reference.conv2d(x[..., g::groups], kernel[..., g * filters : (g + 1) * filters])
                for g in range(groups)
            ],
            axis=-1,
        )

    assert_wrong(conv_variants.check_3(grouped_conv2d), "CONSECUTIVE", "channels 2 apart")


def test_check_3_rejects_nan():
    def grouped_conv2d(x, kernel, groups):
        return einsum_grouped_conv2d(x, kernel, groups) * np.inf

    assert_wrong(conv_variants.check_3(grouped_conv2d), "NaN or infinite")


def test_check_3_an_unwritten_function_is_not_attempted():
    def grouped_conv2d(x, kernel, groups): ...

    assert conv_variants.check_3(grouped_conv2d).status == NOT_ATTEMPTED


# ------------------------------------------------------------------------------- conv_variants.4
def split_at_flatten(classifier):
    layers = classifier.layers
    flat = next(i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Flatten))
    return layers[:flat], layers[flat + 1 :], layers[flat].input.shape[1:]


def functional_head(classifier, order="hwc", relu=True, bias=True):
    """A Functional model reusing the body's layers; Dense heads as Conv2D (or a mistake)."""
    body, head, (h, w, c) = split_at_flatten(classifier)
    inputs = keras.Input((None, None, 1))
    x = inputs
    for layer in body:
        x = layer(x)
    for k, dense in enumerate(head):
        kernel, b = dense.get_weights()
        if k == 0:
            size = (h, w)
            if order == "chw":  # the PyTorch habit
                kernel = kernel.reshape(c, h, w, -1).transpose(1, 2, 0, 3)
            kernel = kernel.reshape(h, w, c, -1) if order == "hwc" else kernel
        else:
            size = (1, 1)
            kernel = kernel.reshape(1, 1, *kernel.shape)
        activation = dense.activation if relu else None
        conv = keras.layers.Conv2D(dense.units, size, activation=activation)
        x = conv(x)
        conv.set_weights([kernel, b if bias else np.zeros_like(b)])
    return keras.Model(inputs, x)


def sequential_with_dense_on_maps(classifier):
    """Another correct form: only the first Dense becomes a Conv2D; later Dense layers act on
    the last axis of the map, which is what a 1x1 convolution does."""
    body, head, (h, w, c) = split_at_flatten(classifier)
    first = keras.layers.Conv2D(head[0].units, (h, w), activation=head[0].activation)
    model = keras.Sequential([keras.Input((None, None, 1)), *body, first, *head[1:]])
    kernel, b = head[0].get_weights()
    first.set_weights([kernel.reshape(h, w, c, -1), b])
    return model


@pytest.mark.parametrize("function", [functional_head, sequential_with_dense_on_maps])
def test_check_4_accepts_functional_and_sequential_models(function):
    assert conv_variants.check_4(function).status == CORRECT


@pytest.mark.parametrize(
    ("function", "words"),
    [
        (lambda m: functional_head(m, order="chw"), ["(channels, height, width)"]),
        (lambda m: functional_head(m, bias=False), ["biases are missing"]),
        (lambda m: functional_head(m, relu=False), ["ReLU is missing"]),
        (lambda m: m, ["still flattens"]),
        (
            lambda m: keras.Sequential([functional_head(m), keras.layers.Reshape((1, 1, 10))]),
            ["failed on a 28 x 84 canvas", "keras.Input((None, None, 1))"],
        ),
        (lambda m: "a model", ["keras.Model"]),
    ],
)
def test_check_4_names_the_mistake(function, words):
    assert_wrong(conv_variants.check_4(function), *words)


def test_check_4_an_unwritten_function_is_not_attempted():
    def to_fully_convolutional(classifier): ...

    assert conv_variants.check_4(to_fully_convolutional).status == NOT_ATTEMPTED
