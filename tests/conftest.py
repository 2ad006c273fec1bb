"""Helpers shared by the unit tests: Keras as the oracle for convolutions, hypothesis settings.

They are fixtures (session-scoped, so hypothesis tests may use them too), not imports:
a test asks for ``keras_conv2d`` by naming it as an argument.
"""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: F401, I001
import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Property tests compare with Keras, whose first call of a shape is slow: no deadline.
# Derandomized: the same examples on every run, so CI results do not depend on luck.
settings.register_profile(
    "cnnkit",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("cnnkit")


def _keras_conv2d(x, kernel, bias=None, strides=1, padding="valid") -> np.ndarray:
    """``keras.layers.Conv2D`` with the given NHWC input and HWIO kernel, as NumPy."""
    layer = keras.layers.Conv2D(
        kernel.shape[-1], kernel.shape[:2], strides, padding=padding, use_bias=bias is not None
    )
    layer.build(x.shape)
    layer.set_weights([kernel] if bias is None else [kernel, bias])
    return keras.ops.convert_to_numpy(layer(x))


def _onednn_wrong_conv2d(out_width: int, strides, in_channels: int) -> bool:
    """Whether TensorFlow 2.21's oneDNN Conv2D (on after importing cnnkit) returns wrong
    numbers for this case on CPUs: one input channel, output width 1, vertical stride 1 and
    horizontal stride > 1. Tests compare with SciPy there instead of Keras."""
    sh, sw = (strides, strides) if isinstance(strides, int) else strides
    return out_width == 1 and sh == 1 and sw > 1 and in_channels == 1


@pytest.fixture(scope="session")
def keras_conv2d():
    """Keras' Conv2D as a function: ``keras_conv2d(x, kernel, bias, strides, padding)``."""
    return _keras_conv2d


@pytest.fixture(scope="session")
def onednn_wrong_conv2d():
    """``onednn_wrong_conv2d(out_width, strides, in_channels)``: True where Keras' Conv2D is
    not a valid oracle on this CPU (a TensorFlow 2.21 oneDNN bug)."""
    return _onednn_wrong_conv2d
