"""Checks for notebook 02's exercises: receptive fields and pooling from scratch.

Exercise pooling.1 works out the receptive field of a stack of convolutions and poolings,
pooling.2 writes max pooling with strides and padding in NumPy, pooling.3 Lp pooling (average
pooling at p = 1, close to max pooling at large p), pooling.4 global average pooling,
pooling.5 measures how many pooled values a one-pixel shift leaves unchanged and pooling.6
writes depthwise (channel) max pooling. The oracles (Keras' pooling layers,
``cnnkit.reference``, ``cnnkit.layers.DepthwiseMaxPool2D``) are computed when a check runs. A
learner's function gets a copy of each input, the oracle another copy, and a function that
changes its input is told so.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from cnnkit import reference
from cnnkit.data import load_sample_images
from cnnkit.exercises.checking import (
    Mistake,
    as_array,
    call_answer,
    compare_arrays,
    compare_number,
    exercise,
    finite_array,
    switched_off,
)
from cnnkit.layers import DepthwiseMaxPool2D

import keras
import numpy as np

# Exercise pooling.1: the stack, from the input up: ("conv" or "pool", kernel size, stride).
STACK = (("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1))

# Exercises pooling.2 and pooling.3: (input shape, pool_size, strides, padding, all negative).
POOL_CASES = (
    ((1, 6, 6, 1), 2, 2, "valid", False),
    ((2, 7, 9, 3), 3, 2, "valid", False),
    ((2, 7, 9, 3), 3, 2, "same", True),
    ((1, 5, 8, 2), 3, 1, "same", True),
    ((2, 6, 7, 2), 2, 3, "same", False),
    ((1, 8, 5, 1), 4, 2, "same", True),
)

# Exercise pooling.6: (input shape, pool_size).
DEPTHWISE_CASES = (((1, 2, 3, 6), 3), ((2, 4, 3, 8), 2), ((1, 3, 3, 4), 1), ((2, 2, 2, 6), 6))

_SIZE_RULES = (
    "'valid' gives floor((n - pool_size) / strides) + 1 values along an axis, "
    "'same' gives ceil(n / strides)"
)


# ------------------------------------------------------------------ pooling.1: receptive field
@exercise("pooling.1")
def check_1(field: Any, spacing: Any) -> str:
    """Check the receptive field and the output spacing of a conv / pool stack.

    The stack is Conv2D 3x3, MaxPool2D(2), Conv2D 3x3, MaxPool2D(2), Conv2D 3x3 (convolution
    strides 1). The oracle is ``cnnkit.reference.receptive_field``; exact integers expected.

    Parameters
    ----------
    field : int
        Width in input pixels of the window that one output of the last layer sees.
    spacing : int
        Distance in input pixels between two neighbouring outputs of the last layer.

    Examples
    --------
    >>> check_1(..., ...)
    Exercise pooling.1: not attempted yet: replace `...` with your answer.
    """
    for answer, what in ((field, "the receptive field"), (spacing, "the spacing")):
        _finite(as_array(answer, what), what, "give a whole number of input pixels.")
    layers = [(kernel, stride) for _, kernel, stride in STACK]
    expected = reference.receptive_field(layers)
    stride_first, step = 1, 1  # the field if each stride is applied before its own layer
    for kernel, stride in layers:
        step *= stride
        stride_first += (kernel - 1) * step
    compare_number(
        field,
        expected,
        name="the receptive field",
        mistakes={
            "did you ignore the strides? After a stride-2 pooling, one step of the next layer "
            "moves 2 input pixels, so its kernel covers (k - 1) x 2 more pixels": 1
            + sum(kernel - 1 for kernel, _ in layers),
            "the pooling layers count too: their windows widen the view and their strides "
            "spread the later layers' kernels": reference.receptive_field(
                [kernel for kind, kernel, _ in STACK if kind == "conv"]
            ),
            "a 2x2 pooling window also widens the view, by (2 - 1) x (the spacing so far)": (
                reference.receptive_field(
                    [(1, stride) if kind == "pool" else kernel for kind, kernel, stride in STACK]
                )
            ),
            "start from 1 (one output pixel sees 1 input pixel through no layer), then add "
            "(k - 1) x spacing per layer": expected - 1,
            "a layer's stride only spreads the layers AFTER it: add (k - 1) x spacing, then "
            "multiply the spacing by the stride": stride_first,
        },
    )
    expected_spacing = int(np.prod([stride for _, stride in layers]))
    compare_number(
        spacing,
        expected_spacing,
        name="the spacing between neighbouring outputs",
        mistakes={
            "each stride-2 pooling doubles the spacing, and there are two of them": 2,
            "convolutions with stride 1 keep the spacing; only the poolings change it": 1,
        },
    )
    return (
        f"{expected} pixels, though the image shrinks only {expected_spacing}-fold: "
        "pooling lets later layers see further."
    )


# --------------------------------------------------------------- pooling.2 and pooling.3: pooling
def _case_input(shape: tuple[int, ...], negative: bool, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if negative:  # every value below zero: a padded zero would win every border window
        return -rng.uniform(0.5, 2.0, size=shape).astype(np.float32)
    return rng.normal(size=shape).astype(np.float32)


def _pool_padded(x, pool_size, strides, pads, fill: float, reduce: Callable) -> np.ndarray:
    """Pool `x` padded with `fill` by `pads`, every window reduced by `reduce` (for mistakes)."""
    (top, bottom), (left, right) = pads
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    out_h = (padded.shape[1] - pool_size) // strides + 1
    out_w = (padded.shape[2] - pool_size) // strides + 1
    out = np.zeros((x.shape[0], out_h, out_w, x.shape[3]))
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, i * strides : i * strides + pool_size, j * strides :, :]
            out[:, i, j, :] = reduce(window[:, :, :pool_size, :], axis=(1, 2))
    return out


def _finite(got: np.ndarray, label: str, why: str) -> np.ndarray:
    return finite_array(got, label, verb="returned", advice=why)


def _answer_on_copy(function: Callable, x: np.ndarray, *args: Any, name: str, label: str):
    """The learner's `function(copy of x, *args)` as an array; reject changes to its input."""
    given = x.copy()
    got = call_answer(function, given, *args, name=name)
    if not np.array_equal(given, x):
        raise Mistake(
            f"{label} changed its input x in place: work on a copy (x.copy(), np.pad or a new "
            "array) and leave x as it was."
        )
    return as_array(got, label)


