"""A persistent benchmark worker: one TensorFlow process, driven by JSON lines on stdin.

Started by the harness as ``python -m benchmarks.worker ROLE`` where ROLE is

- ``baseline``: TensorFlow's default environment. The harness removes
  ``TF_ENABLE_ONEDNN_OPTS`` from its environment, and this process never imports cnnkit
  (Keras and TensorFlow keep their own defaults for this CPU);
- ``fast``: imports cnnkit first, before TensorFlow, as the notebooks do.

Protocol: one JSON object per line on stdin, one JSON reply per line on the original
stdout. Everything else (TensorFlow logs, Keras progress) goes to stderr, which the
harness saves to a log file. Commands (``op``): ``hello``; ``setup`` with ``variant``,
``kind`` and ``params``; ``run`` and ``finish`` with ``variant``; ``quit``.
"""

import ctypes
import gc
import json
import os
import sys
import time
import traceback

ROLE = sys.argv[1] if len(sys.argv) > 1 else "fast"
if ROLE == "fast":
    import cnnkit  # noqa: F401  (first: sets the fast-path environment before TensorFlow)

import numpy as np  # noqa: E402

_PROTOCOL = None
STATE: dict = {}


# ------------------------------------------------------------------------------ memory
def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _return_free_memory_to_the_system() -> None:
    """glibc's malloc_trim(0): hand freed heap memory back, so RSS before a run is honest.

    Without it, memory freed by one repeat stays in the process and is reused unseen by the
    next, and its peak above the starting RSS looks smaller than it is.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure(fn):
    """Run ``fn()``; return (result, wall seconds, peak memory above the start in MB, how)."""
    gc.collect()
    _return_free_memory_to_the_system()
    rss_before = _status_kb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (peak RSS) to the current RSS
        use_proc = rss_before is not None and _status_kb("VmHWM") is not None
    except OSError:
        use_proc = False
    if use_proc:
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        peak_mb = (_status_kb("VmHWM") - rss_before) / 1024
        return result, seconds, peak_mb, "peak RSS (VmHWM after clear_refs)"
    import tracemalloc

    tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak_mb, "tracemalloc peak"


# --------------------------------------------------------------------------------- data
SAMPLE_TRAIN = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "data",
    "mnist_sample",
    "train.csv.gz",
)
N_VALID = 400


def sample_data(dtype: str):
    """The bundled sample's train file: first 400 rows validation, the rest training."""
    key = ("sample", dtype)
    if key not in STATE:
        if ROLE == "baseline":
            from benchmarks import baseline

            X, y = baseline.load_csv(SAMPLE_TRAIN)
        else:
            import cnnkit.data

            pixels, y = cnnkit.data.read_digits_csv(SAMPLE_TRAIN)
            X = _images(pixels)
        X = X.astype(dtype, copy=False)
        STATE[key] = (X[N_VALID:], y[N_VALID:], X[:N_VALID], y[:N_VALID])
    return STATE[key]


# -------------------------------------------------------------------------------- models
def build_model(name: str, policy: str | None = None, **kwargs):
    import keras

    keras.utils.set_random_seed(42)
    if ROLE == "baseline":
        from benchmarks import baseline

        return getattr(baseline, name)(**kwargs)
    import cnnkit.models

    # Layers take the global dtype policy when they are made: set it for this model only.
    keras.mixed_precision.set_global_policy(policy or "float32")
    try:
        return getattr(cnnkit.models, name)(**kwargs)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def compile_model(model, jit_compile):
    if ROLE == "baseline":
        from benchmarks import baseline

        baseline.compile_model(model, jit_compile=jit_compile)
    else:
        model.compile(
            loss="sparse_categorical_crossentropy",
            optimizer="nadam",
            metrics=["accuracy"],
            jit_compile=jit_compile,
        )


# ---------------------------------------------------------------------------------- CSV
def csv_load(method: str, path: str):
    if method == "pandas":
        from benchmarks import baseline

        return baseline.load_csv(path)
    import cnnkit.data

    if method == "cnnkit_uint8":
        return cnnkit.data.read_digits_csv(path)
    if method == "cnnkit_cached_uint8":
        return cnnkit.data.read_digits_csv(path, cache=True)
    pixels, y = cnnkit.data.read_digits_csv(path, cache=method == "cnnkit_cached")
    return _images(pixels), y


def _images(pixels):
    """uint8 (n, 784) -> float32 (n, 28, 28, 1) in [0, 1], the arrays the baseline trains on,
    so both workers feed the same values (through public NumPy only: benchmarks use no private
    names of cnnkit)."""
    return np.divide(pixels.reshape(-1, 28, 28, 1), np.float32(255), dtype=np.float32)


def setup_csv(v, p):
    # Imports happen here, not inside the timed and memory-measured loads.
    if p["method"] == "pandas":
        from benchmarks import baseline  # noqa: F401  (imports pandas)
    else:
        import cnnkit.data  # noqa: F401
    if p["method"].startswith("cnnkit_cached"):
        csv_load(p["method"], p["path"])  # the first call writes the cache
    return {}


