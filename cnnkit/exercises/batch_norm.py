"""Checks for notebook 05's exercises: batch normalisation, its parameters and statistics.

Exercise batch_norm.1 writes batch normalisation in NumPy, in both modes (training: the batch's
statistics and an update of the moving ones; inference: the moving statistics) for any channel
axis; batch_norm.2 counts trainable and non-trainable parameters by hand; batch_norm.3 writes
the moving statistics after k steps in closed form and counts the steps the momentum trap
needs; batch_norm.4 folds a batch norm into the convolution before it; batch_norm.5 repairs
trapped moving statistics without retraining. The oracles (fresh Keras layers and models) are
computed when a check runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnnkit.exercises.checking import (
    Mistake,
    answer_entries,
    as_model,
    call_answer,
    compare_arrays,
    compare_number,
    exercise,
    finite_array,
    model_copy,
    your_name,
)

import keras
import numpy as np


def _finite(answer: Any, name: str) -> np.ndarray:
    return finite_array(answer, name)


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
    """Inputs for batch_norm.1: NHWC, dense (batch, features) and channels-first NCHW, with a
    channel of small variance so that where epsilon goes makes a visible difference."""
    rng = np.random.default_rng(4)
    cases = []
    for shape, axis, momentum, epsilon in [
        ((6, 5, 4, 3), -1, 0.9, 1e-3),
        ((8, 4), -1, 0.99, 1e-2),
        ((4, 3, 5, 3), 1, 0.8, 1e-3),  # as many channels as columns
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
    >>> check_1(...)
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
                    _finite(result[index], f"{part} for {where}"),
                    expected[index],
                    name=f"{part} for {where}",
                    rtol=1e-4,
                    atol=1e-4,
                    mistakes={_BN_HINTS[m]: w[index] for m, w in wrong.items() if w is not None},
                )
    return "matches keras.layers.BatchNormalization in both modes on all 3 inputs."


# ---------------------------------------------------------------- batch_norm.2: parameters by hand
def _counting_models() -> dict[str, keras.Model]:
    """The three models of exercise batch_norm.2, freshly built."""
    layers = keras.layers
    return {
        "params_a": keras.Sequential(
            [
                keras.Input((10, 10, 48)),
                layers.Conv2D(96, 3, use_bias=False),
                layers.BatchNormalization(),
            ]
        ),
        "params_b": keras.Sequential(
            [
                keras.Input((784,)),
                layers.Dense(256),
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.Dense(10),
            ]
        ),
        "params_c": keras.Sequential([keras.Input((64, 7, 7)), layers.BatchNormalization(axis=1)]),
    }


def _count(weights: list[Any]) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def _counting_mistakes(name: str, trainable: int, frozen: int) -> dict[str, tuple[int, int]]:
    """Typical wrong (trainable, non_trainable) pairs for one model of batch_norm.2."""
    channels = frozen // 2
    mistakes = {
        "the moving mean and variance are NOT trainable (no gradient moves them): they count as "
        "non-trainable": (trainable + frozen, 0),
        "γ and β are trainable, only the moving mean and variance are not": (
            trainable - frozen,
            2 * frozen,
        ),
    }
    if name == "params_a":
        mistakes["the convolution has use_bias=False: no bias"] = (trainable + channels, frozen)
    if name == "params_b":
        mistakes["each Dense layer has a bias, one per unit"] = (trainable - 256 - 10, frozen)
    if name == "params_c":
        mistakes["axis=1: the channels are the 64 of axis 1, not the 7 of the last axis"] = (14, 14)
    return mistakes


@exercise("batch_norm.2")
def check_2(params_a: Any, params_b: Any, params_c: Any) -> str:
    """Check three (trainable, non_trainable) parameter counts worked out by hand.

    The models are a Conv2D(96, 3, use_bias=False) and a batch norm on 10 x 10 x 48 inputs,
    a Dense(256), batch norm, ReLU and Dense(10) network on 784 features, and a channels-first
    batch norm (``axis=1``) on inputs of shape (64, 7, 7). Compared exactly with the models'
    ``trainable_weights`` and ``non_trainable_weights``.

    Parameters
    ----------
    params_a, params_b, params_c : pair of int
        ``(trainable, non_trainable)`` for each model.

    Examples
    --------
    >>> check_2(..., ..., ...)
    Exercise batch_norm.2: not attempted yet: replace `...` with your answer.
    """
    answers = {"params_a": params_a, "params_b": params_b, "params_c": params_c}
    for name, model in _counting_models().items():
        pair = answer_entries(answers[name], 2, f"`{name}`", "trainable, non_trainable")
        got = [_finite(value, f"`{name}`") for value in pair]
        trainable, frozen = _count(model.trainable_weights), _count(model.non_trainable_weights)
        values = tuple(float(value.reshape(-1)[0]) if value.size == 1 else None for value in got)
        for hint, wrong in _counting_mistakes(name, trainable, frozen).items():
            if values == wrong:
                raise Mistake(f"`{name}` = {wrong} is not right: {hint}.")
        for value, expected, what in [
            (got[0], trainable, "trainable"),
            (got[1], frozen, "non-trainable"),
        ]:
            compare_number(value, expected, name=f"the {what} parameters of `{name}`")
    return "all six counts match the built models."


# ---------------------------------------------------------------- batch_norm.3: after k steps
#: Exercise batch_norm.3: the batch variance the moving variance must come within a factor 2 of.
TRAP_VARIANCE = 0.005

_MOVING_CASES = [  # k, momentum, batch mean, batch variance, starting moving mean and variance
    (1, 0.99, 10.0, 4.0, 0.0, 1.0),
    (0, 0.9, 3.0, 2.0, 0.0, 1.0),
    (5, 0.9, -2.0, 0.25, 0.0, 1.0),
    (57, 0.99, 3.0, 0.005, 0.0, 1.0),
    (20, 0.8, 1.5, 9.0, -1.0, 2.0),
]


def _keras_moving_after(k, momentum, mean, var, moving_mean, moving_var) -> tuple[float, float]:
    """A fresh BatchNormalization layer fed k identical training batches (the oracle)."""
    layer = keras.layers.BatchNormalization(momentum=momentum)
    layer.build((2, 1))
    layer.set_weights([np.ones(1), np.zeros(1), np.full(1, moving_mean), np.full(1, moving_var)])
    batch = np.array([[mean - np.sqrt(var)], [mean + np.sqrt(var)]], "float32")  # mean, variance
    for _ in range(k):
        layer(batch, training=True)
    return float(layer.moving_mean.numpy()[0]), float(layer.moving_variance.numpy()[0])


def _steps_until(momentum: float, target: float = TRAP_VARIANCE) -> int:
    """Steps until a fresh moving variance is at most twice a constant batch variance."""
    moving, steps = 1.0, 0
    while moving > 2 * target:
        moving, steps = momentum * moving + (1 - momentum) * target, steps + 1
    return steps


def _steps_95(momentum: float) -> int:
    """Steps to 95% of the way from the start to a constant target (a typical wrong answer)."""
    return int(np.ceil(np.log(0.05) / np.log(momentum)))


@exercise("batch_norm.3")
def check_3(moving_after: Callable[..., Any], steps: Any) -> str:
    """Check the moving statistics after k steps, and the steps the trap needs to clear.

    ``moving_after(k, momentum, batch_mean, batch_var, moving_mean=0.0, moving_var=1.0)`` must
    return ``(moving_mean, moving_var)`` after k training steps on batches that all have this
    mean and (biased) variance, compared with a Keras layer fed such batches (within 1e-4,
    absolute and relative). ``steps`` holds two integers, for momentum 0.99 and 0.9: the
    number of steps after which a fresh layer's moving variance is first at most twice a
    constant batch variance of 0.005 (exact).

    Parameters
    ----------
    moving_after : callable
        The learner's closed form.
    steps : pair of int
        Steps for momentum 0.99 and 0.9.

    Examples
    --------
    >>> check_3(..., ...)
    Exercise batch_norm.3: not attempted yet: replace `...` with your answer.
    """
    for k, m, mean, var, mean0, var0 in _MOVING_CASES:
        where = (
            f"k={k}, momentum={m}, batch mean {mean:g}, batch variance {var:g}, starting from "
            f"moving mean {mean0:g} and variance {var0:g}"
        )
        result = call_answer(
            moving_after, k, m, mean, var, mean0, var0, name=your_name(moving_after)
        )
        pair = answer_entries(result, 2, f"the result for {where}", "moving_mean, moving_var")
        got = np.array([float(_finite(v, f"the result for {where}").reshape(-1)[0]) for v in pair])
        expected = _keras_moving_after(k, m, mean, var, mean0, var0)
        w, w_swapped = m**k, (1 - m) ** k
        mistakes = {
            "the starting moving variance keeps the weight momentum**k: moving_var = "
            "momentum**k * start + (1 - momentum**k) * batch_var": (
                w * mean0 + (1 - w) * mean,
                (1 - w) * var,
            ),
            "the starting value keeps momentum**k, the batch statistic gets 1 - momentum**k "
            "(not (1 - momentum)**k)": (
                w_swapped * mean0 + (1 - w_swapped) * mean,
                w_swapped * var0 + (1 - w_swapped) * var,
            ),
            "each step multiplies what is left by momentum: the weights are powers, not "
            "k * (1 - momentum)": (
                mean0 + min(1, k * (1 - m)) * (mean - mean0),
                var0 + min(1, k * (1 - m)) * (var - var0),
            ),
        }
        compare_arrays(
            got,
            expected,
            name=f"(moving_mean, moving_var) for {where}",
            rtol=1e-4,
            atol=1e-4,
            mistakes=mistakes,
        )
    counts = answer_entries(steps, 2, "`steps`", "for momentum 0.99 and 0.9")
    for value, m in zip(counts, (0.99, 0.9), strict=True):
        expected = _steps_until(m)
        compare_number(
            _finite(value, f"`steps` for momentum {m}"),
            expected,
            name=f"`steps` for momentum {m}",
            mistakes={
                f"the first step at which moving_var <= 2 * {TRAP_VARIANCE:g}: round the step "
                "count UP": expected - 1,
                "95% of the way is not enough: the 5% of the starting value 1 that is left is "
                "still many times the target; solve momentum**k * (1 - v) <= v for k": _steps_95(m),
            },
        )
    return f"closed form matches Keras; {counts[0]} and {counts[1]} steps."


# ---------------------------------------------------------------- batch_norm.4: fold into the conv
def _fold_case(seed: int, use_bias: bool, epsilon: float) -> dict[str, Any]:
    """A Conv2D + BatchNormalization pair with random weights and statistics, and an input."""
    rng = np.random.default_rng(seed)
    channels_in, channels_out = 3, 5
    return dict(
        kernel=rng.normal(size=(3, 3, channels_in, channels_out)).astype("float32"),
        bias=(rng.normal(size=channels_out) if use_bias else np.zeros(channels_out)).astype(
            "float32"
        ),
        gamma=rng.uniform(-2, 2, channels_out).astype("float32"),
        beta=rng.normal(size=channels_out).astype("float32"),
        moving_mean=rng.normal(size=channels_out).astype("float32"),
        moving_var=rng.uniform(0.01, 3.0, channels_out).astype("float32"),
        epsilon=epsilon,
        x=rng.normal(size=(4, 9, 8, channels_in)).astype("float32"),
    )


_FOLD_ARGS = ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_var")


def _conv_bn_outputs(case: dict[str, Any]) -> np.ndarray:
    """Conv2D then BatchNormalization in inference mode, as Keras computes them (the oracle)."""
    model = keras.Sequential(
        [
            keras.Input(case["x"].shape[1:]),
            keras.layers.Conv2D(case["kernel"].shape[-1], 3, padding="same"),
            keras.layers.BatchNormalization(epsilon=case["epsilon"]),
        ]
    )
    model.set_weights([case[name] for name in _FOLD_ARGS])
    return keras.ops.convert_to_numpy(model(case["x"], training=False))


def _conv_outputs(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """One Conv2D with this kernel and bias (the folded layer)."""
    conv = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], padding="same")
    conv.build(x.shape)
    conv.set_weights([kernel.astype("float32"), bias.astype("float32")])
    return keras.ops.convert_to_numpy(conv(x))


def _fold(case: dict[str, Any], mistake: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Folded kernel and bias, or with one typical `mistake` (for the hints)."""
    kernel, bias, gamma, beta, mean, var = (np.asarray(case[n], np.float64) for n in _FOLD_ARGS)
    eps = case["epsilon"]
    scale = gamma / (np.sqrt(var) + eps if mistake == "epsilon" else np.sqrt(var + eps))
    if mistake == "variance":
        scale = gamma / (var + eps)
    new_bias = (bias - mean) * scale + beta
    if mistake == "bias_unscaled":
        new_bias = bias - mean * scale + beta
    if mistake == "no_mean":
        new_bias = bias * scale + beta
    return kernel * scale, new_bias


