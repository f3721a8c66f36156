"""CLI overhead: wall times (subprocesses, interpreter start and imports included).

- import times, measured alone: a bare interpreter, the CLI module, torch;
- ``ipt-bench --help``, ``variants`` (first listing with an empty cache, then cached) and
  ``data list``;
- ``ipt-bench run suites/quickstart.yaml --profile smoke``: the first run fills a temporary
  results folder (not counted; no report); the cached run is timed without the report (the
  engine alone); then the default command (with the HTML report into an empty folder: the
  report build, which re-runs the stored models for its crop figures, reported only and cut off
  after ``REPORT_TIMEOUT_S``), and again once that report is up to date (the fully cached run:
  the goal).

The CLI commands run with a temporary ``IPT_BENCH_CACHE`` holding only what they create, so
the first ``variants`` listing is cold. Run: ``python benchmarks/bench_suite.py [--quick]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BENCH_DIR, best_time, quick_parser, write_result

GOAL_RUN_S, GOAL_START_S = 3.0, 1.0
REPORT_TIMEOUT_S = 30.0
REPO = BENCH_DIR.parent


def seconds(cmd: list[str], env: dict[str, str], timeout: float | None = None) -> float | None:
    """Wall time of one checked run of ``cmd`` in the repository; None when it timed out."""
    began = time.perf_counter()
    try:
        subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - began


def best_seconds(cmd: list[str], env: dict[str, str], repeat: int) -> float:
    """Best wall time of ``repeat`` checked runs of ``cmd``."""
    return best_time(lambda: seconds(cmd, env), repeat, warmup=0)


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    repeat = 1 if args.quick else 3
    cli = [sys.executable, "-m", "ipt_bench"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "IPT_BENCH_CACHE": str(Path(tmp) / "cache")}
        imports = {
            name: best_seconds([sys.executable, "-c", code], env, repeat)
            for name, code in (
                ("python", "pass"),
                ("ipt_bench.cli.main", "import ipt_bench.cli.main"),
                ("torch", "import torch"),
            )
        }
        commands = {"variants (cold cache)": seconds([*cli, "variants"], env)}
        for words in (["--help"], ["variants"], ["data", "list"]):
            commands[" ".join(words)] = best_seconds([*cli, *words], env, repeat)
        result: dict = {
            "import_seconds": imports,
            "command_seconds": commands,
            "goal_start_s": GOAL_START_S,
            "goal_run_s": GOAL_RUN_S,
        }
        if not args.quick:
            out, report = Path(tmp) / "results", Path(tmp) / "report"
            run = [*cli, "run", "suites/quickstart.yaml", "--profile", "smoke", "--out", str(out)]
            result["first_run_seconds"] = seconds([*run, "--no-report"], env)
            result["cached_run_no_report_seconds"] = best_seconds([*run, "--no-report"], env, repeat)
            with_report = [*run, "--report-dir", str(report)]
            result["report_build_run_seconds"] = seconds(with_report, env, REPORT_TIMEOUT_S)
            result["report_timeout_s"] = REPORT_TIMEOUT_S
            if result["report_build_run_seconds"] is not None:
                result["cached_run_seconds"] = best_seconds(with_report, env, repeat)
    print(result)
    write_result("suite", result, args.quick)


if __name__ == "__main__":
    main()
