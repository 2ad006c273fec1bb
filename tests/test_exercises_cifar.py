"""The exercise checks accept right answers in other forms and name typical mistakes."""

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit.data import load_cifar10
from cnnkit.exercises import cifar
from cnnkit.models import cifar_cnn, simple_cnn

import keras
import numpy as np
import pytest
import tensorflow as tf
from verdicts import assert_wrong


@pytest.fixture(scope="module")
def cifar10():
    return load_cifar10()


# Exercise 1: per-channel mean and standard deviation


def test_check_1_accepts_tensorflow_moments(cifar10):
    (photos, _), _, _ = cifar10
    mean, variance = tf.nn.moments(tf.cast(photos, tf.float64) / 255.0, axes=[0, 1, 2])
    assert cifar.check_1(mean, tf.sqrt(variance))


def test_check_1_accepts_lists_of_floats(cifar10):
    (photos, _), _, _ = cifar10
    scaled = photos / 255.0
    means = [float(scaled[..., c].mean()) for c in range(3)]
    stds = [float(scaled[..., c].std(ddof=1)) for c in range(3)]  # n - 1: within 1e-4 here
    assert cifar.check_1(means, stds)


def test_check_1_names_the_scale_and_axis_mistakes(cifar10):
    (photos, _), _, _ = cifar10
    means, stds = photos.mean(axis=(0, 1, 2)) / 255, photos.std(axis=(0, 1, 2)) / 255
    assert_wrong(cifar.check_1(255 * means, stds), "0..255", "divide")
    assert_wrong(cifar.check_1(2 * means - 1, stds), "[-1, 1]")
    assert_wrong(cifar.check_1(photos.mean(axis=(1, 2)) / 255, stds), "per photo", "(0, 1, 2)")
    assert_wrong(cifar.check_1(photos.mean() / 255, stds), "one number", "channels")
    assert_wrong(cifar.check_1(means, stds**2), "variance")
    per_photo = photos.astype(np.float32).std(axis=(1, 2)).mean(axis=0) / 255
    assert_wrong(cifar.check_1(means, per_photo), "each photo's own standard deviation")


# Exercise 2: parameters and multiplications of the first convolution


def test_check_2_accepts_numpy_integers_and_floats():
    assert cifar.check_2(np.int64(3 * 3 * 3 * 32), float(32 * 32 * 32 * 27))


@pytest.mark.parametrize(
    "parameters, multiplications, words",
    [
        ((3 * 3 * 3 + 1) * 32, 32 * 32 * 32 * 27, ["no bias", "batch normalisation"]),
        (3 * 3 * 32, 32 * 32 * 32 * 27, ["3 input channels"]),
        (864, 30 * 30 * 32 * 27, ["'same'", "'valid'"]),
        (864, 2 * 32 * 32 * 32 * 27, ["FLOPs"]),
    ],
)
def test_check_2_names_the_typical_mistake(parameters, multiplications, words):
    assert_wrong(cifar.check_2(parameters, multiplications), *words)


# Exercise 3: horizontal flip and shift with zero padding


def flip_and_shift_with_pad(images, flip, dy, dx):
    """Pad by the shift on every side, then crop the window that moves the content."""
    images = np.asarray(images)
    if flip:
        images = np.flip(images, axis=2)
    height, width = images.shape[1:3]
    py, px = abs(dy), abs(dx)
    padded = np.pad(images, ((0, 0), (py, py), (px, px), (0, 0)))
    return padded[:, py - dy : py - dy + height, px - dx : px - dx + width].tolist()


def test_check_3_accepts_a_padding_version_returning_lists():
    assert cifar.check_3(flip_and_shift_with_pad)


def test_check_3_names_the_typical_mistakes():
    def vertical(images, flip, dy, dx):
        return flip_and_shift_with_pad(images[:, ::-1] if flip else images, False, dy, dx)

    def rolled(images, flip, dy, dx):
        return np.roll(images[:, :, ::-1] if flip else images, (dy, dx), axis=(1, 2))

    def backwards(images, flip, dy, dx):
        return flip_and_shift_with_pad(images, flip, -dy, -dx)

    def in_place(images, flip, dy, dx):
        images[...] = np.asarray(flip_and_shift_with_pad(images, flip, dy, dx))
        return images

    assert_wrong(cifar.check_3(vertical), "upside down", "axis 2")
    assert_wrong(cifar.check_3(rolled), "wraps around", "zeros")
    assert_wrong(cifar.check_3(backwards), "wrong way")
    assert_wrong(cifar.check_3(in_place), "in place")


