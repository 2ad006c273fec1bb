"""Checks for the batch-normalisation notebook's exercises.

Exercise batch_norm.1 writes batch normalisation in NumPy, in both modes (training: the batch's
statistics and an update of the moving ones; inference: the moving statistics) for any channel
axis. The oracle, a fresh ``keras.layers.BatchNormalization``, is computed when the check runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnkit.exercises.checking import (
    Mistake,
    call_answer,
    compare_arrays,
    exercise,
    your_name,
)

import keras
import numpy as np


# ---------------------------------------------------------------- batch_norm.1: batch normalisation
def _bn_numpy(
    x, gamma, beta, mean_in, var_in, training, momentum, epsilon, axis, mistake=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Batch normalisation in NumPy, or with one typical `mistake` (used for the hints only;
    the oracle is keras.layers.BatchNormalization). None where the mistake cannot happen."""
    x = np.asarray(x, np.float64)
    axis = axis % x.ndim
    if mistake == "axes_last":  # the right code, but always with the channels last
        if axis == x.ndim - 1 or x.shape[-1] != x.shape[axis]:
            return None
        return _bn_numpy(x, gamma, beta, mean_in, var_in, training, momentum, epsilon, -1)
    axes = tuple(i for i in range(x.ndim) if i != axis)
    if mistake == "axes_batch":
        axes = (0,)
    elif mistake == "axes_all":
        axes = tuple(range(x.ndim))
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    batch_mean = x.mean(axis=axes, keepdims=True)
    batch_var = x.var(axis=axes, keepdims=True, ddof=1 if mistake == "ddof" else 0)
    mean_in = np.asarray(mean_in, np.float64).reshape(shape)
    var_in = np.asarray(var_in, np.float64).reshape(shape)
    use_batch = training != (mistake == "mode")
    mean, var = (batch_mean, batch_var) if use_batch else (mean_in, var_in)
    if mistake == "epsilon":
        y = (x - mean) / (np.sqrt(var) + epsilon)
    elif mistake == "variance_as_std":
        y = (x - mean) / (var + epsilon)
    else:
        y = (x - mean) / np.sqrt(var + epsilon)
    y = np.asarray(gamma).reshape(shape) * y + np.asarray(beta).reshape(shape)
    new_mean, new_var = mean_in, var_in
    if training and mistake != "frozen":
        keep = 1 - momentum if mistake == "momentum" else momentum
        update_var = x.var(axis=axes, keepdims=True, ddof=1 if mistake == "moving_ddof" else 0)
        new_mean = keep * mean_in + (1 - keep) * batch_mean
        new_var = keep * var_in + (1 - keep) * update_var
    if not training and mistake == "update":
        new_mean = momentum * mean_in + (1 - momentum) * batch_mean
        new_var = momentum * var_in + (1 - momentum) * batch_var
    return y, new_mean.ravel(), new_var.ravel()


_BN_HINTS = {
    "ddof": "normalise with the biased batch variance (divide by n, np.var's default ddof=0), "
    "not the unbiased one (ddof=1)",
    "epsilon": "epsilon goes inside the square root: (x - mean) / sqrt(var + epsilon)",
    "variance_as_std": "divide by the standard deviation sqrt(var + epsilon), not the variance",
    "axes_last": "reduce over every axis except `axis` (for axis=1, channels first, that is "
    "axes 0, 2, 3), not always over all axes but the last",
    "axes_batch": "the statistics are per channel over the batch AND every position: reduce over "
    "every axis except `axis` (for NHWC: batch, height and width), not only the batch axis",
    "axes_all": "the statistics are per channel: reduce over every axis except `axis`, not over "
    "all of them",
    "mode": "training=True normalises with the batch's own mean and variance, training=False "
    "with the moving mean and variance: are the two modes swapped?",
    "momentum": "the moving statistics keep `momentum` of their old value: moving = momentum * "
    "moving + (1 - momentum) * batch (your update has the two weights swapped)",
    "moving_ddof": "Keras updates the moving variance with the biased batch variance (divide "
    "by n), the same one it normalises with",
    "frozen": "in training mode return the UPDATED moving mean and variance",
    "update": "in inference mode the moving statistics must come back unchanged",
}