_FOLD_HINTS = {
    "epsilon": "epsilon goes inside the square root: scale = gamma / sqrt(moving_var + epsilon)",
    "variance": "divide by the standard deviation sqrt(moving_var + epsilon), not the variance",
    "bias_unscaled": "the old bias passes through the batch norm too: new_bias = (bias - "
    "moving_mean) * scale + beta",
    "no_mean": "subtract the moving mean: new_bias = (bias - moving_mean) * scale + beta",
}


@exercise("batch_norm.4")
def check_4(fold_batch_norm: Callable[..., Any]) -> str:
    """Check a batch norm folded into the convolution before it, for inference.

    ``fold_batch_norm(kernel, bias, gamma, beta, moving_mean, moving_var, epsilon=1e-3)`` must
    return ``(new_kernel, new_bias)`` such that one ``Conv2D`` with them gives what ``Conv2D``
    then ``BatchNormalization`` give in inference mode. Checked on Keras models' outputs (with
    and without a convolution bias, two epsilons), within 1e-4 (absolute and relative).

    Parameters
    ----------
    fold_batch_norm : callable
        The learner's function.

    Examples
    --------
    >>> check_4(...)
    Exercise batch_norm.4: not attempted yet: replace `...` with your answer.
    """
    name = your_name(fold_batch_norm)
    for seed, use_bias, epsilon in [(0, True, 1e-3), (1, False, 1e-3), (2, True, 0.1)]:
        case = _fold_case(seed, use_bias, epsilon)
        where = f"a 3x3 convolution {'with' if use_bias else 'without'} bias, epsilon={epsilon:g}"
        result = call_answer(
            fold_batch_norm,
            *[np.array(case[n]) for n in _FOLD_ARGS],  # copies: an in-place change must not leak
            epsilon=epsilon,
            name=name,
        )
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise Mistake(
                f"{name} should return two arrays (new_kernel, new_bias), got "
                f"{type(result).__name__} ({where})."
            )
        kernel = _finite(result[0], f"new_kernel for {where}")
        bias = _finite(result[1], f"new_bias for {where}")
        for got, part, shape in [
            (kernel, "new_kernel", case["kernel"].shape),
            (bias, "new_bias", case["bias"].shape),
        ]:
            if got.shape != shape:
                hint = ""
                if part == "new_kernel" and got.size == np.prod(shape):
                    hint = (
                        " (the same number of values: keep Keras' (height, width, in, out) order)"
                    )
                raise Mistake(f"{part} for {where} has shape {got.shape}, expected {shape}{hint}.")
        expected = _conv_bn_outputs(case)
        got_outputs = _conv_outputs(case["x"], kernel, bias)
        if np.allclose(got_outputs, expected, rtol=1e-4, atol=1e-4):
            continue
        for mistake, hint in _FOLD_HINTS.items():
            wrong_kernel, wrong_bias = _fold(case, mistake)
            if np.allclose(kernel, wrong_kernel, rtol=1e-4, atol=1e-4) and np.allclose(
                bias, wrong_bias, rtol=1e-4, atol=1e-4
            ):
                raise Mistake(f"the folded convolution is not right for {where}: {hint}.")
        if not np.allclose(kernel, _fold(case)[0], rtol=1e-4, atol=1e-4):
            raise Mistake(
                f"new_kernel is not right for {where}: multiply each OUTPUT channel's kernel (the "
                "last axis) by that channel's scale gamma / sqrt(moving_var + epsilon)."
            )
        compare_arrays(
            got_outputs,
            expected,
            name=f"the folded convolution's outputs for {where}",
            rtol=1e-4,
            atol=1e-4,
        )
    return "one Conv2D with your kernel and bias gives what Conv2D + BatchNormalization give."