def _check_pooling(function: Callable, name: str) -> None:
    """Compare `function(x, pool_size, strides, padding)` with MaxPool2D on each POOL_CASES."""
    zeros_hint = (
        '"same" padding must never win a window: you padded with zeros, and with negative '
        "inputs a padded 0 is larger than every real value. Pad with -inf, or take the maximum "
        "over the real pixels only"
    )
    for seed, (shape, pool_size, strides, padding, negative) in enumerate(POOL_CASES):
        x = _case_input(shape, negative, seed)
        label = f"{name}(x, {pool_size}, {strides}, {padding!r}) with x of shape {shape}"
        with switched_off(function, reference, "pool2d", "write the pooling yourself."):
            got = _answer_on_copy(function, x, pool_size, strides, padding, name=name, label=label)
        _finite(
            got,
            label,
            "every window holds at least one real pixel, so every output is a finite number "
            "(pad with -inf for the maximum, or leave padded pixels out of the window).",
        )
        expected = keras.ops.convert_to_numpy(
            keras.layers.MaxPool2D(pool_size, strides, padding)(x.copy())
        )
        _check_shape(got, expected, label)
        pads = [reference.padding_amounts(n, pool_size, strides, padding) for n in shape[1:3]]
        swapped = [(after, before) for before, after in pads]
        mistakes = {zeros_hint: _pool_padded(x, pool_size, strides, pads, 0.0, np.max)}
        if swapped != pads:
            mistakes[
                "when the padding is odd, the extra row or column goes at the bottom and "
                "right, as TensorFlow does (see reference.padding_amounts)"
            ] = _pool_padded(x, pool_size, strides, swapped, np.nan, np.nanmax)
        compare_arrays(got, expected, name=label, rtol=1e-5, atol=1e-6, mistakes=mistakes)


def _check_shape(got: np.ndarray, expected: np.ndarray, label: str) -> None:
    if got.shape != expected.shape:
        raise Mistake(
            f"{label} has shape {got.shape}, expected {expected.shape}: {_SIZE_RULES}; "
            "the batch and channel axes are kept."
        )


