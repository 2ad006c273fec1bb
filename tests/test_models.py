"""Tests for cnnkit.models: parameter counts and layer order of the course's models."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import keras
import numpy as np

from cnnkit.layers import ResidualUnit
from cnnkit.models import mnist_cnn, resnet34


def test_mnist_cnn_parameters_and_layer_order():
    model = mnist_cnn()
    assert model.count_params() == 1_625_866
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dropout",
        "Dense",
        "Dropout",
        "Dense",
    ]
    assert [layer.filters for layer in model.layers[:2]] == [32, 64]
    assert model.output_shape == (None, 10)


def test_resnet34_parameters_and_layer_order():
    model = resnet34()
    assert model.count_params() == 21_300_554
    names = [layer.name for layer in model.layers]
    units = [f"stage2_unit{i}" for i in range(1, 4)]
    units += [f"stage3_unit{i}" for i in range(1, 5)]
    units += [f"stage4_unit{i}" for i in range(1, 7)]
    units += [f"stage5_unit{i}" for i in range(1, 4)]
    assert names == [
        "stem_conv",
        "stem_bn",
        "stem_relu",
        "stem_pool",
        *units,
        "avg_pool",
        "flatten",
        "predictions",
    ]
    stem = model.layers[0]
    assert (stem.filters, stem.kernel_size, stem.strides, stem.use_bias) == (
        64,
        (7, 7),
        (2, 2),
        False,
    )
    pool = model.layers[3]
    assert (pool.pool_size, pool.strides, pool.padding) == ((3, 3), (2, 2), "same")
    res = [layer for layer in model.layers if isinstance(layer, ResidualUnit)]
    assert [u.filters for u in res] == [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3
    assert [u.strides for u in res] == [1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1]
    shapes = {u.name: tuple(u.output.shape) for u in res}
    assert shapes["stage2_unit3"] == (None, 7, 7, 64)
    assert shapes["stage3_unit4"] == (None, 4, 4, 128)
    assert shapes["stage4_unit6"] == (None, 2, 2, 256)
    assert shapes["stage5_unit3"] == (None, 1, 1, 512)
    assert model.layers[-1].units == 10 and model.output_shape == (None, 10)


def test_resnet34_options_and_forward_pass():
    model = resnet34(input_shape=(32, 32, 3), n_classes=5, bn_momentum=0.9)
    assert model.output_shape == (None, 5)
    assert all(u.bn_momentum == 0.9 for u in model.layers if isinstance(u, ResidualUnit))
    assert model.get_layer("stem_bn").momentum == 0.9
    probs = keras.ops.convert_to_numpy(model(np.zeros((2, 32, 32, 3), "float32")))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
