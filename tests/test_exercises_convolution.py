"""The exercise checks accept right answers in other forms and explain wrong ones."""

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit import reference
from cnnkit.exercises import convolution
from cnnkit.exercises.checking import CORRECT, NOT_ATTEMPTED, WRONG

import keras
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from verdicts import assert_wrong

# ------------------------------------------------------------------- convolution.1: one layer
RIGHT = ((214, 320), 51264, 3506176000)  # Conv2D(64, 5, strides=2, "same") on (427, 640, 32)


def test_layer_counts_accept_arrays_lists_tensors_and_floats():
    assert convolution.check_1(*RIGHT).status == CORRECT
    assert convolution.check_1(np.array([214, 320]), np.int64(51264), 3.506e9).status == CORRECT
    answers = (keras.ops.convert_to_tensor([214, 320]), 51264.0, np.float32(3506176000))
    assert convolution.check_1(*answers).status == CORRECT


@pytest.mark.parametrize(
    ("size", "words"),
    [
        ((427, 640), ["stride 1"]),
        ((212, 318), ["'valid' size"]),
        ((213, 320), ["round", "up"]),
        ((320, 214), ["(height, width)"]),
        ((214, 320, 64), ["shape (3,)"]),
        ((np.nan, 320), ["NaN or infinite"]),
    ],
)
def test_output_size_names_the_mistake(size, words):
    assert_wrong(convolution.check_1(size, *RIGHT[1:]), *words)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (51200, ["biases"]),
        (1664, ["all 32 input channels"]),
        (1600, ["input channels", "bias"]),
        (51264 * 214 * 320, ["does not depend on the image size"]),
        (51000, ["expected 51264, got 51000"]),
        (np.inf, ["NaN or infinite"]),
    ],
)
def test_parameter_count_names_the_mistake(answer, words):
    assert_wrong(convolution.check_1(RIGHT[0], answer, RIGHT[2]), *words)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (2 * 3506176000, ["two FLOPs"]),
        (427 * 640 * 64 * 800, ["forget the stride"]),
        (214 * 320 * 64 * 801, ["bias additions"]),
        (3506176000 / 32, ["all 32 input channels"]),
        (3506176000 / 64, ["64 filters"]),
        (212 * 318 * 64 * 800, ["'valid' output size"]),
        (3.4e9, ["expected 3506176000"]),
        (float("nan"), ["NaN or infinite"]),
    ],
)
def test_multiply_adds_name_the_mistake(answer, words):
    assert_wrong(convolution.check_1(*RIGHT[:2], answer), *words)


def test_layer_counts_partly_answered():
    result = convolution.check_1((214, 320), ..., ...)
    assert result.status == NOT_ATTEMPTED
    assert "n_params" in result.message


# ------------------------------------------------------------------- convolution.2: edge kernel
# Bright above, dark below: minus Sobel y, [1, 0, -1] down the rows.
SOBEL_Y_OVER_ITS_SUM = np.array([[np.inf] * 3, [np.nan] * 3, [-np.inf] * 3])  # its sum is 0


@pytest.mark.parametrize(
    "kernel",
    [
        np.outer([1, 0, -1], [1, 2, 1]),  # minus Sobel y
        [[0, 1, 0], [0, -1, 0], [0, 0, 0]],  # a plain difference, as a list
        keras.ops.convert_to_tensor(np.outer([1.0, 0, -1], [3, 10, 3]).reshape(3, 3, 1, 1)),
        np.outer([1, 0, -1], [1, 1, 1]) * 0.5,  # Prewitt, scaled
        np.outer([1, 0, -1], [1, 2, 1]).astype(int).tolist(),  # ints in a list
    ],
)
def test_edge_kernel_accepts_other_detectors(kernel):
    assert convolution.check_2(kernel).status == CORRECT


@pytest.mark.parametrize(
    ("kernel", "words"),
    [
        (np.outer([-1, 0, 1], [1, 2, 1]), ["flip its sign", "does not rotate"]),  # Sobel y
        (np.outer([1, 2, 1], [-1, 0, 1]), ["vertical edge", "down the rows"]),  # Sobel x
        (np.ones((3, 3)), ["add up to 0"]),
        (np.outer([1, 0, -1], [1, 2, 1]) + 0.1, ["add up to 0"]),
        (np.zeros((3, 3)), ["no response"]),
        ([[1, 0, 0], [-2, 0, 0], [1, 0, 0]], ["positive and negative"]),
        ([[-1, -1, 0], [-1, 0, 1], [0, 1, 1]], ["vertical edge", "every column"]),
        (np.ones((2, 2)), ["shape (3, 3)"]),
        (np.full((3, 3), np.nan), ["NaN or infinite"]),
        (np.full((3, 3), np.inf), ["NaN or infinite"]),
        (SOBEL_Y_OVER_ITS_SUM, ["NaN or infinite"]),
    ],
)
def test_edge_kernel_names_the_mistake(kernel, words):
    assert_wrong(convolution.check_2(kernel), *words)


# ------------------------------------------------------------------- convolution.3: flipping
K = convolution.TRUE_CONVOLUTION_KERNEL


