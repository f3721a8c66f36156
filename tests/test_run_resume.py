"""Kill ``ipt-bench run`` mid-training and rerun: same numbers; two runs on one folder share it."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ipt_bench.suite.loader import load_suite
from ipt_bench.suite.planner import build_plan

pytestmark = pytest.mark.slow

TINY = """\
name: tiny
profile: smoke
variants: [ipt-tiny-scratch, identity]
tasks:
  denoise: {train_sigmas: [30], datasets: [embedded]}
profiles:
  smoke: {steps: 60, batch_size: 4}
"""
TWO_TASKS = TINY.replace("  denoise:", "  sr: {scales: [2], datasets: [embedded]}\n  denoise:")


def command(suite: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "ipt_bench", "run", str(suite), "--out", str(out), "--no-report"]


def run_to_end(suite: Path, out: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(command(suite, out), capture_output=True, text=True, cwd=out.parent, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def scores(out: Path) -> pd.DataFrame:
    frames = [pd.read_parquet(p) for p in sorted((out / "nodes").glob("*/rows.parquet"))]
    rows = pd.concat(frames, ignore_index=True)
    return rows.sort_values(["variant", "task", "image"])[
        ["variant", "task", "image", "psnr", "ssim"]
    ].reset_index(drop=True)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    return path


def test_sigkill_during_training_then_rerun_gives_the_uninterrupted_numbers(tmp_path):
    suite = write(tmp_path, TINY)
    reference = tmp_path / "reference"
    run_to_end(suite, reference)

    out = tmp_path / "killed"
    finetune = next(n for n in build_plan(load_suite(suite)) if n.kind == "finetune")
    checkpoint = out / "nodes" / finetune.key / "train" / "checkpoints" / "last.pt"
    proc = subprocess.Popen(
        command(suite, out),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(random.Random().uniform(0.0, 0.5))  # a random point after the first checkpoint
    assert proc.poll() is None, "training finished before it could be killed; raise the step count"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert checkpoint.exists() and not (checkpoint.parents[1] / "model.pt").exists()

    done = run_to_end(suite, out)
    assert "cached" in done.stdout or "done" in done.stdout
    pd.testing.assert_frame_equal(scores(out), scores(reference))
    log = (checkpoint.parents[1] / "log.jsonl").read_text()
    assert log.strip(), "the resumed run kept its training log"


def test_sigint_during_training_stops_the_whole_run_cleanly(tmp_path):
    suite = write(tmp_path, TINY)
    out = tmp_path / "stopped"
    finetune = next(n for n in build_plan(load_suite(suite)) if n.kind == "finetune")
    checkpoint = out / "nodes" / finetune.key / "train" / "checkpoints" / "last.pt"
    proc = subprocess.Popen(
        command(suite, out), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be interrupted; raise the step count"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and "interrupted" in stdout
    assert "0 failed, 0 skipped" in stdout  # a stop, not a failure of the node
    assert not (out / "nodes" / finetune.key / "record.json").exists()
    assert checkpoint.exists()
    done = run_to_end(suite, out)
    assert json.loads((out / "nodes" / finetune.key / "record.json").read_text())["status"] == "done"
    assert "1 run" in done.stdout or "run," in done.stdout


def test_two_concurrent_runs_on_one_folder_do_each_node_once(tmp_path):
    suite = write(tmp_path, TWO_TASKS)
    out = tmp_path / "shared"
    procs = [
        subprocess.Popen(
            command(suite, out), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    plan = build_plan(load_suite(suite))
    lines = [line for stdout, _ in outputs for line in stdout.splitlines() if line.startswith("[")]
    ran = [line.split()[2] for line in lines if line.split()[1] == "done"]
    assert sorted(ran) == sorted(k[:10] for k in plan.nodes)  # every node ran exactly once in all
    for node in plan:
        record = json.loads((out / "nodes" / node.key / "record.json").read_text())
        assert record["status"] == "done"
    reference = tmp_path / "alone"
    run_to_end(suite, reference)
    pd.testing.assert_frame_equal(scores(out), scores(reference))
