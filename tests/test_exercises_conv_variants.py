"""The exercise checks accept correct answers in other forms and explain wrong ones."""

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit import reference
from cnnkit.exercises import conv_variants
from cnnkit.exercises.checking import CORRECT, NOT_ATTEMPTED

import numpy as np
import pytest
from verdicts import assert_wrong


# ------------------------------------------------------------------------------- conv_variants.1
def test_check_1_accepts_arrays_and_lists():
    assert conv_variants.check_1(np.array([15, 21]), [14.0, 20.0]).status == CORRECT


@pytest.mark.parametrize(
    ("valid", "same", "words"),
    [
        ((3, 4), (14, 20), ["ordinary", "goes up"]),
        ((14, 20), (14, 20), ['"same" size']),
        ((13, 19), (14, 20), ["k pixels wide"]),
        ((15, 21), (15, 21), ['"valid" size']),
        ((15, 21), (4, 5), ["ordinary"]),
    ],
)
def test_check_1_names_the_mistake(valid, same, words):
    assert_wrong(conv_variants.check_1(valid, same), *words)


# ------------------------------------------------------------------------------- conv_variants.2
def test_check_2_accepts_numpy_integers():
    # 9 * 32 + 32 + 32 * 64 + 64 and 9 * 32 * 64 + 64, as NumPy scalars.
    assert conv_variants.check_2(np.int64(2432), np.float32(18496)).status == CORRECT


@pytest.mark.parametrize(
    ("separable", "standard", "words"),
    [
        (2400, 18496, ["DepthwiseConv2D has biases"]),
        (2336, 18496, ["both layers have biases"]),
        (320, 18496, ["pointwise"]),
        (2432, 18432, ["biases"]),
        (2432, 640, ["all 32 input channels"]),
    ],
)
def test_check_2_names_the_mistake(separable, standard, words):
    assert_wrong(conv_variants.check_2(separable, standard), *words)


# ------------------------------------------------------------------------------- conv_variants.3
SEPARABLE_MACS = (9 * 32 + 32 * 64) * 32 * 32
STANDARD_MACS = 9 * 32 * 64 * 32 * 32


def test_check_3_accepts_floats():
    assert conv_variants.check_3(float(SEPARABLE_MACS), [STANDARD_MACS]).status == CORRECT


@pytest.mark.parametrize(
    ("separable", "standard", "words"),
    [
        (2 * SEPARABLE_MACS, STANDARD_MACS, ["FLOPs"]),
        (SEPARABLE_MACS + (32 + 64) * 1024, STANDARD_MACS, ["biases"]),
        (SEPARABLE_MACS // 1024 * 900, STANDARD_MACS, ["1,024", "900"]),
        (SEPARABLE_MACS, STANDARD_MACS // 1024, ["per output position"]),
    ],
)
def test_check_3_names_the_mistake(separable, standard, words):
    assert_wrong(conv_variants.check_3(separable, standard), *words)


# ------------------------------------------------------------------------------- conv_variants.4
def test_check_4_accepts_numpy_numbers():
    assert conv_variants.check_4(np.array(27), np.float64(52)).status == CORRECT


@pytest.mark.parametrize(
    ("field_a", "field_b", "words"),
    [
        (7, 52, ["ignore the dilation"]),
        (37, 52, ["not d x k"]),
        (29, 52, ["add the spans"]),
        (27, 28, ["counts twice"]),
        (27, 27, ["pooling counts"]),
    ],
)
def test_check_4_names_the_mistake(field_a, field_b, words):
    assert_wrong(conv_variants.check_4(field_a, field_b), *words)


# ------------------------------------------------------------------------------- conv_variants.5
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


def test_check_5_accepts_an_einsum_grouped_convolution():
    assert conv_variants.check_5(einsum_grouped_conv2d).status == CORRECT


def test_check_5_rejects_channels_taken_groups_apart():
    def grouped_conv2d(x, kernel, groups):
        filters = kernel.shape[-1] // groups
        return np.concatenate(
            [
                reference.conv2d(x[..., g::groups], kernel[..., g * filters : (g + 1) * filters])
                for g in range(groups)
            ],
            axis=-1,
        )

    assert_wrong(conv_variants.check_5(grouped_conv2d), "CONSECUTIVE", "channels 2 apart")


def test_check_5_an_unwritten_function_is_not_attempted():
    def grouped_conv2d(x, kernel, groups): ...

    assert conv_variants.check_5(grouped_conv2d).status == NOT_ATTEMPTED


# ------------------------------------------------------------------------------- conv_variants.6
def zero_insertion_conv_transpose(x, kernel, strides, padding, crop_from_origin=False):
    """The other textbook route: insert strides - 1 zeros between input pixels, pad k - 1
    zeros around, and run an ordinary convolution with the flipped kernel (the solution
    stamps the kernel instead)."""
    batch, height, width, channels = x.shape
    kh, kw = kernel.shape[:2]
    spread = np.zeros((batch, (height - 1) * strides + 1, (width - 1) * strides + 1, channels))
    spread[:, ::strides, ::strides] = x
    spread = np.pad(spread, [(0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)])
    flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)  # (kh, kw, in_channels, filters)
    full = reference.conv2d(spread, flipped)
    if padding == "valid":
        return full
    top, left = (0, 0) if crop_from_origin else ((kh - strides) // 2, (kw - strides) // 2)
    return full[:, top : top + height * strides, left : left + width * strides]


def test_check_6_accepts_a_zero_insertion_convolution():
    assert conv_variants.check_6(zero_insertion_conv_transpose).status == CORRECT


def test_check_6_rejects_cropping_from_one_side():
    def conv_transpose(x, kernel, strides, padding):
        return zero_insertion_conv_transpose(x, kernel, strides, padding, crop_from_origin=True)

    assert_wrong(conv_variants.check_6(conv_transpose), "(k - s) // 2", "(4, 4, 2, 2)")


def test_check_6_rejects_a_flipped_kernel_and_swapped_channel_axes():
    def flipped(x, kernel, strides, padding):
        return zero_insertion_conv_transpose(x, kernel[::-1, ::-1], strides, padding)

    def swapped(x, kernel, strides, padding):
        if kernel.shape[2] == kernel.shape[3]:
            kernel = kernel.transpose(0, 1, 3, 2)
        return zero_insertion_conv_transpose(x, kernel, strides, padding)

    assert_wrong(conv_variants.check_6(flipped), "not flipped")
    assert_wrong(conv_variants.check_6(swapped), "(kh, kw, filters, in_channels)")


def test_check_6_rejects_an_uncropped_same_output_with_the_size_rule():
    def conv_transpose(x, kernel, strides, padding):
        return zero_insertion_conv_transpose(x, kernel, strides, "valid")

    assert_wrong(conv_variants.check_6(conv_transpose), "has shape", "n * s")


def test_check_6_an_unwritten_function_is_not_attempted():
    def conv_transpose(x, kernel, strides, padding):
        raise NotImplementedError

    assert conv_variants.check_6(conv_transpose).status == NOT_ATTEMPTED
