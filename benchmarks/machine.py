"""Describe the machine: CPU model, cores, SIMD flags, clock, fp32 peak, package versions.

Runs in the harness process and imports neither TensorFlow nor cnnkit.
"""

import os
import platform
import sys
from importlib import metadata

# Flags that decide which kernels TensorFlow / oneDNN can use.
RELEVANT_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "avx_vnni",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
)
PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "pandas")


def _cpuinfo() -> dict:
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if sep and key.strip() not in info:
                    info[key.strip()] = value.strip()
    except OSError:
        pass
    return info


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def describe() -> dict:
    """Return the CPU's model, cores, relevant flags, clock and fp32 peak, with assumptions.

    fp32 FLOP per cycle per core assumes two FMA units (as on recent Intel Xeon and AMD
    Zen 4 server cores): AVX-512 -> 2 x 16 lanes x 2 = 64; AVX2 + FMA -> 2 x 8 x 2 = 32;
    else SSE, 2 x 4 x 2 = 16 (no FMA: half). AMX and BF16 units are faster but not fp32.
    """
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    if "avx512f" in flags:
        per_cycle, simd = 64, "AVX-512 (16 fp32 lanes), 2 FMA units assumed"
    elif "avx2" in flags and "fma" in flags:
        per_cycle, simd = 32, "AVX2 + FMA (8 fp32 lanes), 2 FMA units assumed"
    else:
        per_cycle, simd = 8, "SSE (4 fp32 lanes), no FMA"
    mhz = None
    for key in ("cpu MHz",):
        try:
            mhz = float(info[key])
        except (KeyError, ValueError):
            pass
    clock_source = "/proc/cpuinfo 'cpu MHz'"
    max_mhz = _max_clock_mhz()
    if max_mhz is not None:
        mhz, clock_source = max_mhz, "cpufreq cpuinfo_max_freq"
    if mhz is None:
        mhz, clock_source = 2000.0, "unknown clock, 2.0 GHz assumed"
    n = cores()
    peak = per_cycle * mhz * 1e6 * n / 1e9
    return {
        "model": info.get("model name", platform.processor() or "unknown CPU"),
        "cores": n,
        "flags": [f for f in RELEVANT_FLAGS if f in flags],
        "missing_flags": [f for f in RELEVANT_FLAGS if f not in flags],
        "ghz": mhz / 1000,
        "clock_source": clock_source,
        "flop_per_cycle_core": per_cycle,
        "simd": simd,
        "peak_gflops": peak,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: _version(p) for p in PACKAGES},
        "executable": sys.executable,
    }


def _max_clock_mhz() -> float | None:
    """The nominal maximum clock in MHz, where the kernel exposes it (else None)."""
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") as f:
            return int(f.read()) / 1000
    except (OSError, ValueError):
        return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> float:
    """The 1-minute load average (NaN where the system does not report it)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")
