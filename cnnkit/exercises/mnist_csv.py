"""Checks for notebook 03's exercises: a CNN on MNIST digits, counted, sized and trained.

Exercise mnist_csv.1 counts the parameters of a variant of the notebook's network (5 x 5 "valid"
convolutions), mnist_csv.2 works out receptive fields, mnist_csv.3 the multiply-adds of three layers, mnist_csv.4
builds and trains a CNN under a parameter budget, and mnist_csv.5 is an experiment: the validation
accuracy after the same number of epochs with batches of 64 and of 1,000 images. The oracles
(Keras' parameter counts and output shapes, ``cnnkit.reference.receptive_field``, the bundled
MNIST sample's test digits) are computed when a check runs.
"""

from __future__ import annotations

from typing import Any

from cnnkit import reference
from cnnkit.exercises.checking import (
    Mistake,
    answer_entries,
    as_model,
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
from cnnkit.models import mnist_cnn
from cnnkit.runtime import quick_mode

import keras
import numpy as np
from keras import layers

#: Exercise mnist_csv.4: the most parameters the learner's CNN may have.
PARAMETER_BUDGET = 20_000
#: Exercise mnist_csv.4: the least accuracy on the bundled sample's 1,000 test digits.
ACCURACY_FLOOR = 0.93
#: Exercise mnist_csv.4: the floor in quick mode, where the exercise trains for fewer epochs.
QUICK_ACCURACY_FLOOR = 0.70
#: Exercise mnist_csv.5: the two batch sizes compared.
BATCH_SIZES = (64, 1000)


# ------------------------------------------------------------------ mnist_csv.1: parameter counts
def _variant_5x5() -> keras.Model:
    """The notebook's model with 5 x 5 "valid" convolutions instead of 3 x 3 "same" ones."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 5, activation="relu"),
            layers.Conv2D(64, 5, activation="relu"),
            layers.MaxPool2D(2),
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


@exercise("mnist_csv.1")
def check_1(counts: Any) -> str:
    """Check the parameter counts of the four layers with weights of the 5 x 5 "valid" variant.

    The variant is the notebook's network with ``Conv2D(32, 5)`` and ``Conv2D(64, 5)``
    ("valid" padding) instead of 3 x 3 "same" convolutions; everything else is the same. The
    oracle is Keras' ``count_params`` of each layer; exact integers are expected.

    Parameters
    ----------
    counts : sequence of 4 int
        The parameters of the first convolution, the second convolution, the Dense(128) layer
        after Flatten and the Dense(10) output layer, in that order.

    Returns
    -------
    str
        The total and where it sits.

    Examples
    --------
    >>> check_1(...)
    Exercise mnist_csv.1: not attempted yet: replace `...` with your answer.
    """
    entries = answer_entries(counts, 4, "`counts`", "conv1, conv2, dense, output")
    model = _variant_5x5()
    weighted = [layer for layer in model.layers if layer.count_params()]
    expected = [layer.count_params() for layer in weighted]
    conv2, dense = weighted[1], weighted[2]
    size = conv2.output.shape[1]  # height and width after the second convolution
    n_flat = int(np.prod(dense.input.shape[1:]))
    no_bias = "did you forget the biases (one per filter or unit)?"
    mistakes = [
        {no_bias: expected[0] - 32},
        {
            no_bias: expected[1] - 64,
            "the second convolution reads the first one's 32 channels, not the image's 1: "
            "5 * 5 * 32 weights per filter": 5 * 5 * 1 * 64 + 64,
        },
        {
            no_bias: n_flat * 128,
            "that is the notebook's model: 'same' padding keeps 28 x 28, but 'valid' 5 x 5 "
            f"convolutions shrink it (28 -> 24 -> {size}, then pooled)": 14 * 14 * 64 * 128 + 128,
            f"Flatten comes after the pooling, which halves {size} x {size}": (
                size * size * 64 * 128 + 128
            ),
            "a 5 x 5 'valid' convolution removes 4 rows and 4 columns, not 2": (
                12 * 12 * 64 * 128 + 128
            ),
        },
        {no_bias: expected[3] - 10},
    ]
    names = [
        "conv1 (5x5, 1 -> 32 channels)",
        "conv2 (5x5, 32 -> 64 channels)",
        "the Dense(128) after Flatten",
        "the Dense(10) output",
    ]
    for got, want, name, typical in zip(entries, expected, names, mistakes, strict=True):
        compare_number(got, want, name=f"the parameter count of {name}", mistakes=typical)
    total = sum(expected)
    return (
        f"{total:,} parameters in all; the Dense(128) layer holds {expected[2] / total:.1%} of "
        f"them (the notebook's 3 x 3 'same' model: {mnist_cnn().count_params():,})."
    )


# ------------------------------------------------------------------ mnist_csv.2: receptive fields
def _lean_cnn() -> keras.Model:
    """The notebook's lean model (section 7), after keras-io's Simple MNIST convnet."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", name="lean_conv1"),
            layers.MaxPool2D(2, name="lean_pool1"),
            layers.Conv2D(64, 3, activation="relu", name="lean_conv2"),
            layers.MaxPool2D(2, name="lean_pool2"),
            layers.Flatten(name="lean_flatten"),
            layers.Dropout(0.5, name="lean_dropout"),
            layers.Dense(10, activation="softmax", name="lean_output"),
        ],
        name="lean_cnn",
    )


