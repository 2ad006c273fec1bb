"""The exercise checks accept right answers in other forms and name typical mistakes."""

import math

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit.data import get_data_home, load_mnist_csv
from cnnkit.exercises import lenet
from cnnkit.models import lenet5

import keras
import numpy as np
import pytest
from keras import layers
from verdicts import assert_not_attempted, assert_wrong

SHAPES = [(32, 32, 6), (16, 16, 6), (12, 12, 16), (6, 6, 16)]
COUNTS = [156, 2416, 69240, 10164, 850]


def sequential(*stack):
    return keras.Sequential([keras.Input((28, 28, 1)), *stack])


@pytest.fixture(scope="module")
def centroid_gap_lenet():
    """A Functional model of the required structure that classifies by the nearest class mean.

    C3 is a 28 x 28 convolution whose filters are the class means, scoring each class by
    x . mean - |mean|^2 / 2 (+ 100, so the ReLU keeps every score); the 1 x 1 C1 and the
    1 x 1 poolings pass their inputs on. About 80% right without any training.
    """
    (images, labels), _, _ = load_mnist_csv(get_data_home() / "mnist_sample")
    means = np.stack([images[labels == c].mean(axis=0) for c in range(10)], axis=-1)
    inputs = keras.Input(shape=(28, 28, 1))
    c1 = layers.Conv2D(1, 1, use_bias=False, activation="relu")
    c3 = layers.Conv2D(10, 28)
    output = layers.Dense(10)
    x = layers.MaxPooling2D(pool_size=1)(c1(inputs))
    x = layers.GlobalAveragePooling2D()(layers.ReLU()(c3(x)))
    model = keras.Model(inputs, output(x))
    c1.set_weights([np.ones((1, 1, 1, 1))])
    c3.set_weights([means, 100.0 - 0.5 * (means**2).sum(axis=(0, 1, 2))])
    output.set_weights([np.eye(10), np.zeros(10)])
    return model


# Exercise 1: shapes for 32 x 32 images


def test_check_1_accepts_an_array_and_lists():
    assert lenet.check_1(np.array(SHAPES))
    assert lenet.check_1([list(shape) for shape in SHAPES])


def test_check_1_names_typical_mistakes():
    valid_c1 = [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16)]
    assert_wrong(lenet.check_1(valid_c1), "c1_conv", "padding='same'")
    same_c3 = [*SHAPES[:2], (16, 16, 16), (8, 8, 16)]
    assert_wrong(lenet.check_1(same_c3), "c3_conv", "'valid' padding")
    assert_wrong(lenet.check_1([SHAPES[0], (16, 16, 16), *SHAPES[2:]]), "s2_pool", "channels")
    assert_wrong(lenet.check_1([(None, 32, 32, 6), *SHAPES[1:]]), "batch dimension")
    assert_wrong(lenet.check_1([(32, 32), *SHAPES[1:]]), "three numbers")


def test_check_1_partly_answered_is_not_attempted():
    assert_not_attempted(lenet.check_1([SHAPES[0], ..., ..., ...]), "entries 1, 2, 3")


# Exercise 2: parameters for 32 x 32 images


def test_check_2_accepts_numpy_integers_and_floats():
    assert lenet.check_2(np.array(COUNTS, dtype=np.int32))
    assert lenet.check_2(tuple(float(count) for count in COUNTS))


def test_check_2_names_typical_mistakes():
    assert_wrong(lenet.check_2([150, *COUNTS[1:]]), "c1_conv", "biases")
    assert_wrong(lenet.check_2([156, 1516, *COUNTS[2:]]), "1998", "all 6")
    assert_wrong(lenet.check_2([156, 416, *COUNTS[2:]]), "all 6 of S2's maps")
    assert_wrong(lenet.check_2([*COUNTS[:2], 48120, *COUNTS[3:]]), "28 x 28 images", "576")
    assert_wrong(lenet.check_2([*COUNTS[:2], 2305 * 120, *COUNTS[3:]]), "after S4")


# Exercise 3: the sigmoid's slope


def test_check_3_accepts_a_tanh_form_and_a_fraction():
    def sigmoid_slope(x):  # sigma(x) = (1 + tanh(x / 2)) / 2, so sigma' = (1 - tanh^2) / 4
        return 0.25 * (1.0 - np.tanh(np.asarray(x) / 2.0) ** 2)

    assert lenet.check_3(sigmoid_slope, 1 / 256)
    assert lenet.check_3(
        lambda x: keras.ops.sigmoid(x) * (1 - keras.ops.sigmoid(x)), np.float32(0.25) ** 4
    )