@pytest.mark.parametrize(
    "kernel",
    [
        K[::-1, ::-1],
        np.rot90(K, 2).tolist(),
        np.flip(K).reshape(3, 3, 1, 1),
        keras.ops.convert_to_tensor(np.rot90(K, 2).astype("float32")),
        np.rot90(K, 2).astype(int),
    ],
)
def test_flipped_kernel_accepts_every_form(kernel):
    assert convolution.check_3(kernel).status == CORRECT


@pytest.mark.parametrize(
    ("kernel", "words"),
    [
        (K, ["unchanged", "as it is"]),
        (K[::-1], ["top-to-bottom only"]),
        (K[:, ::-1], ["left-to-right only"]),
        (K.T, ["transposed"]),
        (np.rot90(K), ["90 degrees"]),
        (np.rot90(K, -1), ["-90 degrees"]),
        (np.rot90(K, 2) + 1, ["values differ"]),
        (np.ones((2, 2)), ["shape (3, 3)"]),
        (np.full((3, 3), np.nan), ["NaN or infinite"]),
        ("K[::-1, ::-1]", ["numbers"]),
    ],
)
def test_flipped_kernel_names_the_mistake(kernel, words):
    assert_wrong(convolution.check_3(kernel), *words)


# ------------------------------------------------------------------- convolution.4: conv2d
def vectorised_conv2d(x, kernel, bias, strides, padding):
    """Another correct form: every window at once with sliding_window_view and einsum."""
    kh, kw = kernel.shape[:2]
    pads = [
        reference.padding_amounts(n, k, strides, padding)
        for n, k in zip(x.shape[1:3], (kh, kw), strict=True)
    ]
    x = np.pad(x, ((0, 0), *pads, (0, 0)))
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::strides, ::strides]
    return np.einsum("nijcuv,uvcf->nijf", windows, kernel) + bias


def keras_conv2d(x, kernel, bias, strides, padding):
    """Another correct form: a function returning a tensor."""
    return keras.ops.conv(x, kernel, strides=strides, padding=padding) + bias


@pytest.mark.parametrize("conv2d", [vectorised_conv2d, keras_conv2d, reference.conv2d_loops])
def test_conv2d_accepts_other_correct_forms(conv2d):
    assert convolution.check_4(conv2d).status == CORRECT


def padded_on_the_wrong_side(x, kernel, bias, strides, padding):
    pads = [
        reference.padding_amounts(n, k, strides, padding)[::-1]
        for n, k in zip(x.shape[1:3], kernel.shape[:2], strict=True)
    ]
    return reference.conv2d(np.pad(x, ((0, 0), *pads, (0, 0))), kernel, bias, strides)


@pytest.mark.parametrize(
    ("conv2d", "words"),
    [
        (lambda x, k, b, s, p: reference.conv2d(x, k[::-1, ::-1], b, s, p), ["rotates the kernel"]),
        (lambda x, k, b, s, p: reference.conv2d(x, k, None, s, p), ["forget the bias"]),
        (lambda x, k, b, s, p: reference.conv2d(x, k, b, s), ["forget the padding"]),
        (lambda x, k, b, s, p: reference.conv2d(x, k, b, 1, p), ["forget the stride"]),
        (padded_on_the_wrong_side, ["wrong side", "bottom and right"]),
        (lambda x, k, b, s, p: reference.conv2d(x, k, b, s, p) * 1.01, ["values differ"]),
        (lambda x, k, b, s, p: x[0], ["returned shape"]),
        (lambda x, k, b, s, p: 1 / 0, ["ZeroDivisionError"]),
        ("conv2d", ["a function"]),
    ],
)
def test_conv2d_names_the_mistake(conv2d, words):
    assert_wrong(convolution.check_4(conv2d), *words)


def test_conv2d_with_an_unwritten_body_is_not_attempted():
    def conv2d(x, kernel, bias, strides, padding): ...

    def raising(x, kernel, bias, strides, padding):
        raise NotImplementedError

    assert convolution.check_4(conv2d).status == NOT_ATTEMPTED
    assert convolution.check_4(raising).status == NOT_ATTEMPTED


def test_conv2d_that_changes_its_input_is_marked_on_its_output():
    def conv2d_in_place(x, kernel, bias, strides, padding):
        out = reference.conv2d(x, kernel, bias, strides, padding)
        x[...] = 0  # a learner's function may scribble on its input
        kernel[...] = 0
        return out

    def zeroes_and_returns_zeros(x, kernel, bias, strides, padding):
        x[...] = 0
        kernel[...] = 0
        return reference.conv2d(x, kernel, None, strides, padding)

    assert convolution.check_4(conv2d_in_place).status == CORRECT
    assert convolution.check_4(zeroes_and_returns_zeros).status == WRONG


@pytest.mark.parametrize(
    "answer", [np.nan, np.inf, None, "an answer", np.array(3.0), np.zeros((2, 5))]
)
@pytest.mark.parametrize("check", [convolution.check_2, convolution.check_3, convolution.check_4])
def test_odd_answers_get_a_verdict_never_correct(check, answer):
    assert check(answer).status in (WRONG, NOT_ATTEMPTED)


@pytest.mark.parametrize("answer", [np.nan, np.inf, "an answer", np.array(3.0), np.zeros((2, 5))])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_odd_layer_counts_get_a_verdict_never_correct(position, answer):
    answers = list(RIGHT)
    answers[position] = answer
    assert convolution.check_1(*answers).status == WRONG
