"""The exercise checks accept right answers in other forms and explain wrong ones."""

import types

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit import reference
from cnnkit.exercises import conv_as_matmul
from cnnkit.exercises.checking import CORRECT, NOT_ATTEMPTED
from cnnkit.reference import im2col

import keras
import numpy as np
import pytest
import scipy.sparse
from numpy.lib.stride_tricks import sliding_window_view
from verdicts import assert_wrong


# ------------------------------------------------------------------- conv_as_matmul.1: shapes
def test_shapes_accept_arrays_and_lists():
    assert conv_as_matmul.check_1(np.array([2048, 75]), [576.0, 784.0]).status == CORRECT
    assert conv_as_matmul.check_1(keras.ops.convert_to_tensor([2048, 75]), (np.int64(576), 784))


@pytest.mark.parametrize(
    ("patches", "matrix", "words"),
    [
        ((8192, 75), (576, 784), ["im2col", "forget the stride"]),
        ((256, 75), (576, 784), ["batch size"]),
        ((2048, 25), (576, 784), ["all 3 channels"]),
        ((75, 2048), (576, 784), ["(columns, rows)"]),
        ((1568, 75), (576, 784), ["'valid'"]),
        ((2048, 75), (784, 576), ["convolution matrix", "(columns, rows)"]),
        ((2048, 75), (1024, 784), ["'full'"]),
        ((2048, 75), (576, 25), ["input pixels"]),
        ((2048, 75), (576, 785), ["1 of 2 values differ"]),
    ],
)
def test_shapes_name_the_mistake(patches, matrix, words):
    assert_wrong(conv_as_matmul.check_1(patches, matrix), *words)


# ------------------------------------------------------------------- conv_as_matmul.2: im2col
def windows_im2col(x, kernel_size, strides, padding):
    """Another correct form: every window at once with sliding_window_view."""
    pads = [
        reference.padding_amounts(n, k, strides, padding)
        for n, k in zip(x.shape[1:3], kernel_size, strict=True)
    ]
    x = np.pad(x, ((0, 0), *pads, (0, 0)))
    windows = sliding_window_view(x, kernel_size, axis=(1, 2))[:, ::strides, ::strides]
    # (n, out_h, out_w, c, kh, kw) -> rows (n, out_h, out_w), columns (kh, kw, c)
    windows = windows.transpose(0, 1, 2, 4, 5, 3)
    return windows.reshape(-1, np.prod(windows.shape[3:])).tolist()  # a list is fine too


def test_im2col_accepts_another_correct_form():
    assert conv_as_matmul.check_2(windows_im2col).status == CORRECT


def patches_of(x, kernel_size, strides=1, padding="valid"):
    """The right patches matrix without reference.im2col (switched off during the check)."""
    return np.array(windows_im2col(x, kernel_size, strides, padding))


def channels_first_columns(x, kernel_size, strides, padding):
    patches = patches_of(x, kernel_size, strides, padding)
    return (
        patches.reshape(len(patches), *kernel_size, -1)
        .transpose(0, 3, 1, 2)
        .reshape(len(patches), -1)
    )


def padded_on_the_wrong_side(x, kernel_size, strides, padding):
    pads = [
        reference.padding_amounts(n, k, strides, padding)[::-1]
        for n, k in zip(x.shape[1:3], kernel_size, strict=True)
    ]
    return patches_of(np.pad(x, ((0, 0), *pads, (0, 0))), kernel_size, strides)


@pytest.mark.parametrize(
    ("im2col", "words"),
    [
        (channels_first_columns, ["(channels, kh, kw)"]),
        (lambda x, k, s, p: patches_of(x, k, s, p).T, ["its transpose"]),
        (lambda x, k, s, p: patches_of(x, k, s), ["forget the padding"]),
        (lambda x, k, s, p: patches_of(x, k, 1, p), ["forget the stride"]),
        (lambda x, k, s, p: patches_of(x[:1], k, s, p), ["every image"]),
        (padded_on_the_wrong_side, ["wrong side"]),
        (lambda x, k, s, p: patches_of(x, k, s, p) + 0.1, ["values differ"]),
        (lambda x, k, s, p: patches_of(x, k, s, p) * np.nan, ["NaN"]),
        (lambda x, k, s, p: reference.im2col(x, k, s, p), ["switched off"]),
        (lambda x, k, s, p: im2col(x, k, s, p), ["switched off"]),
    ],
)
def test_im2col_names_the_mistake(im2col, words):
    assert_wrong(conv_as_matmul.check_2(im2col), *words)


