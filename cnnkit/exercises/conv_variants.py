"""Checks for notebook 06's exercises: the convolution family counted and written out.

Exercise conv_variants.1 works out a transposed convolution's output size, conv_variants.2 the parameters of a
depthwise separable block against a standard convolution, conv_variants.3 their multiply-adds, conv_variants.4 the
receptive field of a stack of dilated convolutions, conv_variants.5 writes a grouped convolution and conv_variants.6
a transposed convolution in NumPy. The oracles (Keras layers and models, ``cnnkit.reference``)
are computed when a check runs.
"""

from __future__ import annotations

from typing import Any

from cnnkit import reference
from cnnkit.exercises.checking import (
    Mistake,
    as_array,
    call_answer,
    compare_arrays,
    compare_number,
    exercise,
)

import keras
import numpy as np

# Exercise conv_variants.1: Conv2DTranspose(kernel_size=UP_KERNEL, strides=UP_STRIDES) on UP_INPUT.
UP_INPUT = (7, 10)
UP_KERNEL, UP_STRIDES = 3, 2

# Exercises conv_variants.2 and conv_variants.3: input channels, filters, kernel size; conv_variants.3's input height and width.
C_IN, C_OUT, KERNEL = 32, 64, 3
MAP_SIZE = 32

# Exercise conv_variants.4: (kernel size, dilation rate) of stack a; stack b has a MaxPool2D(2) after
# the first layer.
DILATED_STACK = ((3, 1), (3, 3), (3, 9))

# Exercise conv_variants.5: (input shape, kernel shape (kh, kw, in_channels // groups, filters), groups).
GROUPED_CASES = (
    ((1, 6, 7, 4), (3, 3, 2, 4), 2),
    ((2, 5, 6, 6), (3, 3, 2, 6), 3),
    ((1, 5, 5, 6), (1, 1, 3, 4), 2),
    ((1, 5, 5, 4), (3, 3, 1, 4), 4),
    ((1, 4, 5, 3), (2, 2, 3, 2), 1),
)

# Exercise conv_variants.6: (input shape, kernel shape (kh, kw, filters, in_channels), strides, padding).
TRANSPOSED_CASES = (
    ((1, 3, 3, 1), (3, 3, 1, 1), 2, "valid"),
    ((2, 4, 5, 2), (3, 3, 3, 2), 2, "valid"),
    ((1, 3, 4, 2), (4, 4, 2, 2), 2, "same"),
    ((2, 3, 3, 3), (3, 3, 2, 3), 2, "same"),
    ((1, 4, 4, 2), (5, 3, 2, 2), 2, "same"),
    ((1, 5, 4, 1), (3, 3, 2, 1), 1, "same"),
)


def _as_size(answer: Any, name: str) -> np.ndarray:
    size = as_array(answer, name).ravel()
    if size.size != 2:
        raise Mistake(f"{name} should be two numbers, (height, width), got {size.size}.")
    return size


