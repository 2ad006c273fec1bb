"""The exercise checks accept correct answers in other forms and explain wrong ones."""

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit import reference
from cnnkit.data import load_sample_images
from cnnkit.exercises import pooling
from cnnkit.exercises.checking import CORRECT, NOT_ATTEMPTED

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from verdicts import assert_wrong


# ------------------------------------------------------------------------------- pooling.1
def test_check_1_accepts_numpy_and_float_numbers():
    assert pooling.check_1(np.int64(18), 4.0).status == CORRECT


@pytest.mark.parametrize(
    ("field", "spacing", "words"),
    [
        (9, 4, ["ignore the strides"]),
        (7, 4, ["pooling layers count"]),
        (17, 4, ["start from 1"]),
        (21, 4, ["AFTER"]),
        (18, 2, ["two of them"]),
    ],
)
def test_check_1_names_the_mistake(field, spacing, words):
    assert_wrong(pooling.check_1(field, spacing), *words)


# ------------------------------------------------------------------- pooling.2 and pooling.3
def _padded(x, pool_size, strides, padding, fill):
    if padding == "valid":
        return x
    pads = [reference.padding_amounts(n, pool_size, strides, "same") for n in x.shape[1:3]]
    return np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=fill)


def _windows(x, pool_size, strides):
    """(batch, out_h, out_w, channels, pool, pool) view of every window, vectorised."""
    view = sliding_window_view(x, (pool_size, pool_size), axis=(1, 2))
    return view[:, ::strides, ::strides]


def vectorised_max_pool(x, pool_size, strides, padding):
    return _windows(_padded(x, pool_size, strides, padding, -np.inf), pool_size, strides).max(
        axis=(-2, -1)
    )


def zero_padded_max_pool(x, pool_size, strides, padding):
    return _windows(_padded(x, pool_size, strides, padding, 0.0), pool_size, strides).max(
        axis=(-2, -1)
    )


def test_check_2_accepts_a_vectorised_max_pool():
    assert pooling.check_2(vectorised_max_pool).status == CORRECT


def test_check_2_rejects_zero_padding_with_the_negative_inputs_hint():
    assert_wrong(pooling.check_2(zero_padded_max_pool), "-inf", "negative", "(2, 7, 9, 3)")


def test_check_2_rejects_a_pooling_that_ignores_the_padding_with_the_size_rule():
    def valid_only(x, pool_size, strides, padding):
        windows = np.lib.stride_tricks.sliding_window_view(x, (pool_size, pool_size), axis=(1, 2))
        return windows[:, ::strides, ::strides].max(axis=(-2, -1))

    assert_wrong(pooling.check_2(valid_only), "has shape", "ceil(n / strides)", "'same'")


def test_check_2_and_3_switch_off_the_reference_pooling_the_exercise_forbids():
    def wrapped(x, pool_size, strides, padding):
        return reference.pool2d(x, pool_size, strides, padding)

    def lp_wrapped(x, p, pool_size, strides, padding):
        return reference.lp_pool2d(x, p, pool_size, strides, padding)

    def lp_via_pool2d(x, p, pool_size, strides, padding):
        mean = reference.pool2d(np.abs(x) ** p, pool_size, strides, padding, mode="avg")
        return mean ** (1 / p)

    assert_wrong(pooling.check_2(wrapped), "cnnkit.reference.pool2d is switched off")
    assert_wrong(pooling.check_3(lp_wrapped), "cnnkit.reference.lp_pool2d is switched off")
    assert_wrong(pooling.check_3(lp_via_pool2d), "cnnkit.reference.pool2d is switched off")
    assert reference.pool2d(np.ones((1, 2, 2, 1)), 2).shape == (1, 1, 1, 1)  # restored
    assert reference.lp_pool2d(np.ones((1, 2, 2, 1)), 2, 2).shape == (1, 1, 1, 1)


def test_check_2_an_unwritten_function_is_not_attempted():
    def max_pool2d(x, pool_size, strides, padding): ...

    assert pooling.check_2(max_pool2d).status == NOT_ATTEMPTED


