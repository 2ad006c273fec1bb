"""Tests for notebook 07's builders: cnnkit.models.simple_cnn, cifar_cnn, cifar_augmentation."""

# cnnkit first, so that TensorFlow (imported by Keras) gets its fast CPU kernels.
from cnnkit.models import cifar_augmentation, cifar_cnn, simple_cnn
from cnnkit.reference import conv2d, pool2d

import keras
import numpy as np
import pytest

# Layer name, Keras class, output shape (without the batch axis), parameters: 32x32x3 input.
SIMPLE_TABLE = [
    ("rescaling", "Rescaling", (32, 32, 3), 0),
    ("conv1", "Conv2D", (32, 32, 16), 3 * 3 * 3 * 16 + 16),
    ("pool1", "MaxPooling2D", (16, 16, 16), 0),
    ("conv2", "Conv2D", (16, 16, 32), 3 * 3 * 16 * 32 + 32),
    ("pool2", "MaxPooling2D", (8, 8, 32), 0),
    ("flatten", "Flatten", (8 * 8 * 32,), 0),
    ("logits", "Dense", (10,), 8 * 8 * 32 * 10 + 10),
]


def _conv_bn_relu(stage, conv, size, c_in, c_out):
    """Rows of one Conv2D (no bias) -> BatchNormalization (4 values per channel) -> ReLU."""
    return [
        (f"stage{stage}_conv{conv}", "Conv2D", (size, size, c_out), 3 * 3 * c_in * c_out),
        (f"stage{stage}_bn{conv}", "BatchNormalization", (size, size, c_out), 4 * c_out),
        (f"stage{stage}_relu{conv}", "Activation", (size, size, c_out), 0),
    ]


CIFAR_TABLE = [
    ("rescaling", "Rescaling", (32, 32, 3), 0),
    *_conv_bn_relu(1, 1, 32, 3, 32),
    ("stage1_pool", "MaxPooling2D", (16, 16, 32), 0),
    *_conv_bn_relu(2, 1, 16, 32, 64),
    *_conv_bn_relu(2, 2, 16, 64, 64),
    ("stage2_pool", "MaxPooling2D", (8, 8, 64), 0),
    *_conv_bn_relu(3, 1, 8, 64, 128),
    *_conv_bn_relu(3, 2, 8, 128, 128),
    ("stage3_pool", "MaxPooling2D", (4, 4, 128), 0),
    *_conv_bn_relu(4, 1, 4, 128, 256),
    ("avg_pool", "GlobalAveragePooling2D", (256,), 0),
    ("dropout", "Dropout", (256,), 0),
    ("logits", "Dense", (10,), 256 * 10 + 10),
]


def _table(model):
    return [
        (layer.name, type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
        for layer in model.layers
    ]


def test_simple_cnn_shape_table_and_parameters():
    model = simple_cnn()
    assert _table(model) == SIMPLE_TABLE
    assert model.count_params() == 25_578 == sum(row[3] for row in SIMPLE_TABLE)
    assert model.get_layer("logits").activation.__name__ == "linear"


def test_simple_cnn_forward_pass_matches_numpy_reference():
    # Oracle: cnnkit.reference's NumPy convolution and pooling (checked against Keras and
    # SciPy in test_reference.py), ReLU, a row-major flatten and a matrix product.
    keras.utils.set_random_seed(0)
    model = simple_cnn()
    w = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3))
    z = pool2d(conv2d(x, *w["conv1"], padding="same").clip(0), 2)
    z = pool2d(conv2d(z, *w["conv2"], padding="same").clip(0), 2).reshape(2, -1)
    expected = z @ w["logits"][0] + w["logits"][1]
    # The model takes raw pixels and maps 0..255 to [-1, 1]: give it x in those units.
    logits = model.predict(((x + 1) * 127.5).astype(np.float32), verbose=0)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_cifar_cnn_shape_table_and_parameters():
    model = cifar_cnn()
    assert _table(model) == CIFAR_TABLE
    assert model.count_params() == 577_514 == sum(row[3] for row in CIFAR_TABLE)
    assert model.get_layer("logits").activation.__name__ == "linear"
    assert {layer.momentum for layer in model.layers if "_bn" in layer.name} == {0.9}