def test_check_3_says_not_attempted_for_an_unwritten_body():
    def flip_and_shift(images, flip, dy, dx):
        """NHWC batch: mirror left-right if flip, then move dy down, dx right."""
        ...  # your code here

    assert cifar.check_3(flip_and_shift).status == "not attempted"


# Exercise 4: top-k accuracy


def top_k_accuracy_loop(y_true, probabilities, k):
    """One row at a time: the true class is in the top k if fewer than k beat it."""
    hits = [np.sum(row > row[label]) < k for label, row in zip(y_true, probabilities, strict=True)]
    return sum(hits) / len(hits)


def test_check_4_accepts_a_loop():
    assert cifar.check_4(top_k_accuracy_loop)


def test_check_4_names_ties_sorting_and_counting_mistakes():
    def by_argsort(y_true, probabilities, k):
        top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
        return np.mean((top == y_true[:, None]).any(axis=1))

    def ascending(y_true, probabilities, k):
        return np.mean((np.argsort(probabilities, axis=1)[:, :k] == y_true[:, None]).any(axis=1))

    def count(y_true, probabilities, k):
        return len(y_true) * top_k_accuracy_loop(y_true, probabilities, k)

    assert_wrong(cifar.check_4(by_argsort), "without ties", "strictly higher")
    assert_wrong(cifar.check_4(ascending), "smallest to the largest")
    assert_wrong(cifar.check_4(count), "fraction", "not their count")
    assert_wrong(cifar.check_4(lambda y, p, k: np.mean(p.argmax(axis=1) == y)), "top-1", "k=3")


def test_check_4_says_not_attempted_for_an_unwritten_body():
    def top_k_accuracy(y_true, probabilities, k):
        raise NotImplementedError

    assert cifar.check_4(top_k_accuracy).status == "not attempted"


# Exercise 5: a CNN under a parameter budget


def ridge_model(cifar10, rescale=True):
    """A Functional model with hand-set weights: 2x2-averaged pixels, ridge-regression head.

    No training: the head solves a least-squares problem in closed form, so the test is fast
    and deterministic. On the bundled sample it classifies about 36% of the test photos.
    """
    (photos, labels), _, _ = cifar10
    features = photos.reshape(-1, 16, 2, 16, 2, 3).mean(axis=(2, 4)).reshape(len(photos), -1)
    features = features / 255.0 if rescale else features / 127.5 - 1.0
    design = np.hstack([features, np.ones((len(features), 1))])
    targets = np.eye(10)[labels]
    weights = np.linalg.solve(design.T @ design + 100 * np.eye(design.shape[1]), design.T @ targets)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs) if rescale else inputs
    identity = keras.layers.Conv2D(3, 1)  # a 1x1 convolution that copies its input
    x = keras.layers.AvgPool2D(2)(identity(x))
    identity.set_weights([np.eye(3, dtype="float32")[None, None], np.zeros(3, "float32")])
    head = keras.layers.Dense(10)
    outputs = head(keras.layers.Flatten()(x))
    head.set_weights([weights[:-1].astype("float32"), weights[-1].astype("float32")])
    return keras.Model(inputs, outputs)


def test_check_5_accepts_a_functional_model_from_a_function(cifar10, monkeypatch):
    monkeypatch.setenv("CNNKIT_QUICK", "1")
    result = cifar.check_5(lambda: ridge_model(cifar10))
    assert result, result
    assert "7,702 parameters" in result.message


def test_check_5_rejects_a_model_below_the_default_floor(cifar10, monkeypatch):
    monkeypatch.setenv("CNNKIT_QUICK", "0")
    assert_wrong(cifar.check_5(ridge_model(cifar10)), "below the floor of 45%")


def test_check_5_names_size_shape_scaling_and_training_mistakes(cifar10, monkeypatch):
    monkeypatch.setenv("CNNKIT_QUICK", "1")
    assert_wrong(cifar.check_5(cifar_cnn()), "577,514 parameters", "budget of 60,000")
    grey = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten()]
    )
    assert_wrong(cifar.check_5(grey), "(28, 28, 1)", "(32, 32, 3)")
    dense = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    assert_wrong(cifar.check_5(dense), "no convolution")
    assert_wrong(cifar.check_5(ridge_model(cifar10, rescale=False)), "Rescaling", "[-1, 1]")
    keras.utils.set_random_seed(0)
    assert_wrong(cifar.check_5(simple_cnn()), "did you train it")
