"""The exercise checks accept right answers in other forms and name typical mistakes."""

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit.data import get_data_home, load_mnist_csv
from cnnkit.exercises import mnist_csv
from cnnkit.models import mnist_cnn

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
from verdicts import assert_not_attempted, assert_wrong


@pytest.fixture(scope="module")
def digits():
    return load_mnist_csv(get_data_home() / "mnist_sample")


@pytest.fixture(scope="module")
def centroid_cnn(digits):
    """A Functional CNN that classifies by the nearest class mean: about 80% right, untrained.

    A 1 x 1 convolution (weight 1) passes the pixels on; the Dense layer scores each class by
    x . mean - |mean|^2 / 2, which is highest for the nearest class mean.
    """
    (images, labels), _, _ = digits
    means = np.stack([images[labels == c].reshape(-1, 784).mean(axis=0) for c in range(10)])
    inputs = keras.Input(shape=(28, 28, 1))
    pixels = layers.Conv2D(1, 1, use_bias=False)(inputs)
    scores = layers.Dense(10)(layers.Flatten()(pixels))
    model = keras.Model(inputs, scores)
    model.layers[1].set_weights([np.ones((1, 1, 1, 1))])
    model.layers[3].set_weights([means.T, -0.5 * (means**2).sum(axis=1)])
    return model


# Exercise 1: parameters of the 5 x 5 "valid" variant


def test_check_1_accepts_an_array_and_floats():
    assert mnist_csv.check_1(np.array([832, 51264, 819328, 1290]))
    assert mnist_csv.check_1((832.0, 51264.0, 819328.0, 1290.0))


def test_check_1_names_typical_mistakes():
    assert_wrong(mnist_csv.check_1([800, 51264, 819328, 1290]), "conv1", "biases")
    assert_wrong(mnist_csv.check_1([832, 1664, 819328, 1290]), "conv2", "32 channels")
    assert_wrong(mnist_csv.check_1([832, 51264, 1605760, 1290]), "'same' padding", "28 -> 24 -> 20")
    assert_wrong(mnist_csv.check_1([832, 51264, 3276928, 1290]), "Flatten comes after the pooling")
    assert_wrong(mnist_csv.check_1([832, 51264, 819328]), "4 numbers")


def test_check_1_partly_answered_is_not_attempted():
    assert_not_attempted(mnist_csv.check_1([832, ..., ..., 1290]), "entries 1, 2")


# Exercise 2: receptive fields


def test_check_2_accepts_numpy_and_float_forms():
    assert mnist_csv.check_2(np.array([5, 8, 10]))
    assert mnist_csv.check_2((5.0, np.int64(8), 10))


def test_check_2_names_typical_mistakes():
    assert_wrong(mnist_csv.check_2([6, 8, 10]), "second convolution", "centre")
    assert_wrong(mnist_csv.check_2([9, 8, 10]), "do not multiply")
    assert_wrong(mnist_csv.check_2([5, 6, 10]), "lean_conv2", "stride-2")
    assert_wrong(mnist_csv.check_2([5, 7, 10]), "pooling window")
    assert_wrong(mnist_csv.check_2([5, 8, 8]), "lean_pool2", "layer below")


# Exercise 3: multiply-adds


def test_check_3_accepts_a_tensor():
    assert mnist_csv.check_3(tf.constant([225792, 14450688, 1605632], dtype=tf.int64))


def test_check_3_names_typical_mistakes():
    right = [225792, 14450688, 1605632]
    assert_wrong(mnist_csv.check_3([2 * right[0], *right[1:]]), "one operation")
    assert_wrong(mnist_csv.check_3([320, *right[1:]]), "parameter count")
    assert_wrong(mnist_csv.check_3([26 * 26 * 32 * 9, *right[1:]]), "'same' padding", "26 x 26")
    assert_wrong(mnist_csv.check_3([right[0], 28 * 28 * 64 * 9, right[2]]), "all 32 channels")
    assert_wrong(mnist_csv.check_3([*right[:2], 28 * 28 * 64 * 128]), "Flatten comes after")
    assert_wrong(mnist_csv.check_3([*right[:2], right[2] + 128]), "bias")


