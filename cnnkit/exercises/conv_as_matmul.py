"""Checks for notebook 09's exercises: convolution as matrix multiplication.

Exercise conv_as_matmul.1 works out the shapes of an im2col matrix and of a convolution
(Toeplitz) matrix, conv_as_matmul.2 writes im2col in NumPy, conv_as_matmul.3 a convolution as
one matrix product, conv_as_matmul.4 the convolution matrix of Keras' Conv2D and
conv_as_matmul.5 a transposed convolution. Every oracle (``cnnkit.reference``'s ``im2col`` and
``toeplitz_matrix``, ``keras.ops.conv``, ``keras.ops.conv_transpose``) is computed when the
check runs, on its own copy of the inputs; the learner's function gets another copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnkit import reference
from cnnkit.exercises.checking import (
    Mistake,
    answer_on_copies,
    as_array,
    call_answer,
    compare_arrays,
    exercise,
    finite_array,
    switched_off,
)
from cnnkit.exercises.convolution import CONV_CASES, check_conv2d_function

import keras
import numpy as np

# Exercise conv_as_matmul.1: im2col of 8 RGB 32x32 images for a 5x5 kernel, stride 2, "same"
# padding; the "valid" convolution matrix of a 5x5 filter on one 28x28 grey image.
IM2COL_INPUT, IM2COL_KERNEL, IM2COL_STRIDE = (8, 32, 32, 3), 5, 2
TOEPLITZ_INPUT, TOEPLITZ_KERNEL = (28, 28), 5

# Exercise conv_as_matmul.2: (x shape, kernel size, strides, padding), from easy to hard.
IM2COL_CASES = (
    ((1, 4, 4, 1), (3, 3), 1, "valid"),
    ((2, 5, 6, 3), (3, 3), 1, "valid"),
    ((2, 7, 6, 2), (3, 2), 2, "same"),
    ((1, 6, 6, 3), (4, 4), 1, "same"),
    ((2, 9, 8, 2), (3, 3), 3, "valid"),
)

# Exercise conv_as_matmul.4: (kernel shape, input shape).
MATRIX_CASES = (
    ((2, 2), (3, 3)),
    ((3, 3), (5, 6)),
    ((2, 3), (4, 4)),
    ((1, 1), (2, 3)),
    ((3, 3), (3, 3)),
)

# Exercise conv_as_matmul.5: (x shape, kernel shape (kh, kw, out, in), strides), strides at most
# the kernel size.
TRANSPOSE_CASES = (
    ((1, 2, 2, 1), (2, 2, 1, 1), 1),
    ((2, 3, 4, 2), (3, 3, 3, 2), 1),
    ((1, 3, 3, 1), (3, 3, 1, 1), 2),
    ((2, 4, 3, 3), (4, 4, 2, 3), 2),
    ((1, 2, 3, 2), (3, 2, 2, 2), 2),
)


def _finite(got: np.ndarray, case: str) -> np.ndarray:
    return finite_array(got, case, verb="returned")


def _on_copies(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` called with copies of its array arguments, so it cannot change the check's."""

    def called_on_copies(*args: Any) -> Any:
        return function(*(np.copy(arg) if isinstance(arg, np.ndarray) else arg for arg in args))

    return called_on_copies