def test_check_3_names_typical_mistakes():
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def slope(x):
        return sigmoid(x) * (1 - sigmoid(x))

    assert_wrong(lenet.check_3(sigmoid, 1 / 256), "sigmoid itself")
    assert_wrong(lenet.check_3(lambda x: sigmoid(x) * (1 + sigmoid(x)), 1 / 256), "minus")
    assert_wrong(lenet.check_3(lambda x: np.exp(-x) / (1 + np.exp(-x)), 1 / 256), "square")
    assert_wrong(lenet.check_3(slope, 0.25), "one layer", "multiply")
    assert_wrong(lenet.check_3(slope, 0.25**5), "output layer has no sigmoid")
    assert_wrong(lenet.check_3(slope, 1.0), "do not add")
    scalar_only = lenet.check_3(lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2, 1 / 256)
    assert_wrong(scalar_only, "raised TypeError")
    assert_wrong(lenet.check_3(lambda x: np.full(np.shape(x), np.nan), 1 / 256), "NaN")


def test_check_3_unwritten_function_is_not_attempted():
    def sigmoid_slope(x): ...

    assert_not_attempted(lenet.check_3(sigmoid_slope, 1 / 256), "sigmoid_slope returned None")


# Exercise 4: LeNet-5 with ReLU, max pooling and global average pooling


def test_check_4_accepts_a_functional_model_above_the_floor(centroid_gap_lenet, monkeypatch):
    monkeypatch.setenv("CNNKIT_QUICK", "1")
    result = lenet.check_4(centroid_gap_lenet)
    assert result, result
    assert "7,961 parameters" in result.message


def test_check_4_applies_the_full_floor_outside_quick_mode(centroid_gap_lenet, monkeypatch):
    monkeypatch.setenv("CNNKIT_QUICK", "0")
    assert_wrong(lenet.check_4(centroid_gap_lenet), "below the floor of 90%")


def conv(filters, activation="relu", **kwargs):
    return layers.Conv2D(filters, 5, padding="same", activation=activation, **kwargs)


def test_check_4_names_structural_mistakes():
    def head():
        return [layers.GlobalAveragePooling2D(), layers.Dense(10)]

    assert_wrong(lenet.check_4(lenet5(activation="relu", pooling="max")), "Flatten")
    one_conv = sequential(conv(6), layers.MaxPool2D(), *head())
    assert_wrong(lenet.check_4(one_conv), "two convolutions")
    global_max = sequential(conv(6), layers.MaxPool2D(), conv(8), layers.GlobalMaxPooling2D())
    assert_wrong(lenet.check_4(sequential(global_max, layers.Dense(10))), "GlobalAveragePooling2D")
    average = sequential(conv(6), layers.AveragePooling2D(2), conv(8), *head())
    assert_wrong(lenet.check_4(average), "AveragePooling2D", "MaxPooling2D")
    sigmoid = sequential(conv(6, "sigmoid"), layers.MaxPool2D(), conv(8), *head())
    assert_wrong(lenet.check_4(sigmoid), "uses sigmoid", "ReLU")
    linear = sequential(conv(6, None), layers.MaxPool2D(), conv(8), *head())
    assert_wrong(lenet.check_4(linear), "no activation", "activation='relu'")
    tanh = sequential(conv(6), layers.MaxPool2D(), conv(8), layers.GlobalAveragePooling2D())
    assert_wrong(
        lenet.check_4(sequential(tanh, layers.Dense(84, "tanh"), layers.Dense(10))), "tanh"
    )
    big = sequential(conv(6), layers.MaxPool2D(), conv(128), *head())
    assert_wrong(lenet.check_4(big), "over the budget of 10,000")


def test_check_4_rejects_an_untrained_model():
    keras.utils.set_random_seed(0)
    model = sequential(
        conv(6),
        layers.MaxPool2D(),
        conv(16),
        layers.MaxPool2D(),
        layers.GlobalAvgPool2D(),
        layers.Dense(10),
    )
    assert_wrong(lenet.check_4(model), "chance", "train")


# Exercise 5: sigmoid vs ReLU


def history(val_accuracy, model=None):
    """A Keras History as fit returns it, without training."""
    run = keras.callbacks.History()
    run.history = {"val_accuracy": list(val_accuracy)}
    run.set_params({"verbose": 0, "epochs": len(val_accuracy), "steps": 15})
    if model is not None:
        run.set_model(model)
    return run


def test_check_5_accepts_dicts_and_descriptive_strings():
    assert lenet.check_5({"val_accuracy": [0.1]}, {"val_accuracy": [0.92]}, "ReLU + max pooling")
    result = lenet.check_5(0.5, 0.51, "sigmoid")
    assert result and "too close to call" in result.message


def test_check_5_names_typical_mistakes():
    sigmoid_net, relu_net = lenet5(), lenet5(activation="relu", pooling="max")
    swapped = lenet.check_5(history([0.9], relu_net), history([0.1], sigmoid_net), "relu")
    assert_wrong(swapped, "`sigmoid_run` trained a network with relu", "swap")
    assert_wrong(lenet.check_5(0.1, 0.92, "sigmoid"), "your own numbers say relu")
    assert_wrong(lenet.check_5(0.9, 0.5, "sigmoid"), "came out higher")
    assert_wrong(lenet.check_5(history([0.1, 0.4]), history([0.9]), "relu"), "same number")