def _lp_windows(x, p, pool_size, strides, padding):
    """Sums of |x| ** p and counts of real pixels per window (padding counts 0 pixels)."""
    powers = _windows(_padded(np.abs(x) ** p, pool_size, strides, padding, 0.0), pool_size, strides)
    ones = _padded(np.ones_like(x), pool_size, strides, padding, 0.0)
    counts = _windows(ones, pool_size, strides)
    return powers.sum(axis=(-2, -1)), counts.sum(axis=(-2, -1))


def lp_sum_over_count(x, p, pool_size, strides, padding):
    sums, counts = _lp_windows(x, p, pool_size, strides, padding)
    return (sums / counts) ** (1 / p)


def lp_nan_padded(x, p, pool_size, strides, padding):
    x = _padded(np.abs(x.astype(np.float64)), pool_size, strides, padding, np.nan)
    return np.nanmean(_windows(x, pool_size, strides) ** p, axis=(-2, -1)) ** (1.0 / p)


def lp_loops_as_lists(x, p, pool_size, strides, padding):
    """Plain loops over windows cut to the image; returns nested lists of float32."""
    batch, height, width, channels = x.shape
    if padding == "same":
        out_h, out_w = -(-height // strides), -(-width // strides)
        top = reference.padding_amounts(height, pool_size, strides, "same")[0]
        left = reference.padding_amounts(width, pool_size, strides, "same")[0]
    else:
        out_h, out_w = (height - pool_size) // strides + 1, (width - pool_size) // strides + 1
        top = left = 0
    out = np.zeros((batch, out_h, out_w, channels), np.float32)
    for i in range(out_h):
        r0, r1 = max(i * strides - top, 0), min(i * strides - top + pool_size, height)
        for j in range(out_w):
            c0, c1 = max(j * strides - left, 0), min(j * strides - left + pool_size, width)
            window = np.abs(x[:, r0:r1, c0:c1, :])
            out[:, i, j, :] = np.mean(window**p, axis=(1, 2)) ** (1 / p)
    return out.tolist()


@pytest.mark.parametrize("lp_pool2d", [lp_sum_over_count, lp_nan_padded, lp_loops_as_lists])
def test_check_3_accepts_lp_pooling_in_several_forms(lp_pool2d):
    result = pooling.check_3(lp_pool2d)
    assert result.status == CORRECT, result


def test_check_3_accepts_a_keras_lp_pooling_of_tensors():
    import keras

    def lp_pool2d(x, p, pool_size, strides, padding):
        layer = keras.layers.AveragePooling2D(pool_size, strides, padding)
        return layer(keras.ops.abs(x) ** p) ** (1 / p)  # a tensor, not an array

    assert pooling.check_3(lp_pool2d).status == CORRECT


@pytest.mark.parametrize(
    ("lp_pool2d", "words"),
    [
        (lambda x, p, k, s, pad: lp_sum_over_count(x, p, k, s, pad) ** p, ["forgot the root"]),
        (lambda x, p, k, s, pad: _lp_windows(x, p, k, s, pad)[0] ** (1 / p), ["summed"]),
        (
            lambda x, p, k, s, pad: (
                np.mean(_windows(_padded(np.abs(x) ** p, k, s, pad, 0.0), k, s), axis=(-2, -1))
                ** (1 / p)
            ),
            ["real pixels", "padded zeros"],
        ),
        (lambda x, p, k, s, pad: lp_sum_over_count(x, p, k, s, pad) * np.nan, ["NaN or infinite"]),
        (
            lambda x, p, k, s, pad: (
                np.nanmean(
                    _windows(_padded(x.astype(float), k, s, pad, np.nan), k, s) ** p, axis=(-2, -1)
                )
                ** (1 / p)
            ),
            ["needs |x|"],
        ),
        (
            lambda x, p, k, s, pad: _windows(_padded(np.abs(x), k, s, pad, 0.0), k, s).max(
                axis=(-2, -1)
            ),
            ["maximum of |x|", "whatever p"],
        ),
        (
            lambda x, p, k, s, pad: lp_sum_over_count(x, 1, k, s, pad),
            ["mean of |x|", "depend on p"],
        ),
        (lambda x, p, k, s, pad: lp_sum_over_count(x, p, k, s, pad)[:, :-1], ["has shape"]),
        (
            lambda x, p, k, s, pad: lp_sum_over_count(x, p, k, s, pad) * (1 + 0.01 * (p == 3)),
            ["values differ"],
        ),
    ],
)
def test_check_3_names_the_mistake(lp_pool2d, words):
    assert_wrong(pooling.check_3(lp_pool2d), *words)


def lp_scaled(x, p, pool_size, strides, padding, multiply_back=True):
    """Lp pooling of |x| / M per window (M: its largest |x|), multiplied back by M or not."""
    magnitude = _padded(np.abs(x), pool_size, strides, padding, 0.0)
    largest = _windows(magnitude, pool_size, strides).max(axis=(-2, -1))
    result = lp_sum_over_count(x, p, pool_size, strides, padding) / largest
    return result * largest if multiply_back else result


@pytest.mark.parametrize("always", [False, True])
def test_check_3_names_dividing_by_the_maximum_without_multiplying_back(always):
    def lp_pool2d(x, p, pool_size, strides, padding):  # scaled at large p only, or always
        multiply_back = p <= 3 and not always
        return lp_scaled(x, p, pool_size, strides, padding, multiply_back=multiply_back)

    assert_wrong(pooling.check_3(lp_pool2d), "largest |x|", "did not multiply back")


def test_check_3_accepts_scaling_each_window_by_its_maximum():
    assert pooling.check_3(lp_scaled).status == CORRECT


def test_check_3_names_the_bound_at_large_p():
    def lp_pool2d(x, p, pool_size, strides, padding):  # 10% low at p = 64 only
        return lp_sum_over_count(x, p, pool_size, strides, padding) * (0.9 if p > 3 else 1)

    result = pooling.check_3(lp_pool2d)
    assert_wrong(result, "outside the bound", "M * n ** (-1/64) .. M", "low", "high", "got")
    assert "values differ" not in result.message


def test_check_3_an_unwritten_function_is_not_attempted():
    def lp_pool2d(x, p, pool_size, strides, padding): ...

    assert pooling.check_3(lp_pool2d).status == NOT_ATTEMPTED


def test_check_2_rejects_a_function_that_changes_its_input_in_place():
    def max_pool2d(x, pool_size, strides, padding):
        result = vectorised_max_pool(x, pool_size, strides, padding)
        x[...] = 0  # the right answer, but the learner's input is gone
        return result

    assert_wrong(pooling.check_2(max_pool2d), "changed its input x in place", "copy")


def test_check_2_rejects_a_zeroing_function_that_returns_zeros():
    """The oracle is computed on its own copy, so an in-place zeroing cannot fool it."""

    def max_pool2d(x, pool_size, strides, padding):
        x[...] = 0
        return vectorised_max_pool(x, pool_size, strides, padding)

    assert_wrong(pooling.check_2(max_pool2d), "in place")


# ------------------------------------------------------------------------------- pooling.4
@pytest.mark.parametrize(
    "global_avg_pool",
    [
        lambda x: x.mean(axis=(1, 2)),
        lambda x: np.mean(x, axis=(2, 1), dtype=np.float32),
        lambda x: [list(row) for row in x.reshape(x.shape[0], -1, x.shape[-1]).mean(axis=1)],
        lambda x: x.sum(axis=1).sum(axis=1) / (x.shape[1] * x.shape[2]),
    ],
)
def test_check_4_accepts_every_form_of_the_mean_over_height_and_width(global_avg_pool):
    assert pooling.check_4(global_avg_pool).status == CORRECT


@pytest.mark.parametrize(
    ("global_avg_pool", "words"),
    [
        (lambda x: x.mean(axis=(1, 2), keepdims=True), ["keepdims"]),
        (lambda x: x.max(axis=(1, 2)), ["MAX"]),
        (lambda x: x.sum(axis=(1, 2)), ["height x width"]),
        (lambda x: x.mean(axis=(1, 2, 3)), ["has shape"]),
        (lambda x: np.full((x.shape[0], x.shape[-1]), np.nan), ["NaN or infinite"]),
        (lambda x: "mean", ["numbers"]),
    ],
)
def test_check_4_names_the_mistake(global_avg_pool, words):
    assert_wrong(pooling.check_4(global_avg_pool), *words)


def test_check_4_rejects_a_function_that_changes_its_input():
    def global_avg_pool(x):
        x -= x.mean(axis=(1, 2), keepdims=True)  # centres the maps in place
        return x.mean(axis=(1, 2)) + 1

    assert_wrong(pooling.check_4(global_avg_pool), "in place")


def test_check_4_unanswered_forms_are_not_attempted():
    assert pooling.check_4(...).status == NOT_ATTEMPTED
    assert pooling.check_4(lambda x: None).status == NOT_ATTEMPTED


# ------------------------------------------------------------------------------- pooling.5
def _unchanged_by_shift(pool_size, axis, start=1):
    """Shift by comparing x[start:] with x[start - 1:-1] (the solution compares x[1:-1] with
    x[:-2]), pooled by a NumPy reshape (the check uses Keras)."""
    gray = load_sample_images().astype(np.float64).mean(axis=-1)
    first = np.take(gray, range(start, gray.shape[axis]), axis=axis)
    second = np.take(gray, range(start - 1, gray.shape[axis] - 1), axis=axis)

    def pool(x):
        h, w = (x.shape[1] // pool_size) * pool_size, (x.shape[2] // pool_size) * pool_size
        x = x[:, :h, :w].reshape(x.shape[0], h // pool_size, pool_size, w // pool_size, pool_size)
        return x.max(axis=(2, 4))

    return np.float32(np.mean(pool(first) == pool(second)))


def test_check_5_accepts_an_independent_measurement_within_the_tolerance():
    result = pooling.check_5(_unchanged_by_shift(2, axis=1), _unchanged_by_shift(4, axis=1))
    assert result.status == CORRECT, result


def test_check_5_rejects_percentages_and_the_horizontal_shift():
    down_2, down_4 = _unchanged_by_shift(2, axis=1), _unchanged_by_shift(4, axis=1)
    assert_wrong(pooling.check_5(100 * down_2, 100 * down_4), "percentage")
    assert_wrong(pooling.check_5(_unchanged_by_shift(2, axis=2), down_4), "horizontal shift")
    assert_wrong(pooling.check_5(1 - down_2, down_4), "share that changed")


def test_check_5_names_another_grid_phase():
    down_2 = _unchanged_by_shift(2, axis=1)
    other_phase_4 = _unchanged_by_shift(4, axis=1, start=2)  # gray[:, 2:] vs gray[:, 1:-1]
    assert abs(other_phase_4 - _unchanged_by_shift(4, axis=1)) > pooling.SHIFT_TOLERANCE
    assert_wrong(pooling.check_5(down_2, other_phase_4), "grid phase", "gray[:, 1:-1]")


@pytest.mark.parametrize("bad", [np.nan, np.inf, np.array(np.nan)])
def test_check_5_and_check_1_reject_non_finite_numbers(bad):
    assert_wrong(pooling.check_5(bad, 0.5), "NaN or infinite")
    assert_wrong(pooling.check_1(bad, 4), "NaN or infinite")


# ------------------------------------------------------------------------------- pooling.6
def test_check_6_accepts_a_running_maximum_over_strided_channels():
    def depthwise_max_pool(x, pool_size):
        if x.shape[-1] % pool_size:
            raise ValueError("the channel count must be a multiple of pool_size")
        return np.max([x[..., i::pool_size] for i in range(pool_size)], axis=0)

    assert pooling.check_6(depthwise_max_pool).status == CORRECT


def test_check_6_rejects_groups_of_channels_far_apart():
    def depthwise_max_pool(x, pool_size):
        return x.reshape(*x.shape[:3], pool_size, -1).max(axis=3)

    assert_wrong(pooling.check_6(depthwise_max_pool), "CONSECUTIVE")


def test_check_6_requires_a_value_error_for_an_impossible_grouping():
    def depthwise_max_pool(x, pool_size):
        groups = x.shape[-1] // pool_size  # silently drops the channels left over
        return x[..., : groups * pool_size].reshape(*x.shape[:3], groups, pool_size).max(-1)

    assert_wrong(pooling.check_6(depthwise_max_pool), "ValueError", "5 channels")


def test_check_6_an_unwritten_function_is_not_attempted():
    def depthwise_max_pool(x, pool_size):
        raise NotImplementedError

    assert pooling.check_6(depthwise_max_pool).status == NOT_ATTEMPTED
