"""The benchmark harness: FLOP counting, machine peak, and one quick run end to end.

No timing assertions: the quick run (slow-marked) only has to finish, print a ratio for
every case and write its table.
"""

# cnnkit goes first: it must be imported before TensorFlow (oneDNN kernels).
import cnnkit  # noqa: I001
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import baseline, centre_tap, flops, machine

ROOT = Path(__file__).resolve().parent.parent


def test_taps_on_data_counts_only_taps_inside_the_input():
    # A 3x3 "same" conv on a 1x1 map: one tap of three per axis lands on data.
    assert flops._taps_on_data(1, 1, 3, 1, "same") == 1
    # On a 4-pixel axis, the two edge outputs lose one tap each: 4 * 3 - 2.
    assert flops._taps_on_data(4, 4, 3, 1, "same") == 10
    # "valid" padding never touches padding: out * kernel.
    assert flops._taps_on_data(5, 3, 3, 1, "valid") == 9


@pytest.mark.parametrize(
    ("cnnkit_builder", "baseline_builder", "macs", "params"),
    [
        (cnnkit.models.mnist_cnn, baseline.mnist_cnn, 16_283_392, 1_625_866),
        (cnnkit.models.resnet34, baseline.resnet34, 69_653_760, 21_300_554),
    ],
)
def test_baseline_models_match_cnnkit_models(cnnkit_builder, baseline_builder, macs, params):
    ours, theirs = cnnkit_builder(), baseline_builder()
    assert ours.count_params() == theirs.count_params() == params
    counted_ours, counted_theirs = flops.count_macs(ours), flops.count_macs(theirs)
    assert counted_ours == counted_theirs
    assert counted_ours["nominal"] == macs
    assert counted_ours["data"] <= counted_ours["nominal"]


def test_small_cnn_macs_by_hand():
    # conv1 28*28*9*1*32, conv2 28*28*9*32*64, dense 14*14*64*128 + 128*10
    expected = 28 * 28 * 9 * 32 + 28 * 28 * 9 * 32 * 64 + 14 * 14 * 64 * 128 + 128 * 10
    assert flops.count_macs(cnnkit.models.mnist_cnn())["nominal"] == expected


def test_centre_tap_plain_copy_computes_the_same():
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((2, 2, 3)),
            cnnkit.layers.CentreTapResidualUnit(4, strides=2),
            cnnkit.layers.CentreTapResidualUnit(4),
        ]
    )
    plain = centre_tap.plain_copy(model)
    assert [type(layer) for layer in plain.layers] == [cnnkit.layers.ResidualUnit] * 2
    x = np.random.default_rng(0).normal(size=(3, 2, 2, 3)).astype("float32")
    for training in (False, True):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(plain(x, training=training)),
            keras.ops.convert_to_numpy(model(x, training=training)),
            rtol=1e-5,
            atol=1e-5,
        )


@pytest.mark.parametrize(
    ("flags", "peak"),
    [
        ("fpu sse2 avx avx2 fma avx512f avx512_vnni", 640.0),  # 2 FMA x 16 lanes x 2 x 2.5 GHz x 4
        ("fpu sse2 avx avx2 fma", 320.0),  # 2 FMA x 8 lanes x 2 x 2.5 GHz x 4
        ("fpu sse2", 80.0),  # 4 lanes x 2 (add and mul) x 2.5 GHz x 4
    ],
)
def test_machine_peak_for_known_cpus(monkeypatch, flags, peak):
    cpuinfo = {"model name": "Test CPU", "flags": flags, "cpu MHz": "2500.000"}
    monkeypatch.setattr(machine, "_cpuinfo", lambda: cpuinfo)
    monkeypatch.setattr(machine, "_max_clock_mhz", lambda: None)
    monkeypatch.setattr(machine, "cores", lambda: 4)
    info = machine.describe()
    assert (info["model"], info["cores"], info["ghz"]) == ("Test CPU", 4, 2.5)
    assert info["peak_gflops"] == pytest.approx(peak)
    assert "avx512_bf16" in info["missing_flags"]


@pytest.mark.slow  # about 90 s on 2 cores: `make test-slow` and CI run it, `make test` does not
def test_quick_run_prints_a_ratio_for_every_case(tmp_path):
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = out.read_text()
    for case in ("csv", "small_cnn", "resnet34", "inference (mnist_cnn)", "inference (resnet34)"):
        row = re.search(rf"^\| {re.escape(case)} \|(.*)$", proc.stdout, re.MULTILINE)
        assert row is not None, f"no summary row for {case}"
        assert re.search(r"\d+(\.\d+)?x", row.group(1)), row.group(0)
        assert f"| {case} |" in table
    assert "GFLOP/s" in table and "val. accuracy" in table
    assert "pixel and label sums agree): yes" in table
    # The baseline worker keeps TensorFlow's default environment: no cnnkit, no oneDNN override.
    assert "baseline: TF_ENABLE_ONEDNN_OPTS=unset, cnnkit not imported" in table
    assert "fast: TF_ENABLE_ONEDNN_OPTS=" in table and ", cnnkit imported" in table
