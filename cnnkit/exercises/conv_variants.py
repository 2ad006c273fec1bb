"""Checks for notebook 10's exercises: the convolution family, written out and counted.

Exercise conv_variants.1 spreads a kernel into the kernel with holes that a dilated convolution
uses, conv_variants.2 counts the parameters and multiply-adds of a depthwise separable block
against a standard convolution, conv_variants.3 writes a grouped convolution and
conv_variants.4 rewrites a classifier's Dense head as convolutions (a fully convolutional
network). The oracles (Keras layers and models, ``cnnkit.reference``) are computed when a check
runs, on their own copy of the inputs; the learner's function gets another copy.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from cnnkit import reference
from cnnkit.exercises.checking import (
    Mistake,
    answer_on_copies,
    as_array,
    as_model,
    call_answer,
    compare_arrays,
    compare_number,
    exercise,
    finite_array,
    model_copy,
)

import keras
import numpy as np

# Exercise conv_variants.1: (kernel shape (kh, kw, in_channels, filters), dilation rate).
DILATION_CASES = (
    ((3, 3, 1, 1), 2),
    ((3, 3, 2, 3), 1),
    ((2, 3, 1, 2), 3),
    ((3, 2, 3, 1), 2),
    ((1, 1, 2, 2), 4),
)
DILATION_INPUT = (2, 13, 12)  # batch, height, width of the random inputs

# Exercise conv_variants.2: input channels, filters, kernel size; the input's height and width.
C_IN, C_OUT, KERNEL = 32, 64, 3
MAP_SIZE = 32

# Exercise conv_variants.3: (input shape, kernel shape (kh, kw, in_channels // groups, filters),
# groups).
GROUPED_CASES = (
    ((1, 6, 7, 4), (3, 3, 2, 4), 2),
    ((2, 5, 6, 6), (3, 3, 2, 6), 3),
    ((1, 5, 5, 6), (1, 1, 3, 4), 2),
    ((1, 5, 5, 4), (3, 3, 1, 4), 4),
    ((1, 4, 5, 3), (2, 2, 3, 2), 1),
)

# Exercise conv_variants.4: the hidden Dense layers of the two classifiers' heads (the last
# layer is Dense(10)), and the canvases (height, width) the fully convolutional model must
# handle besides 28 x 28.
HEADS = ((), (32,))
CANVASES = ((28, 84), (44, 60))


def _random(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _finite(got: np.ndarray, name: str) -> np.ndarray:
    return finite_array(got, name, verb="returned")


@contextlib.contextmanager
def _quiet_tensorflow() -> Iterator[None]:
    """Hide TensorFlow's Python warnings (tf.function retracing) while an oracle runs."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _conv(x: np.ndarray, kernel: np.ndarray, **options: Any) -> np.ndarray:
    """A Keras Conv2D ("valid", no bias) with `kernel` as its weights, applied to `x`."""
    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], use_bias=False, **options)
    layer.build(x.shape)
    layer.set_weights([kernel])
    with _quiet_tensorflow():  # new shapes each case: TensorFlow would warn about retracing
        return keras.ops.convert_to_numpy(layer(x))


# ---------------------------------------------------------------- conv_variants.1: dilated kernel
def _spread(kernel: np.ndarray, gap: int) -> np.ndarray:
    """`kernel` with `gap` zeros between neighbouring taps along height and width."""
    kh, kw = kernel.shape[:2]
    out = np.zeros(((kh - 1) * (gap + 1) + 1, (kw - 1) * (gap + 1) + 1, *kernel.shape[2:]))
    out[:: gap + 1, :: gap + 1] = kernel
    return out


@exercise("conv_variants.1")
def check_1(dilate_kernel: Any) -> str:
    """Check ``dilate_kernel(kernel, rate)``, the kernel with holes of a dilated convolution.

    For five kernels (3x3, non-square, 1x1, one to three channels in and out; rates 1 to 4),
    a ``Conv2D`` whose weights are the learner's kernel must give what ``Conv2D(...,
    dilation_rate=rate)`` gives with the original kernel, on random inputs ("valid", no bias),
    within 1e-4.

    Parameters
    ----------
    dilate_kernel : callable
        ``dilate_kernel(kernel, rate)`` with ``kernel`` of shape (kh, kw, in_channels,
        filters) and an int ``rate``; returns the kernel of shape (rate (kh - 1) + 1,
        rate (kw - 1) + 1, in_channels, filters) with zeros between the taps.

    Examples
    --------
    >>> check_1(...)
    Exercise conv_variants.1: not attempted yet: replace `...` with your answer.
    """
    name = "your dilate_kernel"
    for seed, (kernel_shape, rate) in enumerate(DILATION_CASES):
        kernel = _random(kernel_shape, seed + 10)
        case = f"{name}(kernel, {rate}) with a kernel of shape {kernel_shape}"
        got = answer_on_copies(dilate_kernel, (kernel, rate), name=name, case=case)
        expected = _spread(kernel, rate - 1)
        mistakes = {
            f"rate {rate} puts {rate - 1} zeros between neighbouring taps (the taps are "
            f"{rate} pixels apart), not {rate}": _spread(kernel, rate),
            "the zeros go BETWEEN the taps: the kernel spans rate (k - 1) + 1 pixels, not "
            "rate x k": np.pad(
                _spread(kernel, rate - 1), ((0, rate - 1), (0, rate - 1), (0, 0), (0, 0))
            ),
        }
        compare_arrays(got, expected, name=case, rtol=0, atol=1e-6, mistakes=mistakes)
        x = _random((*DILATION_INPUT, kernel_shape[2]), seed + 20)
        compare_arrays(
            _conv(x, got.astype(np.float32)),
            _conv(x, kernel, dilation_rate=rate),
            name=f"Conv2D with {case}'s result",
            rtol=1e-4,
            atol=1e-4,
        )
    return "a Conv2D with your kernels equals Conv2D(dilation_rate=...) on all five kernels."


