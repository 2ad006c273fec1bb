"""Tests for convolution as matrix multiplication: toeplitz_matrix, im2col, conv_transpose2d."""

# cnnkit first, so that TensorFlow (imported by Keras) gets its fast CPU kernels.
from cnnkit.reference import conv2d, conv_transpose2d, im2col, toeplitz_matrix

import keras
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import signal

SIZES = st.integers(1, 7)
SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def layer_cases(draw):
    """Random batch, image, kernel size, filters, strides and padding for a Keras comparison."""
    rng = np.random.default_rng(draw(SEEDS))
    shape = (draw(st.integers(1, 3)), draw(st.integers(4, 9)), draw(st.integers(4, 9)))
    x = rng.normal(size=(*shape, draw(st.integers(1, 3)))).astype(np.float32)
    kernel_size = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same"]))
    return x, draw(st.integers(1, 3)), kernel_size, strides, padding, rng


# --- toeplitz_matrix ---------------------------------------------------------------------


def test_toeplitz_blocks_are_toeplitz():
    kernel = np.arange(1.0, 7.0).reshape(2, 3)
    matrix = toeplitz_matrix(kernel, (3, 4))  # output 4 x 6, input 3 x 4
    blocks = matrix.reshape(4, 6, 3, 4).transpose(0, 2, 1, 3)  # (out row, in row, 6, 4)
    for r in range(4):
        for c in range(3):
            block = blocks[r, c]
            if 0 <= r - c < 2:
                # Constant along every diagonal, first column is the kernel row padded.
                np.testing.assert_array_equal(block[:3, 0], kernel[r - c])
                np.testing.assert_array_equal(block[1:, 1:], block[:-1, :-1])
            else:
                assert not block.any()


@given(SIZES, SIZES, SIZES, SIZES, SEEDS)
def test_toeplitz_full_matches_scipy_random(h, w, kh, kw, seed):
    rng = np.random.default_rng(seed)
    image, kernel = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
    out = toeplitz_matrix(kernel, image.shape) @ image.ravel()
    expected = signal.convolve2d(image, kernel, "full")
    np.testing.assert_allclose(out.reshape(expected.shape), expected, atol=1e-12)


def test_toeplitz_kernel_larger_than_input():
    rng = np.random.default_rng(1)
    image, kernel = rng.normal(size=(2, 3)), rng.normal(size=(4, 5))
    matrix = toeplitz_matrix(kernel, image.shape)
    assert matrix.shape == (5 * 7, 6)
    expected = signal.convolve2d(image, kernel, "full")
    np.testing.assert_allclose((matrix @ image.ravel()).reshape(5, 7), expected, atol=1e-12)


@given(st.integers(3, 8), st.integers(3, 8), st.integers(1, 3), st.integers(1, 3), SEEDS)
def test_toeplitz_valid_matches_scipy_and_cross_correlation(h, w, kh, kw, seed):
    rng = np.random.default_rng(seed)
    image, kernel = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
    valid = (toeplitz_matrix(kernel, (h, w), mode="valid") @ image.ravel()).reshape(
        h - kh + 1, w - kw + 1
    )
    np.testing.assert_allclose(valid, signal.convolve2d(image, kernel, "valid"), atol=1e-12)
    # Flipping the kernel turns the convolution into deep learning's cross-correlation.
    flipped = toeplitz_matrix(kernel[::-1, ::-1], (h, w), mode="valid") @ image.ravel()
    keras_like = conv2d(image[None, :, :, None], kernel[:, :, None, None])[0, :, :, 0]
    np.testing.assert_allclose(flipped.reshape(valid.shape), keras_like, atol=1e-12)


def test_toeplitz_keeps_float_dtype_and_promotes_ints():
    assert toeplitz_matrix(np.ones((2, 2), np.float32), (3, 3)).dtype == np.float32
    assert toeplitz_matrix(np.ones((2, 2), int), (3, 3)).dtype == np.float64


@pytest.mark.parametrize(
    ("kernel", "input_shape", "mode", "match"),
    [
        (np.ones(3), (3, 3), "full", "2D"),
        (np.ones((2, 2, 1)), (3, 3), "full", "2D"),
        (np.ones((0, 2)), (3, 3), "full", "non-empty"),
        (np.ones((2, 2)), (3, 0), "full", "input_shape"),
        (np.ones((2, 2)), (3, 3, 1), "full", "input_shape"),
        (np.ones((2, 2)), (3, 3), "same", "mode"),
        (np.ones((4, 2)), (3, 3), "valid", "fit inside"),
    ],
)
def test_toeplitz_bad_arguments(kernel, input_shape, mode, match):
    with pytest.raises(ValueError, match=match):
        toeplitz_matrix(kernel, input_shape, mode=mode)


# --- im2col ------------------------------------------------------------------------------


