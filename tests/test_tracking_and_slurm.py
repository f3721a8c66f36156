"""Ecosystem: TensorBoard events mirror the training log; a suite run as SLURM jobs (submitit's
local executor, which needs no SLURM install) gives the rows of the local executor."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from ipt_bench.suite.engine import run_suite

TINY = """\
name: tiny
profile: smoke
variants: [ipt-tiny-scratch, bicubic]
tasks:
  sr: {scales: [2], datasets: [embedded]}
profiles:
  smoke: {steps: 4, batch_size: 2, max_images: 2}
"""


def _suite(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def _run(suite: Path, out: Path, **options) -> None:
    console = Console(file=io.StringIO(), width=200)
    summary = run_suite(suite, out=out, threads=1, console=console, **options)
    assert summary.complete, (summary.errors, console.file.getvalue())


def _rows(out: Path) -> pd.DataFrame:
    frames = [pd.read_parquet(p) for p in sorted(out.glob("nodes/*/rows.parquet"))]
    return pd.concat(frames).sort_values(["cell_key", "image"]).reset_index(drop=True)


def test_tracking_writes_tensorboard_events_equal_to_the_training_log(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "results"
    _run(_suite(tmp_path), out, track=("tensorboard",))
    (run_dir,) = (out / "tensorboard").iterdir()
    assert run_dir.name.startswith("finetune_ipt-tiny-scratch")
    events = EventAccumulator(str(run_dir))
    events.Reload()
    logged = [json.loads(line) for line in next(out.glob("nodes/*/train/log.jsonl")).read_text().splitlines()]
    scalars = events.Scalars("train/loss")
    assert [e.step for e in scalars] == [row["step"] for row in logged] == [1, 2, 3, 4]
    assert [e.value for e in scalars] == pytest.approx([row["loss"] for row in logged], rel=1e-6)
    assert [e.value for e in events.Scalars("val/psnr")] == pytest.approx([logged[-1]["val_psnr"]], rel=1e-6)


def test_tracking_an_unknown_tracker_is_one_clear_error(tmp_path: Path) -> None:
    from ipt_bench.core.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown tracker 'wandb'"):
        _run(_suite(tmp_path), tmp_path / "results", track=("wandb",))
    assert not (tmp_path / "results").exists()


def test_slurm_executor_on_submitits_local_cluster_gives_the_local_rows(tmp_path: Path) -> None:
    pytest.importorskip("submitit")
    suite = _suite(tmp_path)
    _run(suite, tmp_path / "local")
    _run(suite, tmp_path / "slurm", executor="slurm", slurm={"cluster": "local", "timeout_min": 20})
    logs = list((tmp_path / "slurm" / "slurm").rglob("*_result.pkl"))
    assert len(logs) == 3  # a fine-tune and two evaluations ran as submitit jobs
    local, slurm = _rows(tmp_path / "local"), _rows(tmp_path / "slurm")
    assert len(local) == 2 + 7  # the network on max_images 2; the cheap bicubic baseline on all 7
    pd.testing.assert_frame_equal(local.drop(columns="seconds"), slurm.drop(columns="seconds"))


def test_each_profile_states_its_job_resources_once_for_ray_and_slurm(tmp_path: Path) -> None:
    from ipt_bench.train.profiles import get_profile

    paper = get_profile("paper").resources
    assert paper.ray() == {"num_cpus": 8, "num_gpus": 1}
    assert paper.slurm() == {"cpus_per_task": 8, "mem_gb": 64, "timeout_min": 72 * 60, "gpus_per_node": 1}
    assert "num_gpus" not in get_profile("cpu").resources.ray()  # a CPU profile never waits for a GPU
    pytest.importorskip("submitit")
    from ipt_bench.suite.slurm import SlurmExecutor

    executor = SlurmExecutor("paper", {"cluster": "local", "timeout_min": 5}, tmp_path)
    parameters = executor._executor._executor.parameters  # what submitit will launch the job with
    assert parameters["timeout_min"] == 5  # --slurm overrides the profile
    assert parameters["gpus_per_node"] == 1 and parameters["cpus_per_task"] == 8
    executor.close()