# ------------------------------------------------ conv_variants.2: parameters and multiply-adds
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


def _multiply_adds(model: keras.Model) -> int:
    """Kernel weights (biases left out) times output positions, summed over the layers."""
    total = 0
    for layer in model.layers:
        weights = int(np.prod(layer.kernel.shape))
        total += weights * int(np.prod(layer.output.shape[1:3]))
    return total


def _check_parameters(separable_params: Any, standard_params: Any) -> None:
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


def _check_multiply_adds(separable_macs: Any, standard_macs: Any) -> None:
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


@exercise("conv_variants.2")
def check_2(
    separable_params: Any, standard_params: Any, separable_macs: Any, standard_macs: Any
) -> str:
    """Check the parameters and multiply-adds of a depthwise separable block and a Conv2D.

    On a 32 x 32 x 32 input with ``padding="same"``: the block is ``DepthwiseConv2D(3)`` then
    ``Conv2D(64, 1)``, the standard convolution ``Conv2D(64, 3)``. Parameters include Keras'
    default biases (the oracle is ``count_params()`` of the built models); multiply-adds count
    every kernel weight once per output position, biases left out (the oracle applies that
    rule to the built models' kernel and output shapes). Exact integers are expected.

    Parameters
    ----------
    separable_params, standard_params : int
        Parameters (weights and biases) of the block and of the standard convolution.
    separable_macs, standard_macs : int
        Multiply-adds of each for one 32 x 32 x 32 input.

    Examples
    --------
    >>> check_2(..., ..., ..., ...)
    Exercise conv_variants.2: not attempted yet: replace `...` with your answer.
    """
    _check_parameters(separable_params, standard_params)
    _check_multiply_adds(separable_macs, standard_macs)
    separable, standard = _models()
    params = standard.count_params() / separable.count_params()
    macs = _multiply_adds(standard) / _multiply_adds(separable)
    return (
        f"{params:.1f} times fewer parameters and {macs:.1f} times fewer multiply-adds; the "
        f"formula 1 / (1/C_out + 1/k^2) gives {1 / (1 / C_OUT + 1 / KERNEL**2):.1f}."
    )


# ---------------------------------------------------------- conv_variants.3: grouped convolution
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


@exercise("conv_variants.3")
def check_3(grouped_conv2d: Any) -> str:
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
    >>> check_3(...)
    Exercise conv_variants.3: not attempted yet: replace `...` with your answer.
    """
    name = "grouped_conv2d"
    for seed, (shape, kernel_shape, groups) in enumerate(GROUPED_CASES):
        x, kernel = _random(shape, seed), _random(kernel_shape, seed + 100)
        label = f"{name}(x, kernel, {groups}) with x {shape} and kernel {kernel_shape}"
        got = answer_on_copies(grouped_conv2d, (x, kernel, groups), name=name, case=label)
        expected = _conv(x, kernel, groups=groups)
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


# ------------------------------------------------------ conv_variants.4: the head as convolutions
def _classifier(hidden: tuple[int, ...], seed: int) -> keras.Model:
    """A small digit classifier (5 x 5 x 16 map, Flatten, Dense head) with fixed weights."""
    init = {
        "kernel_initializer": keras.initializers.GlorotUniform(seed=seed),
        "bias_initializer": keras.initializers.RandomNormal(stddev=0.1, seed=seed + 1),
    }
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(8, 3, activation="relu", **init),
            keras.layers.MaxPool2D(2),
            keras.layers.Conv2D(16, 3, activation="relu", **init),
            keras.layers.MaxPool2D(2),
            keras.layers.Flatten(),
            *[keras.layers.Dense(units, activation="relu", **init) for units in hidden],
            keras.layers.Dense(10, **init),
        ]
    )


def _head_mistakes(classifier: keras.Model, images: np.ndarray) -> dict[str, np.ndarray]:
    """Scores that usual mistakes give on 28 x 28 `images`, from the classifier's feature map."""
    flatten = next(layer for layer in classifier.layers if isinstance(layer, keras.layers.Flatten))
    body = keras.Model(classifier.inputs[0], flatten.input)
    features = keras.ops.convert_to_numpy(body(images))  # (n, h, w, c)
    dense = classifier.layers[classifier.layers.index(flatten) + 1 :]

    def head(flat, relu=True, bias=True):
        for k, layer in enumerate(dense):
            kernel, b = layer.get_weights()
            flat = flat @ kernel + (b if bias else 0)
            if relu and k < len(dense) - 1:
                flat = np.maximum(flat, 0)
        return flat

    n = len(images)
    mistakes = {
        "it reads the feature map in (channels, height, width) order, PyTorch's: Keras' "
        "Flatten goes over (height, width, channels), so reshape the Dense kernel to "
        "(h, w, c, units)": head(features.transpose(0, 3, 1, 2).reshape(n, -1)),
        "the biases are missing: set_weights([kernel, bias]) on each new convolution": head(
            features.reshape(n, -1), bias=False
        ),
    }
    if len(dense) > 1:
        mistakes["the hidden layer's ReLU is missing: give the new Conv2D activation='relu'"] = (
            head(features.reshape(n, -1), relu=False)
        )
    return mistakes


