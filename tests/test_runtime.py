"""Quick mode switch and the oneDNN default that importing cnnkit sets."""

import doctest
import os
import subprocess
import sys

import cnnkit

import pytest


@pytest.mark.parametrize(
    ("quick", "ci", "expected"),
    [
        (None, None, False),
        ("1", None, True),
        (None, "true", True),
        ("0", "true", False),
        ("yes", None, True),
        (None, "false", False),
    ],
)
def test_quick_mode_reads_cnnkit_quick_then_ci(monkeypatch, quick, ci, expected):
    for name, value in (("CNNKIT_QUICK", quick), ("CI", ci)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert cnnkit.quick_mode() is expected


def test_quick_mode_examples_leave_the_environment_as_they_found_it(monkeypatch):
    # The docstring once deleted CNNKIT_QUICK, so under `make test` (without CI=true) every
    # notebook that nbval ran after the doctests trained in full.
    monkeypatch.setenv("CNNKIT_QUICK", "1")
    before = dict(os.environ)
    runner = doctest.DocTestRunner()
    for example in doctest.DocTestFinder().find(cnnkit.runtime.quick_mode):
        runner.run(example)
    assert runner.summarize(verbose=False).failed == 0
    assert dict(os.environ) == before


def run_python(code, **env):
    environment = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    environment.update({"TF_CPP_MIN_LOG_LEVEL": "3", **env})
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=120,
    )
    return result.stdout.strip(), result.stderr


def test_import_cnnkit_first_turns_onednn_on_and_hides_tensorflow_startup_lines():
    code = (
        "import os, sys, cnnkit; print(os.environ['TF_ENABLE_ONEDNN_OPTS']); "
        "print('after import', file=sys.stderr)"
    )
    out, err = run_python(code, TF_CPP_MIN_LOG_LEVEL="2")
    assert out == "1"
    # TensorFlow writes these lines to stderr when oneDNN is on, whatever the log level.
    assert "oneDNN custom operations" not in err and "absl::InitializeLog" not in err
    assert "after import" in err  # only the import was silenced


def test_import_cnnkit_keeps_the_users_onednn_setting():
    out, _ = run_python(
        "import os, cnnkit; print(os.environ['TF_ENABLE_ONEDNN_OPTS'])", TF_ENABLE_ONEDNN_OPTS="0"
    )
    assert out == "0"


def test_import_after_tensorflow_warns_how_to_fix():
    out, err = run_python(
        "import tensorflow, cnnkit, os; print('TF_ENABLE_ONEDNN_OPTS' in os.environ)"
    )
    assert out == "False"
    assert "Import cnnkit first, or set TF_ENABLE_ONEDNN_OPTS=1" in err


def test_describe_device_agrees_with_tensorflow(monkeypatch):
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        assert cnnkit.describe_device().startswith(f"GPU: {gpus[0].name} ({len(gpus)} GPU")
        return
    for value, state in (("1", "on"), ("0", "off")):
        monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", value)
        text = cnnkit.describe_device()
        assert text.startswith("CPU (no GPU found)") and text.endswith(f"oneDNN {state}")
        assert f", {os.cpu_count()} cores," in text
