"""The exercise checks accept right answers in other forms and name typical mistakes."""

import io
from pathlib import Path

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit.data import get_data_home, load_mnist_csv
from cnnkit.exercises import mnist_csv, trained
from cnnkit.models import mnist_cnn

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from keras import layers
from verdicts import assert_not_attempted, assert_wrong


@pytest.fixture(scope="module")
def digits():
    return load_mnist_csv(get_data_home() / "mnist_sample")


@pytest.fixture(scope="module")
def centroid_cnn(digits):
    """A Functional CNN on raw pixels that classifies by the nearest class mean: about 80%."""
    (images, labels), _, _ = digits
    return _centroid_model(images, labels)


def _centroid_model(images, labels):
    """A 1 x 1 convolution (weight 1) passes the pixels on; the Dense layer scores each class by
    x . mean - |mean|^2 / 2, which is highest for the nearest class mean, untrained.
    """
    images = images.astype(np.float32)
    means = np.stack([images[labels == c].reshape(-1, 784).mean(axis=0) for c in range(10)])
    inputs = keras.Input(shape=(28, 28, 1))
    pixels = layers.Conv2D(1, 1, use_bias=False)(inputs)
    scores = layers.Dense(10)(layers.Flatten()(pixels))
    model = keras.Model(inputs, scores)
    model.layers[1].set_weights([np.ones((1, 1, 1, 1))])
    model.layers[3].set_weights([means.T, -0.5 * (means**2).sum(axis=1)])
    return model


# Exercise 1: CSV text to tensors


def _rows(count=6):
    _, _, (images, labels) = load_mnist_csv("mnist-sample")
    picked = np.arange(count) * 97
    return images[picked], labels[picked]


def parse_with_numpy(text):
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)
    return table[:, 1:].reshape(-1, 28, 28, 1).astype(np.uint8), table[:, 0]


@pytest.mark.parametrize(
    "csv_to_tensors",
    [
        parse_with_numpy,
        lambda text: (
            (table := pd.read_csv(io.StringIO(text), header=None))
            .drop(columns=0)
            .to_numpy(np.uint8)
            .reshape(-1, 28, 28, 1),
            table[0].to_numpy().astype(float),
        ),
        lambda text: [
            tf.constant(parse_with_numpy(text)[0]),
            list(parse_with_numpy(text)[1]),
        ],
    ],
)
def test_check_1_accepts_numpy_pandas_and_tensor_answers(csv_to_tensors):
    assert mnist_csv.check_1(csv_to_tensors), mnist_csv.check_1(csv_to_tensors)


@pytest.mark.parametrize(
    ("csv_to_tensors", "words"),
    [
        (lambda t: (parse_with_numpy(t)[0].reshape(-1, 784), parse_with_numpy(t)[1]), ["784"]),
        (lambda t: (parse_with_numpy(t)[0][..., 0], parse_with_numpy(t)[1]), ["channel axis"]),
        (lambda t: (parse_with_numpy(t)[0] / 255, parse_with_numpy(t)[1]), ["raw pixels"]),
        (
            lambda t: (parse_with_numpy(t)[0].transpose(0, 2, 1, 3), parse_with_numpy(t)[1]),
            ["row by row"],
        ),
        (
            lambda t: (parse_with_numpy(t)[0].astype(np.float32), parse_with_numpy(t)[1]),
            ["uint8"],
        ),
        (
            lambda t: (
                np.loadtxt(io.StringIO(t), delimiter=",")[:, :784].reshape(-1, 28, 28, 1),
                parse_with_numpy(t)[1],
            ),
            ["column 0 is the label"],
        ),
        (lambda t: (parse_with_numpy(t)[0], parse_with_numpy(t)[0][:, -1, -1, 0]), ["labels"]),
        (lambda t: (np.full((6, 28, 28, 1), np.nan), parse_with_numpy(t)[1]), ["NaN"]),
        (lambda t: parse_with_numpy(t)[0], ["two arrays"]),
        (lambda t: "images", ["two arrays"]),
    ],
)
def test_check_1_names_typical_mistakes(csv_to_tensors, words):
    assert_wrong(mnist_csv.check_1(csv_to_tensors), *words)


def test_check_1_unanswered_is_not_attempted():
    assert_not_attempted(mnist_csv.check_1(...))

    def csv_to_tensors(text): ...

    assert_not_attempted(mnist_csv.check_1(csv_to_tensors))


def test_check_1_rows_are_real_digits():
    text, images, labels = mnist_csv._csv_rows()
    parsed_images, parsed_labels = parse_with_numpy(text)
    assert np.array_equal(parsed_images, images) and np.array_equal(parsed_labels, labels)


# Exercise 2: parameters of the 5 x 5 "valid" variant


def test_check_2_accepts_an_array_and_floats():
    assert mnist_csv.check_2(np.array([832, 51264, 819328, 1290]))
    assert mnist_csv.check_2((832.0, 51264.0, 819328.0, 1290.0))


def test_check_2_names_typical_mistakes():
    assert_wrong(mnist_csv.check_2([800, 51264, 819328, 1290]), "conv1", "biases")
    assert_wrong(mnist_csv.check_2([832, 1664, 819328, 1290]), "conv2", "32 channels")
    assert_wrong(mnist_csv.check_2([832, 51264, 1605760, 1290]), "'same' padding", "28 -> 24 -> 20")
    assert_wrong(mnist_csv.check_2([832, 51264, 3276928, 1290]), "Flatten comes after the pooling")
    assert_wrong(mnist_csv.check_2([832, 51264, 819328]), "4 numbers")


def test_check_2_partly_answered_is_not_attempted():
    assert_not_attempted(mnist_csv.check_2([832, ..., ..., 1290]), "entries 1, 2")


