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

from cnnkit.runtime import describe_device, quick_mode  # noqa: E402

__version__ = "0.1.0"

__all__ = ["describe_device", "quick_mode"]
