"""Notebook 07's exercise checks accept right answers in other forms and name typical mistakes."""

import cnnkit  # noqa: F401 (imported before Keras)
from cnnkit.data import load_cifar10
from cnnkit.exercises import cifar

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


def test_check_1_accepts_float32_keras_and_a_normalization_layer(cifar10):
    (photos, _), _, _ = cifar10
    scaled = photos.astype("float32") / 255
    assert cifar.check_1(keras.ops.mean(scaled, axis=(0, 1, 2)), scaled.std(axis=(0, 1, 2)))
    normalization = keras.layers.Normalization(axis=-1)
    normalization.adapt(scaled)
    assert normalization.mean.shape == (1, 1, 1, 3)
    assert cifar.check_1(normalization.mean, keras.ops.sqrt(normalization.variance))
    assert_wrong(cifar.check_1(normalization.mean, normalization.variance), "variance")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_check_1_rejects_nan_and_inf(cifar10, bad):
    (photos, _), _, _ = cifar10
    means, stds = photos.mean(axis=(0, 1, 2)) / 255, photos.std(axis=(0, 1, 2)) / 255
    assert_wrong(cifar.check_1([bad, bad, bad], stds), "NaN or infinite")
    assert_wrong(cifar.check_1(means, [0.2, bad, 0.2]), "NaN or infinite")


# Exercise 2: PyTorch's NCHW maps flattened in Keras' order


def keras_rows_by_loops(maps):
    """Position by position, all channels of a position before the next: a list of lists."""
    maps = np.asarray(maps)
    n, c, h, w = maps.shape
    return [
        [maps[i, k, y, x] for y in range(h) for x in range(w) for k in range(c)] for i in range(n)
    ]


def test_check_2_accepts_transpose_loops_and_tensors():
    assert cifar.check_2(lambda maps: np.transpose(maps, (0, 2, 3, 1)).reshape(len(maps), -1))
    assert cifar.check_2(keras_rows_by_loops)
    assert cifar.check_2(
        lambda maps: keras.layers.Flatten()(tf.transpose(tf.constant(maps), (0, 2, 3, 1)))
    )


def test_check_2_names_the_typical_mistakes():
    def in_place(maps):
        rows = np.transpose(maps, (0, 2, 3, 1)).reshape(len(maps), -1).copy()
        maps[...] = 0
        return rows

    assert_wrong(cifar.check_2(lambda maps: maps.reshape(len(maps), -1)), "torch.flatten")
    assert_wrong(
        cifar.check_2(lambda maps: np.transpose(maps, (0, 3, 2, 1)).reshape(len(maps), -1)),
        "swapped",
    )
    assert_wrong(cifar.check_2(lambda maps: maps.reshape(-1, 32 * 16 * 16)), "batch axis")
    assert_wrong(cifar.check_2(in_place), "in place")
    assert_wrong(cifar.check_2(lambda maps: np.full((len(maps), maps[0].size), np.nan)), "NaN")


def test_check_2_says_not_attempted_for_an_unwritten_body():
    def nchw_to_keras_rows(maps): ...  # your code here

    assert cifar.check_2(nchw_to_keras_rows).status == "not attempted"


# Exercise 3: parameters and multiplications of the first convolution


def test_check_3_accepts_numpy_integers_and_floats():
    assert cifar.check_3(np.int64(3 * 3 * 3 * 32), float(32 * 32 * 32 * 27))


@pytest.mark.parametrize(
    "parameters, multiplications, words",
    [
        ((3 * 3 * 3 + 1) * 32, 32 * 32 * 32 * 27, ["no bias", "batch normalisation"]),
        (3 * 3 * 32, 32 * 32 * 32 * 27, ["3 input channels"]),
        (864, 30 * 30 * 32 * 27, ["'same'", "'valid'"]),
        (864, 2 * 32 * 32 * 32 * 27, ["FLOPs"]),
        (float("nan"), 32 * 32 * 32 * 27, ["NaN"]),
        (864, float("inf"), ["NaN or infinite"]),
    ],
)
def test_check_3_names_the_typical_mistake(parameters, multiplications, words):
    assert_wrong(cifar.check_3(parameters, multiplications), *words)


# Exercise 4: horizontal flip and shift with zero padding


def flip_and_shift_with_pad(images, flip, dy, dx):
    """Pad by the shift on every side, then crop the window that moves the content."""
    images = np.asarray(images)
    if flip:
        images = np.flip(images, axis=2)
    height, width = images.shape[1:3]
    py, px = abs(dy), abs(dx)
    padded = np.pad(images, ((0, 0), (py, py), (px, px), (0, 0)))
    return padded[:, py - dy : py - dy + height, px - dx : px - dx + width].tolist()


def test_check_4_accepts_a_padding_version_returning_lists():
    assert cifar.check_4(flip_and_shift_with_pad)


