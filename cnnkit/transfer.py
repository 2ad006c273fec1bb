"""Transfer learning helpers: a few labelled examples per class, and keras.applications offline.

Notebook 08 pretrains a small CNN on one task and reuses it on another. What it shares with its
exercise checks lives here: :func:`small_base`, the convolutional base it pretrains,
:func:`examples_per_class`, which draws the same few labelled examples for every method, and
:func:`load_application`, which builds a ``keras.applications`` model with its ImageNet weights
where Keras can load them (already cached, or downloadable) and says so in one sentence where
it cannot, continuing with random weights instead of failing.
"""

from __future__ import annotations

import contextlib
import io
import socket
from typing import Any

import keras
import numpy as np

APPLICATIONS = {
    "MobileNetV3Small": keras.applications.mobilenet_v3.preprocess_input,
    "EfficientNetB0": keras.applications.efficientnet.preprocess_input,
}
"""The application models :func:`load_application` knows, with their ``preprocess_input``."""


def small_base(input_shape: tuple[int, int, int] = (28, 28, 1)) -> keras.Model:
    """The small convolutional base that notebook 08 pretrains and transfers.

    Three blocks of a 3x3 convolution (no bias: the batch normalisation after it adds its own
    shift), batch normalisation, ReLU and 2x2 max pooling, with 32, 64 and 128 filters, then
    global average pooling: one vector of 128 features per image. It starts with a
    ``Rescaling`` layer, so it takes raw pixels 0..255. Batch normalisation uses momentum 0.9
    (Keras' default is 0.99) so that its moving statistics settle within the few hundred
    updates the notebook trains for.

    Parameters
    ----------
    input_shape : tuple of int, default=(28, 28, 1)
        The shape of one image.

    Returns
    -------
    keras.Model
        The base, named "base", with layers ``conv1``, ``bn1``, ``relu1``, ``pool1``, ...,
        ``pool3`` and ``features``.

    Examples
    --------
    >>> base = small_base()
    >>> base.output.shape, base.count_params()
    ((None, 128), 93344)
    """
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Rescaling(1 / 255, name="rescaling")(inputs)
    for block, filters in enumerate([32, 64, 128], start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{block}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn{block}")(x)
        x = keras.layers.ReLU(name=f"relu{block}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{block}")(x)
    outputs = keras.layers.GlobalAveragePooling2D(name="features")(x)
    return keras.Model(inputs, outputs, name="base")


def examples_per_class(
    labels: np.ndarray, n: int | None, seed: int = 0, n_classes: int | None = None
) -> np.ndarray:
    """The indices of `n` randomly drawn examples of each class (all of them for None).

    Parameters
    ----------
    labels : numpy.ndarray
        The class of each example.
    n : int or None
        Examples per class; None keeps every example.
    seed : int, default=0
        The random draw: the same seed gives the same examples.
    n_classes : int, optional
        The number of classes; by default ``labels.max() + 1``.

    Returns
    -------
    numpy.ndarray
        Indices into `labels`, class by class (shuffle before training on them in order).

    Raises
    ------
    ValueError
        If a class has fewer than `n` examples.

    Examples
    --------
    >>> labels = np.array([0, 1, 0, 1, 0, 1])
    >>> picked = examples_per_class(labels, 2, seed=1)
    >>> len(picked), np.bincount(labels[picked]).tolist()
    (4, [2, 2])
    """
    if n is None:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    picked = []
    for label in range(int(labels.max()) + 1 if n_classes is None else n_classes):
        members = np.flatnonzero(labels == label)
        if len(members) < n:
            raise ValueError(f"class {label} has {len(members)} examples, fewer than {n}.")
        picked.append(rng.choice(members, size=n, replace=False))
    return np.concatenate(picked)


def load_application(
    name: str = "MobileNetV3Small",
    input_shape: tuple[int, int, int] = (224, 224, 3),
    *,
    timeout: float = 20.0,
) -> tuple[keras.Model, bool, str]:
    """Build a ``keras.applications`` model without its top, with ImageNet weights if possible.

    Keras finds the weights in its cache (``~/.keras/models``, or ``$KERAS_HOME/models``) or
    downloads them. Where neither works (no network, as on many course machines), the same
    architecture is built with random weights (``weights=None``) so that its structure can
    still be studied, and the message says so in one sentence. Keras' own download messages are
    kept out of sight.

    Parameters
    ----------
    name : {"MobileNetV3Small", "EfficientNetB0"}, default="MobileNetV3Small"
        The application model.
    input_shape : tuple of int, default=(224, 224, 3)
        The shape of one input image (both models were trained on ImageNet at 224 x 224).
    timeout : float, default=20.0
        Seconds to wait for the network before giving up on a download.

    Returns
    -------
    model : keras.Model
        The model with ``include_top=False``: it ends with the last feature maps.
    weights_loaded : bool
        Whether the ImageNet weights were loaded.
    message : str
        One sentence saying which weights the model has.

    Raises
    ------
    ValueError
        If `name` is not one of :data:`APPLICATIONS`.

    Examples
    --------
    >>> model, weights_loaded, message = load_application()  # doctest: +SKIP
    >>> print(message)  # doctest: +SKIP
    MobileNetV3Small: the ImageNet weights could not be loaded (no network: ...), so ...
    """
    if name not in APPLICATIONS:
        raise ValueError(f"unknown application {name!r}; choose one of {sorted(APPLICATIONS)}.")
    build = getattr(keras.applications, name)
    try:
        with _quiet(), _socket_timeout(timeout):
            model = build(include_top=False, weights="imagenet", input_shape=input_shape)
    except Exception as error:  # no network, a proxy, a corrupt cache: all end the same way
        model = build(include_top=False, weights=None, input_shape=input_shape)
        reason = _first_line(error)
        return (
            model,
            False,
            (
                f"{name}: the ImageNet weights could not be loaded ({reason}); built with "
                "weights=None (random weights) to show the structure. With a network, Keras "
                "downloads them once into ~/.keras/models."
            ),
        )
    return model, True, f"{name}: ImageNet weights loaded (from Keras' cache or downloaded)."


@contextlib.contextmanager
def _quiet() -> Any:
    """Hide what Keras prints while it looks for the weights."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Any:
    """Give up on a download that hangs (a firewall that drops packets) after `seconds`."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _first_line(error: BaseException) -> str:
    """A short reason: the error's first line, without Keras' long URL."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if "URL fetch failure" in text:
        return "no network: " + text.rsplit(" -- ", 1)[-1]
    return text if len(text) <= 120 else text[:117] + "..."