@exercise("pooling.2")
def check_2(max_pool2d: Any) -> str:
    """Check a NumPy max pooling ``max_pool2d(x, pool_size, strides, padding)`` against Keras.

    Six cases against ``keras.layers.MaxPool2D``: batches of 1 and 2, 1 to 3 channels, odd
    sizes, pool sizes 2 to 4, strides 1 to 3, both paddings, and inputs whose values are all
    negative. Values must agree within 1e-6 (plus 1e-5 relative).

    Parameters
    ----------
    max_pool2d : callable
        ``max_pool2d(x, pool_size, strides, padding)`` with ``x`` of shape (batch, height,
        width, channels), int ``pool_size`` and ``strides``, ``padding`` "valid" or "same".

    Examples
    --------
    >>> check_2(...)
    Exercise pooling.2: not attempted yet: replace `...` with your answer.
    """
    _check_pooling(max_pool2d, "max_pool2d")
    return f"equal to keras.layers.MaxPool2D on all {len(POOL_CASES)} cases."


# Exercise pooling.3: p = 64 on values in [0.5, 1.5]: |x| ** 64 neither overflows nor
# underflows even in float32. (case index in POOL_CASES, p) compared with the reference.
LP_LARGE_P = 64
LP_REFERENCE_CASES = ((2, 2), (4, 3), (1, 3), (5, 2))


def _lp_answer(function: Callable, x: np.ndarray, p: float, case: tuple, label: str):
    """The learner's Lp pooling of a copy of `x`, with the reference poolings switched off."""
    _, pool_size, strides, padding, _ = case
    hint = "write the Lp pooling yourself."
    with (
        switched_off(function, reference, "lp_pool2d", hint),
        switched_off(function, reference, "pool2d", hint),
    ):
        got = _answer_on_copy(
            function, x, p, pool_size, strides, padding, name="lp_pool2d", label=label
        )
    return _finite(
        got,
        label,
        "the mean of |x| ** p over a window of real pixels is a finite number >= 0 (a negative "
        "number to the power 1/p is NaN: did you take |x|?).",
    )


def _lp_mistakes(x: np.ndarray, p: float, case: tuple) -> dict[str, np.ndarray]:
    """What the typical mistakes give on `x` at this `p` and case."""
    _, pool_size, strides, padding, _ = case
    magnitude = np.abs(x.astype(np.float64))
    pads = [reference.padding_amounts(n, pool_size, strides, padding) for n in x.shape[1:3]]
    mean_power = reference.pool2d(magnitude**p, pool_size, strides, padding, mode="avg")
    signed = reference.pool2d(x.astype(np.float64) ** p, pool_size, strides, padding, "avg")
    summed = _pool_padded(magnitude**p, pool_size, strides, pads, 0.0, np.sum)
    largest = reference.pool2d(magnitude, pool_size, strides, padding, "max")
    scaled = reference.lp_pool2d(magnitude, p, pool_size, strides, padding)
    return {
        "you divided each window by its largest |x| (M) but did not multiply back by M: "
        "the result is M * (mean of (|x| / M) ** p) ** (1 / p)": np.divide(
            scaled, largest, out=np.zeros_like(scaled), where=largest > 0
        ),
        "yours is the maximum of |x| in each window whatever p: raise |x| to the power p, "
        "average, then take the 1/p root (at p = 1 that is the mean)": reference.pool2d(
            magnitude, pool_size, strides, padding, "max"
        ),
        "the formula needs |x|: with signed values, x ** p and its mean can be negative": (
            np.cbrt(signed) if p == 3 else signed ** (1 / p)
        ),
        "you summed |x| ** p over the window: Lp pooling in its average form divides by the "
        "number of pixels in the window": summed ** (1 / p),
        "you forgot the root: the result must be (mean of |x| ** p) ** (1 / p)": mean_power,
        "with padding='same', average only the real pixels of a border window, as Keras does; "
        "you counted the padded zeros": _pool_padded(
            magnitude**p, pool_size, strides, pads, 0.0, np.mean
        )
        ** (1 / p),
    }


def _raise_outside_bound(got, low, top, outside, label: str, mistakes: dict) -> None:
    """Name a typical mistake `got` matches, else the bound and one window outside it."""
    for hint, wrong in mistakes.items():
        if wrong.shape == got.shape and np.allclose(got, wrong, rtol=1e-5, atol=1e-6):
            raise Mistake(f"{label} is not what was expected: {hint}.")
    first = tuple(int(i) for i in np.argwhere(outside)[0])
    raise Mistake(
        f"{label}: {int(outside.sum())} of {got.size} values fall outside the bound "
        f"M * n ** (-1/{LP_LARGE_P}) .. M (M: the window's largest |x|, n: its number of "
        f"values); the first at index {first}: low {low[first]:.6g}, high {top[first]:.6g}, "
        f"got {got[first]:.6g}. At large p, Lp pooling is just below each window's maximum."
    )


