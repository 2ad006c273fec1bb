"""Checks for notebook 07's exercises: LeNet-5 by hand, the sigmoid's slope, a modern variant.

Exercise lenet.1 follows the output shapes through LeNet-5 for the paper's 32 x 32 inputs, lenet.2
counts its parameters, lenet.3 writes the sigmoid's derivative and bounds what four sigmoid layers
do to a gradient, lenet.4 builds and trains a LeNet-5 with ReLU, max pooling and global average
pooling under a parameter budget, and lenet.5 is an experiment: sigmoid vs ReLU LeNet-5 after the
same number of epochs. The oracles (``cnnkit.models.lenet5`` and Keras' shapes and counts,
TensorFlow's automatic differentiation, the bundled MNIST sample's test digits) are computed
when a check runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnkit.exercises.checking import (
    Mistake,
    answer_entries,
    as_array,
    as_model,
    call_answer,
    compare_arrays,
    compare_number,
    exercise,
)
from cnnkit.exercises.trained import (
    all_layers,
    check_classifier_shapes,
    check_parameter_budget,
    digit_accuracy_verdict,
    experiment_verdict,
    final_validation_accuracy,
    same_epochs,
)
from cnnkit.models import lenet5
from cnnkit.reference import conv_output_size
from cnnkit.runtime import quick_mode

import keras
import numpy as np
import tensorflow as tf
from keras import layers

#: Exercises lenet.1 and lenet.2: the input size of the 1998 paper.
PAPER_SIZE = 32
#: Exercise lenet.4: the most parameters the LeNet-5 variant may have (LeNet-5 has 61,706).
PARAMETER_BUDGET = 10_000
#: Exercise lenet.4: the least accuracy on the bundled sample's 1,000 test digits.
ACCURACY_FLOOR = 0.90
#: Exercise lenet.4: the floor in quick mode, where the exercise trains for fewer epochs.
QUICK_ACCURACY_FLOOR = 0.70

_LENET_LAYERS = ("c1_conv", "s2_pool", "c3_conv", "s4_pool")


# ---------------------------------------------------------------------- lenet.1: shapes by hand
def _lenet_sizes(size: int, c1_padding: str, c3_padding: str) -> list[int]:
    """Heights (= widths) after C1, S2, C3 and S4 of LeNet-5 for a size x size image."""
    c1 = conv_output_size(size, 5, 1, c1_padding)
    s2 = conv_output_size(c1, 2, 2, "valid")
    c3 = conv_output_size(s2, 5, 1, c3_padding)
    return [c1, s2, c3, conv_output_size(c3, 2, 2, "valid")]


@exercise("lenet.1")
def check_1(shapes: Any) -> str:
    """Check the output shapes of C1, S2, C3 and S4 of LeNet-5 for a 32 x 32 x 1 image.

    The network is ``cnnkit.models.lenet5(input_shape=(32, 32, 1))`` (C1 "same", C3
    "valid", 2 x 2 poolings with stride 2); the oracle is its Keras output shapes. Exact
    integers are expected.

    Parameters
    ----------
    shapes : sequence of 4 (height, width, channels)
        The output shapes of C1, S2, C3 and S4, without the batch dimension.

    Returns
    -------
    str
        How many values reach the dense layers.

    Examples
    --------
    >>> check_1(...)
    Exercise lenet.1: not attempted yet: replace `...` with your answer.
    """
    entries = answer_entries(shapes, 4, "`shapes`", "the shapes of C1, S2, C3, S4")
    model = lenet5(input_shape=(PAPER_SIZE, PAPER_SIZE, 1))
    expected = [tuple(model.get_layer(name).output.shape[1:]) for name in _LENET_LAYERS]
    channels = [shape[-1] for shape in expected]
    variants = {
        "C1 uses padding='same', which keeps 32 x 32; that is the 'valid' size": _lenet_sizes(
            PAPER_SIZE, "valid", "valid"
        ),
        "C3 uses 'valid' padding: a 5 x 5 kernel removes 4 rows and 4 columns": _lenet_sizes(
            PAPER_SIZE, "same", "same"
        ),
        "that is the shape for 28 x 28 images: here the input is 32 x 32": _lenet_sizes(
            28, "same", "valid"
        ),
    }
    for i, (got, want, label) in enumerate(zip(entries, expected, _LENET_LAYERS, strict=True)):
        name = f"the output shape of {label}"
        if isinstance(got, list | tuple) and len(got) == 4 and got[0] is None:
            raise Mistake(f"{name}: give (height, width, channels), without the batch dimension.")
        row = as_array(got, name)
        if row.shape != (3,):
            raise Mistake(f"{name} should be three numbers, (height, width, channels).")
        if row.shape == (3,) and tuple(row[:2]) == want[:2] and row[2] != want[2]:
            raise Mistake(
                f"{name}: expected {want[2]} channels, got {row[2]:g}: a convolution outputs one "
                "channel per filter (C1 has 6, C3 16) and pooling keeps the number of channels."
            )
        mistakes = {
            hint: (sizes[i], sizes[i], channels[i])
            for hint, sizes in variants.items()
            if sizes[i] != want[0]
        }
        compare_arrays(row, want, name=name, rtol=0, atol=0.5, mistakes=mistakes)
    flat = int(np.prod(expected[-1]))
    return f"S4's {expected[-1][0]} x {expected[-1][1]} x 16 maps give {flat} values to C5."


# ---------------------------------------------------------------- lenet.2: parameters by hand
@exercise("lenet.2")
def check_2(counts: Any) -> str:
    """Check the parameter counts of LeNet-5's five layers with weights for 32 x 32 inputs.

    The network is ``cnnkit.models.lenet5(input_shape=(32, 32, 1))``; the oracle is Keras'
    ``count_params`` of each layer. Exact integers are expected.

    Parameters
    ----------
    counts : sequence of 5 int
        The parameters of C1, C3, C5, F6 and the output layer, in that order.

    Returns
    -------
    str
        The total, compared with 28 x 28 inputs.

    Examples
    --------
    >>> check_2(...)
    Exercise lenet.2: not attempted yet: replace `...` with your answer.
    """
    entries = answer_entries(counts, 5, "`counts`", "C1, C3, C5, F6, output")
    model = lenet5(input_shape=(PAPER_SIZE, PAPER_SIZE, 1))
    names = ["c1_conv", "c3_conv", "c5_dense", "f6_dense", "output"]
    chosen = [model.get_layer(name) for name in names]
    expected = [layer.count_params() for layer in chosen]
    flat = int(np.prod(model.get_layer("s4_pool").output.shape[1:]))
    unpooled = int(np.prod(model.get_layer("c3_conv").output.shape[1:]))
    no_bias = "did you forget the biases (one per filter or unit)?"
    c5_for_28 = (5 * 5 * 16 + 1) * 120
    mistakes = [
        {no_bias: expected[0] - 6},
        {
            no_bias: expected[1] - 16,
            "each C3 filter reads all 6 of S2's maps: 5 * 5 * 6 weights": (5 * 5 * 1 + 1) * 16,
            "that is the 1998 network's sparse C3 (Table I); here every C3 map reads all 6": 1516,
        },
        {
            no_bias: flat * 120,
            f"that is C5 for 28 x 28 images (400 inputs); for 32 x 32 ones, S4 gives {flat}": (
                c5_for_28
            ),
            "Flatten comes after S4's pooling": (unpooled + 1) * 120,
        },
        {no_bias: expected[3] - 84},
        {no_bias: expected[4] - 10},
    ]
    for got, want, name, typical in zip(entries, expected, names, mistakes, strict=True):
        compare_number(got, want, name=f"the parameter count of {name}", mistakes=typical)
    small = lenet5().count_params()
    return (
        f"{model.count_params():,} parameters for 32 x 32 images, {small:,} for 28 x 28: only "
        "C5, the layer after Flatten, depends on the image size."
    )


# ----------------------------------------------------------------- lenet.3: the sigmoid's slope
def _sigmoid_slope_autodiff(x: np.ndarray) -> np.ndarray:
    """d sigmoid(x) / dx by TensorFlow's automatic differentiation, in float64."""
    tensor = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        values = keras.activations.sigmoid(tensor)
    return tape.gradient(values, tensor).numpy()