# Exercise 4: a CNN under the budget


def test_check_4_accepts_a_functional_model_above_the_floor(centroid_cnn, monkeypatch):
    monkeypatch.setenv("CNNKIT_QUICK", "1")
    result = mnist_csv.check_4(centroid_cnn)
    assert result, result
    assert "7,851 parameters" in result.message


def test_check_4_applies_the_full_floor_outside_quick_mode(centroid_cnn, monkeypatch):
    monkeypatch.setenv("CNNKIT_QUICK", "0")
    assert_wrong(mnist_csv.check_4(centroid_cnn), "below the floor of 93%", "more epochs")


def test_check_4_rejects_a_model_over_the_budget():
    assert_wrong(mnist_csv.check_4(mnist_cnn()), "1,625,866 parameters", "budget", "GlobalAverage")


def test_check_4_rejects_wrong_shapes_no_convolution_and_untrained_models():
    def model(*stack):
        return keras.Sequential(stack)

    flat = model(keras.Input((28, 28)), layers.Flatten(), layers.Dense(10))
    assert_wrong(mnist_csv.check_4(flat), "(28, 28, 1)")
    five = model(keras.Input((28, 28, 1)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(5))
    assert_wrong(mnist_csv.check_4(five), "Dense(10)")
    assert_wrong(mnist_csv.check_4(model(layers.Conv2D(2, 3), layers.Dense(10))), "no input shape")
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


# Exercise 5: the batch-size experiment


def history(val_accuracy, steps, model=None):
    """A Keras History as fit returns it, without training."""
    run = keras.callbacks.History()
    run.history = {"accuracy": list(val_accuracy), "val_accuracy": list(val_accuracy)}
    run.set_params({"verbose": 0, "epochs": len(val_accuracy), "steps": steps})
    if model is not None:
        run.set_model(model)
    return run


def test_check_5_accepts_dicts_numbers_and_strings():
    assert mnist_csv.check_5({"val_accuracy": [0.9, 0.93]}, {"val_accuracy": [0.3, 0.6]}, "64")
    assert mnist_csv.check_5(np.float32(0.93), 0.6, 64.0)
    result = mnist_csv.check_5(history([0.9], 57), history([0.6], 4), "batches of 64")
    assert result and "57 weight updates" in result.message


def test_check_5_calls_close_runs_a_tie():
    result = mnist_csv.check_5(0.90, 0.89, 1000)
    assert result and "too close to call" in result.message


def test_check_5_names_typical_mistakes():
    assert_wrong(mnist_csv.check_5(0.93, 0.6, 1000), "your own numbers say 64")
    assert_wrong(mnist_csv.check_5(history([0.6], 4), history([0.9], 57), 64), "swap")
    assert_wrong(mnist_csv.check_5(history([0.9, 0.93], 57), history([0.6], 4), 64), "same number")
    assert_wrong(mnist_csv.check_5(0.6, 0.93, 1000), "came out higher", "swap")
    assert_wrong(mnist_csv.check_5(93, 60, 64), "not a percentage")
    assert_wrong(mnist_csv.check_5(0.11, 0.1, 64), "only 11.0%", "did it train")
    assert_wrong(mnist_csv.check_5({"loss": [0.3]}, 0.6, 64), "no validation accuracy")
    assert_wrong(mnist_csv.check_5(0.93, 0.6, "yes"), "one of")


def test_check_5_reads_the_steps_of_real_histories():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(10)])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    x, y = np.zeros((8, 2)), np.zeros(8)
    runs = [model.fit(x, y, batch_size=4, validation_data=(x, y), verbose=0) for _ in range(2)]
    assert_wrong(mnist_csv.check_5(*runs, 64), "2 steps per epoch", "same batch size")