@exercise("pooling.3")
def check_3(lp_pool2d: Any) -> str:
    """Check a NumPy Lp pooling ``lp_pool2d(x, p, pool_size, strides, padding)``.

    Lp pooling keeps ``(mean of |x| ** p) ** (1 / p)`` over each window. Three oracles: at
    ``p = 1`` ``keras.layers.AvgPool2D`` of ``|x|`` on the six cases of exercise pooling.2
    (values within 1e-6 plus 1e-5 relative); at ``p = 64``, on values between 0.5 and 1.5,
    ``keras.layers.MaxPool2D``: a window of ``n`` values with maximum ``M`` gives a result
    between ``M * n ** (-1/64)`` and ``M`` (so at most about 4.2% below ``M`` for 4x4 windows);
    at ``p = 2`` and ``3``, ``cnnkit.reference.lp_pool2d`` (1e-6 plus 1e-5 relative).

    Parameters
    ----------
    lp_pool2d : callable
        ``lp_pool2d(x, p, pool_size, strides, padding)`` with ``x`` of shape (batch, height,
        width, channels), ``p >= 1``, int ``pool_size`` and ``strides``, ``padding`` "valid"
        or "same".

    Examples
    --------
    >>> check_3(...)
    Exercise pooling.3: not attempted yet: replace `...` with your answer.
    """
    for seed, case in enumerate(POOL_CASES):  # p = 1: Keras' average pooling of |x|
        shape, pool_size, strides, padding, negative = case
        x = _case_input(shape, negative, seed)
        label = f"lp_pool2d(x, 1, {pool_size}, {strides}, {padding!r}) with x of shape {shape}"
        got = _lp_answer(lp_pool2d, x, 1, case, label)
        layer = keras.layers.AvgPool2D(pool_size, strides, padding)
        expected = keras.ops.convert_to_numpy(layer(np.abs(x)))
        _check_shape(got, expected, label)
        compare_arrays(
            got, expected, name=label, rtol=1e-5, atol=1e-6, mistakes=_lp_mistakes(x, 1, case)
        )
    for index in (1, 5):  # p = 64: close to Keras' max pooling, within the bound
        case = POOL_CASES[index]
        shape, pool_size, strides, padding, _ = case
        x = np.random.default_rng(30 + index).uniform(0.5, 1.5, size=shape).astype(np.float32)
        label = f"lp_pool2d(x, {LP_LARGE_P}, {pool_size}, {strides}, {padding!r})"
        got = _lp_answer(lp_pool2d, x, LP_LARGE_P, case, label)
        top = keras.ops.convert_to_numpy(keras.layers.MaxPool2D(pool_size, strides, padding)(x))
        _check_shape(got, top, label)
        low = top * (pool_size * pool_size) ** (-1 / LP_LARGE_P)
        outside = (got < low * (1 - 1e-5)) | (got > top * (1 + 1e-5))
        if np.any(outside):
            mistakes = _lp_mistakes(x, LP_LARGE_P, case)
            mistakes[
                "at p = 64 Lp pooling is close to the maximum of each window, yet yours is the "
                "mean of |x|: the result must depend on p"
            ] = keras.ops.convert_to_numpy(keras.layers.AvgPool2D(pool_size, strides, padding)(x))
            _raise_outside_bound(got, low, top, outside, label, mistakes)
    for index, p in LP_REFERENCE_CASES:  # p = 2 and 3: the NumPy reference
        case = POOL_CASES[index]
        shape, pool_size, strides, padding, _ = case
        x = _case_input(shape, negative=False, seed=40 + index)
        label = f"lp_pool2d(x, {p}, {pool_size}, {strides}, {padding!r}) with x of shape {shape}"
        got = _lp_answer(lp_pool2d, x, p, case, label)
        expected = reference.lp_pool2d(x.copy(), p, pool_size, strides, padding)
        _check_shape(got, expected, label)
        compare_arrays(
            got, expected, name=label, rtol=1e-5, atol=1e-6, mistakes=_lp_mistakes(x, p, case)
        )
    return (
        "equal to keras.layers.AvgPool2D of |x| at p = 1, within the bound of MaxPool2D at "
        "p = 64, and equal to reference.lp_pool2d at p = 2 and 3."
    )


