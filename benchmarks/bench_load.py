"""Graceful under load: ``ipt-bench run suites/quickstart.yaml --profile smoke`` alone, then beside
a CPU burner (one busy-looping process per core), in one script run.

Both runs use the same ``--threads`` (all cores, the default), so their per-image rows must be
bit-identical; the goal is a loaded/alone wall-time ratio of at most ``GOAL_RATIO``. The load
average before each run and the CPU time each run used (its child processes' user + system) are
recorded: on a shared machine "alone" is only as alone as the other users let it be.
While the burner runs, the script also trains ``ipt-tiny-con`` for ``AB_STEPS`` steps with
``OMP_WAIT_POLICY=PASSIVE`` (what ipt-bench sets) and ``ACTIVE`` (spinning idle threads, the
OpenMP default behaviour this replaces), to show what the setting is worth.
``--quick`` runs a derived suite with 2 steps per stage. Run:
``python benchmarks/bench_load.py [--quick]``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from common import BENCH_DIR, quick_parser, write_result

GOAL_RATIO = 3.0
AB_STEPS = 40
REPO = BENCH_DIR.parent
BURN = "while True:\n    pass\n"


def cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def timed_run(suite: Path, out: Path) -> dict:
    """Wall and CPU seconds of one ``ipt-bench run`` into ``out`` (no report)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    began = time.perf_counter()
    cmd = [sys.executable, "-m", "ipt_bench", "run", str(suite), "--profile", "smoke", "--out", str(out)]
    subprocess.run([*cmd, "--no-report"], cwd=REPO, check=True, capture_output=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": wall, "cpu_seconds": cpu, "load_average_before": load}


def train_seconds(policy: str, steps: int, out: Path) -> dict:
    """Wall and CPU seconds of ``ipt-bench train`` with ``OMP_WAIT_POLICY=policy``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    cmd = [sys.executable, "-m", "ipt_bench", "train", "--variant", "ipt-tiny-con", "--profile", "smoke"]
    cmd += ["--steps", str(steps), "--out", str(out)]
    env = {**os.environ, "OMP_WAIT_POLICY": policy}
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": time.perf_counter() - began, "cpu_seconds": cpu}


def rows(out: Path) -> pd.DataFrame:
    """Every per-image row of a results folder, in a stable order."""
    frames = [pd.read_parquet(p) for p in sorted(out.glob("nodes/*/rows.parquet"))]
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["cell_key", "image"]).reset_index(drop=True)[
        ["cell_key", "image", "psnr", "ssim"]
    ]


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    suite = REPO / "suites" / "quickstart.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            suite = Path(tmp) / "quickstart.yaml"
            suite.write_text(
                f"extends: {REPO / 'suites' / 'quickstart.yaml'}\n"
                "profiles:\n  smoke: {pretrain_steps: 2, steps: 2, batch_size: 4}\n"
            )
        alone = timed_run(suite, Path(tmp) / "alone")
        burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(cores())]
        try:
            time.sleep(1.0)  # let the burners take their cores
            loaded = timed_run(suite, Path(tmp) / "loaded")
            steps = 2 if args.quick else AB_STEPS
            policies = {p: train_seconds(p, steps, Path(tmp) / p) for p in ("PASSIVE", "ACTIVE")}
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()
        identical = rows(Path(tmp) / "alone").equals(rows(Path(tmp) / "loaded"))
    result = {
        "command": "ipt-bench run suites/quickstart.yaml --profile smoke --no-report",
        "threads": cores(),
        "burner_processes": cores(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "alone": alone,
        "beside_burner": loaded,
        "ratio": loaded["wall_seconds"] / alone["wall_seconds"],
        "cpu_ratio": loaded["cpu_seconds"] / max(alone["cpu_seconds"], 1e-9),
        "rows_identical": identical,
        "wait_policy_beside_burner": {"command": f"ipt-bench train ipt-tiny-con, {steps} steps", **policies},
        "goal_ratio": GOAL_RATIO,
    }
    print(result)
    write_result("load", result, args.quick)


if __name__ == "__main__":
    main()
