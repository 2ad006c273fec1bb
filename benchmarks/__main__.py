"""``python -m benchmarks``: run the cases, print the tables, write benchmarks/RESULTS.md."""

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import cases as cases_mod
from benchmarks import machine, report
from benchmarks.harness import WorkerError, WorkerPool, run_case

DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark cnnkit's fast path against the plain baseline.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks that it runs (for tests)"
    )
    parser.add_argument(
        "--cases",
        default=",".join(cases_mod.CASE_NAMES),
        help=f"comma-separated subset of {','.join(cases_mod.CASE_NAMES)} (default: all)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed repeats per variant (default 3; quick 1)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to write")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in cases_mod.CASE_NAMES]
    if unknown or not names:
        parser.error(
            f"--cases expects names from {','.join(cases_mod.CASE_NAMES)}, got {args.cases!r}"
        )
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1:
        parser.error(f"--repeats must be 1 or more, got {args.repeats}")
    args.names = names
    return args


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    start = time.perf_counter()
    info = machine.describe()
    info["load_start"] = machine.load_average()
    command = " ".join(["python -m benchmarks", *argv])
    print(
        f"benchmarks: {info['model']}, {info['cores']} cores, peak {info['peak_gflops']:.0f} "
        f"GFLOP/s fp32; cases {', '.join(args.names)}",
        flush=True,
    )

    def say(message):
        print(message, flush=True)

    results = []
    failed = []
    # Quick mode shares one pair of workers across the cases (start-up is most of its
    # time); a full run starts a fresh pair for every case.
    pool = WorkerPool(shared=args.quick)
    try:
        for case in cases_mod.build_cases(args.names, args.quick):
            say(f"case {case.name}: {case.title}")
            try:
                results.append((case, run_case(case, args.repeats, args.quick, pool, say)))
            except WorkerError as exc:
                say(f"case {case.name} FAILED: {exc}")
                failed.append(case.name)
                pool.close()
    finally:
        pool.close()
    info["date"] = time.strftime("%Y-%m-%d %H:%M %Z")
    info["wall_s"] = time.perf_counter() - start
    info["load_end"] = machine.load_average()
    peak = info["peak_gflops"]
    lines = report.machine_section(info, command, args.repeats, args.quick)
    lines += ["## Summary", ""]
    rows = []
    for case, res in results:
        rows += report.summary_rows(case, res, peak)
    lines += report.table(
        ["case", "baseline", "cnnkit fast path", "ratio", "target", "met?", "physical limit"],
        rows,
    )
    lines.append("")
    lines += report.onednn_note(results)
    if failed:
        lines += [f"Failed cases: {', '.join(failed)} (see benchmarks/out/logs/).", ""]
    for case, res in results:
        lines += report.case_section(case, res, peak, args.repeats)
    text = "\n".join(lines).rstrip() + "\n"
    print()
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    raw = cases_mod.OUT_DIR / "last-results.json"  # every number, for a closer look
    raw.write_text(
        json.dumps(
            {"machine": info, "command": command, "cases": {c.name: r for c, r in results}},
            indent=1,
            default=str,
        )
    )
    print(f"written to {args.out} (raw figures: {raw.relative_to(cases_mod.ROOT)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