def run_csv(v, p):
    (X, y), seconds, peak_mb, how = measure(lambda: csv_load(p["method"], p["path"]))
    first = np.asarray(X[:1000], dtype=np.float64)
    if X.dtype.kind == "f":
        first = np.rint(first * 255)
    info = {
        "seconds": seconds,
        "peak_mb": peak_mb,
        "memory_method": how,
        "shape": list(X.shape),
        "dtype": str(X.dtype),
        # the same data whatever the method: pixel sum of the first 1000 images, label sum
        "pixel_sum": int(first.sum()),
        "label_sum": int(y.sum()),
    }
    del X, y
    gc.collect()
    return info


# ------------------------------------------------------------------------------ training
def setup_train(v, p):
    X_train, y_train, _, _ = sample_data(p["dtype"])
    n = min(p["n_train"], len(X_train))
    model = build_model(p["model"], p.get("policy"), **p.get("model_kwargs", {}))
    compile_model(model, p["jit_compile"])
    start = time.perf_counter()
    model.fit(X_train[:n], y_train[:n], batch_size=p["batch_size"], epochs=1, verbose=0)
    warmup = time.perf_counter() - start
    STATE[v] = {"model": model, "n": n, "epochs": 1}
    return {"warmup_seconds": warmup, "n_images": n, **_flops(model)}


def run_train(v, p):
    X_train, y_train, _, _ = sample_data(p["dtype"])
    s = STATE[v]
    start = time.perf_counter()
    s["model"].fit(
        X_train[: s["n"]], y_train[: s["n"]], batch_size=p["batch_size"], epochs=1, verbose=0
    )
    seconds = time.perf_counter() - start
    s["epochs"] += 1
    return {"seconds": seconds, "images_per_s": s["n"] / seconds}


def finish_train(v, p):
    _, _, X_valid, y_valid = sample_data(p["dtype"])
    s = STATE[v]
    _, accuracy = s["model"].evaluate(X_valid, y_valid, batch_size=100, verbose=0)
    return {"val_accuracy": float(accuracy), "epochs": s["epochs"], "n_valid": len(X_valid)}


# ----------------------------------------------------------------------------- inference
def setup_infer(v, p):
    X_train, _, _, _ = sample_data(p["dtype"])
    n = min(p["n_images"], len(X_train))
    model = build_model(p["model"])
    compile_model(model, p["jit_compile"])
    start = time.perf_counter()
    model.predict(X_train[:n], batch_size=p["batch_size"], verbose=0)
    warmup = time.perf_counter() - start
    STATE[v] = {"model": model, "n": n}
    return {"warmup_seconds": warmup, "n_images": n, **_flops(model)}


def run_infer(v, p):
    X_train, _, _, _ = sample_data(p["dtype"])
    s = STATE[v]
    start = time.perf_counter()
    s["model"].predict(X_train[: s["n"]], batch_size=p["batch_size"], verbose=0)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "images_per_s": s["n"] / seconds}


def _flops(model):
    from benchmarks.flops import count_macs

    macs = count_macs(model)
    return {"macs": macs["nominal"], "macs_on_data": macs["data"]}


# ------------------------------------------------------------------------------ protocol
HANDLERS = {
    ("setup", "csv"): setup_csv,
    ("run", "csv"): run_csv,
    ("setup", "train"): setup_train,
    ("run", "train"): run_train,
    ("finish", "train"): finish_train,
    ("setup", "infer"): setup_infer,
    ("run", "infer"): run_infer,
}
VARIANTS: dict = {}


def hello():
    info = {
        "role": ROLE,
        "pid": os.getpid(),
        "cnnkit_imported": "cnnkit" in sys.modules,
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
    }
    return info


def tf_info():
    import keras
    import tensorflow as tf
    from tensorflow.python.util import _pywrap_util_port

    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "onednn": bool(_pywrap_util_port.IsMklEnabled()),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
    }


def handle(cmd):
    op = cmd["op"]
    if op == "hello":
        return hello()
    if op == "tf_info":
        return tf_info()
    v = cmd["variant"]
    if op == "drop":  # free the variant's model and data
        VARIANTS.pop(v, None)
        STATE.pop(v, None)
        gc.collect()
        return {}
    if op == "setup":
        VARIANTS[v] = (cmd["kind"], cmd["params"])
    kind, params = VARIANTS[v]
    handler = HANDLERS.get((op, kind))
    return handler(v, params) if handler else {}


def main():
    global _PROTOCOL
    _PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints (TensorFlow, Keras) go to stderr, not into the protocol
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd.get("op") == "quit":
            break
        try:
            reply = {"ok": True, **handle(cmd)}
        except Exception as exc:  # report to the harness, keep serving
            traceback.print_exc()
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        _PROTOCOL.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
