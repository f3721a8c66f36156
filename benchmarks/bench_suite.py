"""CLI overhead: wall time (subprocess, imports included) of ``ipt-bench --help``, ``variants``,
``data list`` and a fully cached ``ipt-bench run suites/quickstart.yaml --profile smoke``
(the first run fills the cache and is not counted). Run: ``python benchmarks/bench_suite.py [--quick]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from common import BENCH_DIR, best_time, quick_parser, write_result

GOAL_RUN_S, GOAL_IMPORT_S = 3.0, 1.0


def cli_seconds(args: list[str], cwd: str, repeat: int, env: dict[str, str]) -> float:
    """Best wall time of ``python -m ipt_bench <args>`` (run checked)."""
    cmd = [sys.executable, "-m", "ipt_bench", *args]
    return best_time(
        lambda: subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True), repeat, 0
    )


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    repo = str(BENCH_DIR.parent)
    repeat = 1 if args.quick else 3
    env = dict(os.environ)
    imports = {
        " ".join(a): cli_seconds(a, repo, repeat, env) for a in (["--help"], ["variants"], ["data", "list"])
    }
    result: dict = {"import_seconds": imports, "goal_import_s": GOAL_IMPORT_S, "goal_run_s": GOAL_RUN_S}
    if not args.quick:
        with tempfile.TemporaryDirectory() as tmp:
            run = ["run", "suites/quickstart.yaml", "--profile", "smoke", "--out", tmp]
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "ipt_bench", *run], cwd=repo, env=env, check=True, capture_output=True
            )
            result["first_run_seconds"] = time.perf_counter() - began
            result["cached_run_seconds"] = cli_seconds(run, repo, repeat, env)
    print(result)
    write_result("suite", result, args.quick)


if __name__ == "__main__":
    main()