def _sigmoid_layers() -> int:
    """How many layers of ``lenet5()`` apply the sigmoid."""
    return sum(
        getattr(getattr(layer, "activation", None), "__name__", "") == "sigmoid"
        for layer in lenet5().layers
    )


@exercise("lenet.3")
def check_3(sigmoid_slope: Callable[[np.ndarray], Any], largest_factor: Any) -> str:
    """Check a NumPy sigmoid derivative and the most four sigmoid layers can pass of a gradient.

    ``sigmoid_slope(x)`` is compared elementwise with TensorFlow's automatic derivative of
    ``keras.activations.sigmoid`` on several float64 arrays (a scalar, a vector from -6 to 6,
    a 3 x 4 matrix, and values as large as +-40), within 1e-6. `largest_factor` is the
    largest product of the slopes of LeNet-5's sigmoid layers (C1, C3, C5 and F6), within a
    relative 1e-3.

    Parameters
    ----------
    sigmoid_slope : callable
        Takes a NumPy array (or a float) and returns the derivative at each value.
    largest_factor : float
        The most the four sigmoid layers together can multiply a gradient by.

    Returns
    -------
    str
        What that factor means.

    Examples
    --------
    >>> check_3(..., ...)
    Exercise lenet.3: not attempted yet: replace `...` with your answer.
    """
    rng = np.random.default_rng(7)
    cases = {
        "a vector from -6 to 6": np.linspace(-6.0, 6.0, 25),
        "the scalar 0.0": np.float64(0.0),
        "a 3 x 4 matrix": rng.normal(0.0, 3.0, (3, 4)),
        "inputs as large as +-40": np.array([-40.0, -15.0, 15.0, 40.0]),
    }
    for where, x in cases.items():
        got = as_array(call_answer(sigmoid_slope, x.copy(), name="your sigmoid_slope"))
        if got.shape == np.shape(x) and not np.all(np.isfinite(got)):
            raise Mistake(
                f"your sigmoid_slope gives NaN or infinite values on {where}: does exp overflow "
                "(float32 overflows above exp(88))? Write the slope as sigmoid(x) * (1 - "
                "sigmoid(x)), with the sigmoid computed in float64."
            )
        sigmoid = 1.0 / (1.0 + np.exp(-x))
        compare_arrays(
            got,
            _sigmoid_slope_autodiff(x),
            name=f"sigmoid_slope on {where}",
            rtol=1e-6,
            atol=1e-6,
            mistakes={
                "that is the sigmoid itself, not its derivative": sigmoid,
                "the derivative is sigmoid(x) * (1 - sigmoid(x)), with a minus": sigmoid
                * (1 + sigmoid),
                "1 - sigmoid(x)**2 is the pattern of tanh's derivative; the sigmoid's is "
                "sigmoid(x) * (1 - sigmoid(x))": 1 - sigmoid**2,
                "that is tanh's derivative": 1 - np.tanh(x) ** 2,
                "exp(-x) / (1 + exp(-x)) is missing a square in the denominator": np.exp(-x)
                / (1 + np.exp(-x)),
            },
        )
    steepest = float(_sigmoid_slope_autodiff(np.float64(0.0)))
    n_layers = _sigmoid_layers()
    expected = steepest**n_layers
    compare_number(
        largest_factor,
        expected,
        name="the largest factor",
        rtol=1e-3,
        atol=0.0,
        mistakes={
            "that is one layer: the gradient passes four sigmoids (C1, C3, C5 and F6), and "
            "their slopes multiply": steepest,
            "the output layer has no sigmoid (it returns logits): four layers, not five": (
                steepest ** (n_layers + 1)
            ),
            "C5 and F6 apply the sigmoid too: four layers": steepest ** (n_layers - 2),
            "count all four sigmoid layers: C1, C3, C5 and F6": steepest ** (n_layers - 1),
            "slopes multiply along the chain rule, they do not add": n_layers * steepest,
        },
    )
    return (
        f"at most 1/{1 / expected:.0f} of a gradient gets through the {n_layers} sigmoid layers, "
        "and far less wherever they saturate; ReLU passes it unchanged where it is active."
    )