@exercise("conv_as_matmul.1")
def check_1(im2col_shape: Any, toeplitz_shape: Any) -> str:
    """Check the shapes of an im2col matrix and of a "valid" convolution matrix.

    im2col: 8 RGB images of 32x32, a 5x5 kernel, stride 2, "same" padding (the oracle is
    ``cnnkit.reference.im2col``). Convolution matrix: one 28x28 grey image, a 5x5 filter,
    "valid" (the oracle is ``cnnkit.reference.toeplitz_matrix``). Exact integers are expected.

    Parameters
    ----------
    im2col_shape, toeplitz_shape : pair of int
        ``(rows, columns)`` of each matrix.

    Examples
    --------
    >>> check_1(..., ...)
    Exercise conv_as_matmul.1: not attempted yet: replace `...` with your answer.
    """
    n, h, w, c = IM2COL_INPUT
    k, s = IM2COL_KERNEL, IM2COL_STRIDE
    patches = reference.im2col(np.zeros(IM2COL_INPUT, "float32"), k, s, "same").shape
    valid_rows = n * ((h - k) // s + 1) * ((w - k) // s + 1)
    out = -(-h // s)  # ceil(h / s) positions per axis with "same" (h == w here)
    compare_arrays(
        im2col_shape,
        patches,
        name="the im2col shape",
        rtol=0,
        atol=0,
        mistakes={
            f"did you forget the stride? 'same' with stride {s} gives {out} x {out} outputs": (
                n * h * w,
                k * k * c,
            ),
            "one row per output pixel of every image: multiply by the batch size": (
                patches[0] // n,
                k * k * c,
            ),
            f"each patch holds the pixels of all {c} channels: kh x kw x channels columns": (
                patches[0],
                k * k,
            ),
            "that is (columns, rows): one ROW per output pixel, one column per weight": patches[
                ::-1
            ],
            f"that is the 'valid' output count; 'same' pads so that there are ceil({h} / {s}) "
            "positions per axis": (valid_rows, k * k * c),
        },
    )
    hi, wi = TOEPLITZ_INPUT
    kt = TOEPLITZ_KERNEL
    matrix = reference.toeplitz_matrix(np.ones((kt, kt)), TOEPLITZ_INPUT, mode="valid").shape
    compare_arrays(
        toeplitz_shape,
        matrix,
        name="the convolution matrix shape",
        rtol=0,
        atol=0,
        mistakes={
            "that is (columns, rows): one row per OUTPUT pixel, one column per input pixel.": (
                matrix[::-1]
            ),
            f"that is the 'full' output ({hi + kt - 1} x {wi + kt - 1} pixels); 'valid' keeps "
            f"{hi - kt + 1} x {wi - kt + 1}": (
                (hi + kt - 1) * (wi + kt - 1),
                hi * wi,
            ),
            f"the columns are the input pixels ({hi} x {wi}), not the filter's weights": (
                matrix[0],
                kt * kt,
            ),
        },
    )
    return (
        f"im2col: {patches} (rows: images x output pixels; columns: kh x kw x channels); "
        f"convolution matrix: {matrix} (output pixels x input pixels)."
    )


def _cases_x(shapes, seed: int):
    """Random float32 inputs for the case shapes, the same on every call."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype("float32") for shape in shapes]


@exercise("conv_as_matmul.2")
def check_2(my_im2col: Any) -> str:
    """Check a NumPy ``my_im2col(x, kernel_size, strides, padding)`` against cnnkit's im2col.

    Five cases (batch 1 and 2, 1 to 3 channels, square and non-square kernels, strides 1 to
    3, "valid" and "same" with an odd total padding); the oracle is
    ``cnnkit.reference.im2col``, within 1e-6.

    Parameters
    ----------
    my_im2col : callable
        ``my_im2col(x, kernel_size, strides, padding)`` with ``x`` (batch, height, width,
        channels), ``kernel_size`` a pair (kh, kw), ``strides`` an int and ``padding`` "valid"
        or "same"; returns (batch * out_h * out_w, kh * kw * channels), rows in (image, row,
        column) order and columns in (kh, kw, channels) order.

    Examples
    --------
    >>> check_2(...)
    Exercise conv_as_matmul.2: not attempted yet: replace `...` with your answer.
    """
    inputs = _cases_x([case[0] for case in IM2COL_CASES], seed=2)
    for x, (shape, kernel_size, strides, padding) in zip(inputs, IM2COL_CASES, strict=True):
        expected = reference.im2col(x, kernel_size, strides, padding)
        case = (
            f"your my_im2col on x of shape {shape}, kernel_size={kernel_size}, "
            f"strides={strides}, padding={padding!r}"
        )
        with switched_off(
            my_im2col, reference, "im2col", "build the patches yourself (section 3)."
        ):
            got = answer_on_copies(
                my_im2col, (x, kernel_size, strides, padding), name="your my_im2col", case=case
            )
        (kh, kw), n, c = kernel_size, shape[0], shape[3]
        rows = expected.shape[0] // n
        out_h = reference.conv_output_size(shape[1], kh, strides, padding)
        out_w = rows // out_h
        if got.shape != expected.shape:
            hint = ""
            if got.shape == expected.shape[::-1]:
                hint = ": that is its transpose; one row per patch, one column per weight."
            elif padding == "same" and got.shape == reference.im2col(x, kernel_size, strides).shape:
                hint = ": that is the 'valid' shape: did you forget the padding?"
            elif strides > 1 and got.shape == reference.im2col(x, kernel_size, 1, padding).shape:
                hint = ": that is the stride-1 shape: did you forget the stride?"
            elif got.shape == (rows, expected.shape[1]):
                hint = ": that is one image's rows; stack the patches of every image."
            raise Mistake(
                f"{case} returned shape {got.shape}, expected {expected.shape}{hint or '.'}"
            )
        blocks = expected.reshape(n, out_h, out_w, kh, kw, c)
        mistakes = {
            "its columns are in (channels, kh, kw) order; the exercise asks for (kh, kw, "
            "channels), the order of kernel.reshape(-1, filters) for a Keras kernel": (
                blocks.transpose(0, 1, 2, 5, 3, 4).reshape(expected.shape)
            ),
            "its columns are in (kw, kh, channels) order: go along a patch row by row": (
                blocks.transpose(0, 1, 2, 4, 3, 5).reshape(expected.shape)
            ),
            "its rows go down the columns of the output first; go row by row (row-major)": (
                blocks.transpose(0, 2, 1, 3, 4, 5).reshape(expected.shape)
            ),
        }
        if padding == "same":
            pads = [
                reference.padding_amounts(size, k, strides, "same")
                for size, k in zip(shape[1:3], kernel_size, strict=True)
            ]
            swapped = np.pad(x, ((0, 0), pads[0][::-1], pads[1][::-1], (0, 0)))
            mistakes[
                "the padding is on the wrong side: when the total is odd, Keras puts the extra "
                "zero at the bottom and right"
            ] = reference.im2col(swapped, kernel_size, strides, "valid")
        compare_arrays(got, expected, name=case, rtol=1e-6, atol=1e-6, mistakes=mistakes)
    return f"it matches cnnkit.reference.im2col on all {len(IM2COL_CASES)} cases."


def _scrambled_kernel(x, kernel, bias, strides, padding) -> dict[str, np.ndarray]:
    """What a convolution by im2col gives with the kernel reshaped the wrong way."""
    kh, kw, _, filters = kernel.shape
    patches = reference.im2col(x, (kh, kw), strides, padding)
    out_h = reference.conv_output_size(x.shape[1], kh, strides, padding)
    out_w = reference.conv_output_size(x.shape[2], kw, strides, padding)
    out = (patches @ kernel.reshape(filters, -1).T + bias).reshape(-1, out_h, out_w, filters)
    return {
        "the kernel matrix is scrambled: reshape the kernel with kernel.reshape(-1, filters), "
        "rows in (kh, kw, channels) order like the im2col columns; reshape(filters, -1).T "
        "mixes up the weights": out,
    }


@exercise("conv_as_matmul.3")
def check_3(conv2d_gemm: Any) -> str:
    """Check ``conv2d_gemm(x, kernel, bias, strides, padding)`` (im2col + GEMM) against Keras.

    The five cases of ``cnnkit.exercises.convolution.CONV_CASES`` (batch 1 and 2, 1 to 3 input
    channels, 1 to 4 filters, strides 1 to 3, "valid" and "same"); the oracle is
    ``keras.ops.conv`` plus the bias, within 1e-4. NaN or infinite outputs are rejected first.

    Parameters
    ----------
    conv2d_gemm : callable
        ``conv2d_gemm(x, kernel, bias, strides, padding)`` with ``x`` (batch, height, width,
        in_channels), ``kernel`` (kh, kw, in_channels, filters), ``bias`` (filters,),
        ``strides`` an int and ``padding`` "valid" or "same"; returns (batch, out_h, out_w,
        filters).

    Examples
    --------
    >>> check_3(...)
    Exercise conv_as_matmul.3: not attempted yet: replace `...` with your answer.
    """
    rng = np.random.default_rng(3)
    try:
        for x_shape, kernel_shape, strides, padding in CONV_CASES:  # NaN and inf first
            args = (
                rng.normal(size=x_shape).astype("float32"),
                rng.normal(size=kernel_shape).astype("float32"),
                rng.normal(size=kernel_shape[3]).astype("float32"),
                strides,
                padding,
            )
            case = f"your conv2d_gemm on {x_shape}"
            answer_on_copies(conv2d_gemm, args, name="your conv2d_gemm", case=case)
        check_conv2d_function(
            _on_copies(conv2d_gemm), "your conv2d_gemm", mistakes=_scrambled_kernel
        )
    except Mistake as mistake:
        blame = _my_im2col_hint(conv2d_gemm)
        text = f"{blame} What failed here: {mistake}" if blame else str(mistake)
        raise Mistake(text) from mistake
    return f"it matches Keras' Conv2D on all {len(CONV_CASES)} cases."


def _my_im2col_hint(conv2d_gemm: Any) -> str:
    """A sentence blaming the learner's ``my_im2col`` when `conv2d_gemm` calls it and it fails.

    ``my_im2col`` is looked up where ``conv2d_gemm`` finds it (its globals, the notebook) and
    run through exercise 2's check; an empty string when it passes or is not used.
    """
    code = getattr(conv2d_gemm, "__code__", None)
    helper = getattr(conv2d_gemm, "__globals__", {}).get("my_im2col")
    if code is None or "my_im2col" not in code.co_names or not callable(helper):
        return ""
    verdict = check_2(helper)
    if verdict:
        return ""
    return (
        f"your conv2d_gemm calls my_im2col, which does not pass exercise 2's check yet "
        f"({verdict.message.rstrip('.')}): finish exercise 2 first, or call "
        "cnnkit.reference.im2col in its place."
    )


@exercise("conv_as_matmul.4")
def check_4(conv_matrix: Any) -> str:
    """Check ``conv_matrix(kernel, input_shape)``, the matrix of a Keras Conv2D, against Keras.

    For a single-channel image of shape ``input_shape`` and a 2D ``kernel``, the matrix ``C``
    must satisfy ``C @ image.ravel() == Conv2D(padding="valid", strides=1)`` output, ravelled
    (cross-correlation, kernel not flipped), on five shapes (a 1x1 kernel, non-square ones, a
    kernel as large as the image). The oracle is ``keras.ops.conv`` on random images and
    ``cnnkit.reference.toeplitz_matrix`` of the flipped kernel, within 1e-5.

    Parameters
    ----------
    conv_matrix : callable
        ``conv_matrix(kernel, input_shape)`` with ``kernel`` of shape (kh, kw) and
        ``input_shape`` a pair (h, w); returns the matrix of shape
        ((h - kh + 1) * (w - kw + 1), h * w), dense or SciPy sparse.

    Examples
    --------
    >>> check_4(...)
    Exercise conv_as_matmul.4: not attempted yet: replace `...` with your answer.
    """
    rng = np.random.default_rng(4)
    for kernel_shape, input_shape in MATRIX_CASES:
        kernel = rng.normal(size=kernel_shape)
        image = rng.normal(size=input_shape)
        (kh, kw), (h, w) = kernel_shape, input_shape
        case = f"your conv_matrix for a {kh}x{kw} kernel and a {h}x{w} image"
        answer = call_answer(conv_matrix, kernel.copy(), input_shape, name="your conv_matrix")
        if hasattr(answer, "toarray"):  # a SciPy sparse matrix is a fine answer too
            answer = answer.toarray()
        got = _finite(as_array(answer, case), case)
        expected_shape = ((h - kh + 1) * (w - kw + 1), h * w)
        if got.shape != expected_shape:
            hint = "."
            if got.shape == expected_shape[::-1]:
                hint = (
                    ": that is its transpose; one row per output pixel, one column per input pixel."
                )
            elif got.shape == ((h + kh - 1) * (w + kw - 1), h * w):
                hint = ": that is the 'full' matrix; keep only the rows where the kernel fits."
            raise Mistake(f"{case} has shape {got.shape}, expected {expected_shape}{hint}")
        by_keras = keras.ops.convert_to_numpy(
            keras.ops.conv(
                image.reshape(1, h, w, 1).astype("float32"),
                kernel.reshape(kh, kw, 1, 1).astype("float32"),
            )
        ).ravel()
        compare_arrays(
            got @ image.ravel(),
            by_keras,
            name=f"{case}, times a random image",
            rtol=1e-5,
            atol=1e-5,
            mistakes={
                "it computes a true convolution (the kernel rotated by 180 degrees); Keras' "
                "Conv2D does not rotate it: with toeplitz_matrix, pass kernel[::-1, ::-1]": (
                    reference.toeplitz_matrix(kernel, input_shape, "valid") @ image.ravel()
                ),
            },
        )
        compare_arrays(
            got,
            reference.toeplitz_matrix(kernel[::-1, ::-1], input_shape, "valid"),
            name=case,
            rtol=1e-5,
            atol=1e-5,
        )
    return f"C @ image.ravel() matches Keras' Conv2D on all {len(MATRIX_CASES)} shapes."


@exercise("conv_as_matmul.5")
def check_5(conv_transpose: Any) -> str:
    """Check a NumPy ``conv_transpose(x, kernel, strides)`` against Keras' Conv2DTranspose.

    Five cases (batch 1 and 2, 1 to 3 channels in and out, square and non-square kernels,
    strides 1 and 2, never larger than the kernel), "valid" padding, no bias; the oracle is
    ``keras.ops.conv_transpose`` (what ``keras.layers.Conv2DTranspose`` computes), within 1e-4.

    Parameters
    ----------
    conv_transpose : callable
        ``conv_transpose(x, kernel, strides)`` with ``x`` (batch, height, width, in_channels),
        ``kernel`` (kh, kw, out_channels, in_channels) as in Keras' Conv2DTranspose and
        ``strides`` an int; returns (batch, (height - 1) * strides + kh, (width - 1) *
        strides + kw, out_channels).

    Examples
    --------
    >>> check_5(...)
    Exercise conv_as_matmul.5: not attempted yet: replace `...` with your answer.
    """
    rng = np.random.default_rng(5)
    for x_shape, kernel_shape, strides in TRANSPOSE_CASES:
        x = rng.normal(size=x_shape).astype("float32")
        kernel = rng.normal(size=kernel_shape).astype("float32")
        expected = keras.ops.convert_to_numpy(
            keras.ops.conv_transpose(x, kernel, strides=strides, padding="valid")
        )
        case = (
            f"your conv_transpose on x of shape {x_shape} with a kernel of shape "
            f"{kernel_shape}, strides={strides}"
        )
        with switched_off(
            conv_transpose, reference, "conv_transpose2d", "stamp the kernel yourself."
        ):
            got = answer_on_copies(
                conv_transpose, (x, kernel, strides), name="your conv_transpose", case=case
            )
        if got.shape != expected.shape:
            hint = "."
            stride_1 = reference.conv_transpose2d(x, kernel).shape
            if strides > 1 and got.shape == stride_1:
                hint = ": that is the stride-1 shape; place the stamps `strides` pixels apart."
            elif got.shape == (*expected.shape[:3], x_shape[3]):
                hint = (
                    ": the channels are those of the input; the kernel is (kh, kw, "
                    "out_channels, in_channels)."
                )
            raise Mistake(f"{case} returned shape {got.shape}, expected {expected.shape}{hint}")
        mistakes = {
            "it stamps the kernel rotated by 180 degrees; Conv2DTranspose stamps it as it is": (
                reference.conv_transpose2d(x, kernel[::-1, ::-1], strides=strides)
            ),
        }
        if kernel_shape[2] == kernel_shape[3]:
            mistakes[
                "the kernel's channel axes are swapped: Keras' Conv2DTranspose kernel is (kh, "
                "kw, out_channels, in_channels)"
            ] = reference.conv_transpose2d(x, kernel.transpose(0, 1, 3, 2), strides=strides)
        compare_arrays(got, expected, name=case, rtol=1e-4, atol=1e-4, mistakes=mistakes)
    return f"it matches Keras' Conv2DTranspose on all {len(TRANSPOSE_CASES)} cases."
