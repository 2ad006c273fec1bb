"""Drive the two workers of a case: start them, set up the variants, interleave the repeats."""

import json
import os
import statistics
import subprocess
import sys
import time

from benchmarks.cases import OUT_DIR, ROOT, Case


class WorkerError(RuntimeError):
    pass


class Worker:
    """A ``python -m benchmarks.worker ROLE`` subprocess spoken to in JSON lines."""

    def __init__(self, role: str, log_path):
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if role == "baseline":
            # The baseline keeps TensorFlow's default environment: it decides oneDNN by itself.
            env.pop("TF_ENABLE_ONEDNN_OPTS", None)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        self.role = role
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", role],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=ROOT,
            env=env,
            text=True,
            bufsize=1,
        )

    def send(self, **cmd) -> None:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def receive(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise WorkerError(f"the {self.role} worker died; log: {self.log_tail()}")
        reply = json.loads(line)
        if not reply.pop("ok"):
            raise WorkerError(f"{self.role} worker: {reply['error']}; log: {self.log_tail()}")
        return reply

    def ask(self, **cmd) -> dict:
        self.send(**cmd)
        return self.receive()

    def log_tail(self, n: int = 2000) -> str:
        self._log.flush()
        try:
            with open(self.log_path) as f:
                return f.read()[-n:]
        except OSError:
            return "(no log)"

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                self.send(op="quit")
                self.proc.stdin.close()
                self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            self._log.close()


class WorkerPool:
    """Start workers on demand: fresh ones for every case, or one pair shared by all cases.

    Fresh workers (the default) keep each case's measurements independent of the others.
    ``shared=True`` (quick mode) saves the start-up of a TensorFlow process per case.
    """

    def __init__(self, shared: bool = False):
        self.shared = shared
        self.workers: dict[str, Worker] = {}

    def get(self, role: str, case: Case) -> Worker:
        if role not in self.workers:
            logs = OUT_DIR / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            name = "all" if self.shared else case.name
            self.workers[role] = Worker(role, logs / f"{name}-{role}.log")
        return self.workers[role]

    def end_case(self) -> None:
        if not self.shared:
            self.close()

    def close(self) -> None:
        while self.workers:
            self.workers.popitem()[1].close()


def run_case(case: Case, repeats: int, quick: bool, pool: WorkerPool, progress=None) -> dict:
    """Run one case; return ``{"variants": {key: {...}}, "workers": {...}, "seconds": ...}``."""
    say = progress or (lambda message: None)
    variants = [v for v in case.variants if v.quick or not quick]
    start = time.perf_counter()
    try:
        workers = {
            role: pool.get(role, case)
            for role in ("baseline", "fast")
            if any(v.role == role for v in variants)
        }
        info = {}
        for role, w in workers.items():
            info[role] = w.ask(op="hello")
            if case.kind != "csv":
                info[role].update(w.ask(op="tf_info"))

        def tag(v):  # variant names are unique within a worker even when it is shared
            return f"{case.name}/{v.key}"

        # Set-up and warm-up (not timed): both workers at once, each variant in turn.
        for v in variants:
            workers[v.role].send(op="setup", variant=tag(v), kind=case.kind, params=v.params)
        results = {v.key: {"setup": None, "runs": [], "finish": None} for v in variants}
        for v in variants:
            say(f"  set up {v.key}")
            results[v.key]["setup"] = workers[v.role].receive()
        # Timed repeats, interleaved; every other repeat runs in reverse order so that a
        # slow drift of the machine hits baseline and fast path alike.
        for r in range(repeats):
            order = variants if r % 2 == 0 else variants[::-1]
            for v in order:
                run = workers[v.role].ask(op="run", variant=tag(v))
                results[v.key]["runs"].append(run)
                say(f"  repeat {r + 1}/{repeats} {v.key}: {_short(run)}")
        for v in variants:
            results[v.key]["finish"] = workers[v.role].ask(op="finish", variant=tag(v))
            workers[v.role].ask(op="drop", variant=tag(v))
    finally:
        pool.end_case()
    for v in variants:
        runs = results[v.key]["runs"]
        results[v.key]["median"] = {
            k: statistics.median(run[k] for run in runs)
            for k in runs[0]
            if isinstance(runs[0][k], int | float) and not isinstance(runs[0][k], bool)
        }
    return {
        "variants": results,
        "workers": info,
        "seconds": time.perf_counter() - start,
        "run_variants": [v.key for v in variants],
    }


def _short(run: dict) -> str:
    if "images_per_s" in run:
        return f"{run['images_per_s']:.1f} images/s"
    return f"{run['seconds']:.3f} s, peak {run['peak_mb']:.0f} MB"
