"""Profiles fit the machine: ``auto`` picks cpu without a GPU, paper without a GPU is refused with
both estimates, and ``--dry-run`` prints a short summary whose numbers come from the cost model."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ipt_bench.suite.costs import GPU_FLOPS, human_duration, plan_cost
from ipt_bench.suite.loader import load_suite
from ipt_bench.suite.planner import build_plan
from ipt_bench.suite.profile_choice import choose_profile, gpu_count
from tests.conftest import REPO_ROOT, require_dataset

GENERALIZATION = REPO_ROOT / "suites" / "generalization.yaml"
NO_GPU = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "ipt_bench", "run", str(GENERALIZATION), "--out", str(cwd / "out"), *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=NO_GPU, timeout=300)


def test_auto_is_cpu_without_a_gpu_and_paper_needs_gpu_and_data(monkeypatch: pytest.MonkeyPatch) -> None:
    suite = load_suite(GENERALIZATION)
    assert suite.profile == "auto"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert gpu_count() == 0
    choice = choose_profile(suite, None, None)
    assert choice.name == "cpu" and "no GPU" in choice.reason
    assert choose_profile(suite, "smoke", None).name == "smoke"  # an explicit profile is kept
    import ipt_bench.suite.profile_choice as profile_choice

    monkeypatch.setattr(profile_choice, "gpu_count", lambda: 1)
    # a GPU alone is not enough: the suite pre-trains on the bundled 5 images unless it names a set
    assert choose_profile(suite, None, None).name == "cpu"
    with_data = suite.model_copy(update={"train_data": suite.train_data.model_copy(update={"pretrain": "."})})
    assert choose_profile(with_data, None, None).name == "paper"


def test_dry_run_chooses_cpu_says_so_and_is_short(tmp_path: Path) -> None:
    root = require_dataset("T91")  # the cpu profile trains on the staged T91
    done = _run(["--dry-run", "--data-root", str(root)], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("profile: cpu (auto: no GPU found")
    assert len(lines) <= 40
    plan = build_plan(load_suite(GENERALIZATION), profile="cpu")
    assert f"{len(plan)} nodes" in done.stdout and f"to run: {len(plan)}" in done.stdout
    cores = len(os.sched_getaffinity(0))
    assert f"{human_duration(plan_cost(plan).cpu_seconds(cores))} on {cores} CPU" in done.stdout
    assert not (tmp_path / "out").exists()


def test_paper_without_a_gpu_is_refused_in_one_line_with_both_estimates(tmp_path: Path) -> None:
    started = time.monotonic()
    done = _run(["--profile", "paper"], tmp_path)
    seconds = time.monotonic() - started
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr
    paper = plan_cost(build_plan(load_suite(GENERALIZATION), profile="paper"))
    # the README's projection of this suite: 27 GPU-hours at 396 TFLOP/s
    assert round(paper.gpu_hours) == 27 and round(GPU_FLOPS / 1e12) == 396
    assert f"about {paper.gpu_hours:,.1f} GPU-hours" in errors[0]
    assert "--profile cpu (about " in errors[0] and "min here" in errors[0]
    assert not (tmp_path / "out").exists()
    print(f"refusal took {seconds:.1f} s")  # the target is 5 s; torch's import dominates


def test_human_units() -> None:
    assert [human_duration(s) for s in (42, 720, 5 * 3600, 77 * 86400)] == [
        "42 s",
        "12 min",
        "5.0 h",
        "77 days",
    ]
