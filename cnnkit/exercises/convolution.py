"""Checks for notebook 01's exercises: one layer counted, an edge kernel, flipping, conv2d.

Exercise convolution.1 works out a ``Conv2D``'s output size, parameters and multiply-adds on
the notebook's photos; convolution.2 designs a 3x3 kernel that detects horizontal edges bright
above and dark below, checked by what it does to small test images; convolution.3 turns a true
convolution's kernel into the one ``Conv2D`` needs; convolution.4 writes an NHWC convolution
with stride and padding in NumPy (``conv2d_strided``). Every oracle (``keras.layers.Conv2D``,
``keras.ops.conv``, ``scipy.signal.convolve2d``, ``cnnkit.reference``) is computed when the
check runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnkit import reference
from cnnkit.exercises.checking import (
    Mistake,
    as_array,
    call_answer,
    compare_arrays,
    compare_number,
    exercise,
    finite_array,
)

import keras
import numpy as np
import scipy.signal

PHOTO = (427, 640)  # height and width of china.jpg and flower.jpg

# Exercise convolution.1: Conv2D(64, kernel_size=5, strides=2, padding="same") on the 32
# feature maps of a previous layer, (427, 640, 32).
LAYER_FILTERS, LAYER_KERNEL, LAYER_STRIDE, LAYER_IN_CHANNELS = 64, 5, 2, 32

# Exercise convolution.3: a kernel written for a true convolution (scipy.signal.convolve2d).
TRUE_CONVOLUTION_KERNEL = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])

# Exercise convolution.4: (x shape, kernel shape, strides, padding), from easy to hard.
CONV_CASES = (
    ((1, 5, 5, 1), (3, 3, 1, 1), 1, "valid"),
    ((2, 7, 9, 3), (3, 3, 3, 4), 1, "same"),
    ((1, 9, 10, 3), (5, 5, 3, 2), 3, "valid"),
    ((2, 8, 7, 2), (3, 2, 2, 3), 2, "same"),
    ((2, 6, 6, 3), (4, 4, 3, 2), 1, "same"),
)


def _finite(answer: Any, name: str) -> np.ndarray:
    return finite_array(answer, name, advice="give finite numbers")


def _layer() -> keras.layers.Conv2D:
    """The layer of exercise convolution.1, built on one (427, 640, 32) input."""
    layer = keras.layers.Conv2D(LAYER_FILTERS, LAYER_KERNEL, strides=LAYER_STRIDE, padding="same")
    layer.build((None, *PHOTO, LAYER_IN_CHANNELS))
    return layer


def _check_output_size(out_size: Any, expected: tuple[int, int]) -> None:
    (h, w), k, s = PHOTO, LAYER_KERNEL, LAYER_STRIDE
    _finite(out_size, "the output (height, width)")
    compare_arrays(
        out_size,
        expected,
        name="the output (height, width)",
        rtol=0,
        atol=0,
        mistakes={
            "'same' keeps the size only with stride 1; with stride S it gives ceil(W / S)": PHOTO,
            "that is the 'valid' size, (W - F) // S + 1; 'same' pads, giving ceil(W / S)": (
                (h - k) // s + 1,
                (w - k) // s + 1,
            ),
            "round W / S up, not down: 'same' pads so the last pixels get a window": (
                h // s,
                w // s,
            ),
            "that is (width, height): Keras orders them (height, width)": expected[::-1],
        },
    )


def _check_parameters(n_params: Any, expected: int) -> None:
    f, k, c = LAYER_FILTERS, LAYER_KERNEL, LAYER_IN_CHANNELS
    value = _finite(n_params, "the parameter count")
    if value.size == 1 and float(value.reshape(())) > 10 * expected:
        raise Mistake(
            f"the parameter count: expected {expected}, got {float(value.reshape(())):.0f}: it "
            "does not depend on the image size or the stride: the same weights are used at "
            "every position."
        )
    compare_number(
        n_params,
        expected,
        name="the parameter count",
        mistakes={
            "did you count the biases (one per filter)?": f * k * k * c,
            f"each filter spans all {c} input channels: {k} x {k} x {c} weights each": (
                f * k * k + f
            ),
            f"each filter spans all {c} input channels, and has one bias": f * k * k,
            "one bias per filter, not one per weight": 2 * f * k * k * c,
            f"one bias per filter ({f}), not per input channel": f * k * k * c + c,
        },
    )


def _check_multiply_adds(multiply_adds: Any, out_h: int, out_w: int, per_output: int) -> None:
    h, w = PHOTO
    f, c = LAYER_FILTERS, LAYER_IN_CHANNELS
    expected = out_h * out_w * f * per_output
    valid_h, valid_w = ((n - LAYER_KERNEL) // LAYER_STRIDE + 1 for n in PHOTO)
    _finite(multiply_adds, "the multiply-adds")
    compare_number(
        multiply_adds,
        expected,
        name="the multiply-adds",
        rtol=1e-3,
        mistakes={
            "that counts a multiply and an add as two FLOPs; count one multiply-add as one": (
                2 * expected
            ),
            f"did you forget the stride? The output is {out_h} x {out_w}, not {h} x {w}": (
                h * w * f * per_output
            ),
            "the bias additions are not multiply-adds: leave them out": (
                out_h * out_w * f * (per_output + 1)
            ),
            f"each output value sums over all {c} input channels": expected / c,
            f"every one of the {f} filters produces its own output map": expected / f,
            "that is the 'valid' output size; the layer uses 'same' padding": (
                valid_h * valid_w * f * per_output
            ),
        },
    )


@exercise("convolution.1")
def check_1(out_size: Any, n_params: Any, multiply_adds: Any) -> str:
    """Check the output size, parameters and multiply-adds of one ``Conv2D`` layer.

    The layer is ``Conv2D(64, kernel_size=5, strides=2, padding="same")`` on an input of
    shape (427, 640, 32). The oracles are the built Keras layer's output shape and
    ``count_params()``; the size and the parameter count must be exact, the multiply-adds
    (one per kernel weight per output value, biases left out) within 0.1%.

    Parameters
    ----------
    out_size : pair of int
        ``(height, width)`` of the layer's output.
    n_params : int
        Weights plus biases of the layer.
    multiply_adds : int or float
        The number of multiply-adds for one image.

    Examples
    --------
    >>> check_1(..., ..., ...)
    Exercise convolution.1: not attempted yet: replace `...` with your answer.
    """
    layer = _layer()
    out_h, out_w, f = layer.compute_output_shape((None, *PHOTO, LAYER_IN_CHANNELS))[1:]
    _check_output_size(out_size, (out_h, out_w))
    params = layer.count_params()
    _check_parameters(n_params, params)
    per_output = int(np.prod(layer.kernel.shape[:3]))  # 5 x 5 x 32 weights per output value
    _check_multiply_adds(multiply_adds, out_h, out_w, per_output)
    total = out_h * out_w * f * per_output
    return (
        f"the output is {out_h} x {out_w} x {f}; {params} parameters, whatever the image size; "
        f"{out_h} x {out_w} x {f} outputs x {per_output} weights each = {total / 1e9:.2f} "
        f"billion multiply-adds ({2 * total / 1e9:.1f} GFLOPs) for one image."
    )


def _edge_images() -> dict[str, np.ndarray]:
    """Small grey test images (8x8, NHWC): flat, and the two kinds of straight edges."""
    rows = np.arange(8)[:, None] * np.ones((1, 8))
    return {
        "flat": np.full((1, 8, 8, 1), 0.5),
        "bright above, dark below": (rows < 4).astype(float)[None, :, :, None],
        "dark left, bright right": (rows.T >= 4).astype(float)[None, :, :, None],
    }


@exercise("convolution.2")
def check_2(kernel: Any) -> str:
    """Check a 3x3 kernel that detects bright-above-dark edges, by its Keras Conv2D responses.

    On 8x8 test images (Conv2D, one filter, "valid", no bias) its response must be 0 on a
    flat image and on a vertical edge (within 1e-6 times the sum of the weights' absolute
    values), and on a horizontal edge bright above and dark below it must be positive
    somewhere and nowhere negative (along such an edge, positive somewhere means positive
    all along it).

    Parameters
    ----------
    kernel : array_like of shape (3, 3) or (3, 3, 1, 1)
        The weights, in the order a Keras Conv2D layer uses them (not flipped).

    Examples
    --------
    >>> check_2(...)
    Exercise convolution.2: not attempted yet: replace `...` with your answer.
    """
    weights = _finite(kernel, "your kernel")
    if weights.shape not in ((3, 3), (3, 3, 1), (3, 3, 1, 1)):
        raise Mistake(f"your kernel should have shape (3, 3) or (3, 3, 1, 1), got {weights.shape}.")
    weights = weights.reshape(3, 3, 1, 1).astype("float32")
    tolerance = 1e-6 * max(float(np.abs(weights).sum()), 1.0)
    responses = {
        name: keras.ops.convert_to_numpy(keras.ops.conv(image.astype("float32"), weights))
        for name, image in _edge_images().items()
    }
    if np.abs(responses["flat"]).max() > tolerance:
        raise Mistake(
            f"on a flat grey image your kernel outputs {responses['flat'].max():.3g} instead of "
            f"0: its weights add up to {weights.sum():.3g}; make them add up to 0."
        )
    vertical = responses["dark left, bright right"]
    edge = responses["bright above, dark below"]
    if np.abs(vertical).max() > tolerance:
        hint = (
            "it detects vertical edges instead: a horizontal edge needs the change down the "
            "rows, not across the columns"
            if np.abs(edge).max() <= tolerance
            else "it should ignore them: make every column of the kernel add up to 0"
        )
        raise Mistake(
            f"your kernel responds to a vertical edge (dark left, bright right) with values up "
            f"to {np.abs(vertical).max():.3g}: {hint}."
        )
    if edge.max() <= tolerance and edge.min() < -tolerance:
        raise Mistake(
            "your kernel is negative on an edge that is bright above and dark below: flip its "
            "sign. Conv2D does not rotate the kernel (cross-correlation): the weights that meet "
            "the upper, brighter rows must be positive."
        )
    if edge.max() <= tolerance:
        raise Mistake("your kernel gives no response to a horizontal edge (all outputs are 0).")
    if edge.min() < -tolerance:
        raise Mistake(
            f"on a horizontal edge (bright above, dark below) your kernel gives positive and "
            f"negative values (down to {edge.min():.3g}); a detector of this edge should only "
            "give positive ones (it looks like a second derivative, which rings on both sides)."
        )
    return "it responds to horizontal edges only, and positively where bright is above dark."


@exercise("convolution.3")
def check_3(kernel: Any) -> str:
    """Check the ``Conv2D`` kernel that computes the true convolution with a given kernel.

    ``scipy.signal.convolve2d(x, K, mode="valid")`` with ``K = TRUE_CONVOLUTION_KERNEL`` is
    the oracle: a ``Conv2D`` ("valid", no bias) with the answer must give the same numbers on
    a random 8x8 image, within 1e-5.

    Parameters
    ----------
    kernel : array_like of shape (3, 3) or (3, 3, 1, 1)
        The weights to set into the Conv2D layer.

    Examples
    --------
    >>> check_3(...)
    Exercise convolution.3: not attempted yet: replace `...` with your answer.
    >>> check_3(TRUE_CONVOLUTION_KERNEL[::-1, ::-1])
    Exercise convolution.3: correct: rotated by 180 degrees, ...
    """
    weights = _finite(kernel, "your kernel")
    if weights.shape not in ((3, 3), (3, 3, 1), (3, 3, 1, 1)):
        raise Mistake(f"your kernel should have shape (3, 3) or (3, 3, 1, 1), got {weights.shape}.")
    weights = weights.reshape(3, 3)
    image = np.random.default_rng(3).normal(size=(8, 8))
    expected = scipy.signal.convolve2d(image, TRUE_CONVOLUTION_KERNEL, mode="valid")
    layer = keras.layers.Conv2D(1, 3, use_bias=False, dtype="float64")
    layer.build((1, 8, 8, 1))
    layer.set_weights([weights[:, :, None, None]])
    got = keras.ops.convert_to_numpy(layer(image[None, :, :, None]))[0, :, :, 0]
    k = TRUE_CONVOLUTION_KERNEL
    wrong_kernels = {
        "that is K unchanged; Conv2D slides its kernel as it is, so the rotation a "
        "true convolution does must already be in the kernel you give it": k,
        "that flips K top-to-bottom only; a true convolution flips both ways": k[::-1],
        "that flips K left-to-right only; a true convolution flips both ways": k[:, ::-1],
        "that is K transposed (a mirror across the diagonal), not rotated by 180 degrees": k.T,
        "that rotates K by 90 degrees; a true convolution rotates it by 180": np.rot90(k),
        "that rotates K by -90 degrees; a true convolution rotates it by 180": np.rot90(k, -1),
    }
    for hint, wrong in wrong_kernels.items():
        if np.allclose(weights, wrong, atol=1e-5):
            raise Mistake(f"your kernel gives another output than convolve2d: {hint}.")
    compare_arrays(got, expected, name="Conv2D's output with your kernel", rtol=1e-5, atol=1e-5)
    return "rotated by 180 degrees, K[::-1, ::-1] (or np.rot90(K, 2)) gives convolve2d's numbers."


def _shape_hint(got: tuple, x_shape, kernel_shape, strides: int, padding: str) -> str | None:
    """Name the likely cause of a wrong output shape of a convolution, if it is a usual one."""

    def out_shape(s: int, p: str) -> tuple[int, ...]:
        sizes = [
            reference.conv_output_size(n, k, s, p)
            for n, k in zip(x_shape[1:3], kernel_shape[:2], strict=True)
        ]
        return (x_shape[0], *sizes, kernel_shape[3])

    if padding == "same" and got == out_shape(strides, "valid"):
        return "that is the 'valid' output shape: did you forget the padding?"
    if strides > 1 and got == out_shape(1, padding):
        return "that is the stride-1 output shape: did you forget the stride?"
    if len(got) == 4 and got[1:3] == out_shape(strides, padding)[1:3][::-1]:
        return "height and width are swapped."
    return None


def check_conv2d_function(
    function: Callable[..., Any],
    name: str,
    mistakes: Callable[..., dict[str, np.ndarray]] | None = None,
) -> None:
    """Compare ``function(x, kernel, bias, strides, padding)`` with Keras on `CONV_CASES`.

    The oracle is ``keras.ops.conv`` plus the bias (float32), within 1e-4. On the first case
    that differs, raise :class:`Mistake` naming the case and, where the wrong output is one a
    usual mistake gives, that mistake (rotated kernel, padding on the wrong side, no bias,
    no padding, no stride). `mistakes` adds more: it receives the case's ``x, kernel, bias,
    strides, padding`` and returns ``{hint: wrong output}``.

    Examples
    --------
    >>> check_conv2d_function(reference.conv2d, "reference.conv2d")
    """
    rng = np.random.default_rng(1)
    for x_shape, kernel_shape, strides, padding in CONV_CASES:
        x = rng.normal(size=x_shape).astype("float32")
        kernel = rng.normal(size=kernel_shape).astype("float32")
        bias = rng.normal(size=kernel_shape[3]).astype("float32")
        expected = (
            keras.ops.convert_to_numpy(keras.ops.conv(x, kernel, strides=strides, padding=padding))
            + bias
        )
        case = (
            f"{name} on x of shape {x_shape} with a kernel of shape {kernel_shape}, "
            f"strides={strides}, padding={padding!r}"
        )
        answer = call_answer(
            function, x.copy(), kernel.copy(), bias.copy(), strides, padding, name=name
        )
        got = as_array(answer, case)
        if got.shape != expected.shape:
            hint = _shape_hint(got.shape, x_shape, kernel_shape, strides, padding)
            raise Mistake(
                f"{case} returned shape {got.shape}, expected {expected.shape}"
                + (f": {hint}" if hint else ".")
            )
        usual = {
            "it rotates the kernel by 180 degrees (a true convolution); Keras' Conv2D slides "
            "the kernel as it is (cross-correlation)": reference.conv2d(
                x, kernel[::-1, ::-1], bias, strides, padding
            ),
            "did you forget the bias?": expected - bias,
        }
        if padding == "same":
            pads = [
                reference.padding_amounts(n, k, strides, "same")
                for n, k in zip(x_shape[1:3], kernel_shape[:2], strict=True)
            ]
            swapped = np.pad(x, ((0, 0), pads[0][::-1], pads[1][::-1], (0, 0)))
            usual[
                "the padding is on the wrong side: when the total is odd, Keras puts the extra "
                "zero at the bottom and right"
            ] = reference.conv2d(swapped, kernel, bias, strides, "valid")
        if mistakes is not None:
            usual |= mistakes(x, kernel, bias, strides, padding)
        compare_arrays(got, expected, name=case, rtol=1e-4, atol=1e-4, mistakes=usual)


@exercise("convolution.4")
def check_4(conv2d_strided: Any) -> str:
    """Check a NumPy ``conv2d_strided(x, kernel, bias, strides, padding)`` against Keras.

    Five cases (batch 1 and 2, 1 to 3 input channels, 1 to 4 filters, square and non-square
    kernels, strides 1 to 3, "valid" and "same" with an odd total padding); the oracle is
    ``keras.ops.conv`` plus the bias, within 1e-4.

    Parameters
    ----------
    conv2d_strided : callable
        ``conv2d_strided(x, kernel, bias, strides, padding)`` with ``x`` (batch, height, width,
        in_channels), ``kernel`` (kh, kw, in_channels, filters), ``bias`` (filters,),
        ``strides`` an int and ``padding`` "valid" or "same"; returns (batch, out_h, out_w,
        filters).

    Examples
    --------
    >>> check_4(...)
    Exercise convolution.4: not attempted yet: replace `...` with your answer.
    """
    check_conv2d_function(conv2d_strided, "your conv2d_strided")
    return f"it matches Keras' Conv2D on all {len(CONV_CASES)} cases."