# ------------------------------------------------------------ pooling.4: global average pooling
# Exercise pooling.4: input shapes (batch, height, width, channels), non-square on purpose.
GLOBAL_CASES = ((1, 4, 4, 3), (3, 5, 7, 2), (2, 1, 6, 4), (2, 9, 3, 1))


@exercise("pooling.4")
def check_4(global_avg_pool: Any) -> str:
    """Check a NumPy ``global_avg_pool(x)`` against ``keras.layers.GlobalAveragePooling2D``.

    Four inputs (batches of 1 to 3, square and non-square maps, 1 to 4 channels); the answer
    must have shape (batch, channels) and agree within 1e-6 (plus 1e-5 relative).

    Parameters
    ----------
    global_avg_pool : callable
        ``global_avg_pool(x)`` with ``x`` of shape (batch, height, width, channels).

    Examples
    --------
    >>> check_4(...)
    Exercise pooling.4: not attempted yet: replace `...` with your answer.
    """
    name = "global_avg_pool"
    for seed, shape in enumerate(GLOBAL_CASES):
        x = _case_input(shape, negative=False, seed=20 + seed)
        label = f"{name}(x) with x of shape {shape}"
        got = _answer_on_copy(global_avg_pool, x, name=name, label=label)
        _finite(got, label, "the mean of finite numbers is finite.")
        expected = keras.ops.convert_to_numpy(keras.layers.GlobalAveragePooling2D()(x.copy()))
        compare_arrays(
            got,
            expected,
            name=label,
            rtol=1e-5,
            atol=1e-6,
            mistakes={
                "keep only (batch, channels): drop the two axes of length 1 (no keepdims)": (
                    expected[:, None, None, :]
                ),
                "that is global MAX pooling: take the mean of each map": x.max(axis=(1, 2)),
                "that is the sum of each map: divide by its height x width": x.sum(axis=(1, 2)),
                "average over height and width (axes 1 and 2), one number per image and "
                "channel; you averaged over the batch too": np.broadcast_to(
                    x.mean(axis=(0, 1, 2)), expected.shape
                ),
            },
        )
    return (
        "equal to keras.layers.GlobalAveragePooling2D on all "
        f"{len(GLOBAL_CASES)} inputs, whatever their height and width."
    )


# ---------------------------------------------------------------- pooling.5: shift experiment
SHIFT_TOLERANCE = 0.005


@functools.cache
def _shift_unchanged(pool_size: int, axis: int, dtype: str, start: int = 1) -> float:
    """Share of max-pooled values of the grey photos unchanged by a one-pixel shift.

    The original is the photo from index `start` on (the last index dropped), the shifted
    version the same content moved by one pixel along `axis`; `start` sets the grid phase.
    """
    gray = load_sample_images().astype(dtype).mean(axis=-1, keepdims=True)
    size = gray.shape[axis]
    keep, moved = [slice(None)] * 4, [slice(None)] * 4
    keep[axis], moved[axis] = slice(start, size - 1), slice(start - 1, size - 2)
    original, shifted = gray[tuple(keep)], gray[tuple(moved)]
    if pool_size > 1:
        pool = keras.layers.MaxPool2D(pool_size, dtype=dtype)
        original = keras.ops.convert_to_numpy(pool(original))
        shifted = keras.ops.convert_to_numpy(pool(shifted))
    return float(np.mean(original == shifted))


def _close_to_any(value: float, candidates: list[float]) -> bool:
    return any(abs(value - candidate) <= SHIFT_TOLERANCE for candidate in candidates)