# ------------------------------------------------ lenet.4: ReLU, max pooling, global averages
def _activation_name(layer: keras.layers.Layer) -> str | None:
    """The activation a layer applies ("relu", "linear", ...), or None if it has none."""
    if isinstance(layer, layers.ReLU):
        return "relu"
    activation = getattr(layer, "activation", None)
    if activation is None:
        return type(layer).__name__.lower() if isinstance(layer, _OTHER_ACTIVATIONS) else None
    return getattr(activation, "__name__", type(activation).__name__).lower()


_OTHER_ACTIVATIONS = (layers.LeakyReLU, layers.PReLU, layers.ELU, layers.Softmax)


def _check_relu_only(every: list[keras.layers.Layer]) -> None:
    """Raise unless every hidden Conv2D or Dense layer is followed by a ReLU."""
    weighted = [layer for layer in every if isinstance(layer, layers.Conv2D | layers.Dense)]
    last = weighted[-1]
    waiting = None  # a hidden layer with weights and no activation yet
    for layer in every:
        if isinstance(layer, keras.Model):
            continue
        name = _activation_name(layer)
        if isinstance(layer, layers.Conv2D | layers.Dense):
            if waiting is not None:
                raise Mistake(
                    f"layer '{waiting.name}' has no activation before '{layer.name}': give it "
                    "activation='relu' (two linear layers in a row are one linear layer)."
                )
            if layer is last:
                if name not in ("linear", "softmax"):
                    raise Mistake(
                        f"the output layer '{layer.name}' applies {name}: end with Dense(10) and "
                        "no activation (logits), as lenet5() does, or a softmax."
                    )
            elif name == "linear":
                waiting = layer
            elif name != "relu":
                raise Mistake(
                    f"layer '{layer.name}' uses {name}: the variant uses ReLU after every "
                    "convolution and hidden dense layer."
                )
        elif name == "relu":
            waiting = None
        elif name not in (None, "linear") and not (
            name == "softmax" and _after(every, last, layer)
        ):
            raise Mistake(f"layer '{layer.name}' applies {name}: the variant uses ReLU.")
    if waiting is not None:
        raise Mistake(f"layer '{waiting.name}' has no activation: give it activation='relu'.")


