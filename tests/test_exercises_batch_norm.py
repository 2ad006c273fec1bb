"""The batch-normalisation exercise's check accepts correct answers in other forms and names
typical mistakes."""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import numpy as np
import pytest

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