def test_im2col_small_example():
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    patches = im2col(x, 2)
    expected = [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    np.testing.assert_array_equal(patches, expected)
    # Channels are the fastest-varying axis of a row, as in a Keras kernel.
    x2 = np.stack([x[..., 0], 10 * x[..., 0]], axis=-1)
    np.testing.assert_array_equal(im2col(x2, 2)[0], [0, 0, 1, 10, 3, 30, 4, 40])


def test_im2col_keeps_dtype_and_shape():
    x = np.zeros((2, 7, 6, 3), np.float32)
    patches = im2col(x, (3, 2), strides=2, padding="same")
    assert patches.dtype == np.float32
    assert patches.shape == (2 * 4 * 3, 3 * 2 * 3)


@given(case=layer_cases())
def test_im2col_matmul_matches_keras_conv2d(case, keras_conv2d, onednn_wrong_conv2d):
    x, filters, kernel_size, strides, padding, rng = case
    kernel = rng.normal(size=(*kernel_size, x.shape[-1], filters)).astype(np.float32)
    bias = rng.normal(size=filters).astype(np.float32)
    expected = keras_conv2d(x, kernel, bias, strides, padding)
    assume(not onednn_wrong_conv2d(expected.shape[2], strides, x.shape[-1]))
    out = im2col(x, kernel_size, strides, padding) @ kernel.reshape(-1, filters) + bias
    np.testing.assert_allclose(out.reshape(expected.shape), expected, rtol=1e-4, atol=1e-4)


@given(st.integers(0, 2), SEEDS)
def test_im2col_matches_reference_conv2d_with_int_padding(padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 6, 5, 3))
    kernel = rng.normal(size=(3, 2, 3, 4))
    expected = conv2d(x, kernel, strides=(2, 1), padding=padding)
    out = im2col(x, (3, 2), strides=(2, 1), padding=padding) @ kernel.reshape(-1, 4)
    np.testing.assert_allclose(out.reshape(expected.shape), expected, atol=1e-12)


@pytest.mark.parametrize(
    ("x", "kernel_size", "strides", "padding", "match"),
    [
        (np.zeros((4, 4, 1)), 2, 1, "valid", "rank 4"),
        (np.zeros((1, 4, 4, 1)), 0, 1, "valid", "kernel size"),
        (np.zeros((1, 4, 4, 1)), 2, (1, 0), "valid", "strides"),
        (np.zeros((1, 4, 4, 1)), 2, 1, "full", "padding"),
        (np.zeros((1, 4, 4, 1)), 5, 1, "valid", "larger than the input"),
    ],
)
def test_im2col_bad_arguments(x, kernel_size, strides, padding, match):
    with pytest.raises(ValueError, match=match):
        im2col(x, kernel_size, strides, padding)


# --- conv_transpose2d --------------------------------------------------------------------


@given(SIZES, SIZES, SIZES, SIZES, SEEDS)
def test_conv_transpose_is_transpose_of_conv_matrix(h, w, kh, kw, seed):
    rng = np.random.default_rng(seed)
    x, kernel = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
    out_shape = (h + kh - 1, w + kw - 1)
    conv_matrix = toeplitz_matrix(kernel[::-1, ::-1], out_shape, mode="valid")
    expected = (conv_matrix.T @ x.ravel()).reshape(out_shape)
    out = conv_transpose2d(x[None, :, :, None], kernel[:, :, None, None])[0, :, :, 0]
    np.testing.assert_allclose(out, expected, atol=1e-12)
    np.testing.assert_allclose(out, signal.convolve2d(x, kernel, "full"), atol=1e-12)


@given(layer_cases())
def test_conv_transpose_matches_keras(case):
    x, filters, kernel_size, strides, padding, rng = case
    layer = keras.layers.Conv2DTranspose(filters, kernel_size, strides=strides, padding=padding)
    layer.build(x.shape)
    kernel = rng.normal(size=layer.kernel.shape).astype(np.float32)
    bias = rng.normal(size=filters).astype(np.float32)
    layer.set_weights([kernel, bias])
    expected = keras.ops.convert_to_numpy(layer(x))
    out = conv_transpose2d(x, kernel, bias, strides, padding)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("x", "kernel", "bias", "strides", "padding", "match"),
    [
        (np.zeros((2, 2, 1)), np.zeros((2, 2, 1, 1)), None, 1, "valid", "rank 4"),
        (np.zeros((1, 2, 2, 1)), np.zeros((2, 2, 1)), None, 1, "valid", "4D"),
        (np.zeros((1, 2, 2, 3)), np.zeros((2, 2, 1, 2)), None, 1, "valid", "input channels"),
        (np.zeros((1, 2, 2, 1)), np.zeros((2, 2, 3, 1)), np.zeros(2), 1, "valid", "bias"),
        (np.zeros((1, 2, 2, 1)), np.zeros((2, 2, 1, 1)), None, 0, "valid", "strides"),
        (np.zeros((1, 2, 2, 1)), np.zeros((2, 2, 1, 1)), None, 1, "full", "padding"),
    ],
)
def test_conv_transpose_bad_arguments(x, kernel, bias, strides, padding, match):
    with pytest.raises(ValueError, match=match):
        conv_transpose2d(x, kernel, bias, strides, padding)