def test_im2col_is_switched_on_again_after_the_check():
    conv_as_matmul.check_2(lambda x, k, s, p: im2col(x, k, s, p))
    assert im2col is reference.im2col
    assert reference.im2col(np.ones((1, 3, 3, 1)), 3).shape == (1, 9)


def test_im2col_gets_a_copy_of_the_input():
    def overwrites_its_input(x, kernel_size, strides, padding):
        patches = patches_of(x, kernel_size, strides, padding)
        x[...] = 0
        return patches

    assert conv_as_matmul.check_2(overwrites_its_input).status == CORRECT


def test_im2col_with_an_unwritten_body_is_not_attempted():
    def my_im2col(x, kernel_size, strides, padding): ...

    assert conv_as_matmul.check_2(my_im2col).status == NOT_ATTEMPTED


# ------------------------------------------------------------------- conv_as_matmul.3: conv as GEMM
def einsum_gemm(x, kernel, bias, strides, padding):
    """Another correct form: cnnkit's im2col, the product written as an einsum, a tensor out."""
    kh, kw, _, filters = kernel.shape
    patches = reference.im2col(x, (kh, kw), strides, padding)
    out_h = reference.conv_output_size(x.shape[1], kh, strides, padding)
    out = np.einsum("pk,kf->pf", patches, kernel.reshape(-1, filters)) + bias
    return keras.ops.convert_to_tensor(out.reshape(x.shape[0], out_h, -1, filters))


def scrambled_gemm(x, kernel, bias, strides, padding):
    kh, kw, _, filters = kernel.shape
    patches = reference.im2col(x, (kh, kw), strides, padding)
    out_h = reference.conv_output_size(x.shape[1], kh, strides, padding)
    out = patches @ kernel.reshape(filters, -1).T + bias
    return out.reshape(x.shape[0], out_h, -1, filters)


def test_conv2d_gemm_accepts_another_correct_form():
    assert conv_as_matmul.check_3(einsum_gemm).status == CORRECT


def test_conv2d_gemm_gets_a_copy_of_the_input():
    def overwrites_its_input(x, kernel, bias, strides, padding):
        out = einsum_gemm(x, kernel, bias, strides, padding)
        x[...], kernel[...], bias[...] = 0, 0, 0
        return out

    assert conv_as_matmul.check_3(overwrites_its_input).status == CORRECT


@pytest.mark.parametrize(
    ("conv2d_gemm", "words"),
    [
        (scrambled_gemm, ["kernel matrix is scrambled", "reshape(-1, filters)"]),
        (lambda x, k, b, s, p: reference.conv2d(x, k, None, s, p), ["forget the bias"]),
        (lambda x, k, b, s, p: reference.conv2d(x, k, b, s), ["forget the padding"]),
        (lambda x, k, b, s, p: reference.conv2d(x, k, b, s, p) * np.inf, ["NaN"]),
    ],
)
def test_conv2d_gemm_names_the_mistake(conv2d_gemm, words):
    assert_wrong(conv_as_matmul.check_3(conv2d_gemm), *words)


def my_im2col(x, kernel_size, strides, padding):
    """A learner's answer to exercise 2, replaced by each test below."""
    return patches_of(x, kernel_size, strides, padding)


def gemm_with_my_im2col(x, kernel, bias, strides, padding):
    """A right conv2d_gemm that calls the learner's my_im2col, as exercise 3 asks."""
    kh, kw, _, filters = kernel.shape
    patches = my_im2col(x, (kh, kw), strides, padding)
    out_h = reference.conv_output_size(x.shape[1], kh, strides, padding)
    return (patches @ kernel.reshape(-1, filters) + bias).reshape(x.shape[0], out_h, -1, filters)


def calling(im2col_answer):
    """gemm_with_my_im2col, with `im2col_answer` as the my_im2col it finds in its globals."""
    namespace = globals() | {"my_im2col": im2col_answer}
    return types.FunctionType(gemm_with_my_im2col.__code__, namespace, "conv2d_gemm")


def test_conv2d_gemm_with_a_right_my_im2col_is_correct():
    assert conv_as_matmul.check_3(calling(patches_of)).status == CORRECT


@pytest.mark.parametrize(
    ("im2col_answer", "words"),
    [
        (lambda x, k, s, p: patches_of(x, k, s, p).T, ["my_im2col", "exercise 2", "transpose"]),
        (lambda x, k, s, p: None, ["my_im2col", "write its body", "cnnkit.reference.im2col"]),
        (lambda x, k, s, p: patches_of(x, k, s), ["my_im2col", "forget the padding"]),
    ],
)
def test_conv2d_gemm_blames_a_broken_my_im2col(im2col_answer, words):
    assert_wrong(conv_as_matmul.check_3(calling(im2col_answer)), *words)


