"""Tests for cnnkit.models: layer order and shapes of the course's models, and ResNet-34
against Géron's (the benchmarks' plain baseline) with the same weights."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import keras
import numpy as np

from benchmarks import baseline
from cnnkit.layers import ResidualUnit
from cnnkit.models import mnist_cnn, resnet34


def test_mnist_cnn_parameters_and_layer_order():
    model = mnist_cnn()
    assert model.count_params() == 1_625_866
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Rescaling",
        "Conv2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dropout",
        "Dense",
        "Dropout",
        "Dense",
    ]
    assert [layer.filters for layer in model.layers[1:3]] == [32, 64]
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
        "rescaling",
        "stem_conv",
        "stem_bn",
        "stem_relu",
        "stem_pool",
        *units,
        "avg_pool",
        "flatten",
        "predictions",
    ]
    stem = model.layers[1]
    assert (stem.filters, stem.kernel_size, stem.strides, stem.use_bias) == (
        64,
        (7, 7),
        (2, 2),
        False,
    )
    pool = model.layers[4]
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


def test_resnet34_options():
    model = resnet34(input_shape=(32, 32, 3), n_classes=5, bn_momentum=0.9)
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 5)
    assert all(u.bn_momentum == 0.9 for u in model.layers if isinstance(u, ResidualUnit))
    assert model.get_layer("stem_bn").momentum == 0.9


def test_resnet34_computes_what_gerons_resnet34_computes():
    # Oracle: the benchmarks' plain ResNet-34 (Géron, chapter 14: plain Conv2D, a list of layers per
    # unit), with cnnkit's weights and moving statistics copied over.
    keras.utils.set_random_seed(0)
    model = resnet34()
    rng = np.random.default_rng(0)
    for weight in model.weights:  # non-trivial statistics, so inference mode uses them
        if "moving_mean" in weight.path:
            weight.assign(rng.normal(0.0, 0.1, weight.shape).astype("float32"))
        elif "moving_variance" in weight.path:
            weight.assign(rng.uniform(0.5, 1.5, weight.shape).astype("float32"))
    reference = baseline.resnet34()
    reference.set_weights(model.get_weights())
    x = rng.random((4, 28, 28, 1), dtype=np.float32)
    # The 512 features before the classifier, where a softmax cannot hide differences.
    # cnnkit's model takes raw 0..255 pixels (its Rescaling layer), Géron's takes [0, 1].
    features, reference_features = (
        keras.ops.convert_to_numpy(keras.Model(m.inputs, m.layers[-2].output)([images]))
        for m, images in ((model, x * 255), (reference, x))
    )
    np.testing.assert_allclose(features, reference_features, rtol=1e-4, atol=1e-5)
    assert features.std() > 0.1  # the features are not all zero after the ReLUs


def test_resnet34_centre_tap_option_computes_the_same():
    # Oracle: the textbook model with the same weights; only the 1x1 maps' arithmetic differs.
    from cnnkit.layers import CentreTapResidualUnit

    keras.utils.set_random_seed(0)
    textbook, fast = resnet34(), resnet34(centre_tap=True)
    units = [layer for layer in fast.layers if isinstance(layer, ResidualUnit)]
    assert len(units) == 16 and all(isinstance(u, CentreTapResidualUnit) for u in units)
    assert not any(isinstance(u, CentreTapResidualUnit) for u in textbook.layers)
    fast.set_weights(textbook.get_weights())
    x = np.random.default_rng(1).integers(0, 256, (4, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(
        fast.predict(x, verbose=0), textbook.predict(x, verbose=0), rtol=1e-4, atol=1e-6
    )