def _stack(model: keras.Model, last: int) -> list[tuple[int, int, bool]]:
    """(kernel, stride, is pooling) of the convolutions and poolings in model.layers[:last+1]."""
    stack = []
    for layer in model.layers[: last + 1]:
        if isinstance(layer, layers.Conv2D):
            stack.append((layer.kernel_size[0], layer.strides[0], False))
        elif isinstance(layer, layers.MaxPooling2D | layers.AveragePooling2D):
            stack.append((layer.pool_size[0], layer.strides[0], True))
    return stack


def _field_mistakes(stack: list[tuple[int, int, bool]]) -> dict[str, int]:
    """The receptive fields that typical mistakes give for `stack`, each with its hint."""
    field = reference.receptive_field([(k, s) for k, s, _ in stack])
    kernels = [k for k, _, _ in stack]
    mistakes = {
        "receptive fields grow by (kernel - 1) x the step between neighbouring values, they "
        "do not multiply": int(np.prod(kernels)),
        "adding the kernel sizes counts the centre pixel once per layer: each k x k layer "
        "adds k - 1": sum(kernels),
        "a stride-2 pooling doubles the step between neighbouring values, so every layer "
        "after it adds (k - 1) x 2": reference.receptive_field(kernels),
        "a pooling window widens the view as well: it adds (pool size - 1) x the step": (
            reference.receptive_field([(1 if pool else k, s) for k, s, pool in stack])
        ),
        "the poolings count too, with their window and their stride": (
            reference.receptive_field([k for k, _, pool in stack if not pool])
        ),
    }
    mistakes[
        "that is the receptive field of the layer below: this layer adds (its kernel - 1) x "
        "the step between its inputs"
    ] = reference.receptive_field([(k, s) for k, s, _ in stack[:-1]])
    return {hint: value for hint, value in mistakes.items() if value != field}


@exercise("mnist_csv.2")
def check_2(fields: Any) -> str:
    """Check the receptive fields of three layers of the notebook's two networks.

    The oracle is :func:`cnnkit.reference.receptive_field` applied to the kernel sizes and
    strides read from the Keras layers; exact integers are expected.

    Parameters
    ----------
    fields : sequence of 3 int
        The receptive field (one side of the square of input pixels that one output value
        sees) of ``mnist_cnn``'s second convolution, of the lean model's ``lean_conv2`` and of
        its ``lean_pool2``, in that order.

    Returns
    -------
    str
        What the last one means for the classifier.

    Examples
    --------
    >>> check_2(...)
    Exercise mnist_csv.2: not attempted yet: replace `...` with your answer.
    """
    entries = answer_entries(fields, 3, "`fields`", "mnist_cnn's conv2d_1, lean_conv2, lean_pool2")
    big, lean = mnist_cnn(), _lean_cnn()
    names = [layer.name for layer in lean.layers]
    stacks = [
        _stack(big, 1),  # the second Conv2D
        _stack(lean, names.index("lean_conv2")),
        _stack(lean, names.index("lean_pool2")),
    ]
    labels = ["mnist_cnn's second convolution", "lean_conv2", "lean_pool2"]
    for got, stack, label in zip(entries, stacks, labels, strict=True):
        expected = reference.receptive_field([(k, s) for k, s, _ in stack])
        compare_number(
            got,
            expected,
            name=f"the receptive field of {label}",
            mistakes=_field_mistakes(stack),
        )
    last = reference.receptive_field([(k, s) for k, s, _ in stacks[2]])
    return (
        f"each of the 5 x 5 x 64 values that reach the lean model's classifier sees a "
        f"{last} x {last} window of the 28 x 28 digit."
    )