def _random(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# ---------------------------------------------------------------------- conv_variants.1: output size
@exercise("conv_variants.1")
def check_1(valid_size: Any, same_size: Any) -> str:
    """Check the output (height, width) of ``Conv2DTranspose(8, 3, strides=2)`` on 7 x 10.

    Both paddings; the oracle is the Keras layer's output shape, exact integers expected.

    Parameters
    ----------
    valid_size, same_size : pair of int
        ``(height, width)`` with ``padding="valid"`` and with ``padding="same"``.

    Examples
    --------
    >>> check_1(..., ...)
    Exercise conv_variants.1: not attempted yet: replace `...` with your answer.
    """
    n = np.array(UP_INPUT)
    k, s = UP_KERNEL, UP_STRIDES
    for padding, answer in (("valid", valid_size), ("same", same_size)):
        layer = keras.layers.Conv2DTranspose(8, k, strides=s, padding=padding)
        expected = layer.compute_output_shape((None, *UP_INPUT, 1))[1:3]
        name = f'the "{padding}" output size'
        down = "that is an ordinary (down-sampling) convolution's size: a transposed one goes up"
        if padding == "valid":
            mistakes = {
                down: (n - k) // s + 1,
                'that is the "same" size: "valid" keeps every stamp whole, (n - 1) * s + k': n * s,
                "the last stamp is k pixels wide: (n - 1) * s + k, not + 1": (n - 1) * s + 1,
                "the first stamp starts at 0 and the last at (n - 1) * s: (n - 1) * s + k": n * s
                + k,
            }
        else:
            mistakes = {
                down: -(-n // s),
                'that is the "valid" size: "same" crops it to exactly n * s': (n - 1) * s + k,
            }
        compare_arrays(_as_size(answer, name), expected, name=name, atol=0, mistakes=mistakes)
    return '"valid": (n - 1) * s + k; "same": n * s, whatever the kernel size.'


# ------------------------------------------------------------------- conv_variants.2: parameter count
def _models() -> tuple[keras.Model, keras.Model]:
    """The depthwise separable block and the standard convolution, with default biases."""
    separable = keras.Sequential(
        [
            keras.Input((MAP_SIZE, MAP_SIZE, C_IN)),
            keras.layers.DepthwiseConv2D(KERNEL, padding="same"),
            keras.layers.Conv2D(C_OUT, 1),
        ]
    )
    standard = keras.Sequential(
        [
            keras.Input((MAP_SIZE, MAP_SIZE, C_IN)),
            keras.layers.Conv2D(C_OUT, KERNEL, padding="same"),
        ]
    )
    return separable, standard


@exercise("conv_variants.2")
def check_2(separable_params: Any, standard_params: Any) -> str:
    """Check the parameter counts of a depthwise separable block and of a standard convolution.

    The block is ``DepthwiseConv2D(3)`` then ``Conv2D(64, 1)``, the standard convolution
    ``Conv2D(64, 3)``, both on 32 input channels with Keras' default biases. The oracle is
    ``count_params()`` of the built Keras models; exact integers expected.

    Parameters
    ----------
    separable_params, standard_params : int
        Parameters (weights and biases) of the block and of the standard convolution.

    Examples
    --------
    >>> check_2(..., ...)
    Exercise conv_variants.2: not attempted yet: replace `...` with your answer.
    """
    separable, standard = _models()
    depthwise, pointwise = KERNEL * KERNEL * C_IN, C_IN * C_OUT
    compare_number(
        separable_params,
        separable.count_params(),
        name="the depthwise separable block's parameters",
        mistakes={
            f"the DepthwiseConv2D has biases too, one per channel ({C_IN})": depthwise
            + pointwise
            + C_OUT,
            f"the pointwise Conv2D has one bias per filter ({C_OUT})": depthwise + C_IN + pointwise,
            f"both layers have biases by default: {C_IN} in the depthwise layer (one per "
            f"channel) and {C_OUT} in the pointwise one": depthwise + pointwise,
            f"add the pointwise 1x1 convolution: {C_IN} x {C_OUT} weights and {C_OUT} biases": (
                depthwise + C_IN
            ),
            f"the depthwise layer has ONE {KERNEL}x{KERNEL} filter per input channel, not "
            f"{C_OUT} per channel": KERNEL * KERNEL * C_IN * C_OUT + C_IN + pointwise + C_OUT,
        },
    )
    full = KERNEL * KERNEL * C_IN * C_OUT
    compare_number(
        standard_params,
        standard.count_params(),
        name="the standard convolution's parameters",
        mistakes={
            f"did you count the biases? One per filter ({C_OUT})": full,
            f"a filter spans all {C_IN} input channels: {KERNEL} x {KERNEL} x {C_IN} weights "
            "each": KERNEL * KERNEL * C_OUT + C_OUT,
            f"one bias per filter ({C_OUT}), not per input channel": full + C_IN,
        },
    )
    ratio = standard.count_params() / separable.count_params()
    return f"the block needs {ratio:.1f} times fewer parameters."


# ------------------------------------------------------------------- conv_variants.3: multiply-adds
def _multiply_adds(model: keras.Model) -> int:
    """Kernel weights (biases left out) times output positions, summed over the layers."""
    total = 0
    for layer in model.layers:
        weights = int(np.prod(layer.kernel.shape))
        total += weights * int(np.prod(layer.output.shape[1:3]))
    return total


@exercise("conv_variants.3")
def check_3(separable_macs: Any, standard_macs: Any) -> str:
    """Check the multiply-adds of exercise conv_variants.2's two layers on a 32 x 32 input, "same" padding.

    Counted as in the notebook: every kernel weight once per output position, biases left
    out (an addition, not a multiply-add). The oracle applies that rule to the built Keras
    models' kernel and output shapes; exact integers expected.

    Parameters
    ----------
    separable_macs, standard_macs : int
        Multiply-adds for one 32 x 32 x 32 input.

    Examples
    --------
    >>> check_3(..., ...)
    Exercise conv_variants.3: not attempted yet: replace `...` with your answer.
    """
    positions = MAP_SIZE * MAP_SIZE
    valid_positions = (MAP_SIZE - KERNEL + 1) ** 2
    for model, answer, name in zip(
        _models(),
        (separable_macs, standard_macs),
        ("the depthwise separable block", "the standard convolution"),
        strict=True,
    ):
        expected = _multiply_adds(model)
        weights = expected // positions
        compare_number(
            answer,
            expected,
            name=f"{name}'s multiply-adds",
            mistakes={
                "leave the biases out: adding a bias is not a multiply-add": expected
                + (model.count_params() - weights) * positions,
                "that counts FLOPs (a multiply and an add each): count one per multiply-add": (
                    2 * expected
                ),
                f"that is per output position: multiply by the {positions:,} positions "
                f"({MAP_SIZE} x {MAP_SIZE})": weights,
                f'"same" padding keeps the map {MAP_SIZE} x {MAP_SIZE}: {positions:,} '
                f"positions, not {valid_positions:,}": weights * valid_positions,
            },
        )
    separable, standard = (_multiply_adds(model) for model in _models())
    return (
        f"{standard / separable:.1f} times fewer multiply-adds; the formula "
        f"1 / (1/C_out + 1/k^2) gives {1 / (1 / C_OUT + 1 / KERNEL**2):.1f}."
    )


# ----------------------------------------------------------------- conv_variants.4: receptive field
@exercise("conv_variants.4")
def check_4(field_a: Any, field_b: Any) -> str:
    """Check the receptive fields of two stacks of dilated 3x3 convolutions.

    Stack a: dilation rates 1, 3 and 9 (strides 1). Stack b: the same with a
    ``MaxPool2D(2)`` after the first convolution. The oracle is
    ``cnnkit.reference.receptive_field`` with each dilated kernel's span ``d (k - 1) + 1``;
    exact integers expected.

    Parameters
    ----------
    field_a, field_b : int
        Receptive field (in input pixels, along one axis) of one output of each stack.

    Examples
    --------
    >>> check_4(..., ...)
    Exercise conv_variants.4: not attempted yet: replace `...` with your answer.
    """
    spans = [d * (k - 1) + 1 for k, d in DILATED_STACK]
    ignoring_dilation = [k for k, _ in DILATED_STACK]
    span_dk = [d * k for k, d in DILATED_STACK]
    expected_a = reference.receptive_field(spans)
    compare_number(
        field_a,
        expected_a,
        name="stack a's receptive field",
        mistakes={
            "did you ignore the dilation? A 3x3 kernel with dilation d spans d x (3 - 1) + 1 "
            "pixels": reference.receptive_field(ignoring_dilation),
            "the taps of a dilated kernel are d apart, so it spans d x (k - 1) + 1 pixels, "
            "not d x k": reference.receptive_field(span_dk),
            "did you add the spans? Each layer adds its span - 1 to the field": sum(spans),
            "start from 1 pixel, then add each layer's span - 1": expected_a - 1,
        },
    )
    pooled = [spans[0], (2, 2), *spans[1:]]
    expected_b = reference.receptive_field(pooled)
    compare_number(
        field_b,
        expected_b,
        name="stack b's receptive field",
        mistakes={
            "after the stride-2 pooling each later kernel's span counts twice: it adds "
            "(span - 1) x 2 input pixels": reference.receptive_field([spans[0], 2, *spans[1:]]),
            "the pooling counts: its window adds 1 pixel and its stride doubles what the "
            "later layers add": expected_a,
            "the pooling's window adds (2 - 1) pixels too": reference.receptive_field(
                [spans[0], (1, 2), *spans[1:]]
            ),
        },
    )
    return (
        f"{len(spans)} layers of 9 weights see {expected_a} pixels; after one pooling, "
        f"{expected_b}."
    )


# ---------------------------------------------------------- conv_variants.5: grouped convolution
def _keras_grouped(x: np.ndarray, kernel: np.ndarray, groups: int) -> np.ndarray:
    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], groups=groups, use_bias=False)
    layer.build(x.shape)
    layer.set_weights([kernel])
    return keras.ops.convert_to_numpy(layer(x))