def _scores(model: keras.Model, images: np.ndarray, what: str) -> np.ndarray:
    try:
        out = model(images)
    except Exception as error:  # any failure of the learner's model is a hint, not a traceback
        raise Mistake(
            f"your model failed on {what}: {type(error).__name__}: {str(error)[:200]}. Its input "
            "should be keras.Input((None, None, 1)), so that any image size works."
        ) from error
    return _finite(as_array(keras.ops.convert_to_numpy(out), f"its output on {what}"), "it")


@exercise("conv_variants.4")
def check_4(to_fully_convolutional: Any) -> str:
    """Check ``to_fully_convolutional(classifier)``: the classifier with its head as convolutions.

    Two classifiers with fixed random weights (a Rescaling layer, two Conv2D + MaxPool2D pairs
    giving a 5 x 5 x 16 map, Flatten, then Dense(10), or Dense(32, relu) and Dense(10)) are
    passed, each as a copy. The returned model must accept any image size and give, on 28 x 28
    digits, a 1 x 1 map equal to the classifier's scores, and on canvases of 28 x 84 and
    44 x 60 pixels a map whose window (i, j) equals the classifier's scores on the 28 x 28 crop
    at rows 4i and columns 4j (the two poolings make the windows step 4 pixels). Within 1e-4
    (plus 1e-4 relative).

    Parameters
    ----------
    to_fully_convolutional : callable
        ``to_fully_convolutional(classifier)`` returning a Keras model (Sequential, Functional
        or subclassed) with input shape (None, None, 1).

    Examples
    --------
    >>> check_4(...)
    Exercise conv_variants.4: not attempted yet: replace `...` with your answer.
    """
    name = "your to_fully_convolutional"
    rng = np.random.default_rng(4)
    for seed, hidden in enumerate(HEADS):
        classifier = _classifier(hidden, 40 + 2 * seed)
        head = " + ".join([f"Dense({units}, relu)" for units in hidden] + ["Dense(10)"])
        what = f"the classifier with head Flatten + {head}"
        model = as_model(call_answer(to_fully_convolutional, model_copy(classifier), name=name))
        digits = rng.integers(0, 256, size=(6, 28, 28, 1)).astype(np.uint8)
        expected = keras.ops.convert_to_numpy(classifier(digits))
        got = _scores(model, digits, f"28 x 28 images ({what})")
        if got.shape == expected.shape:
            raise Mistake(
                f"on 28 x 28 images ({what}) your model returns {got.shape}, plain scores: it "
                "still flattens. A fully convolutional model returns a map, (6, 1, 1, 10) here: "
                "replace Flatten and the Dense layers by convolutions."
            )
        compare_arrays(
            got,
            expected[:, None, None, :],
            name=f"your model's map on 28 x 28 images ({what})",
            rtol=1e-4,
            atol=1e-4,
            mistakes={
                hint: wrong[:, None, None, :]
                for hint, wrong in _head_mistakes(classifier, digits).items()
            },
        )
        for height, width in CANVASES:
            canvas = rng.integers(0, 256, size=(1, height, width, 1)).astype(np.uint8)
            rows, cols = (height - 28) // 4 + 1, (width - 28) // 4 + 1
            crops = np.stack(
                [
                    canvas[0, 4 * i : 4 * i + 28, 4 * j : 4 * j + 28]
                    for i in range(rows)
                    for j in range(cols)
                ]
            )
            windows = keras.ops.convert_to_numpy(classifier(crops)).reshape(1, rows, cols, 10)
            compare_arrays(
                _scores(model, canvas, f"a {height} x {width} canvas ({what})"),
                windows,
                name=f"your model's map on a {height} x {width} canvas ({what})",
                rtol=1e-4,
                atol=1e-4,
            )
    return "on 28 x 28 digits and on both canvases, every window's scores equal the classifier's."
