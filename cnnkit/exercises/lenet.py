"""Checks for notebook 04's exercises: LeNet-5 by hand, the sigmoid's slope, gradient flow.

Exercise lenet.1 follows the shapes and counts the parameters of LeNet-5 on 32 x 32 inputs,
lenet.2 writes the sigmoid's derivative and finds the largest slope of the 1998 network's
scaled tanh, lenet.3 measures how much gradient reaches C1 in a tanh LeNet-5 and places
it between the sigmoid and ReLU networks with the same weights, lenet.4 is an experiment:
sigmoid vs ReLU LeNet-5 (both with average pooling) after the same number of epochs, and
lenet.5 classifies where activations saturate (left or right, hard or soft) from measured
slopes. The oracles (``cnnkit.models.lenet5`` and Keras' shapes and counts, TensorFlow's
automatic differentiation, gradients measured on the bundled MNIST sample, the definitions
of saturation) are computed or stated when a check runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnkit.data import load_mnist_csv
from cnnkit.exercises.checking import (
    Mistake,
    NotAttempted,
    answer_entries,
    as_array,
    as_model,
    call_answer,
    compare_arrays,
    compare_number,
    exercise,
    finite_array,
    your_name,
)
from cnnkit.exercises.trained import (
    all_layers,
    claimed_label,
    final_validation_accuracy,
    same_epochs,
)
from cnnkit.models import lenet5
from cnnkit.reference import conv_output_size

import keras
import numpy as np
import tensorflow as tf
from keras import layers

#: Exercise lenet.1: the input size of the 1998 paper.
PAPER_SIZE = 32
#: Exercise lenet.3: how many of the bundled sample's training digits the gradients are measured on.
GRADIENT_BATCH = 256

_LENET_LAYERS = ("c1_conv", "s2_pool", "c3_conv", "s4_pool")
_WEIGHTED_LAYERS = ("c1_conv", "c3_conv", "c5_dense", "f6_dense", "output")


def _entries(answer: Any, count: int, name: str, what: str) -> list[Any]:
    """`answer_entries`, with a hint (not a traceback) for a single number or 0-d array."""
    shape = getattr(answer, "shape", None)
    if shape is not None and not isinstance(answer, list | tuple) and len(shape) == 0:
        raise Mistake(f"{name} should be a list of {count} entries ({what}), got one value.")
    return answer_entries(answer, count, name, what)


def _finite_numbers(answer: Any, name: str) -> np.ndarray:
    return finite_array(answer, name, advice="give finite numbers")


# ------------------------------------------------------ lenet.1: shapes and parameters by hand
def _lenet_sizes(size: int, c1_padding: str, c3_padding: str) -> list[int]:
    """Heights (= widths) after C1, S2, C3 and S4 of LeNet-5 for a size x size image."""
    c1 = conv_output_size(size, 5, 1, c1_padding)
    s2 = conv_output_size(c1, 2, 2, "valid")
    c3 = conv_output_size(s2, 5, 1, c3_padding)
    return [c1, s2, c3, conv_output_size(c3, 2, 2, "valid")]


def _check_shapes(shapes: Any, model: keras.Model) -> None:
    entries = _entries(shapes, 4, "`shapes`", "the shapes of C1, S2, C3, S4")
    expected = [tuple(model.get_layer(name).output.shape[1:]) for name in _LENET_LAYERS]
    channels = [shape[-1] for shape in expected]
    variants = {
        "lenet5() pads C1 ('same'), which keeps 32 x 32; 28 x 28 is the paper's unpadded C1": (
            _lenet_sizes(PAPER_SIZE, "valid", "valid")
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
        row = _finite_numbers(got, name)
        if row.shape != (3,):
            raise Mistake(f"{name} should be three numbers, (height, width, channels).")
        if tuple(row[:2]) == want[:2] and row[2] != want[2]:
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


def _check_counts(counts: Any, model: keras.Model) -> None:
    entries = _entries(counts, 5, "`counts`", "C1, C3, C5, F6, output")
    expected = [model.get_layer(name).count_params() for name in _WEIGHTED_LAYERS]
    flat = int(np.prod(model.get_layer("s4_pool").output.shape[1:]))
    unpooled = int(np.prod(model.get_layer("c3_conv").output.shape[1:]))
    no_bias = "did you forget the biases (one per filter or unit)?"
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
                (5 * 5 * 16 + 1) * 120
            ),
            "Flatten comes after S4's pooling": (unpooled + 1) * 120,
        },
        {no_bias: expected[3] - 84},
        {no_bias: expected[4] - 10},
    ]
    for got, want, name, typical in zip(entries, expected, _WEIGHTED_LAYERS, mistakes, strict=True):
        label = f"the parameter count of {name}"
        _finite_numbers(got, label)
        compare_number(got, want, name=label, mistakes=typical)


@exercise("lenet.1")
def check_1(shapes: Any, counts: Any) -> str:
    """Check the shapes and parameter counts of ``lenet5(input_shape=(32, 32, 1))``.

    The network is the course's LeNet-5 (C1 "same", C3 "valid", 2 x 2 poolings with stride
    2) on 32 x 32 x 1 images; the oracle is its Keras output shapes and ``count_params``.
    Exact integers are expected.

    Parameters
    ----------
    shapes : sequence of 4 (height, width, channels)
        The output shapes of C1, S2, C3 and S4, without the batch dimension.
    counts : sequence of 5 int
        The parameters of C1, C3, C5, F6 and the output layer, in that order.

    Returns
    -------
    str
        How many values reach C5, and the total compared with 28 x 28 inputs.

    Examples
    --------
    >>> check_1(..., ...)
    Exercise lenet.1: not attempted yet: replace `...` with your answer.
    """
    model = lenet5(input_shape=(PAPER_SIZE, PAPER_SIZE, 1))
    _check_shapes(shapes, model)
    _check_counts(counts, model)
    s4 = model.get_layer("s4_pool").output.shape[1:]
    return (
        f"S4's {s4[0]} x {s4[1]} x {s4[2]} maps give {int(np.prod(s4))} values to C5; "
        f"{model.count_params():,} parameters for 32 x 32 images, {lenet5().count_params():,} "
        "for 28 x 28: only C5, the layer after Flatten, depends on the image size."
    )


# ----------------------------------------------------------------- lenet.2: the sigmoid's slope
def _sigmoid_slope_autodiff(x: np.ndarray) -> np.ndarray:
    """d sigmoid(x) / dx by TensorFlow's automatic differentiation, in float64."""
    tensor = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        values = keras.activations.sigmoid(tensor)
    return tape.gradient(values, tensor).numpy()