def _grouped_with(x, kernel, groups: int, channels_strided: bool, filters_strided: bool):
    """A grouped convolution that assigns channels or filters to groups by stride (mistakes)."""
    per_group, filters = x.shape[-1] // groups, kernel.shape[-1]
    out = []
    for f in range(filters):
        g = f % groups if filters_strided else f // (filters // groups)
        channels = (
            slice(g, None, groups)
            if channels_strided
            else slice(g * per_group, (g + 1) * per_group)
        )
        out.append(reference.conv2d(x[..., channels], kernel[..., f : f + 1]))
    return np.concatenate(out, axis=-1)


@exercise("conv_variants.5")
def check_5(grouped_conv2d: Any) -> str:
    """Check a NumPy ``grouped_conv2d(x, kernel, groups)`` against ``Conv2D(groups=...)``.

    Five cases ("valid", stride 1, no bias): 1 to 4 groups, 3 to 6 input channels, batches
    of 1 and 2, a 1x1 kernel and the depthwise extreme (one channel per group). Values must
    agree within 1e-4 (plus 1e-4 relative).

    Parameters
    ----------
    grouped_conv2d : callable
        ``grouped_conv2d(x, kernel, groups)`` with ``x`` of shape (batch, height, width,
        in_channels) and ``kernel`` of shape (kh, kw, in_channels // groups, filters).

    Examples
    --------
    >>> check_5(...)
    Exercise conv_variants.5: not attempted yet: replace `...` with your answer.
    """
    name = "grouped_conv2d"
    for seed, (shape, kernel_shape, groups) in enumerate(GROUPED_CASES):
        x, kernel = _random(shape, seed), _random(kernel_shape, seed + 100)
        label = f"{name}(x, kernel, {groups}) with x {shape} and kernel {kernel_shape}"
        got = as_array(call_answer(grouped_conv2d, x, kernel, groups, name=name), label)
        expected = _keras_grouped(x, kernel, groups)
        per_group, filters = shape[-1] // groups, kernel_shape[-1]
        compare_arrays(
            got,
            expected,
            name=label,
            rtol=1e-4,
            atol=1e-4,
            mistakes={
                f"filters belong to groups in blocks: with {groups} groups, filters 0 to "
                f"{filters // groups - 1} use group 0, not filters {groups} apart": (
                    _grouped_with(x, kernel, groups, False, True)
                ),
                f"group g is the {per_group} CONSECUTIVE channels g * {per_group} to "
                f"(g + 1) * {per_group} - 1, not channels {groups} apart": _grouped_with(
                    x, kernel, groups, True, False
                ),
            },
        )
    return f"equal to keras.layers.Conv2D(groups=...) on all {len(GROUPED_CASES)} cases."