def test_cifar_cnn_augmented_adds_only_the_augmentation_block():
    plain, augmented = cifar_cnn(), cifar_cnn(augment=True)
    assert augmented.layers[1].name == "augmentation"
    assert [layer.name for layer in augmented.layers[1].layers] == ["flip", "shift"]
    table = _table(augmented)
    assert table[:1] + table[2:] == CIFAR_TABLE
    assert augmented.count_params() == plain.count_params()


def test_cifar_cnn_other_stages_input_and_classes():
    model = cifar_cnn(input_shape=(16, 16, 1), n_classes=4, stages=((8,), (8, 16)), dropout=0.0)
    assert model.output_shape == (None, 4)
    assert tuple(model.get_layer("stage2_relu2").output.shape[1:]) == (8, 8, 16)
    assert model.count_params() == (9 * 8 + 32) + (9 * 8 * 8 + 32) + (9 * 8 * 16 + 64) + 17 * 4


def test_cifar_cnn_inference_matches_numpy_reference():
    # Oracle: batch norm in inference mode is (x - moving_mean) / sqrt(moving_var + eps)
    # * gamma + beta; random statistics so that the check is not trivial. Dropout is off.
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    model = cifar_cnn(input_shape=(8, 8, 3), stages=((4,), (6, 6)), augment=True)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.normal(1, 0.2, c),
                    rng.normal(0, 0.2, c),
                    rng.normal(0, 0.5, c),
                    rng.uniform(0.5, 2, c),
                ]
            )
    w = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}

    def conv_bn_relu(z, name):
        gamma, beta, mean, var = w[name.replace("conv", "bn")]
        z = conv2d(z, w[name][0], padding="same")
        return ((z - mean) / np.sqrt(var + 1e-3) * gamma + beta).clip(0)

    x = rng.normal(size=(3, 8, 8, 3))
    z = pool2d(conv_bn_relu(x, "stage1_conv1"), 2)
    z = conv_bn_relu(conv_bn_relu(z, "stage2_conv1"), "stage2_conv2").mean(axis=(1, 2))
    expected = z @ w["logits"][0] + w["logits"][1]
    # The model takes raw pixels and maps 0..255 to [-1, 1]: give it x in those units.
    logits = model.predict(((x + 1) * 127.5).astype(np.float32), verbose=0)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_cifar_augmentation_flips_and_shifts_only_in_training():
    images = np.random.default_rng(0).random((64, 8, 8, 3)).astype(np.float32)
    keras.utils.set_random_seed(0)
    flip_only = cifar_augmentation(shift=0.0)
    out = keras.ops.convert_to_numpy(flip_only(images, training=True))
    flipped = np.array([np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images, strict=True)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(out, images, strict=True)])
    assert np.all(flipped | kept) and flipped.any() and kept.any()
    block = cifar_augmentation()
    assert not np.array_equal(keras.ops.convert_to_numpy(block(images, training=True)), images)
    assert np.array_equal(keras.ops.convert_to_numpy(block(images, training=False)), images)


def test_cifar_cnn_keras_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = cifar_cnn(input_shape=(8, 8, 3), stages=((4,), (8,)), augment=True)
    photos = np.random.default_rng(0).integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert _table(loaded) == _table(model)
    # Raw uint8 photos, as load_cifar10 returns them, give the same as their float32 values.
    expected = model.predict(photos.astype(np.float32), verbose=0)
    np.testing.assert_array_equal(loaded.predict(photos, verbose=0), expected)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stages": ()}, "non-empty"),
        ({"stages": ((32,), ())}, "non-empty"),
        ({"stages": ((32, 0),)}, "positive int"),
        ({"stages": ((32.0,),)}, "positive int"),
        ({"dropout": 1.0}, "dropout"),
        ({"input_shape": (28, 28, 3)}, "divisible by 8"),
    ],
)
def test_cifar_cnn_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cifar_cnn(**kwargs)


def test_cifar_augmentation_bad_shift():
    with pytest.raises(ValueError, match="shift"):
        cifar_augmentation(shift=1.5)