# ---------------------------------------------------------------- batch_norm.5: re-estimate
def _trapped_model() -> keras.Model:
    """A small Conv-BN-ReLU network with random weights and moving statistics left at 0 and 1."""
    layers = keras.layers
    seeded = iter(range(50, 60))  # fixed initial weights, without touching the global seed

    def init():
        return keras.initializers.GlorotUniform(seed=next(seeded))

    model = keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            layers.Rescaling(1 / 255),
            layers.Conv2D(6, 3, padding="same", use_bias=False, kernel_initializer=init()),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.MaxPool2D(),
            layers.Conv2D(8, 3, padding="same", use_bias=False, kernel_initializer=init()),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.GlobalAveragePooling2D(),
            layers.Dense(4, kernel_initializer=init()),
            layers.BatchNormalization(),
        ]
    )
    rng = np.random.default_rng(5)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            size = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 2.0, size).astype("float32"))
            layer.beta.assign(rng.normal(size=size).astype("float32"))
    return model


def _batch_norm_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def _reestimate(model: keras.Model, images: np.ndarray, mistake: str | None = None) -> list:
    """The exact statistics, layer after layer (or with one typical `mistake`), as arrays."""
    model = model_copy(model)
    frozen = model_copy(model)  # for the "all at once" mistake: inputs from the old statistics
    result = []
    for index, layer in enumerate(_batch_norm_layers(model)):
        source = frozen if mistake == "all_at_once" else model
        feature = keras.Model(source.inputs[0], _batch_norm_layers(source)[index].input)
        x = keras.ops.convert_to_numpy(feature(images, training=False)).astype(np.float64)
        axes = tuple(range(x.ndim - 1))
        if mistake == "all_axes":
            mean, var = np.full(x.shape[-1], x.mean()), np.full(x.shape[-1], x.var())
        else:
            mean, var = x.mean(axis=axes), x.var(axis=axes, ddof=1 if mistake == "ddof" else 0)
        layer.moving_mean.assign(mean.astype("float32"))
        layer.moving_variance.assign(var.astype("float32"))
        result += [mean, var]
    return result