def test_check_2_rejects_non_finite_counts():
    assert_wrong(mnist_csv.check_2([832, np.nan, 819328, 1290]), "NaN")


# Exercise 3: the confusion matrix


def counted(y_true, y_pred):
    matrix = np.zeros((10, 10), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        matrix[t, p] += 1
    return matrix


@pytest.mark.parametrize(
    "confusion_matrix",
    [
        counted,
        lambda t, p: np.bincount(10 * t + p, minlength=100).reshape(10, 10),
        lambda t, p: tf.math.confusion_matrix(t, p, num_classes=10),
        lambda t, p: counted(t, p).astype(float).tolist(),
    ],
)
def test_check_3_accepts_every_form(confusion_matrix):
    assert mnist_csv.check_3(confusion_matrix)


@pytest.mark.parametrize(
    ("confusion_matrix", "words"),
    [
        (lambda t, p: counted(p, t), ["swapped"]),
        (lambda t, p: counted(t, p)[:, :9], ["all 10 columns"]),
        (lambda t, p: counted(t, p) / counted(t, p).sum(axis=1, keepdims=True), ["normalised"]),
        (lambda t, p: np.full((10, 10), np.inf), ["NaN or infinite"]),
    ],
)
def test_check_3_names_typical_mistakes(confusion_matrix, words):
    assert_wrong(mnist_csv.check_3(confusion_matrix), *words)


def test_check_3_rejects_a_function_that_changes_its_inputs():
    def confusion_matrix(y_true, y_pred):
        matrix = counted(y_true, y_pred)
        y_pred[:] = y_true  # "fixes" the predictions in place
        return matrix

    assert_wrong(mnist_csv.check_3(confusion_matrix), "in place")


# Exercise 4: a CNN under the budget


def test_check_4_accepts_a_functional_model_above_the_floor(centroid_cnn, monkeypatch):
    monkeypatch.setattr(mnist_csv, "ACCURACY_FLOOR", 0.7)
    result = mnist_csv.check_4(centroid_cnn)
    assert result, result
    assert "7,851 parameters" in result.message
    assert "bundled sample's 1,000 test digits" in result.message


@pytest.mark.parametrize("quick", ["0", "1"])
def test_check_4_floor_does_not_depend_on_quick_mode(centroid_cnn, monkeypatch, quick):
    monkeypatch.setenv("CNNKIT_QUICK", quick)
    monkeypatch.setenv("CI", "true" if quick == "1" else "false")
    assert_wrong(
        mnist_csv.check_4(centroid_cnn),
        "below the floor of 93%",
        "more filters",
        "pool after each convolution",
    )


def test_check_4_tells_a_model_trained_on_scaled_pixels_to_rescale(digits, monkeypatch):
    (images, labels), _, _ = digits
    scaled = _centroid_model(images.astype(np.float32) / 255, labels)  # expects [0, 1]
    monkeypatch.setattr(mnist_csv, "ACCURACY_FLOOR", 0.7)
    assert_wrong(mnist_csv.check_4(scaled), "expects pixels in [0, 1]", "Rescaling(1 / 255)")


def test_check_4_marks_on_the_official_test_set_once_the_full_mnist_is_here(
    centroid_cnn, digits, monkeypatch
):
    """The sample's test digits are MNIST training digits: never mark on them after a fetch."""
    _, _, (images, labels) = digits
    real = trained.find_mnist_csv

    def find(dataset="mnist", **kwargs):
        if dataset == "mnist":
            return Path("mnist/train.csv"), Path("mnist/test.csv"), "the full MNIST"
        return real(dataset, **kwargs)

    monkeypatch.setattr(trained, "find_mnist_csv", find)
    monkeypatch.setattr(trained, "load_mnist_csv", lambda dataset: (None, None, (images, labels)))
    monkeypatch.setattr(mnist_csv, "ACCURACY_FLOOR", 0.7)
    result = mnist_csv.check_4(centroid_cnn)
    assert "official MNIST test set's 1,000 digits" in result.message, result


def test_check_4_counts_separable_convolutions():
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.SeparableConv2D(4, 3),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10),
        ]
    )
    result = mnist_csv.check_4(model)
    assert "no convolution" not in result.message, result


def test_check_4_rejects_a_model_over_the_budget():
    assert_wrong(mnist_csv.check_4(mnist_cnn()), "1,625,866 parameters", "budget", "GlobalAverage")


def test_check_4_rejects_wrong_shapes_no_convolution_and_untrained_models():
    def model(*stack):
        return keras.Sequential(stack)

    flat = model(keras.Input((28, 28)), layers.Flatten(), layers.Dense(10))
    assert_wrong(mnist_csv.check_4(flat), "(28, 28, 1)")
    five = model(keras.Input((28, 28, 1)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(5))
    assert_wrong(mnist_csv.check_4(five), "Dense(10)")
    # Without keras.Input the model is called on one image: its output shape is the hint.
    no_input = model(layers.Conv2D(2, 3), layers.Dense(10))
    assert_wrong(mnist_csv.check_4(no_input), "outputs of shape (26, 26, 10)", "Dense(10)")
    dense = model(keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10))
    assert_wrong(mnist_csv.check_4(dense), "no convolution")
    keras.utils.set_random_seed(0)
    untrained = model(
        keras.Input((28, 28, 1)),
        layers.Conv2D(2, 3),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10),
    )
    assert_wrong(mnist_csv.check_4(untrained), "chance", "train")


def test_check_4_unwritten_builder_is_not_attempted():
    def build(): ...

    assert_not_attempted(mnist_csv.check_4(build))
