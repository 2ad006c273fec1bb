"""The exercise checks accept right answers in other forms and explain wrong ones."""

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit import reference
from cnnkit.exercises import convolution
from cnnkit.exercises.checking import CORRECT, NOT_ATTEMPTED

import keras
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from verdicts import assert_wrong


# ------------------------------------------------------------------- convolution.1: output size
def test_output_sizes_accept_arrays_lists_and_tensors():
    assert convolution.check_1(np.array([211, 317]), [214.0, 320.0]).status == CORRECT
    assert convolution.check_1(keras.ops.convert_to_tensor([211, 317]), (np.int64(214), 320))


@pytest.mark.parametrize(
    ("valid", "same", "words"),
    [
        ((421, 634), (214, 320), ["'valid'", "forget the stride"]),
        ((211, 318), (214, 320), ["round", "down"]),
        ((214, 320), (214, 320), ["'same' size"]),
        ((317, 211), (214, 320), ["(height, width)"]),
        ((211, 317), (211, 317), ["'valid' size", "pads"]),
        ((211, 317), (427, 640), ["stride 1"]),
        ((211, 317), (213, 320), ["round", "up"]),
        ((211, 317, 3), (214, 320), ["shape (3,)"]),
    ],
)
def test_output_sizes_name_the_mistake(valid, same, words):
    assert_wrong(convolution.check_1(valid, same), *words)


def test_output_sizes_partly_answered():
    result = convolution.check_1((211, 317), ...)
    assert result.status == NOT_ATTEMPTED
    assert "same_size" in result.message


# ------------------------------------------------------------------- convolution.2: parameters
def test_parameter_count_accepts_numpy_and_float():
    assert convolution.check_2(np.int64(5 * 5 * 32 * 64 + 64))
    assert convolution.check_2(51264.0)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (51200, ["biases"]),
        (1664, ["all 32 input channels"]),
        (1600, ["input channels", "bias"]),
        (51264 * 214 * 320, ["does not depend on the image size"]),
        (51000, ["expected 51264, got 51000"]),
    ],
)
def test_parameter_count_names_the_mistake(answer, words):
    assert_wrong(convolution.check_2(answer), *words)


# ------------------------------------------------------------------- convolution.3: multiply-adds
def test_multiply_adds_accepts_a_rounded_answer():
    assert convolution.check_3(3.506e9)  # within 0.1% of 3,506,176,000
    assert convolution.check_3(np.float32(214 * 320 * 64 * 800))


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (2 * 3506176000, ["two FLOPs"]),
        (427 * 640 * 64 * 800, ["forget the stride"]),
        (214 * 320 * 64 * 801, ["bias additions"]),
        (3506176000 / 32, ["all 32 input channels"]),
        (3506176000 / 64, ["64 filters"]),
        (3.4e9, ["expected 3506176000"]),
    ],
)
def test_multiply_adds_names_the_mistake(answer, words):
    assert_wrong(convolution.check_3(answer), *words)


# ------------------------------------------------------------------- convolution.4: edge kernel
@pytest.mark.parametrize(
    "kernel",
    [
        [[0, -1, 0], [0, 1, 0], [0, 0, 0]],  # a plain difference, as a list
        keras.ops.convert_to_tensor(np.outer([-1.0, 0, 1], [3, 10, 3]).reshape(3, 3, 1, 1)),
        np.outer([-1, 0, 1], [1, 1, 1]) * 0.5,  # Prewitt, scaled
    ],
)
def test_edge_kernel_accepts_other_detectors(kernel):
    assert convolution.check_4(kernel).status == CORRECT


@pytest.mark.parametrize(
    ("kernel", "words"),
    [
        (np.outer([1, 0, -1], [1, 2, 1]), ["flip its sign", "does not rotate"]),
        (np.outer([1, 2, 1], [-1, 0, 1]), ["vertical edge", "transpose it"]),
        (np.ones((3, 3)), ["add up to 0"]),
        (np.zeros((3, 3)), ["no response"]),
        ([[1, 0, 0], [-2, 0, 0], [1, 0, 0]], ["positive and negative"]),
        ([[-1, -1, 0], [-1, 0, 1], [0, 1, 1]], ["vertical edge", "every column"]),
        (np.ones((2, 2)), ["shape (3, 3)"]),
    ],
)
def test_edge_kernel_names_the_mistake(kernel, words):
    assert_wrong(convolution.check_4(kernel), *words)


# ------------------------------------------------------------------- convolution.5: conv2d
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
    assert convolution.check_5(conv2d).status == CORRECT


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
    assert_wrong(convolution.check_5(conv2d), *words)


def test_conv2d_with_an_unwritten_body_is_not_attempted():
    def conv2d(x, kernel, bias, strides, padding): ...

    def raising(x, kernel, bias, strides, padding):
        raise NotImplementedError

    assert convolution.check_5(conv2d).status == NOT_ATTEMPTED
    assert convolution.check_5(raising).status == NOT_ATTEMPTED