def test_check_4_names_the_typical_mistakes():
    def vertical(images, flip, dy, dx):
        return flip_and_shift_with_pad(images[:, ::-1] if flip else images, False, dy, dx)

    def rolled(images, flip, dy, dx):
        return np.roll(images[:, :, ::-1] if flip else images, (dy, dx), axis=(1, 2))

    def backwards(images, flip, dy, dx):
        return flip_and_shift_with_pad(images, flip, -dy, -dx)

    def in_place(images, flip, dy, dx):
        images[...] = np.asarray(flip_and_shift_with_pad(images, flip, dy, dx))
        return images

    assert_wrong(cifar.check_4(vertical), "upside down", "axis 2")
    assert_wrong(cifar.check_4(rolled), "wraps around", "zeros")
    assert_wrong(cifar.check_4(backwards), "wrong way")
    assert_wrong(cifar.check_4(in_place), "in place")


def test_check_4_says_not_attempted_for_an_unwritten_body():
    def flip_and_shift(images, flip, dy, dx):
        """NHWC batch: mirror left-right if flip, then move dy down, dx right."""
        ...  # your code here

    assert cifar.check_4(flip_and_shift).status == "not attempted"


# Exercise 5: the confusion matrix


def confusion_by_add_at(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def test_check_5_accepts_add_at_loops_and_tensors():
    assert cifar.check_5(confusion_by_add_at)

    def loops(y_true, y_pred, n_classes):
        counts = [[0] * n_classes for _ in range(n_classes)]
        for t, p in zip(y_true, y_pred, strict=True):
            counts[t][p] += 1
        return counts

    assert cifar.check_5(loops)
    assert cifar.check_5(
        lambda y_true, y_pred, n: tf.math.confusion_matrix(y_true, y_pred, num_classes=n)
    )


def test_check_5_names_the_typical_mistakes():
    def transposed(y_true, y_pred, n_classes):
        return confusion_by_add_at(y_true, y_pred, n_classes).T

    def fractions(y_true, y_pred, n_classes):
        counts = confusion_by_add_at(y_true, y_pred, n_classes)
        return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)

    def no_diagonal(y_true, y_pred, n_classes):
        counts = confusion_by_add_at(y_true, y_pred, n_classes)
        np.fill_diagonal(counts, 0)
        return counts

    def size_from_labels(y_true, y_pred, n_classes):
        return confusion_by_add_at(y_true, y_pred, max(y_true.max(), y_pred.max()) + 1)

    assert_wrong(cifar.check_5(transposed), "swapped")
    assert_wrong(cifar.check_5(fractions), "fractions")
    assert_wrong(cifar.check_5(no_diagonal), "diagonal")
    assert_wrong(cifar.check_5(size_from_labels), "labels seen", "n_classes=10")
    assert_wrong(cifar.check_5(lambda y, p, n: np.full((n, n), np.inf)), "NaN or infinite")


def test_check_5_says_not_attempted_for_an_unwritten_body():
    def confusion_matrix(y_true, y_pred, n_classes): ...  # your code here

    assert cifar.check_5(confusion_matrix).status == "not attempted"


# Exercise 6: top-k accuracy


def top_k_accuracy_loop(y_true, probabilities, k):
    """One row at a time: the true class is in the top k if fewer than k beat it."""
    hits = [np.sum(row > row[label]) < k for label, row in zip(y_true, probabilities, strict=True)]
    return sum(hits) / len(hits)


def test_check_6_accepts_a_loop():
    assert cifar.check_6(top_k_accuracy_loop)


def test_check_6_names_ties_sorting_and_counting_mistakes():
    def by_argsort(y_true, probabilities, k):
        top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
        return np.mean((top == y_true[:, None]).any(axis=1))

    def ascending(y_true, probabilities, k):
        return np.mean((np.argsort(probabilities, axis=1)[:, :k] == y_true[:, None]).any(axis=1))

    def count(y_true, probabilities, k):
        return len(y_true) * top_k_accuracy_loop(y_true, probabilities, k)

    assert_wrong(cifar.check_6(by_argsort), "without ties", "strictly higher")
    assert_wrong(cifar.check_6(ascending), "smallest to the largest")
    assert_wrong(cifar.check_6(count), "fraction", "not their count")
    assert_wrong(cifar.check_6(lambda y, p, k: np.mean(p.argmax(axis=1) == y)), "top-1", "k=3")


def test_check_6_says_not_attempted_for_an_unwritten_body():
    def top_k_accuracy(y_true, probabilities, k):
        raise NotImplementedError

    assert cifar.check_6(top_k_accuracy).status == "not attempted"


def test_check_6_rejects_nan():
    assert_wrong(cifar.check_6(lambda y, p, k: float("nan")), "NaN or infinite")