# -------------------------------------------------------------------- mnist_csv.3: multiply-adds
def _multiply_adds(layer: keras.layers.Layer) -> int:
    """Multiply-adds of one Conv2D or Dense layer for one input, biases left out."""
    if isinstance(layer, layers.Conv2D):
        height, width, filters = layer.output.shape[1:]
        kh, kw = layer.kernel_size
        return height * width * filters * kh * kw * layer.input.shape[-1]
    return layer.input.shape[-1] * layer.units


@exercise("mnist_csv.3")
def check_3(multiply_adds: Any) -> str:
    """Check the multiply-adds of ``mnist_cnn``'s two convolutions and its Dense(128) layer.

    One multiply-add (``a += w * x``) counts as one; bias additions are left out. The oracle
    is computed from the Keras layers' kernel sizes and output shapes for one 28 x 28 x 1
    digit; exact integers are expected.

    Parameters
    ----------
    multiply_adds : sequence of 3 int
        Multiply-adds of the first convolution, the second convolution and the Dense(128)
        layer, in that order.

    Returns
    -------
    str
        How compute and parameters compare.

    Examples
    --------
    >>> check_3(...)
    Exercise mnist_csv.3: not attempted yet: replace `...` with your answer.
    """
    entries = answer_entries(multiply_adds, 3, "`multiply_adds`", "conv2d, conv2d_1, dense")
    model = mnist_cnn()
    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    dense = next(layer for layer in model.layers if isinstance(layer, layers.Dense))
    chosen = [*convs, dense]
    expected = [_multiply_adds(layer) for layer in chosen]
    names = ["the first convolution", "the second convolution", "the Dense(128) layer"]
    for got, want, layer, name in zip(entries, expected, chosen, names, strict=True):
        outputs = int(np.prod(layer.output.shape[1:]))
        mistakes = {
            "count a multiply-add as one operation (FLOPs are often quoted as 2 per "
            "multiply-add)": 2 * want,
            "leave out the bias additions": want + outputs,
            "that is the parameter count: a convolution uses each weight at every output "
            "position": layer.count_params(),
        }
        if isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            per_output = kh * kw * layer.input.shape[-1]
            mistakes["'same' padding keeps 28 x 28 outputs: 26 x 26 is the 'valid' size"] = (
                26 * 26 * layer.filters * per_output
            )
            mistakes["that is one output position: multiply by the 28 x 28 x filters outputs"] = (
                per_output
            )
            if layer is convs[1]:
                mistakes["each filter reads all 32 channels of the first convolution"] = (
                    28 * 28 * layer.filters * kh * kw
                )
        else:
            mistakes["Flatten comes after the pooling: 14 x 14 x 64 inputs, not 28 x 28 x 64"] = (
                28 * 28 * 64 * layer.units
            )
        compare_number(got, want, name=f"the multiply-adds of {name}", mistakes=mistakes)
    work = expected[1] / expected[2]
    weights = convs[1].count_params() / dense.count_params()
    return (
        f"the second convolution does {work:.1f} times the Dense layer's multiply-adds with "
        f"{weights:.1%} of its parameters: a convolution reuses each weight at all 28 x 28 "
        "positions."
    )


