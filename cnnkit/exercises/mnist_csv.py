"""Checks for notebook 03's exercises: digits from CSV text to tensors, counted, trained.

Exercise mnist_csv.1 parses CSV rows into raw uint8 images and labels, mnist_csv.2 counts the
parameters of a variant of the notebook's network (5 x 5 "valid" convolutions), mnist_csv.3
computes a confusion matrix, and mnist_csv.4 builds and trains a CNN under a parameter budget.
The oracles (``cnnkit.data.read_digits_csv``, Keras' parameter counts,
``tf.math.confusion_matrix``, test digits the notebook never trained on) are computed when a
check runs. A learner's function gets a copy of each input, the oracle another copy.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from cnnkit.data import load_mnist_csv, read_digits_csv
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
)
from cnnkit.models import mnist_cnn

import keras
import numpy as np
import tensorflow as tf
from keras import layers

#: Exercise mnist_csv.1: how many rows of the bundled sample's test file the check parses.
CSV_ROWS = 6
#: Exercise mnist_csv.4: the most parameters the learner's CNN may have.
PARAMETER_BUDGET = 20_000
#: Exercise mnist_csv.4: the least accuracy on the marking digits, in every environment.
ACCURACY_FLOOR = 0.93


def _finite(array: np.ndarray, name: str) -> np.ndarray:
    """`array`, unless it holds NaN or infinite values (rejected before any other test)."""
    bad = int(np.sum(~np.isfinite(array)))
    if bad:
        raise Mistake(f"{name} holds {bad} NaN or infinite values.")
    return array


# ------------------------------------------------------------------ mnist_csv.1: CSV to tensors
def _csv_rows() -> tuple[str, np.ndarray, np.ndarray]:
    """CSV_ROWS rows of real digits as CSV text, with the raw pixels and labels they hold."""
    _, _, (images, labels) = load_mnist_csv("mnist-sample")
    picked = np.arange(CSV_ROWS) * 97  # a few digits from across the file
    rows = np.column_stack([labels[picked], images[picked].reshape(CSV_ROWS, -1)])
    return "\n".join(",".join(map(str, row)) for row in rows) + "\n", images[picked], labels[picked]


def _oracle(text: str) -> tuple[np.ndarray, np.ndarray]:
    """What cnnkit.data.read_digits_csv makes of `text`, reshaped to (n, 28, 28, 1)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.csv"
        path.write_text(text)
        pixels, labels = read_digits_csv(path)
    return pixels.reshape(-1, 28, 28, 1), labels


@exercise("mnist_csv.1")
def check_1(csv_to_tensors: Any) -> str:
    """Check ``csv_to_tensors(text)``: CSV rows to (n, 28, 28, 1) uint8 images and labels.

    The check gives the function the text of six rows of the bundled sample's test file (no
    header; the label, then 784 pixels, row by row) and compares its ``(images, labels)``
    with ``cnnkit.data.read_digits_csv``'s arrays: images of shape (6, 28, 28, 1) and dtype
    uint8 holding the raw pixels 0..255, labels of shape (6,) (any integer or float type).

    Parameters
    ----------
    csv_to_tensors : callable
        ``csv_to_tensors(text) -> (images, labels)``.

    Returns
    -------
    str
        A remark on the memory uint8 saves.

    Examples
    --------
    >>> check_1(...)
    Exercise mnist_csv.1: not attempted yet: replace `...` with your answer.
    """
    text, _, _ = _csv_rows()
    expected_images, expected_labels = _oracle(text)
    result = call_answer(csv_to_tensors, text, name="your csv_to_tensors")
    if isinstance(result, str | bytes | dict) or not hasattr(result, "__len__") or len(result) != 2:
        raise Mistake(
            "csv_to_tensors should return two arrays, (images, labels), got "
            f"{type(result).__name__}."
        )
    images, labels = (
        _finite(as_array(part, name), name)
        for part, name in zip(result, ("the images", "the labels"), strict=True)
    )
    flat = expected_images.reshape(CSV_ROWS, -1)
    compare_arrays(
        labels,
        expected_labels,
        name="the labels",
        atol=0,
        rtol=0,
        mistakes={
            "the label is column 0 of each row, not the last column": flat[:, -1],
            "that is the first pixel (column 1): the label is column 0": flat[:, 0],
        },
    )
    compare_arrays(
        images,
        expected_images,
        name="the images",
        atol=1e-6,
        rtol=0,
        mistakes={
            "reshape each row of 784 pixels to (28, 28, 1): one image of 28 rows of 28 pixels "
            "with one channel": flat,
            "add the channel axis: (n, 28, 28, 1), as Conv2D expects": expected_images[..., 0],
            "keep the raw pixels 0..255: the model's Rescaling layer scales them": (
                expected_images / 255
            ),
            "the 784 pixels are stored row by row: reshape to (28, 28) without transposing": (
                expected_images.transpose(0, 2, 1, 3)
            ),
            "column 0 is the label: the pixels are columns 1 to 784": np.column_stack(
                [expected_labels, flat[:, :-1]]
            ).reshape(expected_images.shape),
        },
    )
    dtype = np.asarray(keras.ops.convert_to_numpy(result[0])).dtype
    if dtype != np.uint8:
        raise Mistake(
            f"the images have the right values but dtype {dtype}: convert them with "
            ".astype(np.uint8) (one byte per pixel, as the loader returns them)."
        )
    return (
        f"equal to cnnkit.data.read_digits_csv on {CSV_ROWS} rows; as uint8, the 60,000 MNIST "
        f"training images take {60_000 * 784 / 1e6:.0f} MB, as float32 "
        f"{60_000 * 784 * 4 / 1e6:.0f} MB."
    )


