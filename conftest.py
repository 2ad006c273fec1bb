"""pytest set-up shared by the unit tests and the nbval notebook runs."""

import os

# The test command itself switches quick mode on (shrinks data and epochs only).
# Notebook kernels started by nbval inherit this environment.
os.environ.setdefault("CNNKIT_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collectstart(collector):
    """Do not compare stderr in notebooks: TensorFlow logs there with timestamps."""
    if hasattr(collector, "skip_compare"):
        collector.skip_compare += ("stderr",)