@exercise("pooling.5")
def check_5(unchanged_2: Any, unchanged_4: Any) -> str:
    """Check the measured share of max-pooled values unchanged by a one-pixel downward shift.

    Measured on the two grey sample photos, as in section 4 but shifting rows instead of
    columns. Each answer is a fraction between 0 and 1, accepted within 0.005 of the check's
    own measurement. Exact equality depends a little on rounding, so the check measures in
    float32 (as the notebook's ``gray``) and in float64 and accepts either.

    Parameters
    ----------
    unchanged_2, unchanged_4 : float
        The fraction of ``MaxPool2D(2)`` and of ``MaxPool2D(4)`` outputs left unchanged.

    Examples
    --------
    >>> check_5(..., ...)
    Exercise pooling.5: not attempted yet: replace `...` with your answer.
    """
    dtypes = ("float32", "float64")
    for pool_size, answer in ((2, unchanged_2), (4, unchanged_4)):
        name = f"the share unchanged after MaxPool2D({pool_size})"
        array = as_array(answer, name)
        if array.size != 1:
            raise Mistake(f"{name} should be one number, got {array.size} values.")
        _finite(array, name, "give the measured fraction, a number between 0 and 1.")
        value = float(array.reshape(()))
        measured = [_shift_unchanged(pool_size, 1, dtype) for dtype in dtypes]
        if _close_to_any(value, measured):
            continue
        mistakes = {
            "give a fraction between 0 and 1, not a percentage": [m * 100 for m in measured],
            "that is the share that changed; the question asks for the share unchanged": [
                1 - m for m in measured
            ],
            "that is another grid phase: crop exactly original = gray[:, 1:-1] and shifted = "
            "gray[:, :-2]; np.roll or another crop moves the pooling grid relative to the photo": [
                _shift_unchanged(pool_size, 1, dtype, start) for dtype in dtypes for start in (2, 3)
            ],
            "that is the horizontal shift of section 4: shift the rows (axis 1), not the columns": [
                _shift_unchanged(pool_size, 2, dtype) for dtype in dtypes
            ],
            "that is without pooling: pool both versions first, then compare": [
                _shift_unchanged(1, 1, dtype) for dtype in dtypes
            ],
        }
        expected = f"expected {measured[0]:.4f} (within {SHIFT_TOLERANCE})"
        for hint, wrong in mistakes.items():
            scale = 100 if "percentage" in hint else 1
            if any(abs(value - w) <= SHIFT_TOLERANCE * scale for w in wrong):
                raise Mistake(f"{name}: {expected}, got {value:.4g}: {hint}.")
        raise Mistake(f"{name}: {expected}, got {value:.4g}.")
    return (
        "like a horizontal shift, a vertical one leaves more values unchanged the larger "
        "the pooling window."
    )


# ------------------------------------------------------------ pooling.6: depthwise max pooling
@exercise("pooling.6")
def check_6(depthwise_max_pool: Any) -> str:
    """Check a NumPy ``depthwise_max_pool(x, pool_size)`` against ``DepthwiseMaxPool2D``.

    Four cases (batches of 1 and 2, 4 to 8 channels, pool sizes 1, 2, 3 and the whole channel
    axis); values must agree within 1e-6. A channel count that is not a multiple of
    ``pool_size`` must raise ``ValueError``.

    Parameters
    ----------
    depthwise_max_pool : callable
        ``depthwise_max_pool(x, pool_size)`` with ``x`` of shape (batch, height, width,
        channels); returns (batch, height, width, channels // pool_size).

    Examples
    --------
    >>> check_6(...)
    Exercise pooling.6: not attempted yet: replace `...` with your answer.
    """
    name = "depthwise_max_pool"
    for seed, (shape, pool_size) in enumerate(DEPTHWISE_CASES):
        x = _case_input(shape, negative=False, seed=seed)
        label = f"{name}(x, {pool_size}) with x of shape {shape}"
        got = _answer_on_copy(depthwise_max_pool, x, pool_size, name=name, label=label)
        _finite(got, label, "the maximum of finite numbers is finite.")
        expected = keras.ops.convert_to_numpy(DepthwiseMaxPool2D(pool_size)(x.copy()))
        if got.shape != expected.shape:
            raise Mistake(
                f"{label} has shape {got.shape}, expected {expected.shape}: depthwise pooling "
                "keeps the batch, height and width and divides the channels by pool_size."
            )
        groups = shape[-1] // pool_size
        compare_arrays(
            got,
            expected,
            name=label,
            rtol=0,
            atol=1e-6,
            mistakes={
                "a group is pool_size CONSECUTIVE channels (0..k-1, k..2k-1, ...), not "
                f"channels {groups} apart": x.reshape(*shape[:3], pool_size, groups).max(axis=3),
            },
        )
    odd = _case_input((1, 2, 2, 5), negative=False, seed=9)
    try:
        depthwise_max_pool(odd, 3)
    except ValueError:
        return "equal to cnnkit.layers.DepthwiseMaxPool2D, and 5 channels in groups of 3 refused."
    except Exception as error:
        raise Mistake(
            f"{name}(x, 3) on 5 channels raised {type(error).__name__}: {error}; raise a "
            "ValueError saying that the channel count must be a multiple of pool_size."
        ) from error
    raise Mistake(
        f"{name}(x, 3) on 5 channels returned a result: 5 channels cannot be split into groups "
        "of 3; raise a ValueError that says so (and how to fix it)."
    )
