"""Tests for cnnkit.models.lenet5."""

# cnnkit first, so that TensorFlow (imported by Keras) gets its fast CPU kernels.
from cnnkit.models import lenet5
from cnnkit.reference import conv2d, pool2d

import keras
import numpy as np
import pytest

# Layer name, Keras class, output shape (without the batch axis), parameters: 28x28x1 input.
SHAPE_TABLE = [
    ("rescaling", "Rescaling", (28, 28, 1), 0),
    ("c1_conv", "Conv2D", (28, 28, 6), 5 * 5 * 1 * 6 + 6),
    ("s2_pool", "AveragePooling2D", (14, 14, 6), 0),
    ("c3_conv", "Conv2D", (10, 10, 16), 5 * 5 * 6 * 16 + 16),
    ("s4_pool", "AveragePooling2D", (5, 5, 16), 0),
    ("flatten", "Flatten", (400,), 0),
    ("c5_dense", "Dense", (120,), 400 * 120 + 120),
    ("f6_dense", "Dense", (84,), 120 * 84 + 84),
    ("output", "Dense", (10,), 84 * 10 + 10),
]


def test_lenet5_shape_table_and_layer_order():
    model = lenet5()
    rows = [
        (layer.name, type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
        for layer in model.layers
    ]
    assert rows == SHAPE_TABLE


def test_lenet5_activations_and_logits():
    model = lenet5()
    activations = [
        layer.activation.__name__ for layer in model.layers if hasattr(layer, "activation")
    ]
    assert activations == ["sigmoid"] * 4 + ["linear"]
    assert model.layers[2].pool_size == (2, 2) and model.layers[2].strides == (2, 2)
    assert model.layers[1].padding == "same" and model.layers[3].padding == "valid"


def test_lenet5_relu_max_variant_same_shapes_and_params():
    model = lenet5(activation="relu", pooling="max")
    assert model.count_params() == 61_706
    assert [type(layer).__name__ for layer in model.layers if "pool" in layer.name] == [
        "MaxPooling2D",
        "MaxPooling2D",
    ]
    assert {
        layer.activation.__name__ for layer in model.layers[:-1] if hasattr(layer, "activation")
    } == {"relu"}
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == [
        row[2] for row in SHAPE_TABLE
    ]


def test_lenet5_other_input_and_classes():
    model = lenet5(input_shape=(32, 32, 3), n_classes=5)
    assert model.output_shape == (None, 5)
    assert model.get_layer("flatten").output.shape[1] == 6 * 6 * 16
    assert lenet5(input_shape=(12, 12, 1)).get_layer("s4_pool").output.shape[1:3] == (1, 1)


@pytest.mark.parametrize(
    ("activation", "pooling", "function"),
    [("sigmoid", "avg", lambda z: 1 / (1 + np.exp(-z))), ("relu", "max", lambda z: z.clip(0))],
)
def test_lenet5_forward_pass_matches_numpy_reference(activation, pooling, function):
    # Oracle: the same network from cnnkit.reference's NumPy convolution and pooling
    # (checked against Keras and SciPy in test_reference.py) and matrix products.
    keras.utils.set_random_seed(0)
    model = lenet5(activation=activation, pooling=pooling)
    w = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}
    x = np.random.default_rng(0).random((3, 28, 28, 1))
    z = pool2d(function(conv2d(x, *w["c1_conv"], padding="same")), 2, mode=pooling)
    z = pool2d(function(conv2d(z, *w["c3_conv"])), 2, mode=pooling).reshape(3, -1)
    for name in ("c5_dense", "f6_dense"):
        z = function(z @ w[name][0] + w[name][1])
    expected = z @ w["output"][0] + w["output"][1]
    logits = model.predict((x * 255).astype(np.float32), verbose=0)  # raw pixels in
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input_shape": (28, 28)}, "input_shape"),
        ({"input_shape": (28, 28, 0)}, "input_shape"),
        ({"input_shape": "28x28"}, "input_shape"),
        ({"input_shape": (11, 28, 1)}, "at least 12x12"),
        ({"n_classes": 1}, "n_classes"),
        ({"n_classes": 2.5}, "n_classes"),
        ({"activation": "sigmoidal"}, "activation"),
        ({"activation": None}, "activation"),
        ({"pooling": "min"}, "pooling"),
    ],
)
def test_lenet5_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lenet5(**kwargs)