# -------------------------------------------------------- conv_variants.6: transposed convolution
def _keras_transposed(x: np.ndarray, kernel: np.ndarray, strides: int, padding: str):
    layer = keras.layers.Conv2DTranspose(
        kernel.shape[2], kernel.shape[:2], strides=strides, padding=padding, use_bias=False
    )
    layer.build(x.shape)
    layer.set_weights([kernel])
    return keras.ops.convert_to_numpy(layer(x))


@exercise("conv_variants.6")
def check_6(conv_transpose: Any) -> str:
    """Check a NumPy ``conv_transpose(x, kernel, strides, padding)`` against Keras.

    Six cases against ``keras.layers.Conv2DTranspose`` (no bias): strides 1 and 2, both
    paddings, 1 to 3 channels in and out, a non-square kernel, batches of 1 and 2; kernel
    sizes are at least the stride. Values must agree within 1e-4 (plus 1e-4 relative).

    Parameters
    ----------
    conv_transpose : callable
        ``conv_transpose(x, kernel, strides, padding)`` with ``x`` of shape (batch, height,
        width, in_channels), ``kernel`` of shape (kh, kw, filters, in_channels) as Keras
        stores it, an int ``strides`` and ``padding`` "valid" or "same".

    Examples
    --------
    >>> check_6(...)
    Exercise conv_variants.6: not attempted yet: replace `...` with your answer.
    """
    name = "conv_transpose"
    for seed, (shape, kernel_shape, strides, padding) in enumerate(TRANSPOSED_CASES):
        x, kernel = _random(shape, seed), _random(kernel_shape, seed + 100)
        label = (
            f"{name}(x, kernel, {strides}, {padding!r}) with x {shape} and kernel {kernel_shape}"
        )
        got = as_array(call_answer(conv_transpose, x, kernel, strides, padding, name=name), label)
        expected = _keras_transposed(x, kernel, strides, padding)
        if got.shape != expected.shape:
            raise Mistake(
                f'{label} has shape {got.shape}, expected {expected.shape}: "valid" gives '
                '(n - 1) * s + k rows, "same" crops that to n * s, (k - s) // 2 rows from the '
                "top and the rest from the bottom (columns alike); the channels are the "
                "kernel's axis 2."
            )
        full = reference.conv_transpose2d(x, kernel, strides=strides)
        height, width = shape[1] * strides, shape[2] * strides
        top, left = ((k - strides + 1) // 2 for k in kernel_shape[:2])
        mistakes = {
            "the stamps use the kernel as it is, not flipped": reference.conv_transpose2d(
                x, kernel[::-1, ::-1], strides=strides, padding=padding
            ),
        }
        if padding == "same":
            mistakes[
                '"same" crops (k - s) // 2 rows from the top (and columns from the left), '
                "the rest from the bottom and right, not everything from one side"
            ] = full[:, :height, :width]
            mistakes[
                "when k - s is odd, the extra row goes at the bottom (and the extra "
                "column at the right), as TensorFlow does"
            ] = full[:, top : top + height, left : left + width]
        if kernel_shape[2] == kernel_shape[3]:
            mistakes[
                "Conv2DTranspose's kernel is (kh, kw, filters, in_channels): input channel c "
                "stamps kernel[:, :, :, c]"
            ] = reference.conv_transpose2d(
                x, kernel.transpose(0, 1, 3, 2), strides=strides, padding=padding
            )
        compare_arrays(got, expected, name=label, rtol=1e-4, atol=1e-4, mistakes=mistakes)
    return f"equal to keras.layers.Conv2DTranspose on all {len(TRANSPOSED_CASES)} cases."