def test_conv2d_gemm_with_an_unwritten_body_is_not_attempted():
    def conv2d_gemm(x, kernel, bias, strides, padding):
        raise NotImplementedError

    assert conv_as_matmul.check_3(conv2d_gemm).status == NOT_ATTEMPTED


# ------------------------------------------------------------------- conv_as_matmul.4: conv matrix
def test_conv_matrix_accepts_the_flipped_toeplitz_matrix():
    assert conv_as_matmul.check_4(lambda k, s: reference.toeplitz_matrix(k[::-1, ::-1], s, "valid"))


def test_conv_matrix_accepts_a_sparse_matrix():
    def sparse(kernel, input_shape):
        return scipy.sparse.csr_matrix(
            reference.toeplitz_matrix(kernel[::-1, ::-1], input_shape, "valid")
        )

    assert conv_as_matmul.check_4(sparse).status == CORRECT


def test_conv_matrix_accepts_columns_of_the_convolved_unit_images():
    def by_unit_images(kernel, input_shape):
        # Column p of C is the convolution of the image that is 1 at pixel p and 0 elsewhere.
        h, w = input_shape
        units = np.eye(h * w).reshape(h * w, h, w, 1)
        return reference.conv2d(units, kernel[:, :, None, None]).reshape(h * w, -1).T

    assert conv_as_matmul.check_4(by_unit_images).status == CORRECT


@pytest.mark.parametrize(
    ("conv_matrix", "words"),
    [
        (
            lambda k, s: reference.toeplitz_matrix(k, s, "valid"),
            ["true convolution", "[::-1, ::-1]"],
        ),
        (lambda k, s: reference.toeplitz_matrix(k[::-1, ::-1], s, "valid").T, ["its transpose"]),
        (lambda k, s: reference.toeplitz_matrix(k[::-1, ::-1], s), ["'full' matrix"]),
        (lambda k, s: 2 * reference.toeplitz_matrix(k[::-1, ::-1], s, "valid"), ["values differ"]),
        (lambda k, s: np.full(reference.toeplitz_matrix(k, s, "valid").shape, np.inf), ["NaN"]),
    ],
)
def test_conv_matrix_names_the_mistake(conv_matrix, words):
    assert_wrong(conv_as_matmul.check_4(conv_matrix), *words)


def test_conv_matrix_with_an_unwritten_body_is_not_attempted():
    def conv_matrix(kernel, input_shape): ...

    assert conv_as_matmul.check_4(conv_matrix).status == NOT_ATTEMPTED


# -------------------------------------------------------------- conv_as_matmul.5: transposed conv
def dilate_and_correlate(x, kernel, strides):
    """Another correct form: spread the pixels `strides` apart, pad, correlate with the rotated
    kernel (in and out channels swapped): the textbook identity, no stamping."""
    n, h, w, c = x.shape
    kh, kw = kernel.shape[:2]
    spread = np.zeros((n, (h - 1) * strides + 1, (w - 1) * strides + 1, c))
    spread[:, ::strides, ::strides] = x
    spread = np.pad(spread, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
    return reference.conv2d(spread, kernel[::-1, ::-1].transpose(0, 1, 3, 2))


def test_conv_transpose_accepts_another_correct_form():
    assert conv_as_matmul.check_5(dilate_and_correlate).status == CORRECT


def channels_swapped(x, kernel, strides):
    if kernel.shape[2] != kernel.shape[3]:
        return dilate_and_correlate(x, kernel, strides)
    return dilate_and_correlate(x, kernel.transpose(0, 1, 3, 2), strides)


@pytest.mark.parametrize(
    ("conv_transpose", "words"),
    [
        (lambda x, k, s: dilate_and_correlate(x, k[::-1, ::-1], s), ["rotated"]),
        (lambda x, k, s: dilate_and_correlate(x, k, 1), ["stride-1 shape"]),
        (channels_swapped, ["channel axes are swapped"]),
        (lambda x, k, s: dilate_and_correlate(x, k, s) + 1, ["values differ"]),
        (lambda x, k, s: np.zeros((1, 3, 3)), ["returned shape"]),
        (lambda x, k, s: dilate_and_correlate(x, k, s) * np.nan, ["NaN"]),
        (lambda x, k, s: reference.conv_transpose2d(x, k, strides=s), ["switched off"]),
    ],
)
def test_conv_transpose_names_the_mistake(conv_transpose, words):
    assert_wrong(conv_as_matmul.check_5(conv_transpose), *words)


def test_conv_transpose_with_an_unwritten_body_is_not_attempted():
    def conv_transpose(x, kernel, strides): ...

    assert conv_as_matmul.check_5(conv_transpose).status == NOT_ATTEMPTED
