"""Saliency maps by modified backpropagation: plain gradient, deconvnet and guided backpropagation.

Notebook 07 (section 7) compares three ways of sending a network's output back to the input
photo. They differ only in how a ReLU passes the gradient back (:func:`relu_with_backward_rule`):

* ``"plain"``: the ordinary gradient, where the ReLU's input was positive;
* ``"deconvnet"`` (Zeiler & Fergus, 2014): where the gradient arriving from above is positive,
  whatever the forward pass did;
* ``"guided"`` (guided backpropagation, Springenberg et al., 2015): where both are positive.

:func:`modified_gradient` runs a Sequential model's layers with that ReLU swapped in (every other
layer in inference mode) and returns the gradient of one channel's mean activation with respect
to the input. :func:`randomised_copy` and :func:`rank_correlation` serve the model-randomisation
sanity check of Adebayo et al. (2018): the map of a trained network against that of a copy whose
weights are drawn afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import scipy.stats
import tensorflow as tf

RULES = ("plain", "deconvnet", "guided")
"""The backward rules that :func:`relu_with_backward_rule` knows."""


def relu_with_backward_rule(rule: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """A ReLU whose forward pass is ``max(x, 0)`` and whose backward pass follows ``rule``.

    Parameters
    ----------
    rule : {"plain", "deconvnet", "guided"}
        Which gradient the ReLU passes back: ``"plain"`` where its input ``x`` was positive (the
        true gradient), ``"deconvnet"`` where the gradient arriving from above is positive,
        ``"guided"`` where both are.

    Returns
    -------
    callable
        A function of one tensor, differentiable with ``tf.GradientTape``.

    Raises
    ------
    ValueError
        For an unknown rule.

    Examples
    --------
    >>> x = tf.constant([-1.0, 2.0, 3.0])
    >>> with tf.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = tf.reduce_sum(tf.constant([5.0, -6.0, 7.0]) * relu_with_backward_rule("guided")(x))
    >>> tape.gradient(y, x).numpy().tolist()
    [0.0, 0.0, 7.0]
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")

    @tf.custom_gradient
    def relu(x):
        def backward(upstream):
            if rule == "plain":  # the true gradient: where the forward input was positive
                keep = x > 0
            elif rule == "deconvnet":  # where the gradient from above is positive
                keep = upstream > 0
            else:  # guided: both
                keep = (x > 0) & (upstream > 0)
            return tf.where(keep, upstream, tf.zeros_like(upstream))

        return tf.nn.relu(x), backward

    return relu


def _is_relu(layer: keras.layers.Layer) -> bool:
    """True for an ``Activation("relu")`` layer or a plain ``ReLU()`` layer."""
    if isinstance(layer, keras.layers.ReLU):
        config = layer.get_config()
        return (
            config["max_value"] is None and not config["negative_slope"] and not config["threshold"]
        )
    return isinstance(layer, keras.layers.Activation) and layer.activation is keras.activations.relu


def _check_no_hidden_activation(layer: keras.layers.Layer) -> None:
    """Raise for a layer with a built-in non-linearity (``Conv2D(..., activation="relu")``)."""
    activation = getattr(layer, "activation", None)
    if activation is None or isinstance(layer, keras.layers.Activation):
        return
    if activation is not keras.activations.linear:
        raise ValueError(
            f"layer {layer.name!r} has a built-in activation; modified_gradient swaps only "
            "separate Activation('relu') or ReLU() layers"
        )