#: Exercise lenet.2: the 1998 network's activation, f(a) = A tanh(S a) (LeCun et al., 1998).
TANH_1998 = (1.7159, 2 / 3)


def _tanh_1998_peak_slope() -> float:
    """The largest slope of 1.7159 tanh(2a/3), at a = 0, by automatic differentiation."""
    amplitude, scale = TANH_1998
    tensor = tf.constant(0.0, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        values = amplitude * keras.activations.tanh(scale * tensor)
    return float(tape.gradient(values, tensor).numpy())


@exercise("lenet.2")
def check_2(sigmoid_slope: Callable[[np.ndarray], Any], peak_1998: Any) -> str:
    """Check a NumPy sigmoid derivative and the largest slope of the 1998 activation.

    ``sigmoid_slope(x)`` is compared elementwise with TensorFlow's automatic derivative of
    ``keras.activations.sigmoid`` on several float64 arrays (a scalar, a vector from -6 to 6,
    a 3 x 4 matrix, and values as large as +-40), within 1e-6. `peak_1998` is the largest
    slope of the 1998 network's activation ``1.7159 * tanh(2 * a / 3)`` (at a = 0, by
    automatic differentiation), within a relative 1e-3.

    Parameters
    ----------
    sigmoid_slope : callable
        Takes a NumPy array (or a float) and returns the derivative at each value.
    peak_1998 : float
        The largest slope of 1.7159 tanh(2a/3).

    Returns
    -------
    str
        What three such slopes (five in the 1998 network) multiply a gradient by, against
        three sigmoid slopes.

    Examples
    --------
    >>> check_2(..., ...)
    Exercise lenet.2: not attempted yet: replace `...` with your answer.
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
        if not np.all(np.isfinite(got)):
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
    amplitude, scale = TANH_1998
    peak = _tanh_1998_peak_slope()
    _finite_numbers(peak_1998, "`peak_1998`")
    compare_number(
        peak_1998,
        peak,
        name="`peak_1998`",
        rtol=1e-3,
        atol=0.0,
        mistakes={
            "that is 1.7159, the amplitude alone: the chain rule also multiplies by the 2/3 "
            "inside tanh": amplitude,
            "that is the 2/3 inside tanh alone: multiply by the amplitude 1.7159 too": scale,
            "the inner factor is 2/3, not 3/2: d tanh(2a/3)/da = (2/3)(1 - tanh^2(2a/3))": (
                amplitude / scale
            ),
            "that is about 1: plain tanh's largest slope, or the value f(1) = 1.7159 "
            "tanh(2/3) (LeCun chose the constants so that f(1) = 1); the slope of the scaled "
            "tanh at 0 is the product of both constants": amplitude * np.tanh(scale),
            "that is the sigmoid's largest slope; the 1998 network used a scaled tanh": steepest,
        },
    )
    return (
        f"the 1998 activation's slope is at most {peak:.4g} (above 1), the sigmoid's "
        f"{steepest:g}. In our LeNet-5 with this activation, three slopes (F6, C5, C3) "
        f"multiply a gradient by up to {peak**3:.2f}, three sigmoid slopes by at most "
        f"1/{1 / steepest**3:.0f}; in the 1998 network S2 and S4 apply it too (five slopes: up "
        f"to {peak**5:.2f}). The weights multiply it too: the notebook's section 8 measures what "
        "actually reaches C1."
    )


# ------------------------------------------------------- lenet.3: gradient flow through tanh
def measure_activation_gradients(
    network: keras.Model, images: np.ndarray, labels: np.ndarray
) -> dict[str, float]:
    """The size of the gradient reaching each layer's output, one image at a time.

    For each image, the length (L2 norm) of dL/da over all the values a layer outputs, where
    L is that image's cross-entropy loss; averaged over the images. The same measurement as
    the notebook's ``activation_gradients`` (section 8).

    Parameters
    ----------
    network : keras.Sequential
        A network like ``lenet5()``, returning logits.
    images, labels : ndarray
        A batch of raw images and their integer labels.

    Returns
    -------
    dict of str to float
        Layer name to gradient size, for every layer but Rescaling and Flatten.

    Examples
    --------
    >>> images, labels = np.zeros((2, 28, 28, 1), np.uint8), np.array([0, 1])
    >>> sorted(measure_activation_gradients(lenet5(), images, labels))[:3]
    ['c1_conv', 'c3_conv', 'c5_dense']
    """
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    outputs = {}
    with tf.GradientTape() as tape:
        x = tf.convert_to_tensor(images)
        for layer in network.layers:
            x = layer(x)
            if layer.name not in ("rescaling", "flatten"):
                tape.watch(x)
                outputs[layer.name] = x
        loss = loss_fn(labels, x)
    gradients = tape.gradient(loss, list(outputs.values()))
    return {
        name: float(np.mean(np.linalg.norm(np.reshape(g, (len(images), -1)), axis=1)))
        for name, g in zip(outputs, gradients, strict=True)
    }


def gradient_batch() -> tuple[np.ndarray, np.ndarray]:
    """The first :data:`GRADIENT_BATCH` training digits of the bundled MNIST sample."""
    (images, labels), _, _ = load_mnist_csv("mnist-sample")
    return images[:GRADIENT_BATCH], labels[:GRADIENT_BATCH]


def _c1_share(network: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    gradients = measure_activation_gradients(network, images, labels)
    return gradients["c1_conv"] / gradients["output"]


def _lenet_with(network: keras.Model, activation: str) -> keras.Model:
    """lenet5 with `activation` and average pooling, holding `network`'s weights."""
    copy = lenet5(activation=activation)
    copy.set_weights(network.get_weights())
    return copy


def _check_tanh_lenet(network: Any) -> keras.Model:
    name = "`tanh_net`"
    network = as_model(network, name=name)
    names = [layer.name for layer in network.layers]
    if names != [layer.name for layer in lenet5().layers]:
        raise Mistake(
            f"{name} should be lenet5(activation='tanh'): its layers are {names}, not lenet5()'s."
        )
    used = {
        getattr(layer.activation, "__name__", "")
        for layer in network.layers
        if isinstance(layer, layers.Conv2D | layers.Dense) and layer.name != "output"
    }
    if used != {"tanh"}:
        raise Mistake(f"{name} uses {', '.join(sorted(used))}: build lenet5(activation='tanh').")
    if any(isinstance(layer, layers.MaxPooling2D) for layer in network.layers):
        raise Mistake(f"{name} uses max pooling: keep lenet5()'s average pooling.")
    return network


@exercise("lenet.3")
def check_3(tanh_net: Any, tanh_c1_share: Any, closer_to: Any) -> str:
    """Check the gradient reaching C1 of a tanh LeNet-5, and whom it resembles.

    `tanh_c1_share` is the gradient size at C1's output divided by the gradient size at the
    logits (:func:`measure_activation_gradients` on :func:`gradient_batch`), for the
    learner's own `tanh_net`, within a relative 1e-2. `closer_to` names the network, sigmoid
    or ReLU (average pooling, `tanh_net`'s weights copied in), whose share is closer to the
    tanh share on a log scale (the ratio of the two shares nearer 1).

    Parameters
    ----------
    tanh_net : keras.Model
        ``lenet5(activation="tanh")``, trained or not.
    tanh_c1_share : float
        Gradient size at C1 over gradient size at the output.
    closer_to : str
        "sigmoid" or "relu".

    Returns
    -------
    str
        The three shares.

    Examples
    --------
    >>> check_3(..., ..., ...)
    Exercise lenet.3: not attempted yet: replace `...` with your answer.
    """
    network = _check_tanh_lenet(tanh_net)
    images, labels = gradient_batch()
    gradients = measure_activation_gradients(network, images, labels)
    share = gradients["c1_conv"] / gradients["output"]
    _finite_numbers(tanh_c1_share, "`tanh_c1_share`")
    compare_number(
        tanh_c1_share,
        share,
        name="`tanh_c1_share`",
        rtol=1e-2,
        atol=0.0,
        mistakes={
            "that is the output's gradient over C1's: divide C1's by the output's": 1 / share,
            "that is C3's gradient, not C1's": gradients["c3_conv"] / gradients["output"],
            "divide by the gradient at the output (the logits), not at F6": (
                gradients["c1_conv"] / gradients["f6_dense"]
            ),
        },
    )
    shares = {
        act: _c1_share(_lenet_with(network, act), images, labels) for act in ("sigmoid", "relu")
    }
    distance = {act: abs(np.log(value / share)) for act, value in shares.items()}
    nearest = min(distance, key=distance.get)
    numbers = (
        f"C1 gets {share:.3g} of the output's gradient with tanh, {shares['sigmoid']:.3g} with "
        f"sigmoid and {shares['relu']:.3g} with ReLU (the same weights)"
    )
    if claimed_label(closer_to, ["sigmoid", "relu"]) != nearest:
        raise Mistake(
            f"{numbers}: on a log scale (the ratio nearer 1), tanh's share is closer to "
            f"{nearest}'s, not to the one your `closer_to` names."
        )
    return (
        f"{numbers}: closer to {nearest}. tanh's slope is 1 at 0, four times the sigmoid's, "
        "which is one reason the 1998 network used a (scaled) tanh."
    )


# ------------------------------------------------------- lenet.4: sigmoid vs ReLU, measured
def _check_average_pooling(run: Any, label: str) -> None:
    """Raise if a History's model uses max pooling: only the activation should change."""
    network = getattr(run, "model", None)
    if isinstance(network, keras.Model) and any(
        isinstance(layer, layers.MaxPooling2D) for layer in all_layers(network)
    ):
        raise Mistake(
            f"{label} trained a network with max pooling: keep lenet5()'s average pooling in "
            "both runs, so that only the activation differs."
        )


def _check_activation(run: Any, wanted: str, label: str) -> None:
    """Raise if a History's model uses another activation than `wanted` (e.g. swapped runs)."""
    network = getattr(run, "model", None)
    if not isinstance(network, keras.Model):
        return
    used = {
        getattr(getattr(layer, "activation", None), "__name__", "")
        for layer in all_layers(network)
        if isinstance(layer, layers.Conv2D | layers.Dense)
    } - {"linear", "softmax", ""}
    if used and used != {wanted}:
        raise Mistake(
            f"{label} trained a network with {', '.join(sorted(used))} activations, expected "
            f"{wanted}: did you swap the two runs?"
        )


def _require_trained_network(run: Any, label: str) -> None:
    """Raise unless `run` is a History of a convolutional network (what the text asks for)."""
    network = getattr(run, "model", None)
    if not isinstance(run, keras.callbacks.History) or not isinstance(network, keras.Model):
        raise Mistake(
            f"{label} should be the History that `train_on_digits` returned (the check reads "
            f"its epochs and the network it trained), got {type(run).__name__}."
        )
    if not any(isinstance(layer, layers.Conv2D) for layer in all_layers(network)):
        raise Mistake(f"{label} trained a network without convolutions: train a lenet5(...).")


def tie_band(a: float, b: float, n: int) -> float:
    """Two standard errors of the gap between two accuracies on the same `n` images.

    The notebook's section 5 rule: one accuracy p on n images has a standard error of about
    sqrt(p (1 - p) / n), the difference of two sqrt(2) times that (rough, since the images
    are shared), with p the higher of the two; a gap within two of those is too close to call.

    Parameters
    ----------
    a, b : float
        The two accuracies, 0 to 1.
    n : int
        How many images each was measured on.

    Returns
    -------
    float
        The largest gap that is still a tie.

    Examples
    --------
    >>> round(tie_band(0.88, 0.9, 400), 3)
    0.042
    """
    p = max(a, b)
    return float(2 * np.sqrt(2) * np.sqrt(p * (1 - p) / n))


@exercise("lenet.4")
def check_4(sigmoid_run: Any, relu_run: Any, better: Any) -> str:
    """Check the experiment: sigmoid vs ReLU LeNet-5 after the same number of epochs.

    Both networks use average pooling, so only the activation differs. Runs are the Keras
    Histories that ``fit`` returned: the check reads their final validation accuracies and
    verifies the number of epochs and each network's convolutions, activation and pooling.
    `better` must name the run with the higher final validation accuracy, whichever it is;
    when the gap is within two standard errors of a difference (the notebook's section 5 rule,
    :func:`tie_band`, on the bundled sample's validation digits), either answer is accepted.

    Parameters
    ----------
    sigmoid_run, relu_run : keras.callbacks.History
        The two runs.
    better : str
        "sigmoid" or "relu": the run with the higher final validation accuracy.

    Returns
    -------
    str
        The two accuracies.

    Examples
    --------
    >>> check_4(..., ..., ...)
    Exercise lenet.4: not attempted yet: replace `...` with your answer.
    >>> check_4(0.62, 0.95, "relu")  # doctest: +ELLIPSIS
    Exercise lenet.4: not right yet: `sigmoid_run` should be the History that ...
    """
    _require_trained_network(sigmoid_run, "`sigmoid_run`")
    _require_trained_network(relu_run, "`relu_run`")
    sigmoid, sigmoid_epochs = final_validation_accuracy(sigmoid_run, "`sigmoid_run`")
    relu, relu_epochs = final_validation_accuracy(relu_run, "`relu_run`")
    when = same_epochs([sigmoid_epochs, relu_epochs], "the activation")
    _check_activation(sigmoid_run, "sigmoid", "`sigmoid_run`")
    _check_activation(relu_run, "relu", "`relu_run`")
    _check_average_pooling(sigmoid_run, "`sigmoid_run`")
    _check_average_pooling(relu_run, "`relu_run`")
    numbers = f"validation accuracy {when}: sigmoid {sigmoid:.1%}, ReLU {relu:.1%}"
    claimed = claimed_label(better, ["sigmoid", "relu"])
    (_, _), (_, valid_labels), _ = load_mnist_csv("mnist-sample")
    band = tie_band(sigmoid, relu, len(valid_labels))
    if abs(sigmoid - relu) <= band:
        return (
            f"{numbers}: within two standard errors of a difference on {len(valid_labels)} "
            f"digits ({100 * band:.1f} points, section 5's rule), too close to call, so either "
            "answer is accepted; more epochs or other seeds would be needed."
        )
    higher = "relu" if relu > sigmoid else "sigmoid"
    if claimed != higher:
        raise Mistake(
            f"{numbers}: your `better` says {claimed}, but your own numbers say {higher}."
        )
    names = {"relu": "ReLU", "sigmoid": "sigmoid"}
    return f"{numbers}: {names[higher]} ahead by {100 * abs(relu - sigmoid):.1f} percentage points."


# ------------------------------------------------- lenet.5: where an activation saturates
#: Exercise lenet.5: where a wrong answer's hint shows the slopes, on the side concerned.
SATURATION_POINTS = (3.0, 10.0, 100.0, 1e4)
#: Exercise lenet.5: the answers a side can get.
SATURATION_KINDS = ("hard", "soft", "none")


def _leaky_relu_pytorch(x: Any) -> Any:
    """Leaky ReLU with PyTorch's default negative slope, 0.01 (Keras' default is 0.2)."""
    return keras.activations.leaky_relu(x, negative_slope=0.01)


def _tanh_plus_line(x: Any) -> Any:
    """tanh(x) + 0.001 x: its slope falls tenfold from 3 to 10, then levels off at 0.001."""
    return keras.ops.tanh(x) + 0.001 * x


def _slow_softsign(x: Any) -> Any:
    """x / (1 + |x| / 100): a softsign stretched 100 times; its slope falls only beyond 10."""
    return x / (1 + keras.ops.abs(x) / 100)


#: Exercise lenet.5: the activations tried, in order, with (left, right) from the definitions.
SATURATION_ANSWERS: dict[str, tuple[Callable[[Any], Any], tuple[str, str]]] = {
    "keras.activations.sigmoid": (keras.activations.sigmoid, ("soft", "soft")),
    "keras.activations.tanh": (keras.activations.tanh, ("soft", "soft")),
    "keras.activations.relu": (keras.activations.relu, ("hard", "none")),
    "keras.activations.elu": (keras.activations.elu, ("soft", "none")),
    "keras.activations.leaky_relu": (keras.activations.leaky_relu, ("none", "none")),
    "leaky_relu with negative_slope=0.01": (_leaky_relu_pytorch, ("none", "none")),
    "keras.activations.softplus": (keras.activations.softplus, ("soft", "none")),
    "keras.activations.hard_sigmoid": (keras.activations.hard_sigmoid, ("hard", "hard")),
    "keras.activations.relu6": (keras.activations.relu6, ("hard", "hard")),
    "keras.activations.softsign": (keras.activations.softsign, ("soft", "soft")),
    "keras.activations.silu": (keras.activations.silu, ("soft", "none")),
    "tanh(x) + 0.001 * x": (_tanh_plus_line, ("none", "none")),
    "x / (1 + |x| / 100)": (_slow_softsign, ("soft", "soft")),
}


def _anonymous(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`function` behind a wrapper without its name, so an answer must measure, not look it up."""

    def activation(x: Any) -> Any:
        return function(x)

    return activation


def activation_slopes(function: Callable[[Any], Any], x: Any) -> np.ndarray:
    """|f'(x)| by TensorFlow's automatic differentiation, in float64, elementwise.

    float64, because in float32 ``tanh(10)`` rounds to exactly 1 and its slope to exactly 0.
    Farther out float64 rounds too: ``tanh(100)`` is exactly 1.0 and ``exp(-1e4)`` is 0.

    Parameters
    ----------
    function : callable
        An activation, such as ``keras.activations.elu``.
    x : array-like
        Where to measure.

    Returns
    -------
    ndarray
        The size of the slope at each x.

    Examples
    --------
    >>> activation_slopes(keras.activations.relu, [-10.0, -3.0, 3.0, 10.0]).tolist()
    [0.0, 0.0, 1.0, 1.0]
    >>> activation_slopes(keras.activations.tanh, [10.0, 100.0]) > 0
    array([ True, False])
    """
    tensor = tf.constant(np.asarray(x, dtype=np.float64))
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        values = function(tensor)
    return np.abs(tape.gradient(values, tensor).numpy())


def _saturation_sides(answer: Any, name: str) -> tuple[str, str]:
    """The learner's (left, right) verdicts, lower case, or a hint for any other form."""
    usage = f"{name} should be two strings, (left, right), each 'hard', 'soft' or 'none'"
    if isinstance(answer, dict):
        keys = {str(key).strip().lower(): value for key, value in answer.items()}
        if set(keys) != {"left", "right"}:
            raise Mistake(f"{usage}; a dict needs exactly the keys 'left' and 'right'.")
        answer = (keys["left"], keys["right"])
    if isinstance(answer, np.ndarray) and answer.ndim == 1:
        answer = answer.tolist()
    if not isinstance(answer, list | tuple) or len(answer) != 2:
        raise Mistake(f"{usage}, got {answer!r}.")
    if any(side is Ellipsis for side in answer):
        raise NotAttempted(f"{name} still holds `...`: return a verdict for both sides.")
    sides = []
    for side, value in zip(("left", "right"), answer, strict=True):
        if value is None:
            raise Mistake(
                f"{name}: the {side} side is None: write the string 'none' for a side that "
                "does not saturate."
            )
        if not isinstance(value, str):
            raise Mistake(f"{usage}; the {side} side is {_describe_value(value)}.")
        text = value.strip().lower()
        if text not in SATURATION_KINDS:
            raise Mistake(f"{usage}; the {side} side is {value!r}.")
        sides.append(text)
    return sides[0], sides[1]


def _describe_value(value: Any) -> str:
    kind = type(value).__name__
    article = "an" if kind[0] in "aeiouAEIOU" else "a"
    return f"{value!r} ({article} {kind}, not a string)"


def _saturation_hint(label: str, side: str, expected: str, got: str, slopes: np.ndarray) -> str:
    """Why `got` is wrong for one side of one activation, from its |slopes| far out."""
    sign = "-" if side == "left" else "+"
    verdict = {"hard": "it saturates hard", "soft": "it saturates softly"}
    at = ", ".join(
        f"{slope:.2g} at x = {sign}{x:g}"
        for x, slope in zip(SATURATION_POINTS, slopes, strict=True)
    )
    measured = (
        f"{label}, {side} side (x -> {sign}inf): |slope| {at}, so "
        f"{verdict.get(expected, 'it does not saturate')}; you said {got!r}"
    )
    if expected == "none":
        return (
            f"{measured}. The slope does not tend to 0: it levels off above 0 (or grows). A slope "
            "that falls between 3 and 10 need not go on falling, so look farther out; and a "
            "small slope that stays the same, like leaky ReLU's, is not saturation."
        )
    if expected == "hard":
        return f"{measured}. The slope is exactly 0 beyond some point: that is hard saturation."
    if got == "hard":
        return (
            f"{measured}. The slope is not exactly 0 at x = {sign}10; farther out it comes out "
            "exactly 0 only because float64 rounds (tanh(100) is exactly 1.0) or underflows "
            "(exp(-|x|) is 0 beyond |x| = 745): rounding, not hard saturation. Call a side hard "
            "only where the slope is exactly 0 at a distance where nothing rounds, and measure "
            "in float64 (in float32, tanh(10) already rounds to 1 and its slope to exactly 0)."
        )
    return (
        f"{measured}. The slope is still falling towards 0 far out. A slope that is not 0 at "
        "10 but exactly 0 farther out is float64 rounding a slope that keeps falling: count it "
        "as still falling. Soft saturation is about "
        "where the slope goes, not how small it is at one point; compare |slope| (silu's slope "
        "is negative on the left) at two distances, far enough out (some slopes only start to "
        "fall beyond 10)."
    )


@exercise("lenet.5")
def check_5(saturation: Callable[[Any], Any]) -> str:
    """Check a function that tells where an activation saturates, left and right, hard or soft.

    ``saturation(activation)`` gets an activation function (a wrapper without its name; it
    takes a tensor or array and returns a tensor, computing in the input's dtype) and returns
    ``(left, right)``, each "hard" (the slope is exactly 0 beyond some point), "soft" (it only
    tends to 0) or "none". Lists, tuples, 1-D arrays of two strings and dicts with keys "left"
    and "right" are accepted, in any letter case. It is tried on the activations of
    :data:`SATURATION_ANSWERS`, in order: five the notebook plots (leaky ReLU as
    ``keras.activations.leaky_relu``, slope 0.2), then leaky ReLU with slope 0.01, softplus,
    hard_sigmoid, relu6, softsign, silu, tanh(x) + 0.001 x (slope tends to 0.001) and
    x / (1 + |x| / 100) (slope tends to 0, but only falls beyond 10). The expected answers come
    from the definitions, the hints from slopes measured with :func:`activation_slopes` at
    :data:`SATURATION_POINTS`. The notebook's 3-and-10 rule calls tanh(x) + 0.001 x soft.

    Parameters
    ----------
    saturation : callable
        Takes an activation function; returns ``(left, right)``.

    Returns
    -------
    str
        What the activations the notebook does not show teach.

    Examples
    --------
    >>> check_5(...)
    Exercise lenet.5: not attempted yet: replace `...` with your answer.
    >>> check_5(lambda activation: ("soft", "soft"))  # doctest: +ELLIPSIS
    Exercise lenet.5: not right yet: keras.activations.relu, left side (x -> -inf): ...
    """
    name = your_name(saturation)
    for label, (function, expected) in SATURATION_ANSWERS.items():
        answer = call_answer(saturation, _anonymous(function), name=name)
        got = _saturation_sides(answer, f"{name}'s answer for {label}")
        for i, side in enumerate(("left", "right")):
            if got[i] == expected[i]:
                continue
            sign = -1.0 if side == "left" else 1.0
            slopes = activation_slopes(function, [sign * x for x in SATURATION_POINTS])
            hint = _saturation_hint(label, side, expected[i], got[i], slopes)
            if side == "right" and got[0] == got[1] and expected[0] != expected[1]:
                hint += " Your answer gives both sides the same verdict: measure the right too."
            raise Mistake(hint)
    softsign = activation_slopes(keras.activations.softsign, [10.0])[0]
    line = activation_slopes(_tanh_plus_line, [3.0, 10.0, 1e4])
    return (
        f"all {len(SATURATION_ANSWERS)} activations right. softsign's slope falls only like "
        f"1/x^2 ({softsign:.2g} at x = 10), so 'below 1e-3 at 10' would call it unsaturated; "
        f"tanh(x) + 0.001 x falls from {line[0]:.2g} at 3 to {line[1]:.2g} at 10 and is still "
        f"{line[2]:.2g} at 1e4: a few points only suggest a limit, so read the trend far out, "
        "and read 'hard' where float64 does not round."
    )
