"""Checks for the exercises of notebook 07 (CIFAR-10: colour photos, a batch-norm CNN).

1. the per-channel mean and standard deviation of the training photos, scaled to [0, 1];
2. PyTorch's channels-first maps flattened in the order Keras' ``Flatten`` uses;
3. the parameters and multiplications of the first convolution of ``cifar_cnn``;
4. a horizontal flip and a shift with zero padding, written in NumPy for a batch;
5. a confusion matrix from labels and predictions, checked against scikit-learn;
6. top-k accuracy from predicted probabilities, checked against Keras.

The photos are read at check time with :func:`cnnkit.data.load_cifar10`, the same call the
notebook makes, so the checks use the data the notebook uses (the bundled sample, or the full
CIFAR-10 once fetched). No verdict depends on quick mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnkit.cifar10 import load_cifar10
from cnnkit.exercises.checking import (
    Mistake,
    call_answer,
    compare_arrays,
    compare_number,
    exercise,
    finite_array,
)
from cnnkit.models import cifar_cnn

import keras
import numpy as np
import tensorflow as tf
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

STATISTICS_TOLERANCE = 2e-3
"""Exercise 1: the largest accepted difference from the exact channel statistics (float32
arithmetic over millions of pixels is off by a few 1e-4)."""


def _finite(answer: Any, name: str) -> np.ndarray:
    advice = "check for a division by zero or an empty selection"
    return finite_array(answer, name, advice=advice)


@exercise("cifar.1")
def check_1(channel_means: Any, channel_stds: Any) -> None:
    """Check the mean and standard deviation of each colour channel of the training photos.

    Expected: 3 numbers each (red, green, blue) over every pixel of every training photo of
    :func:`cnnkit.data.load_cifar10`, with the pixel values scaled to [0, 1]; within
    :data:`STATISTICS_TOLERANCE`. Any array of 3 values is accepted, including the (1, 1, 1, 3)
    ``mean`` of an adapted ``keras.layers.Normalization`` (and the square root of its
    ``variance``).

    Parameters
    ----------
    channel_means : array-like of 3 numbers
        The mean of the red, green and blue values.
    channel_stds : array-like of 3 numbers
        Their standard deviations.

    Examples
    --------
    >>> check_1(..., ...)
    Exercise cifar.1: not attempted yet: replace `...` with your answer.
    """
    (photos, _), _, _ = load_cifar10()
    pixels = photos.reshape(-1, 3)
    # Exact statistics from each channel's histogram of the 256 possible values.
    counts = np.stack([np.bincount(pixels[:, c], minlength=256) for c in range(3)])
    values = np.arange(256) / 255.0
    means = counts @ values / len(pixels)
    stds = np.sqrt(counts @ values**2 / len(pixels) - means**2)
    means_array = _channel_values(channel_means, len(photos), "channel_means")
    compare_arrays(
        means_array,
        means,
        name="channel_means",
        rtol=0.0,
        atol=STATISTICS_TOLERANCE,
        mistakes={
            "these are 0..255 values: divide the photos by 255 first": 255.0 * means,
            _MINUS_ONE_TO_ONE_HINT: 2.0 * means - 1.0,
        },
    )
    stds_array = _channel_values(channel_stds, len(photos), "channel_stds")
    mistakes = {
        "these are 0..255 values: divide the photos by 255 first": 255.0 * stds,
        _MINUS_ONE_TO_ONE_HINT: 2.0 * stds,
        "that is the variance (a Normalization layer's `variance`): take its square root": (
            stds**2
        ),
    }
    if not np.allclose(stds_array, stds, rtol=0.0, atol=STATISTICS_TOLERANCE):
        per_photo = photos.astype(np.float32).std(axis=(1, 2)).mean(axis=0) / 255.0
        mistakes[
            "that is the average of each photo's own standard deviation, which leaves out how "
            "the photos differ from each other: take the standard deviation over the pixels "
            "of all photos at once"
        ] = per_photo
    compare_arrays(
        stds_array,
        stds,
        name="channel_stds",
        rtol=0.0,
        atol=STATISTICS_TOLERANCE,
        mistakes=mistakes,
    )


_MINUS_ONE_TO_ONE_HINT = (
    "that is for photos scaled to [-1, 1] as the models' Rescaling layer does; scale to [0, 1] "
    "with X / 255"
)


def _channel_values(answer: Any, n_photos: int, name: str) -> np.ndarray:
    """The 3 per-channel values of `answer`, or a hint naming the axis mistake behind its shape."""
    array = _finite(answer, name)
    how = "reduce over axes (0, 1, 2) (photos, rows, columns), e.g. X.mean(axis=(0, 1, 2))"
    if array.size == 1:
        raise Mistake(
            f"{name} is one number: that mixes the 3 channels together; {how}, keeping one "
            "value per channel."
        )
    if array.shape == (n_photos, 3):
        raise Mistake(f"{name} has one value per photo and channel {array.shape}: {how}.")
    if array.shape == (32, 32, 3):
        raise Mistake(f"{name} has one value per pixel position {array.shape}: {how}.")
    if array.size != 3 or array.shape[-1] != 3:
        raise Mistake(f"{name} has shape {array.shape}, expected 3 values (red, green, blue).")
    return array.reshape(3)  # (3,), or (1, 1, 1, 3) as a Normalization layer stores it


@exercise("cifar.2")
def check_2(nchw_to_keras_rows: Callable[..., Any]) -> None:
    """Check a function that flattens PyTorch (N, C, H, W) maps in Keras' ``Flatten`` order.

    ``nchw_to_keras_rows(maps)`` takes a batch of feature maps in PyTorch's channels-first
    layout and returns one row per image, (N, H * W * C), with the values in the order in which
    ``keras.layers.Flatten`` reads the same maps in Keras' channels-last layout (N, H, W, C).
    Compared exactly with ``Flatten`` on ``np.transpose(maps, (0, 2, 3, 1))``, for SimpleCNN's
    real shape (4, 32, 8, 8) and for shapes whose height, width and channels all differ; the
    input must be left unchanged.

    Parameters
    ----------
    nchw_to_keras_rows : callable
        The learner's function.

    Examples
    --------
    >>> check_2(...)
    Exercise cifar.2: not attempted yet: replace `...` with your answer.
    """
    rng = np.random.default_rng(7)
    for shape in [(4, 32, 8, 8), (2, 3, 5, 7), (1, 6, 4, 2), (3, 2, 3, 5)]:
        maps = rng.normal(size=shape).astype(np.float32)
        given = maps.copy()
        n = shape[0]
        name = f"nchw_to_keras_rows(maps of shape {shape})"
        got = call_answer(nchw_to_keras_rows, given, name="your nchw_to_keras_rows")
        if not np.array_equal(given, maps):
            raise Mistake(f"{name} changed its input `maps` in place: work on a copy.")
        expected = keras.ops.convert_to_numpy(
            keras.layers.Flatten()(np.transpose(maps, (0, 2, 3, 1)))
        )
        array = _finite(got, name)
        if array.ndim == 2 and array.shape[0] != n and array.size == maps.size:
            raise Mistake(
                f"{name} returned {array.shape[0]} row(s) for {n} image(s): the batch axis is "
                "lost, as with view(-1, k) for a wrong k; keep one row per image, e.g. "
                "reshape(len(maps), -1)."
            )
        compare_arrays(
            array,
            expected,
            name=name,
            rtol=0.0,
            atol=0.0,
            mistakes={
                "that is PyTorch's own order (torch.flatten(x, 1)): channel by channel. Keras' "
                "Flatten reads (N, H, W, C), all channels of one position before the next "
                "position: transpose the axes to (0, 2, 3, 1) before reshaping": maps.reshape(
                    n, -1
                ),
                "height and width are swapped: (0, 3, 2, 1) gives (N, W, H, C); Keras' layout "
                "is (N, H, W, C), axes (0, 2, 3, 1)": np.transpose(maps, (0, 3, 2, 1)).reshape(
                    n, -1
                ),
                "that order is (N, H, C, W): the channels must be the last axis, axes "
                "(0, 2, 3, 1)": np.transpose(maps, (0, 2, 1, 3)).reshape(n, -1),
            },
        )


@exercise("cifar.3")
def check_3(parameters: Any, multiplications: Any) -> None:
    """Check the parameter count and multiplications of ``cifar_cnn``'s first convolution.

    The layer is ``stage1_conv1`` of :func:`cnnkit.models.cifar_cnn` on 32x32x3 photos; the
    multiplications are those of one photo's forward pass through that layer. Exact.

    Parameters
    ----------
    parameters : int
        The layer's number of weights (``count_params()``).
    multiplications : int
        The multiplications it does for one photo.

    Examples
    --------
    >>> check_3(..., ...)
    Exercise cifar.3: not attempted yet: replace `...` with your answer.
    """
    _finite(parameters, "the parameters of stage1_conv1")
    _finite(multiplications, "the multiplications for one photo")
    layer = cifar_cnn().get_layer("stage1_conv1")
    kh, kw, c_in, c_out = layer.kernel.shape
    height, width = layer.output.shape[1:3]
    expected_parameters = layer.count_params()
    per_position = kh * kw * c_in
    compare_number(
        parameters,
        expected_parameters,
        name="the parameters of stage1_conv1",
        mistakes={
            "cifar_cnn's convolutions have no bias (use_bias=False): the batch normalisation "
            "right after each adds its own shift, so a bias would be redundant": (
                expected_parameters + c_out
            ),
            f"did you forget the {c_in} input channels? Each filter is {kh}x{kw}x{c_in}": (
                kh * kw * c_out
            ),
            f"that is one filter; the layer has {c_out}": per_position,
            "that includes the batch normalisation's parameters; count the convolution only": (
                expected_parameters + 4 * c_out
            ),
            "that includes the batch normalisation's trainable scale and shift; count the "
            "convolution only": expected_parameters + 2 * c_out,
        },
    )
    expected = height * width * c_out * per_position
    compare_number(
        multiplications,
        expected,
        name="the multiplications for one photo",
        mistakes={
            f"with padding='same' the output is {height}x{width}; that is the 'valid' size "
            f"{height - kh + 1}x{width - kw + 1}": (
                (height - kh + 1) * (width - kw + 1) * c_out * per_position
            ),
            f"did you forget the {c_in} input channels? Each output value sums "
            f"{kh}x{kw}x{c_in} = {per_position} products": height * width * c_out * kh * kw,
            "that counts each multiply and each add (FLOPs); count the multiplications only": (
                2 * expected
            ),
            f"that is for one filter; the layer has {c_out}": height * width * per_position,
            "that is the parameter count times the positions, biases included: a bias is an "
            "addition, and this layer has none": height * width * (expected_parameters + c_out),
        },
    )


@exercise("cifar.4")
def check_4(flip_and_shift: Callable[..., Any]) -> None:
    """Check a NumPy flip-and-shift augmentation of a batch of images, exactly.

    ``flip_and_shift(images, flip, dy, dx)`` takes a batch (n, height, width, channels),
    mirrors each image left to right if `flip` is true, then moves the content `dy` pixels
    down and `dx` pixels right (negative: up, left), filling the uncovered border with zeros;
    the input must be left unchanged. Compared exactly with ``tf.image``'s flip, pad and crop
    on random batches of several sizes and on real test photos.

    Parameters
    ----------
    flip_and_shift : callable
        The learner's function.

    Examples
    --------
    >>> check_4(...)
    Exercise cifar.4: not attempted yet: replace `...` with your answer.
    """
    rng = np.random.default_rng(8)
    _, (photos, _), _ = load_cifar10()
    cases = [
        (rng.integers(1, 256, size=(2, 5, 7, 3), dtype=np.uint8), True, 1, -2),
        (photos[:4], False, -3, 4),
        (rng.normal(size=(3, 6, 4, 1)).astype(np.float32), True, 0, 3),
        (rng.integers(1, 256, size=(1, 8, 8, 3), dtype=np.uint8), True, -2, 0),
        (photos[4:6], False, 0, 0),
    ]
    for images, flip, dy, dx in cases:
        given = images.copy()
        name = f"flip_and_shift(images of shape {images.shape}, flip={flip}, dy={dy}, dx={dx})"
        got = call_answer(flip_and_shift, given, flip, dy, dx, name="your flip_and_shift")
        if not np.array_equal(given, images):
            raise Mistake(
                f"{name} changed its input `images` in place: work on a copy (np.copy, or "
                "build a new array with np.zeros_like) and return it."
            )
        _finite(got, name)
        mirrored = images[:, :, ::-1] if flip else images
        mistakes = {
            "it moves the content the wrong way: positive dy moves it down, positive dx to "
            "the right": _flip_and_shift_oracle(images, flip, -dy, -dx),
            "the content wraps around (np.roll?): the pixels moved out of the image must "
            "disappear and the uncovered border must be zeros": np.roll(
                mirrored, (dy, dx), axis=(1, 2)
            ),
            "dy and dx are swapped: dy counts rows (down), dx columns (right)": (
                _flip_and_shift_oracle(images, flip, dx, dy)
            ),
        }
        if flip:
            mistakes |= {
                "that flips upside down (axis 1, the rows); a left-right mirror reverses "
                "axis 2, the columns: images[:, :, ::-1]": _flip_and_shift_oracle(
                    images[:, ::-1], False, dy, dx
                ),
                "that shifts first and flips afterwards, which moves the content the other "
                "way: flip first, then shift": _flip_and_shift_oracle(images, flip, dy, -dx),
                "the images are not mirrored: flip=True asks for a left-right mirror first": (
                    _flip_and_shift_oracle(images, False, dy, dx)
                ),
            }
        compare_arrays(
            got,
            _flip_and_shift_oracle(images, flip, dy, dx),
            name=name,
            rtol=0.0,
            atol=0.0,
            mistakes=mistakes,
        )


def _flip_and_shift_oracle(images: np.ndarray, flip: bool, dy: int, dx: int) -> np.ndarray:
    """Flip and shift with ``tf.image``: pad by |dy|, |dx| on every side, then crop."""
    x = tf.convert_to_tensor(images)
    if flip:
        x = tf.image.flip_left_right(x)
    _, height, width, _ = images.shape
    padded = tf.image.pad_to_bounding_box(
        x, abs(dy), abs(dx), height + 2 * abs(dy), width + 2 * abs(dx)
    )
    return tf.image.crop_to_bounding_box(padded, abs(dy) - dy, abs(dx) - dx, height, width).numpy()


@exercise("cifar.5")
def check_5(confusion_matrix: Callable[..., Any]) -> None:
    """Check a from-scratch confusion matrix against ``sklearn.metrics.confusion_matrix``.

    ``confusion_matrix(y_true, y_pred, n_classes)`` returns an (n_classes, n_classes) array of
    counts whose entry [i, j] is the number of photos of true class i predicted as class j.
    Tried on random labels, on labels where some classes never occur, and on a small case;
    exact.

    Parameters
    ----------
    confusion_matrix : callable
        The learner's function.

    Examples
    --------
    >>> check_5(...)
    Exercise cifar.5: not attempted yet: replace `...` with your answer.
    """
    rng = np.random.default_rng(5)
    cases = [
        (np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3),
        (rng.integers(0, 10, size=300), rng.integers(0, 10, size=300), 10),
        (rng.integers(0, 7, size=80), rng.integers(0, 8, size=80), 10),  # classes 8, 9 absent
    ]
    for y_true, y_pred, n_classes in cases:
        name = f"confusion_matrix(y_true, y_pred, n_classes={n_classes}) on {len(y_true)} photos"
        got = call_answer(
            confusion_matrix,
            y_true.copy(),
            y_pred.copy(),
            n_classes,
            name="your confusion_matrix",
        )
        array = _finite(got, name)
        expected = sklearn_confusion_matrix(y_true, y_pred, labels=np.arange(n_classes))
        off_diagonal = expected - np.diag(np.diag(expected))
        seen = max(y_true.max(), y_pred.max()) + 1
        compare_arrays(
            array,
            expected,
            name=name,
            rtol=0.0,
            atol=0.0,
            mistakes={
                "rows and columns are swapped: row i is the true class, column j the predicted "
                "one": expected.T,
                "those are fractions of each row; return the counts": expected
                / np.maximum(expected.sum(axis=1, keepdims=True), 1),
                "the diagonal (the correct answers) is missing: keep it": off_diagonal,
                "that counts each pair of classes both ways round; entry [i, j] counts only the "
                "photos of class i predicted as j": off_diagonal + off_diagonal.T,
                f"the size comes from the labels seen ({seen}); use n_classes={n_classes}, as "
                "some classes may not occur": expected[:seen, :seen],
            },
        )


@exercise("cifar.6")
def check_6(top_k_accuracy: Callable[..., Any]) -> None:
    """Check a from-scratch top-k accuracy against ``keras.metrics.SparseTopKCategoricalAccuracy``.

    ``top_k_accuracy(y_true, probabilities, k)`` returns the fraction of rows whose true
    class is among the `k` most probable ones; a class tied at the k-th place counts as
    inside (fewer than `k` classes have a strictly higher probability), as in Keras. Tried
    on random probabilities with several k and on probabilities with ties; within 1e-6.

    Parameters
    ----------
    top_k_accuracy : callable
        The learner's function.

    Examples
    --------
    >>> check_6(...)
    Exercise cifar.6: not attempted yet: replace `...` with your answer.
    """
    rng = np.random.default_rng(4)
    logits = rng.normal(scale=2.0, size=(60, 10))
    random_probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    tied = rng.integers(0, 3, size=(40, 10)).astype(np.float64) + 1.0
    tied_probabilities = tied / tied.sum(axis=1, keepdims=True)
    cases = [
        (rng.integers(0, 10, size=60), random_probabilities, 3, False),
        (rng.integers(0, 10, size=60), random_probabilities, 1, False),
        (rng.integers(0, 10, size=60), random_probabilities, 5, False),
        (rng.integers(0, 10, size=40), tied_probabilities, 2, True),
        (rng.integers(0, 10, size=40), tied_probabilities, 4, True),
    ]
    for y_true, probabilities, k, has_ties in cases:
        probabilities = probabilities.astype(np.float32)
        metric = keras.metrics.SparseTopKCategoricalAccuracy(k=k)
        metric.update_state(y_true, probabilities)
        expected = float(metric.result())
        true_probability = probabilities[np.arange(len(y_true)), y_true][:, None]
        higher = (probabilities > true_probability).sum(axis=1)
        ascending = np.argsort(probabilities, axis=1)[:, :k]
        name = f"top_k_accuracy(y_true, probabilities, k={k}) on {len(y_true)} rows"
        if has_ties:
            name += " with tied probabilities"
        got = call_answer(
            top_k_accuracy, y_true.copy(), probabilities.copy(), k, name="your top_k_accuracy"
        )
        _finite(got, name)
        if has_ties:
            try:
                compare_number(got, expected, name=name, atol=1e-6)
            except Mistake as mistake:
                raise Mistake(
                    f"{str(mistake).rstrip('.')}: right without ties but not with them? A class "
                    "tied at the k-th place counts as inside the top k, as in Keras: count the "
                    "classes with a strictly higher probability than the true one (sorting "
                    "breaks ties by position)."
                ) from mistake
            continue
        compare_number(
            got,
            expected,
            name=name,
            atol=1e-6,
            mistakes={
                f"that is the top-1 accuracy: did you use k={k}?": np.mean(higher == 0),
                "np.argsort sorts from the smallest to the largest: its first k columns are "
                "the k least probable classes": np.mean((ascending == y_true[:, None]).any(1)),
                "return the fraction of rows (between 0 and 1), not their count": np.sum(
                    higher < k
                ),
                "return a fraction between 0 and 1, not a percentage": 100 * expected,
                f"off by one: that is the top-{k + 1} accuracy": np.mean(higher < k + 1),
                **(
                    {f"off by one: that is the top-{k - 1} accuracy": np.mean(higher < k - 1)}
                    if k > 1
                    else {}
                ),
            },
        )