def modified_gradient(
    model: keras.Sequential,
    images: np.ndarray,
    rule: str,
    layer_name: str,
    channel: int | Sequence[int] | np.ndarray,
) -> np.ndarray:
    """Gradient of one channel's mean activation with respect to the input, under a ReLU rule.

    The model's layers run in order, up to and including ``layer_name``, each in inference
    mode (``training=False``: batch normalisation uses its moving statistics, dropout and
    augmentation pass through), except that every ReLU layer is replaced by
    :func:`relu_with_backward_rule` ``(rule)``: the forward pass is unchanged, only the way
    back differs. The target of image ``i`` is the mean over all positions of channel
    ``channel[i]`` of that layer's output (for a layer without positions, such as the logits,
    simply that output).

    Parameters
    ----------
    model : keras.Sequential
        A plain stack of layers whose non-linearities are separate ``Activation("relu")`` or
        ``ReLU()`` layers (the model itself is neither changed nor called in training mode).
    images : array of shape (n, height, width, channels)
        Input images, as the model takes them (raw pixels for a model that rescales).
    rule : {"plain", "deconvnet", "guided"}
        The backward rule of every ReLU (see :func:`relu_with_backward_rule`).
    layer_name : str
        The layer whose channel is traced back.
    channel : int or sequence of int
        One channel for all images, or one per image.

    Returns
    -------
    numpy.ndarray
        Float32 array with the shape of ``images``; with ``rule="plain"`` it is the ordinary
        gradient that ``tf.GradientTape`` gives for the same target.

    Raises
    ------
    TypeError
        If ``model`` is not a ``keras.Sequential``.
    ValueError
        For an unknown rule or layer name, a channel out of range, a channel list of the wrong
        length, or a layer with a built-in activation on the way.

    Examples
    --------
    >>> model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Activation("relu")])
    >>> image = np.array([[[[-1.0], [2.0]], [[3.0], [-4.0]]]])
    >>> modified_gradient(model, image, "plain", model.layers[0].name, 0)[0, :, :, 0].tolist()
    [[0.0, 0.25], [0.25, 0.0]]
    """
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"model must be a keras.Sequential, got {type(model).__name__}")
    relu = relu_with_backward_rule(rule)
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(f"no layer named {layer_name!r}; the layers are {names}")
    path = model.layers[: names.index(layer_name) + 1]
    for layer in path:
        _check_no_hidden_activation(layer)
    x = tf.convert_to_tensor(np.asarray(images, dtype="float32"))
    channels = np.broadcast_to(np.asarray(channel), (x.shape[0],)).astype("int64")
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = x
        for layer in path:
            out = relu(out) if _is_relu(layer) else layer(out, training=False)
        if not 0 <= channels.min() <= channels.max() < out.shape[-1]:
            raise ValueError(f"channel must be in 0..{out.shape[-1] - 1}, got {channel}")
        per_channel = tf.reduce_mean(out, axis=tuple(range(1, len(out.shape) - 1)))  # (n, C)
        target = tf.reduce_sum(tf.gather(per_channel, channels, batch_dims=1))
    return tape.gradient(target, x).numpy()


def randomised_copy(model: keras.Model, layer_names: Sequence[str] | None = None) -> keras.Model:
    """A copy of ``model`` whose named layers (default: all) get freshly initialised weights.

    The copy is made with ``keras.models.clone_model`` and ``set_weights``; the named layers
    then take the weights of a second, freshly built clone, drawn from each layer's initialisers
    (batch normalisation: scale 1, shift 0, moving mean 0, moving variance 1). ``model`` is not
    changed. The draws come from Keras' global random state: call
    ``keras.utils.set_random_seed`` first for a repeatable copy. For Adebayo et al.'s nested
    cascade, pass the previous copy as ``model`` and name only the next layers: the layers
    re-initialised before keep their draws. An empty ``layer_names`` gives a plain copy.

    Parameters
    ----------
    model : keras.Model
        The trained model.
    layer_names : sequence of str, optional
        The layers to re-initialise; ``None`` re-initialises every layer.

    Returns
    -------
    keras.Model
        The copy, of the same architecture.

    Raises
    ------
    ValueError
        For a layer name that ``model`` does not have.

    Examples
    --------
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="a")])
    >>> copy = randomised_copy(model)
    >>> bool(np.array_equal(copy.get_layer("a").kernel, model.get_layer("a").kernel))
    False
    >>> same = randomised_copy(copy, [])  # nothing re-initialised: the copy's own weights
    >>> bool(np.array_equal(same.get_layer("a").kernel, copy.get_layer("a").kernel))
    True
    """
    names = [layer.name for layer in model.layers]
    chosen = names if layer_names is None else list(layer_names)
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise ValueError(f"no layers named {unknown}; the layers are {names}")
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    fresh = keras.models.clone_model(model)
    for name in chosen:
        copy.get_layer(name).set_weights(fresh.get_layer(name).get_weights())
    return copy


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of the absolute values of two maps of the same size.

    1 means the two maps order their pixels in the same way (whatever their scales), 0 means
    unrelated orders. Adebayo et al. (2018) compare saliency maps this way.

    Parameters
    ----------
    a, b : array_like
        Two maps with the same number of values (any shapes; they are flattened).

    Returns
    -------
    float
        The correlation, or NaN where a map is constant (no order to compare).

    Raises
    ------
    ValueError
        If the maps have different numbers of values.

    Examples
    --------
    >>> rank_correlation([1, -2, 3], [10, 20, 30])
    1.0
    >>> rank_correlation([1, 2, 3], [3, 2, 1])
    -1.0
    """
    a, b = np.abs(np.ravel(a)), np.abs(np.ravel(b))
    if a.size != b.size:
        raise ValueError(f"the maps have {a.size} and {b.size} values")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(scipy.stats.spearmanr(a, b).statistic)
