"""cnnkit: helpers for a hands-on course on convolutional neural networks.

Import cnnkit *before* TensorFlow or Keras. On CPUs without AVX-512 VNNI/BF16 or AMX
(most laptops and many cloud machines) TensorFlow leaves its oneDNN kernels off, and they
can only be switched on by ``TF_ENABLE_ONEDNN_OPTS=1`` set before TensorFlow is imported.
Importing cnnkit first sets that default (a value you set yourself is never overridden),
which makes convolutional networks train several times faster on such CPUs.
"""

import os
import sys
import warnings


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with the C-level stderr hidden, for the import only.

    TensorFlow 2.21 writes start-up lines ("oneDNN custom operations are on", "All log
    messages before absl::InitializeLog() is called ...") straight to file descriptor 2
    while it is imported, ignoring TF_CPP_MIN_LOG_LEVEL. Called only where the user asked
    for quiet logs (TF_CPP_MIN_LOG_LEVEL of 2 or 3).
    """
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


if "tensorflow" in sys.modules:
    if "TF_ENABLE_ONEDNN_OPTS" not in os.environ:
        warnings.warn(
            "TensorFlow was imported before cnnkit, so cnnkit could not switch on its fast "
            "oneDNN CPU kernels. Import cnnkit first, or set TF_ENABLE_ONEDNN_OPTS=1 in the "
            "environment before starting Python.",
            stacklevel=2,
        )
else:
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") in {"2", "3"}:
        _import_tensorflow_quietly()

from cnnkit import data, layers, models, plotting, reference  # noqa: E402 (after the set-up)
from cnnkit.runtime import describe_device, quick_mode  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "data",
    "describe_device",
    "layers",
    "models",
    "plotting",
    "quick_mode",
    "reference",
]
