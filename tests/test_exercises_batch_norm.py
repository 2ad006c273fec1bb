"""The batch-normalisation exercise's check accepts correct answers in other forms and names
typical mistakes."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import keras
import numpy as np
import pytest
from verdicts import assert_not_attempted, assert_wrong

from cnnkit.exercises import batch_norm as checks


# ---------------------------------------------------------------- batch_norm.1
def _batch_norm(
    x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3, axis=-1
):
    """A different form from the solution: keepdims statistics broadcast in place."""
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    shape = [1 if i in axes else -1 for i in range(x.ndim)]
    if training:
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        new_mean = momentum * moving_mean + (1 - momentum) * mean.ravel()
        new_var = momentum * moving_var + (1 - momentum) * var.ravel()
    else:
        mean, var = moving_mean.reshape(shape), moving_var.reshape(shape)
        new_mean, new_var = moving_mean, moving_var
    y = (x - mean) / np.sqrt(var + epsilon) * gamma.reshape(shape) + beta.reshape(shape)
    return [y.tolist(), tuple(new_mean), new_var]


def test_check_1_accepts_another_form():
    assert checks.check_1(_batch_norm).status == "correct"


def _with_mistake(mistake):
    def batch_norm(x, gamma, beta, mean, var, training, momentum=0.99, epsilon=1e-3, axis=-1):
        axis = -1 if mistake == "ignores axis" else axis % x.ndim
        axes = (0,) if mistake == "batch axis only" else tuple(np.delete(range(x.ndim), axis))
        shape = [-1 if i == axis % x.ndim else 1 for i in range(x.ndim)]
        m = x.mean(axis=axes, keepdims=True)
        v = x.var(axis=axes, keepdims=True, ddof=1 if mistake == "ddof=1" else 0)
        keep = 1 - momentum if mistake == "momentum reversed" else momentum
        new_mean, new_var = mean, var
        if training or mistake == "updates in inference":
            new_mean = keep * mean + (1 - keep) * np.squeeze(m, axis=axes)
            new_var = keep * var + (1 - keep) * np.squeeze(v, axis=axes)
        if not training:
            m, v = mean.reshape(shape), var.reshape(shape)
        std = np.sqrt(v) + epsilon if mistake == "epsilon outside" else np.sqrt(v + epsilon)
        y = (x - m) / std * gamma.reshape(shape) + beta.reshape(shape)
        return (y, new_mean, new_var) if mistake != "only y" else y

    return batch_norm


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        ("ddof=1", "biased batch variance"),
        ("epsilon outside", "inside the square root"),
        ("batch axis only", "not only the batch axis"),
        ("ignores axis", "axes 0, 2, 3"),
        ("momentum reversed", "keep `momentum` of their old value"),
        ("updates in inference", "must come back unchanged"),
        ("only y", "three arrays"),
    ],
)
def test_check_1_names_the_mistake(mistake, words):
    result = checks.check_1(_with_mistake(mistake))
    assert result.status == "wrong" and words in result.message, result


def test_check_1_unwritten_function():
    def batch_norm(x, gamma, beta, moving_mean, moving_var, training, momentum, epsilon, axis):
        """Unwritten."""

    assert checks.check_1(batch_norm).status == "not attempted"


def test_check_1_rejects_nan():
    def batch_norm(x, gamma, beta, mean, var, training, momentum=0.99, epsilon=1e-3, axis=-1):
        return np.full(x.shape, np.nan), mean, var

    assert_wrong(checks.check_1(batch_norm), "NaN or infinite")


# ---------------------------------------------------------------- batch_norm.2
RIGHT_A, RIGHT_B, RIGHT_C = (41664, 192), (204042, 512), (128, 128)


def test_check_2_accepts_other_forms():
    answer_a = np.array(RIGHT_A)
    answer_b = [float(RIGHT_B[0]), np.int64(RIGHT_B[1])]
    assert checks.check_2(answer_a, answer_b, RIGHT_C).status == "correct"


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        (((41856, 0), RIGHT_B, RIGHT_C), ["`params_a`", "NOT trainable"]),
        (((41760, 192), RIGHT_B, RIGHT_C), ["use_bias=False"]),
        ((RIGHT_A, (204042 - 266, 512), RIGHT_C), ["each Dense layer has a bias"]),
        ((RIGHT_A, RIGHT_B, (14, 14)), ["the 64 of axis 1"]),
        ((RIGHT_A, RIGHT_B, (128, 129)), ["non-trainable parameters of `params_c`"]),
        ((RIGHT_A, RIGHT_B, (128,)), ["2 numbers"]),
        ((RIGHT_A, (np.nan, 512), RIGHT_C), ["NaN or infinite"]),
    ],
)
def test_check_2_names_the_mistake(answers, words):
    assert_wrong(checks.check_2(*answers), *words)


def test_check_2_partly_answered():
    assert_not_attempted(checks.check_2(RIGHT_A, ..., RIGHT_C), "`params_b`")


# ---------------------------------------------------------------- batch_norm.3
def _moving_after_loop(k, momentum, batch_mean, batch_var, moving_mean=0.0, moving_var=1.0):
    """Another form: the recurrence itself, returned as a NumPy array."""
    state = np.array([moving_mean, moving_var])
    for _ in range(k):
        state = momentum * state + (1 - momentum) * np.array([batch_mean, batch_var])
    return state


def test_check_3_accepts_another_form():
    assert checks.check_3(_moving_after_loop, np.array([527, 51])).status == "correct"


@pytest.mark.parametrize(
    ("function", "steps", "words"),
    [
        (
            lambda k, m, a, v, mm=0.0, mv=1.0: ((1 - m**k) * a + m**k * mm, (1 - m**k) * v),
            (527, 51),
            ["starting moving variance keeps the weight"],
        ),
        (
            lambda k, m, a, v, mm=0.0, mv=1.0: (
                (1 - m) ** k * mm + (1 - (1 - m) ** k) * a,
                (1 - m) ** k * mv + (1 - (1 - m) ** k) * v,
            ),
            (527, 51),
            ["not (1 - momentum)**k"],
        ),
        (_moving_after_loop, (526, 51), ["round the step count UP"]),
        (_moving_after_loop, (299, 29), ["95% of the way is not enough"]),
        (_moving_after_loop, (527, float("inf")), ["NaN or infinite"]),
        (lambda k, m, a, v, mm=0.0, mv=1.0: (np.nan, np.nan), (527, 51), ["NaN or infinite"]),
        (lambda k, m, a, v, mm=0.0, mv=1.0: a, (527, 51), ["2 numbers"]),
    ],
)
def test_check_3_names_the_mistake(function, steps, words):
    assert_wrong(checks.check_3(function, steps), *words)


def test_check_3_unwritten_function():
    def moving_after(k, momentum, batch_mean, batch_var, moving_mean=0.0, moving_var=1.0):
        """Unwritten."""

    assert_not_attempted(checks.check_3(moving_after, (527, 51)), "return")


# ---------------------------------------------------------------- batch_norm.4
def _fold(kernel, bias, gamma, beta, moving_mean, moving_var, epsilon=1e-3, mistake=None):
    """Folding with an explicit loop over output channels, or with one mistake."""
    new_kernel, new_bias = np.empty_like(kernel), np.empty_like(bias)
    for c in range(kernel.shape[-1]):
        std = np.sqrt(moving_var[c] + epsilon)
        if mistake == "epsilon outside":
            std = np.sqrt(moving_var[c]) + epsilon
        new_kernel[..., c] = kernel[..., c] * gamma[c] / std
        mean = 0 if mistake == "no mean" else moving_mean[c]
        new_bias[c] = (bias[c] - mean) * gamma[c] / std + beta[c]
    if mistake == "input axis":
        scale = gamma / np.sqrt(moving_var + epsilon)
        new_kernel = kernel * scale[: kernel.shape[2], None]
    if mistake == "in place":
        kernel *= 0
    return new_kernel.tolist(), new_bias


def test_check_4_accepts_another_form():
    assert checks.check_4(_fold).status == "correct"


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        ("epsilon outside", ["inside the square root"]),
        ("no mean", ["subtract the moving mean"]),
        ("input axis", ["OUTPUT channel"]),
    ],
)
def test_check_4_names_the_mistake(mistake, words):
    assert_wrong(checks.check_4(lambda *a, **k: _fold(*a, **k, mistake=mistake)), *words)


def test_check_4_rejects_nan_and_wrong_shapes():
    def nan_kernel(kernel, bias, *rest, epsilon=1e-3):
        return kernel * np.nan, bias

    def flat(kernel, bias, gamma, beta, mean, var, epsilon=1e-3):
        kernel, bias = _fold(kernel, bias, gamma, beta, mean, var, epsilon)
        return np.ravel(kernel), bias

    assert_wrong(checks.check_4(nan_kernel), "NaN or infinite")
    assert_wrong(checks.check_4(flat), "shape", "(height, width, in, out)")
    assert_wrong(checks.check_4(lambda *a, **k: a[0]), "two arrays")


def test_check_4_in_place_changes_do_not_leak():
    """The learner gets copies: a function that zeroes its input in place still passes."""
    assert checks.check_4(lambda *a, **k: _fold(*a, **k, mistake="in place")).status == "correct"


# ---------------------------------------------------------------- batch_norm.5
def _recompute(model, images, mistake=None):
    """Another form: a functional sub-model per layer, statistics with keras.ops."""
    batch_norms = [
        layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    features = [keras.Model(model.inputs[0], layer.input) for layer in batch_norms]
    stale = [f(images) for f in features] if mistake == "all at once" else None
    for index, (layer, feature) in enumerate(zip(batch_norms, features, strict=True)):
        x = stale[index] if stale else feature(images, training=False)
        axes = list(range(len(x.shape) - 1))
        variance = keras.ops.var(x, axis=axes)
        if mistake == "ddof":
            n = np.prod([x.shape[a] for a in axes])
            variance = variance * n / (n - 1)
        layer.moving_mean.assign(keras.ops.mean(x, axis=axes))
        layer.moving_variance.assign(variance)
    if mistake == "gamma":
        batch_norms[0].gamma.assign(batch_norms[0].gamma * 2)
    return model


def test_check_5_accepts_another_form():
    assert checks.check_5(_recompute).status == "correct"


@pytest.mark.parametrize(
    ("mistake", "words"),
    [
        ("all at once", ["one after another"]),
        ("ddof", ["biased variance"]),
        ("gamma", ["other than the moving statistics"]),
    ],
)
def test_check_5_names_the_mistake(mistake, words):
    assert_wrong(checks.check_5(lambda m, x: _recompute(m, x, mistake)), *words)


def test_check_5_rejects_unchanged_and_non_models():
    assert_wrong(checks.check_5(lambda model, images: model), "unchanged")
    assert_wrong(checks.check_5(lambda model, images: 3), "keras.Model")


def test_check_5_unwritten_function():
    def recompute_statistics(model, images):
        """Unwritten."""

    assert_not_attempted(checks.check_5(recompute_statistics), "return")