def _bn_keras(x, gamma, beta, mean, var, training, momentum, epsilon, axis):
    """A fresh keras.layers.BatchNormalization with these weights, called once (the oracle)."""
    layer = keras.layers.BatchNormalization(axis=axis, momentum=momentum, epsilon=epsilon)
    layer.build(x.shape)
    layer.set_weights([gamma, beta, mean, var])
    y = keras.ops.convert_to_numpy(layer(x, training=training))
    return y, layer.moving_mean.numpy(), layer.moving_variance.numpy()


def _bn_cases() -> list[dict[str, Any]]:
    """Inputs for batch_norm.1: NHWC, dense (batch, features) and channels-first NCHW, with a channel of
    small variance so that where epsilon goes makes a visible difference."""
    rng = np.random.default_rng(4)
    cases = []
    for shape, axis, momentum, epsilon in [
        ((6, 5, 4, 3), -1, 0.9, 1e-3),
        ((8, 4), -1, 0.99, 1e-2),
        ((4, 3, 5, 3), 1, 0.8, 1e-3),  # as many channels as columns,
    ]:
        channels = shape[axis]
        stats_shape = [1] * len(shape)
        stats_shape[axis] = channels
        scale = np.geomspace(0.05, 3.0, channels).reshape(stats_shape)
        offset = np.linspace(-2.0, 4.0, channels).reshape(stats_shape)
        cases.append(
            dict(
                x=(rng.normal(size=shape) * scale + offset).astype("float32"),
                gamma=rng.uniform(-2, 2, channels).astype("float32"),
                beta=rng.normal(size=channels).astype("float32"),
                moving_mean=rng.normal(size=channels).astype("float32"),
                moving_var=rng.uniform(0.2, 3.0, channels).astype("float32"),
                momentum=momentum,
                epsilon=epsilon,
                axis=axis,
            )
        )
    return cases


@exercise("batch_norm.1")
def check_1(batch_norm: Callable[..., Any]) -> str:
    """Check a NumPy batch normalisation, both modes, against keras.layers.BatchNormalization.

    ``batch_norm(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99,
    epsilon=1e-3, axis=-1)`` must return ``(y, new_moving_mean, new_moving_var)``: in training
    mode normalised with the batch statistics and the moving statistics updated, in inference
    mode normalised with the moving statistics, which come back unchanged. Checked on NHWC,
    (batch, features) and channels-first (``axis=1``) inputs with other momentums and
    epsilons, within 1e-4 (absolute and relative).

    Parameters
    ----------
    batch_norm : callable
        The learner's function.

    Examples
    --------
    >>> check_4(...)
    Exercise batch_norm.1: not attempted yet: replace `...` with your answer.
    """
    for case in _bn_cases():
        for training in (True, False):
            args = [case[k] for k in ("x", "gamma", "beta", "moving_mean", "moving_var")]
            options = dict(momentum=case["momentum"], epsilon=case["epsilon"], axis=case["axis"])
            where = (
                f"x of shape {case['x'].shape}, axis={case['axis']}, momentum={case['momentum']}, "
                f"epsilon={case['epsilon']:g}, training={training}"
            )
            result = call_answer(
                batch_norm,
                *[np.array(a) for a in args],  # copies: an in-place update must not leak
                training=training,
                **options,
                name=your_name(batch_norm),
            )
            if not isinstance(result, tuple | list) or len(result) != 3:
                raise Mistake(
                    f"{your_name(batch_norm)} should return three arrays (y, new_moving_mean, "
                    f"new_moving_var), got {type(result).__name__} ({where})."
                )
            expected = _bn_keras(*args, training, **options)
            wrong = {
                mistake: _bn_numpy(*args, training, **options, mistake=mistake)
                for mistake in _BN_HINTS
            }
            for index, part in enumerate(("y", "new_moving_mean", "new_moving_var")):
                compare_arrays(
                    result[index],
                    expected[index],
                    name=f"{part} for {where}",
                    rtol=1e-4,
                    atol=1e-4,
                    mistakes={_BN_HINTS[m]: w[index] for m, w in wrong.items() if w is not None},
                )
    return "matches keras.layers.BatchNormalization in both modes on all 3 inputs."