def _after(every: list[keras.layers.Layer], first: Any, second: Any) -> bool:
    indices = {id(layer): i for i, layer in enumerate(every)}
    return indices[id(second)] > indices[id(first)]


@exercise("lenet.4")
def check_4(model: Any) -> str:
    """Check a trained LeNet-5 variant with ReLU, max pooling and global average pooling.

    The model takes (28, 28, 1) images and returns 10 scores (logits, like ``lenet5()``, or
    softmax probabilities). It has at least two ``Conv2D`` layers (C1 and C3), ReLU after
    every hidden convolution and dense layer, ``MaxPooling2D`` and no ``AveragePooling2D``,
    ``GlobalAveragePooling2D`` and no ``Flatten``, at most :data:`PARAMETER_BUDGET`
    parameters, and classifies at least :data:`ACCURACY_FLOOR` of the bundled MNIST sample's
    1,000 test digits correctly (:data:`QUICK_ACCURACY_FLOOR` in quick mode, where the
    exercise trains for fewer epochs).

    Parameters
    ----------
    model : keras.Model
        The trained model.

    Returns
    -------
    str
        Its parameter count and test accuracy.

    Examples
    --------
    >>> check_4(...)
    Exercise lenet.4: not attempted yet: replace `...` with your answer.
    """
    name = "your LeNet-5 variant"
    model = as_model(model, name=name)
    check_classifier_shapes(model, name)
    every = all_layers(model)
    convolutions = [layer for layer in every if isinstance(layer, layers.Conv2D)]
    if len(convolutions) < 2:
        raise Mistake(
            f"{name} has {len(convolutions)} Conv2D layer(s): LeNet-5 has two convolutions, "
            "C1 and C3 (you may add more)."
        )
    flatten = [layer.name for layer in every if isinstance(layer, layers.Flatten)]
    if flatten:
        raise Mistake(
            f"{name} has a Flatten layer ('{flatten[0]}'): replace Flatten and the large "
            "Dense(120) after it with GlobalAveragePooling2D, one average per feature map."
        )
    if not any(isinstance(layer, layers.GlobalAveragePooling2D) for layer in every):
        raise Mistake(
            f"{name} has no GlobalAveragePooling2D: put one after the last convolution, "
            "before the Dense layers."
        )
    averages = [layer.name for layer in every if isinstance(layer, layers.AveragePooling2D)]
    if averages:
        raise Mistake(
            f"layer '{averages[0]}' is an AveragePooling2D: the variant replaces LeNet-5's "
            "average pooling (S2, S4) with MaxPooling2D."
        )
    if not any(isinstance(layer, layers.MaxPooling2D) for layer in every):
        raise Mistake(f"{name} has no MaxPooling2D: use MaxPooling2D(2) for S2 and S4.")
    _check_relu_only(every)
    check_parameter_budget(
        model,
        name,
        PARAMETER_BUDGET,
        "use fewer filters or units (a 5 x 5 convolution costs 25 x input channels weights per "
        "filter).",
    )
    floor = QUICK_ACCURACY_FLOOR if quick_mode() else ACCURACY_FLOOR
    share = model.count_params() / lenet5().count_params()
    return digit_accuracy_verdict(
        model,
        name,
        floor,
        "train for more epochs, or give the convolutions more filters within the budget.",
        remark=f", with {share:.0%} of LeNet-5's parameters",
    )


