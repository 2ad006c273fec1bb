"""Run-time switches: quick mode for tests and CI, and which device trains."""

import os

_TRUE = {"1", "true", "yes", "on"}


def quick_mode() -> bool:
    """Return True when notebooks should shrink their data and epochs.

    Quick mode is on when the environment variable ``CNNKIT_QUICK`` is true, or when it
    is unset and ``CI`` is true (as on CI services). ``CNNKIT_QUICK=0`` switches it off
    even under CI. Quick mode shrinks data and epochs only, never architectures or
    input sizes, so every shape and parameter count is the same in both modes.

    Returns
    -------
    bool
        Whether quick mode is on.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"CNNKIT_QUICK": "1"}):
    ...     quick_mode()
    True
    >>> with mock.patch.dict(os.environ, {"CNNKIT_QUICK": "0", "CI": "true"}):
    ...     quick_mode()
    False
    """
    value = os.environ.get("CNNKIT_QUICK")
    if value is None:
        value = os.environ.get("CI", "")
    return value.strip().lower() in _TRUE


def describe_device() -> str:
    """Describe the device Keras will train on: the first GPU if any, else the CPU.

    Returns
    -------
    str
        For example ``"GPU: /physical_device:GPU:0"`` or ``"CPU (no GPU found), oneDNN on"``.

    Examples
    --------
    >>> describe_device()[:3] in ("CPU", "GPU")
    True
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return f"GPU: {gpus[0].name} ({len(gpus)} GPU(s) visible)"
    onednn = "on" if os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "1" else "off"
    return f"CPU (no GPU found), {os.cpu_count()} cores, oneDNN {onednn}"
