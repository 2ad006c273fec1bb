"""Tests for cnnkit.reference: every op against Keras, the size formulas, and bad arguments."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import keras
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import signal

from cnnkit.reference import (
    conv2d,
    conv2d_loops,
    conv_output_size,
    lp_pool2d,
    padding_amounts,
    pool2d,
    receptive_field,
)


def _keras_pool(x, pool_size, strides, padding, mode):
    cls = keras.layers.MaxPool2D if mode == "max" else keras.layers.AveragePooling2D
    return keras.ops.convert_to_numpy(cls(pool_size, strides, padding=padding)(x))


@st.composite
def conv_cases(draw):
    """Random batch, sizes, channels, kernel, strides and padding (kernel fits if "valid")."""
    padding = draw(st.sampled_from(["valid", "same"]))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    low_h, low_w = (kh, kw) if padding == "valid" else (1, 1)
    shape = (
        draw(st.integers(1, 3)),
        draw(st.integers(low_h, 12)),
        draw(st.integers(low_w, 12)),
        draw(st.integers(1, 4)),
    )
    strides = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    return shape, (kh, kw), strides, padding, draw(st.integers(1, 4)), draw(st.integers(0, 999))


@given(case=conv_cases())
def test_conv2d_matches_keras_conv2d(case, keras_conv2d, onednn_wrong_conv2d):
    shape, (kh, kw), strides, padding, filters, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype("float32")
    kernel = rng.normal(size=(kh, kw, shape[3], filters)).astype("float32")
    bias = rng.normal(size=filters).astype("float32")
    ours = conv2d(x, kernel, bias, strides, padding)
    assume(not onednn_wrong_conv2d(ours.shape[2], strides, shape[3]))
    expected = keras_conv2d(x, kernel, bias, strides, padding)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(conv2d_loops(x, kernel, bias, strides, padding), ours, atol=1e-10)


@pytest.mark.parametrize(
    ("shape", "kernel_hw", "strides", "padding"),
    [
        ((2, 7, 3, 1), (4, 3), (1, 2), "valid"),
        ((1, 5, 4, 1), (3, 3), (1, 3), "valid"),
        ((2, 9, 3, 1), (2, 3), (1, 4), "same"),
        ((3, 4, 2, 1), (1, 5), (1, 4), "same"),
    ],
)
def test_conv2d_matches_scipy_where_onednn_is_wrong(shape, kernel_hw, strides, padding):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    kernel = rng.normal(size=(*kernel_hw, 1, 2))
    ours = conv2d(x, kernel, None, strides, padding)
    (top, bottom), (left, right) = (
        padding_amounts(n, k, s, padding)
        for n, k, s in zip(shape[1:3], kernel_hw, strides, strict=True)
    )
    for n in range(shape[0]):
        image = np.pad(x[n, :, :, 0], ((top, bottom), (left, right)))
        for f in range(2):
            full = signal.correlate2d(image, kernel[:, :, 0, f], mode="valid")
            np.testing.assert_allclose(ours[n, :, :, f], full[:: strides[0], :: strides[1]])


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, (2, 3)])
@pytest.mark.parametrize(("kernel_size", "in_ch", "out_ch"), [(1, 1, 1), (3, 3, 5), ((2, 5), 2, 3)])
def test_conv2d_grid_matches_keras(padding, strides, kernel_size, in_ch, out_ch, keras_conv2d):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 11, 8, in_ch)).astype("float32")
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    kernel = rng.normal(size=(kh, kw, in_ch, out_ch)).astype("float32")
    bias = rng.normal(size=out_ch).astype("float32")
    expected = keras_conv2d(x, kernel, bias, strides, padding)
    np.testing.assert_allclose(conv2d(x, kernel, bias, strides, padding), expected, atol=1e-4)


def test_conv2d_is_cross_correlation_not_flipped():
    x = np.zeros((1, 3, 3, 1))
    x[0, 1, 1, 0] = 1.0  # a single bright pixel
    kernel = np.arange(9.0).reshape(3, 3, 1, 1)
    out = conv2d(x, kernel, padding="same")[0, :, :, 0]
    np.testing.assert_array_equal(out, kernel[::-1, ::-1, 0, 0])  # the impulse response is flipped


def test_conv2d_int_padding_is_zeros_on_each_side():
    x = np.random.default_rng(2).normal(size=(1, 5, 5, 2))
    kernel = np.random.default_rng(3).normal(size=(3, 3, 2, 4))
    out = conv2d(x, kernel, padding=1)
    assert out.shape == (1, 5, 5, 4)  # the 5x5, 3x3, stride 1, padding 1 example
    np.testing.assert_allclose(out, conv2d(x, kernel, padding="same"))
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
    np.testing.assert_allclose(conv2d(x, kernel, padding=2), conv2d(padded, kernel))


@st.composite
def pool_cases(draw):
    padding = draw(st.sampled_from(["valid", "same"]))
    ph, pw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    low_h, low_w = (ph, pw) if padding == "valid" else (1, 1)
    shape = (
        draw(st.integers(1, 3)),
        draw(st.integers(low_h, 12)),
        draw(st.integers(low_w, 12)),
        draw(st.integers(1, 4)),
    )
    strides = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    mode = draw(st.sampled_from(["max", "avg"]))
    return shape, (ph, pw), strides, padding, mode, draw(st.integers(0, 999))


@given(pool_cases())
def test_pool2d_matches_keras(case):
    shape, pool_size, strides, padding, mode, seed = case
    x = np.random.default_rng(seed).normal(size=shape).astype("float32")
    expected = _keras_pool(x, pool_size, strides, padding, mode)
    ours = pool2d(x, pool_size, strides, padding, mode)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_same_average_pooling_ignores_padding():
    x = np.ones((1, 3, 3, 1))
    out = pool2d(x, 2, padding="same", mode="avg")
    assert out.shape == (1, 2, 2, 1)
    np.testing.assert_array_equal(out, 1.0)  # zero padding would give 0.5 and 0.25 at the border
    np.testing.assert_array_equal(out, _keras_pool(x.astype("float32"), 2, None, "same", "avg"))


@pytest.mark.parametrize("input_size", [1, 2, 5, 7, 10, 28, 427, 640])
@pytest.mark.parametrize("kernel_size", [1, 2, 3, 5, 7])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv_output_size_matches_keras_shapes(input_size, kernel_size, stride, padding):
    if padding == "valid" and kernel_size > input_size:
        with pytest.raises(ValueError, match="larger than the padded input"):
            conv_output_size(input_size, kernel_size, stride, padding)
        return
    layer = keras.layers.Conv2D(1, kernel_size, stride, padding=padding)
    _, out_h, out_w, _ = layer.compute_output_shape((None, input_size, input_size + 3, 1))
    assert conv_output_size(input_size, kernel_size, stride, padding) == out_h
    assert conv_output_size(input_size + 3, kernel_size, stride, padding) == out_w


def test_conv_output_size_with_int_padding_hand_computed():
    assert conv_output_size(7, 3, 2, 0) == 3
    assert conv_output_size(32, 5, 1, 0) == 28
    assert conv_output_size(227, 11, 4, 0) == 55  # AlexNet's first layer
    assert conv_output_size(6, 3, 2, 0) == 2  # (6 - 3) / 2 + 1 = 2.5, rounded down like Keras


@pytest.mark.parametrize("size", [1, 2, 5, 6, 9])
@pytest.mark.parametrize("kernel_size", [1, 2, 3, 4])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_same_padding_amounts_match_keras(size, kernel_size, stride, keras_conv2d):
    # Zero-pad by hand as padding_amounts says, then a "valid" Keras convolution must give
    # what Keras' "same" gives (which puts the odd zero after).
    x = np.random.default_rng(size).normal(size=(1, 1, size, 1)).astype("float32")
    kernel = np.random.default_rng(kernel_size).normal(size=(1, kernel_size, 1, 1))
    kernel = kernel.astype("float32")
    before, after = padding_amounts(size, kernel_size, stride, "same")
    padded = np.pad(x, ((0, 0), (0, 0), (before, after), (0, 0)))
    np.testing.assert_allclose(
        keras_conv2d(padded, kernel, strides=stride, padding="valid"),
        keras_conv2d(x, kernel, strides=stride, padding="same"),
        atol=1e-6,
    )


def test_valid_and_int_padding_amounts():
    assert padding_amounts(5, 3, 1, "valid") == (0, 0)
    assert padding_amounts(5, 3, 1, 2) == (2, 2)


def _measured_receptive_field(layers, size: int = 64) -> int:
    """Push one bright pixel at a time through 'valid' convolutions with all-ones kernels
    (1 x k, so only widths matter) and count which input pixels reach output pixel 0."""
    seen = []
    for position in range(size):
        x = np.zeros((1, 1, size, 1))
        x[0, 0, position, 0] = 1.0
        for kernel, stride in layers:
            x = conv2d(x, np.ones((1, kernel, 1, 1)), strides=(1, stride))
        if x[0, 0, 0, 0] > 0:
            seen.append(position)
    return max(seen) - min(seen) + 1


@pytest.mark.parametrize(
    "layers",
    [
        [(3, 1)] * 3,
        [(7, 1)],
        [(3, 2), (3, 1)],
        [(7, 2), (3, 2), (3, 1)],
        [(2, 2)] * 4,
        [(5, 3), (2, 1)],
    ],
)
def test_receptive_field_matches_measurement(layers):
    assert receptive_field(layers) == _measured_receptive_field(layers)


def test_receptive_field_accepts_plain_kernel_sizes():
    assert receptive_field([5, (3, 2), 3]) == _measured_receptive_field([(5, 1), (3, 2), (3, 1)])
    assert receptive_field([]) == 1  # no layer: each output is its own input pixel


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: conv2d(np.zeros((1, 3, 3, 1)), np.zeros((5, 5, 1, 1))), "larger than the input"),
        (lambda: conv2d(np.zeros((1, 8, 8, 1)), np.zeros((3, 3, 1, 1)), strides=0), "positive"),
        (
            lambda: conv2d(np.zeros((1, 8, 8, 1)), np.zeros((3, 3, 1, 1)), strides=(1, -1)),
            "positive",
        ),
        (lambda: conv2d(np.zeros((8, 8, 1)), np.zeros((3, 3, 1, 1))), "rank 4.*got rank 3"),
        (lambda: conv2d(np.zeros((1, 8, 8, 1)), np.zeros((3, 3, 1))), "kernel must have rank 4"),
        (lambda: conv2d(np.zeros((1, 8, 8, 2)), np.zeros((3, 3, 1, 1))), "input channels"),
        (
            lambda: conv2d(np.zeros((1, 8, 8, 1)), np.zeros((3, 3, 1, 2)), bias=np.zeros(3)),
            r"bias must have shape \(2,\)",
        ),
        (lambda: conv2d(np.zeros((1, 8, 8, 1)), np.zeros((3, 3, 1, 1)), padding="full"), "padding"),
        (lambda: conv2d_loops(np.zeros((1, 2, 2, 1)), np.zeros((3, 3, 1, 1))), "larger"),
        (lambda: pool2d(np.zeros((1, 1, 1, 1)), 2), "pool size 2 is larger than the input"),
        (lambda: pool2d(np.zeros((1, 4, 4, 1)), 2, strides=0), "positive"),
        (lambda: pool2d(np.zeros((4, 4)), 2), "rank 4"),
        (lambda: pool2d(np.zeros((1, 4, 4, 1)), 2, mode="min"), "mode"),
        (lambda: pool2d(np.zeros((1, 4, 4, 1)), 2, padding=1), "padding"),
        (lambda: pool2d(np.zeros((1, 4, 4, 1)), 0), "positive"),
        (lambda: conv_output_size(3, 5, 1, "valid"), "larger than the padded input"),
        (lambda: conv_output_size(8, 3, 0), "positive"),
        (lambda: conv_output_size(8, 3, 1, -1), "padding"),
        (lambda: receptive_field([(3, 0)]), "stride of layer 0"),
        (lambda: receptive_field([(3, 1, 1)]), "layer 0"),
        (lambda: receptive_field([0]), "kernel size of layer 0"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- Lp pooling -----------------------------------------------------------------------------
LP_CASES = [
    ((2, 7, 9, 3), 3, 2, "valid"),
    ((2, 7, 9, 3), 3, 2, "same"),
    ((1, 6, 6, 2), 2, None, "valid"),
    ((1, 5, 8, 1), 4, 3, "same"),
]


@pytest.mark.parametrize(("shape", "pool_size", "strides", "padding"), LP_CASES)
def test_lp_pool2d_at_p_1_is_keras_average_pooling_of_abs(shape, pool_size, strides, padding):
    x = np.random.default_rng(3).normal(size=shape).astype("float32")
    expected = _keras_pool(np.abs(x), pool_size, strides, padding, "avg")
    np.testing.assert_allclose(
        lp_pool2d(x, 1, pool_size, strides, padding), expected, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(("shape", "pool_size", "strides", "padding"), LP_CASES)
@pytest.mark.parametrize("p", [8, 64, 1000])
def test_lp_pool2d_at_large_p_is_within_the_bound_of_keras_max_pooling(
    shape, pool_size, strides, padding, p
):
    # For n non-negative values with maximum M: M * n ** (-1/p) <= (mean x^p) ** (1/p) <= M,
    # so the relative gap to max pooling is at most 1 - n ** (-1/p) (n = pool_size ** 2
    # or fewer cells): for 3x3 windows 24% at p = 8, 3.4% at p = 64, 0.22% at p = 1000.
    x = np.random.default_rng(4).uniform(0.0, 3.0, size=shape).astype("float32")
    top = _keras_pool(x, pool_size, strides, padding, "max")
    ours = lp_pool2d(x, p, pool_size, strides, padding)
    assert np.all(ours <= top * (1 + 1e-6))
    assert np.all(ours >= top * (pool_size * pool_size) ** (-1 / p) * (1 - 1e-6))
    gap = 1 - (ours / top).min()
    assert gap < 1 - (pool_size * pool_size) ** (-1 / p) + 1e-6


def test_lp_pool2d_matches_a_direct_formula_at_p_2_and_3_and_stays_finite():
    x = np.random.default_rng(5).normal(size=(2, 6, 4, 2))
    windows = np.abs(x).reshape(2, 3, 2, 2, 2, 2).transpose(0, 1, 3, 5, 2, 4)
    for p in (2, 3, 2.5):
        expected = np.mean(windows.reshape(2, 3, 2, 2, 4) ** p, axis=-1) ** (1 / p)
        np.testing.assert_allclose(lp_pool2d(x, p, 2), expected, rtol=1e-12)
    huge = np.full((1, 2, 2, 1), 1e10)
    tiny = np.full((1, 2, 2, 1), 1e-10)
    np.testing.assert_allclose(lp_pool2d(huge, 500, 2), 1e10)  # (1e10) ** 500 would overflow
    np.testing.assert_allclose(lp_pool2d(tiny, 500, 2), 1e-10)  # and (1e-10) ** 500 underflow
    assert lp_pool2d(np.zeros((1, 2, 2, 1)), 3, 2)[0, 0, 0, 0] == 0.0


def test_lp_pool2d_same_padding_averages_only_the_cells_inside_the_image():
    ones = np.ones((1, 3, 3, 1))
    np.testing.assert_array_equal(lp_pool2d(ones, 3, 2, padding="same"), 1.0)


@pytest.mark.parametrize("p", [0.5, 0, -2, np.nan, np.inf, "2", None, True])
def test_lp_pool2d_rejects_bad_p(p):
    with pytest.raises(ValueError, match="p must be"):
        lp_pool2d(np.ones((1, 4, 4, 1)), p, 2)