UNCHANGED_HINT = (
    "the moving statistics are unchanged: assign the new values to layer.moving_mean and "
    "layer.moving_variance"
)


def _batch_norm_statistics(model: keras.Model) -> list[np.ndarray]:
    return [
        keras.ops.convert_to_numpy(weight)
        for layer in _batch_norm_layers(model)
        for weight in (layer.moving_mean, layer.moving_variance)
    ]


_REESTIMATE_HINTS = {
    "all_at_once": "set the layers one after another: a later layer's input depends on the "
    "statistics you have just set in the earlier ones, so measure it after updating them",
    "ddof": "use the biased variance (divide by n, np.var's default), as Keras does",
    "all_axes": "one mean and variance per channel: reduce over every axis but the last",
}


@exercise("batch_norm.5")
def check_5(recompute_statistics: Callable[..., Any]) -> str:
    """Check a function that sets every batch norm's moving statistics to the data's.

    ``recompute_statistics(model, images)`` must return the model (it may change the model it
    is given) with each BatchNormalization layer's moving mean and variance equal to the mean
    and biased variance, per channel, of that layer's input over ``images`` in inference mode,
    the layers taken in order. Checked on a small trapped network (random weights, statistics
    left at 0 and 1) and 300 random images, within 1e-3 (relative) of the check's own
    computation; the weights other than the moving statistics must not change.

    Parameters
    ----------
    recompute_statistics : callable
        The learner's function.

    Examples
    --------
    >>> check_5(...)
    Exercise batch_norm.5: not attempted yet: replace `...` with your answer.
    """
    name = your_name(recompute_statistics)
    original = _trapped_model()
    images = np.random.default_rng(6).integers(0, 256, size=(300, 12, 12, 1)).astype("uint8")
    expected = _reestimate(original, images)
    given = model_copy(original)
    result = as_model(
        call_answer(recompute_statistics, given, images.copy(), name=name), f"what {name} returned"
    )
    layers = _batch_norm_layers(result)
    if len(layers) != len(expected) // 2:
        raise Mistake(
            f"{name} returned a model with {len(layers)} BatchNormalization layers; the one "
            f"it was given has {len(expected) // 2}: return that model."
        )
    got = [
        _finite(weight, f"the {part} of batch norm {index + 1}")
        for index, layer in enumerate(layers)
        for weight, part in [
            (layer.moving_mean, "moving mean"),
            (layer.moving_variance, "moving variance"),
        ]
    ]
    if all(np.allclose(g, e, rtol=1e-3, atol=1e-6) for g, e in zip(got, expected, strict=True)):
        wrong = {}
    else:
        wrong = {hint: _reestimate(original, images, m) for m, hint in _REESTIMATE_HINTS.items()}
        wrong[UNCHANGED_HINT] = _batch_norm_statistics(original)
    for index, value in enumerate(got):
        compare_arrays(
            value,
            expected[index],
            name=f"the {('moving mean', 'moving variance')[index % 2]} of batch norm "
            f"{index // 2 + 1} of {len(layers)}",
            rtol=1e-3,
            atol=1e-6,
            mistakes={hint: values[index] for hint, values in wrong.items()},
        )
    others = [
        [keras.ops.convert_to_numpy(w) for w in m.weights if "moving" not in w.path]
        for m in (result, original)
    ]
    if len(others[0]) != len(others[1]) or not all(
        np.array_equal(a, b) for a, b in zip(*others, strict=True)
    ):
        raise Mistake(
            f"{name} changed weights other than the moving statistics (γ, β or the kernels): "
            "compute the statistics in inference mode and change only moving_mean and "
            "moving_variance."
        )
    return "every batch norm's moving statistics now match its input's mean and variance."
