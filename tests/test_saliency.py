"""cnnkit.saliency: the three ReLU backward rules, against GradientTape and hand-computed cases."""

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit.saliency import (
    RULES,
    modified_gradient,
    randomised_copy,
    rank_correlation,
    relu_with_backward_rule,
)

import keras
import numpy as np
import pytest
import scipy.stats
import tensorflow as tf


def small_cnn(seed=0):
    """Conv-BN-ReLU-pool twice, then a head; batch-norm statistics away from 0 and 1."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Rescaling(1 / 127.5, offset=-1, name="rescaling"),
            keras.layers.Conv2D(4, 3, padding="same", use_bias=False, name="conv1"),
            keras.layers.BatchNormalization(name="bn1"),
            keras.layers.Activation("relu", name="relu1"),
            keras.layers.MaxPool2D(2, name="pool1"),
            keras.layers.Conv2D(5, 3, padding="same", name="conv2"),
            keras.layers.BatchNormalization(name="bn2"),
            keras.layers.ReLU(name="relu2"),
            keras.layers.GlobalAvgPool2D(name="gap"),
            keras.layers.Dropout(0.5, name="dropout"),
            keras.layers.Dense(3, name="logits"),
        ]
    )
    rng = np.random.default_rng(seed)
    for name in ["bn1", "bn2"]:
        bn = model.get_layer(name)
        gamma, beta, mean, var = bn.get_weights()
        bn.set_weights(
            [
                rng.uniform(0.5, 2, gamma.shape),
                rng.normal(0, 0.5, beta.shape),
                rng.normal(0, 0.3, mean.shape),
                rng.uniform(0.5, 2, var.shape),
            ]
        )
    return model


def photos(n=3, seed=1):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 8, 8, 3)).astype("uint8")


def tape_gradient(model, images, layer_name, channels):
    """The oracle: GradientTape's ordinary gradient of the channels' means, model in inference."""
    part = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    x = tf.constant(images, dtype="float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = part(x, training=False)
        means = tf.reduce_mean(out, axis=tuple(range(1, len(out.shape) - 1)))
        target = tf.reduce_sum(tf.gather(means, channels, batch_dims=1))
    return tape.gradient(target, x).numpy()


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("plain", [0, -6, 7, 0]), ("deconvnet", [5, 0, 7, 8]), ("guided", [0, 0, 7, 0])],
)
def test_one_relu_by_hand(rule, expected):
    # forward input x, gradient from above g: plain keeps x > 0, deconvnet g > 0, guided both
    x = tf.constant([-1.0, 2.0, 3.0, -4.0])
    g = tf.constant([5.0, -6.0, 7.0, 8.0])
    relu = relu_with_backward_rule(rule)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = relu(x)
        target = tf.reduce_sum(g * y)
    assert y.numpy().tolist() == [0, 2, 3, 0]  # the forward pass is always the ReLU
    assert tape.gradient(target, x).numpy().tolist() == expected


@pytest.mark.parametrize(
    ("rule", "expected"), [("plain", [-1, -2]), ("deconvnet", [-3, 3]), ("guided", [0, 0])]
)
def test_dense_relu_dense_by_hand(rule, expected):
    # x = [1, 0.5]; h = x @ W1 = [2, -0.5]; relu -> [2, 0]; out = relu(h) @ W2 = -2.
    # d out / d relu = [-1, 3]. plain keeps h > 0: dh = [-1, 0], dx = W1 @ dh = [-1, -2].
    # deconvnet keeps the positive upstream: dh = [0, 3], dx = [-3, 3]. guided: dh = [0, 0].
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(2, use_bias=False, name="d1"),
            keras.layers.Activation("relu", name="r"),
            keras.layers.Dense(1, use_bias=False, name="d2"),
        ]
    )
    model.get_layer("d1").set_weights([np.array([[1.0, -1.0], [2.0, 1.0]])])
    model.get_layer("d2").set_weights([np.array([[-1.0], [3.0]])])
    gradient = modified_gradient(model, np.array([[1.0, 0.5]]), rule, "d2", 0)
    np.testing.assert_allclose(gradient[0], expected)


@pytest.mark.parametrize("layer_name", ["relu1", "pool1", "relu2", "logits"])
def test_plain_rule_is_the_gradient_tape_gradient(layer_name):
    model = small_cnn()
    images = photos()
    n_channels = model.get_layer(layer_name).output.shape[-1]
    channels = np.arange(len(images)) % n_channels
    ours = modified_gradient(model, images, "plain", layer_name, channels)
    oracle = tape_gradient(model, images, layer_name, channels)
    assert ours.shape == images.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, oracle, rtol=1e-5, atol=1e-8)
    assert np.abs(oracle).max() > 0


def test_one_channel_for_all_images_and_other_forms():
    model = small_cnn()
    images = photos()
    one = modified_gradient(model, images, "guided", "relu2", 2)
    listed = modified_gradient(model, list(images), "guided", "relu2", [2, 2, 2])
    np.testing.assert_allclose(one, listed)


def test_the_three_rules_give_different_maps():
    model = small_cnn()
    images = photos()
    maps = {rule: modified_gradient(model, images, rule, "relu2", 1) for rule in RULES}
    assert not np.allclose(maps["plain"], maps["deconvnet"])
    assert not np.allclose(maps["plain"], maps["guided"])


def test_images_and_model_are_left_unchanged():
    model = small_cnn()
    images = photos()
    kept_images = images.copy()
    kept_weights = [w.copy() for w in model.get_weights()]
    for rule in RULES:
        modified_gradient(model, images, rule, "logits", [0, 1, 2])
    assert np.array_equal(images, kept_images)
    assert all(np.array_equal(a, b) for a, b in zip(kept_weights, model.get_weights(), strict=True))


def test_errors():
    model = small_cnn()
    images = photos()
    with pytest.raises(ValueError, match="rule"):
        relu_with_backward_rule("smooth")
    with pytest.raises(ValueError, match="rule"):
        modified_gradient(model, images, "smooth", "relu1", 0)
    with pytest.raises(ValueError, match="no layer"):
        modified_gradient(model, images, "plain", "conv9", 0)
    with pytest.raises(ValueError, match="channel"):
        modified_gradient(model, images, "plain", "relu1", 4)
    with pytest.raises(ValueError, match="channel"):
        modified_gradient(model, images, "plain", "relu1", -1)
    with pytest.raises(ValueError):
        modified_gradient(model, images, "plain", "relu1", [0, 1])
    functional = keras.Model(model.inputs, model.outputs)
    with pytest.raises(TypeError, match="Sequential"):
        modified_gradient(functional, images, "plain", "relu1", 0)
    hidden = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, activation="relu", name="c")]
    )
    with pytest.raises(ValueError, match="built-in activation"):
        modified_gradient(hidden, images, "guided", "c", 0)


def test_randomised_copy_changes_only_the_named_layers():
    model = small_cnn()
    kept = [w.copy() for w in model.get_weights()]
    keras.utils.set_random_seed(7)
    top = randomised_copy(model, ["logits", "conv2", "bn2"])
    for layer in model.layers:
        same = all(
            np.array_equal(a, b)
            for a, b in zip(
                layer.get_weights(), top.get_layer(layer.name).get_weights(), strict=True
            )
        )
        assert same == (layer.name not in {"logits", "conv2", "bn2"}) or not layer.weights
    bn = top.get_layer("bn2").get_weights()
    assert np.array_equal(bn[0], np.ones(5)) and np.array_equal(bn[2], np.zeros(5))
    everything = randomised_copy(model)
    assert not np.array_equal(
        everything.get_layer("conv1").get_weights()[0], model.get_layer("conv1").get_weights()[0]
    )
    assert all(np.array_equal(a, b) for a, b in zip(kept, model.get_weights(), strict=True))
    with pytest.raises(ValueError, match="no layers"):
        randomised_copy(model, ["conv9"])


def test_randomised_copy_nested_cascade_keeps_earlier_draws():
    model = small_cnn()
    keras.utils.set_random_seed(3)
    top = randomised_copy(model, ["logits"])
    deeper = randomised_copy(top, ["conv2", "bn2"])  # the cascade: start from the previous copy
    for name in ["logits", "conv1", "bn1"]:  # earlier draws and untouched layers kept
        for a, b in zip(
            top.get_layer(name).get_weights(), deeper.get_layer(name).get_weights(), strict=True
        ):
            assert np.array_equal(a, b)
    assert not np.array_equal(
        deeper.get_layer("conv2").get_weights()[0], model.get_layer("conv2").get_weights()[0]
    )
    assert not np.array_equal(
        top.get_layer("logits").get_weights()[0], model.get_layer("logits").get_weights()[0]
    )
    plain = randomised_copy(model, [])  # nothing re-initialised: the same maps
    images = photos()
    for rule in RULES:
        np.testing.assert_array_equal(
            modified_gradient(plain, images, rule, "logits", 1),
            modified_gradient(model, images, rule, "logits", 1),
        )


def test_rank_correlation_against_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=20)
    expected = scipy.stats.spearmanr(np.abs(a).ravel(), np.abs(b)).statistic
    assert rank_correlation(a, b) == pytest.approx(expected)
    assert rank_correlation(a, -a) == pytest.approx(1.0)  # absolute values
    assert np.isnan(rank_correlation(np.zeros(20), b))
    with pytest.raises(ValueError, match="values"):
        rank_correlation(a, b[:5])