# ------------------------------------------------------- lenet.5: sigmoid vs ReLU, measured
@exercise("lenet.5")
def check_5(sigmoid_run: Any, relu_run: Any, better: Any) -> str:
    """Check the experiment: sigmoid vs ReLU LeNet-5 after the same number of epochs.

    The runs train ``lenet5()`` (sigmoid, average pooling) and ``lenet5(activation="relu",
    pooling="max")`` the same way, for the same number of epochs. Runs are given as Keras
    Histories (the check then also verifies the number of epochs and each run's
    activation), their ``.history`` dicts, or final validation accuracies. The ReLU run must
    not end more than :data:`~cnnkit.exercises.trained.EXPERIMENT_TOLERANCE` (0.02) below
    the sigmoid run, and `better` must name the run with the higher final validation
    accuracy (either is accepted when the two are within the tolerance).

    Parameters
    ----------
    sigmoid_run, relu_run : keras.callbacks.History, dict or float
        The two runs.
    better : str
        "sigmoid" or "relu": the run with the higher final validation accuracy.

    Returns
    -------
    str
        The two accuracies.

    Examples
    --------
    >>> check_5(..., ..., ...)
    Exercise lenet.5: not attempted yet: replace `...` with your answer.
    """
    sigmoid, sigmoid_epochs = final_validation_accuracy(sigmoid_run, "`sigmoid_run`")
    relu, relu_epochs = final_validation_accuracy(relu_run, "`relu_run`")
    when = same_epochs([sigmoid_epochs, relu_epochs], "the activation and pooling")
    for run, wanted, label in [
        (sigmoid_run, "sigmoid", "`sigmoid_run`"),
        (relu_run, "relu", "`relu_run`"),
    ]:
        network = getattr(run, "model", None)
        if not isinstance(network, keras.Model):
            continue
        used = {
            _activation_name(layer)
            for layer in all_layers(network)
            if isinstance(layer, layers.Conv2D | layers.Dense)
        } - {"linear", "softmax"}
        if used and used != {wanted}:
            raise Mistake(
                f"{label} trained a network with {', '.join(sorted(used))} activations, "
                f"expected {wanted}: did you swap the two runs?"
            )
    return experiment_verdict(
        {"sigmoid": sigmoid, "relu": relu},
        "relu",
        better,
        when,
        "Train lenet5() and lenet5(activation='relu', pooling='max') with the same optimiser, "
        "data and epochs.",
        names={"sigmoid": "the sigmoid LeNet-5", "relu": "the ReLU LeNet-5"},
    )
