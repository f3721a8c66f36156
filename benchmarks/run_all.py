"""Run every benchmark script, time each, and regenerate ``benchmarks/README.md`` from the JSON.

Run: ``python benchmarks/run_all.py [--quick] [--summary-only]`` (``nox -s bench``). ``--quick``
runs each script in its tiny smoke mode; ``--summary-only`` only rewrites the README. Each
script's wall time (interpreter start and imports included) goes to ``results/run_all.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from common import BENCH_DIR, quick_parser, results_dir
from summary import write_readme

from ipt_bench.core.atomic import atomic_write_text

SCRIPTS = (
    "bench_mfu",
    "bench_attention",
    "bench_tiling",
    "bench_metrics",
    "bench_data",
    "bench_suite",
    "bench_load",
)


def run_scripts(quick: bool) -> dict[str, float]:
    """Run each script in turn (stopping at the first failure); their wall times in seconds."""
    seconds = {}
    for script in SCRIPTS:
        cmd = [sys.executable, str(BENCH_DIR / f"{script}.py"), *(["--quick"] if quick else [])]
        print("+", " ".join(cmd), flush=True)
        began = time.perf_counter()
        subprocess.run(cmd, check=True)
        seconds[script] = time.perf_counter() - began
        print(f"{script}: {seconds[script]:.1f} s", flush=True)
    return seconds


def main() -> None:
    parser = quick_parser(__doc__)
    parser.add_argument("--summary-only", action="store_true", help="only regenerate README.md")
    args = parser.parse_args()
    began = time.perf_counter()
    if not args.summary_only:
        seconds = run_scripts(args.quick)
        record = {"quick": args.quick, "scripts": seconds, "total_seconds": time.perf_counter() - began}
        atomic_write_text(results_dir() / "run_all.json", json.dumps(record, indent=2))
    write_readme()
    print(f"run_all: {time.perf_counter() - began:.1f} s in all")


if __name__ == "__main__":
    main()