# --------------------------------------------------------------- mnist_csv.4: a CNN under budget
@exercise("mnist_csv.4")
def check_4(model: Any) -> str:
    """Check a trained CNN for MNIST digits under a parameter budget.

    The model takes (28, 28, 1) images scaled to [0, 1], returns 10 scores (softmax
    probabilities or logits: the check takes the highest), has at least one ``Conv2D``, at
    most :data:`PARAMETER_BUDGET` parameters, and classifies at least :data:`ACCURACY_FLOOR`
    of the bundled MNIST sample's 1,000 test digits correctly (:data:`QUICK_ACCURACY_FLOOR`
    in quick mode, where the exercise trains for fewer epochs).

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
    Exercise mnist_csv.4: not attempted yet: replace `...` with your answer.
    """
    model = as_model(model, name="your CNN")
    check_classifier_shapes(model, "your CNN")
    if not any(isinstance(layer, layers.Conv2D) for layer in all_layers(model)):
        raise Mistake("your model has no convolution: use keras.layers.Conv2D layers.")
    check_parameter_budget(
        model,
        "your CNN",
        PARAMETER_BUDGET,
        "pool after each convolution before Flatten (each MaxPool2D(2) quarters the values the "
        "Dense layer reads), or use GlobalAveragePooling2D instead of Flatten.",
    )
    floor = QUICK_ACCURACY_FLOOR if quick_mode() else ACCURACY_FLOOR
    return digit_accuracy_verdict(
        model,
        "your CNN",
        floor,
        "train for more epochs (on all the training images), or give the convolutions more "
        "filters within the budget.",
    )


# ----------------------------------------------------------- mnist_csv.5: batch size experiment
@exercise("mnist_csv.5")
def check_5(history_64: Any, history_1000: Any, better: Any) -> str:
    """Check the batch-size experiment: batches of 64 vs 1,000 for the same number of epochs.

    Each run is a fresh copy of the lean model trained with Nadam for the same number of
    epochs on the same images. Runs are given as Keras Histories (the check then also
    verifies that both have the same number of epochs and that the batch-64 run made more
    steps per epoch), their ``.history`` dicts, or final validation accuracies. The batch-64
    run must not end more than
    :data:`~cnnkit.exercises.trained.EXPERIMENT_TOLERANCE` (0.02) below the batch-1000 run,
    and `better` must name the run with the higher final validation accuracy (either is
    accepted when the two are within the tolerance).

    Parameters
    ----------
    history_64, history_1000 : keras.callbacks.History, dict or float
        The runs with batches of 64 and of 1,000 images.
    better : int or str
        64 or 1000: the batch size that gave the higher final validation accuracy.

    Returns
    -------
    str
        The two accuracies and the weight updates per epoch of each run.

    Examples
    --------
    >>> check_5(..., ..., ...)
    Exercise mnist_csv.5: not attempted yet: replace `...` with your answer.
    """
    small, small_epochs = final_validation_accuracy(history_64, "`history_64`")
    large, large_epochs = final_validation_accuracy(history_1000, "`history_1000`")
    when = same_epochs([small_epochs, large_epochs], "the batch size")
    steps = ""
    if isinstance(history_64, keras.callbacks.History) and isinstance(
        history_1000, keras.callbacks.History
    ):
        small_steps = history_64.params.get("steps")
        large_steps = history_1000.params.get("steps")
        if small_steps is not None and large_steps is not None:
            if small_steps <= large_steps:
                raise Mistake(
                    f"`history_64` made {small_steps} steps per epoch and `history_1000` made "
                    f"{large_steps}: batches of 64 make more steps than batches of 1,000. Did "
                    "you swap the two runs, pass the same run twice, or use the same batch size?"
                )
            steps = (
                f" Per epoch, batches of 64 made {small_steps} weight updates, batches of 1,000 "
                f"made {large_steps}."
            )
    verdict = experiment_verdict(
        {"64": small, "1000": large},
        "64",
        better,
        when,
        "Train both from fresh weights (keras.models.clone_model), for the same epochs, on the "
        "same images.",
        names={"64": "batches of 64", "1000": "batches of 1,000"},
    )
    return verdict + steps