# ------------------------------------------------------------------ mnist_csv.2: parameter counts
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


@exercise("mnist_csv.2")
def check_2(counts: Any) -> str:
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
    >>> check_2(...)
    Exercise mnist_csv.2: not attempted yet: replace `...` with your answer.
    """
    entries = answer_entries(counts, 4, "`counts`", "conv1, conv2, dense, output")
    for i, entry in enumerate(entries):
        _finite(as_array(entry, f"entry {i} of `counts`"), f"entry {i} of `counts`")
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


# --------------------------------------------------------------- mnist_csv.3: confusion matrix
def _confusion_case() -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions: mostly right, some confused, one class never predicted."""
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 10, size=200)
    y_pred = np.where(rng.random(200) < 0.8, y_true, rng.integers(0, 10, size=200))
    y_pred[y_pred == 9] = 4  # no 9 is ever predicted: its column must still be there
    return y_true, y_pred


@exercise("mnist_csv.3")
def check_3(confusion_matrix: Any) -> str:
    """Check ``confusion_matrix(y_true, y_pred)`` against ``tf.math.confusion_matrix``.

    Row ``i``, column ``j`` counts the digits of true class ``i`` predicted as ``j``: a 10 x 10
    array of counts (any number type), for 200 labels in which one class is never predicted.

    Parameters
    ----------
    confusion_matrix : callable
        ``confusion_matrix(y_true, y_pred) -> (10, 10) counts``.

    Returns
    -------
    str
        The accuracy read off the diagonal.

    Examples
    --------
    >>> check_3(...)
    Exercise mnist_csv.3: not attempted yet: replace `...` with your answer.
    """
    y_true, y_pred = _confusion_case()
    given_true, given_pred = y_true.copy(), y_pred.copy()
    got = call_answer(confusion_matrix, given_true, given_pred, name="your confusion_matrix")
    if not (np.array_equal(given_true, y_true) and np.array_equal(given_pred, y_pred)):
        raise Mistake(
            "your confusion_matrix changed its inputs in place: leave y_true and y_pred as "
            "they are (count into a new array)."
        )
    got = _finite(as_array(got, "your confusion matrix"), "your confusion matrix")
    expected = tf.math.confusion_matrix(y_true.copy(), y_pred.copy(), num_classes=10).numpy()
    square = np.zeros((10, 10))
    np.add.at(square, (y_true, y_pred), 1)
    compare_arrays(
        got,
        expected,
        name="your confusion matrix",
        atol=0,
        rtol=0,
        mistakes={
            "rows are the TRUE classes and columns the PREDICTED ones: you swapped them": (
                expected.T
            ),
            "keep all 10 columns, also for a class that is never predicted (np.bincount "
            "with minlength=10, or a 10 x 10 array of zeros to count into)": expected[:, :9],
            "that is normalised; the check wants the counts": expected
            / np.maximum(expected.sum(axis=1, keepdims=True), 1),
        },
    )
    correct = int(np.trace(expected))
    return (
        f"{correct} of {len(y_true)} on the diagonal: accuracy {correct / len(y_true):.1%}, "
        "the trace over the total."
    )


# --------------------------------------------------------------- mnist_csv.4: a CNN under budget
@exercise("mnist_csv.4")
def check_4(model: Any) -> str:
    """Check a trained CNN for MNIST digits under a parameter budget.

    The model takes (28, 28, 1) images of raw pixels, 0..255 (a ``Rescaling`` layer first),
    returns 10 scores (softmax probabilities or logits: the check takes the highest), has at
    least one convolution (``Conv2D``, ``SeparableConv2D`` or ``DepthwiseConv2D``), at most
    :data:`PARAMETER_BUDGET` parameters, and classifies at least :data:`ACCURACY_FLOOR` of
    the marking digits correctly, in every environment: the bundled sample's 1,000 test
    digits, or the official MNIST test set once the full MNIST is fetched (the sample's test
    digits are then in the training data; see
    :func:`~cnnkit.exercises.trained.digit_marking_set`).

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
    convolutions = (layers.Conv2D, layers.SeparableConv2D, layers.DepthwiseConv2D)
    if not any(isinstance(layer, convolutions) for layer in all_layers(model)):
        raise Mistake("your model has no convolution: use keras.layers.Conv2D layers.")
    check_parameter_budget(
        model,
        "your CNN",
        PARAMETER_BUDGET,
        "pool after each convolution before Flatten (each MaxPool2D(2) quarters the values the "
        "Dense layer reads), or use GlobalAveragePooling2D instead of Flatten.",
    )
    return digit_accuracy_verdict(
        model,
        "your CNN",
        ACCURACY_FLOOR,
        "train on all the training images for EPOCHS_4 epochs; then give the convolutions more "
        "filters within the budget, pool after each convolution, or keep Flatten rather than "
        "GlobalAveragePooling2D (which needs more epochs than the 8 the exercise fixes).",
    )
