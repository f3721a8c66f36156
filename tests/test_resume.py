"""Exact resume: N steps, SIGTERM, resume to 2N gives bit-identical weights to 2N in one go; a
failed checkpoint write leaves the last good checkpoint intact."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from pathlib import Path

import pytest
import torch

from ipt_bench.core.errors import ConfigError
from ipt_bench.train.checkpoint import load_checkpoint, save_checkpoint
from ipt_bench.train.runner import TrainSpec, run_training

pytestmark = pytest.mark.slow

SPEC = TrainSpec(
    variant="ipt-tiny-con",
    stage="pretrain",
    steps=6,
    batch_size=4,
    ema=True,
    checkpoint_every=2,
    val_every=3,
    threads=1,
    seed=11,
)


def _losses(out: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    straight = tmp_path_factory.mktemp("straight")
    run_training(SPEC, straight)
    resumed = tmp_path_factory.mktemp("resumed")

    def terminate_at_three(step: int, total: int, row: dict) -> None:
        if step == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    first = run_training(SPEC, resumed, progress=terminate_at_three)
    assert first.interrupted and first.steps == 3 and first.model_path is None
    assert not (resumed / "model.pt").exists()
    assert load_checkpoint(resumed / "checkpoints" / "last.pt")["step"] == 3
    second = run_training(SPEC, resumed)
    assert not second.interrupted and second.steps == 6
    return {"straight": straight, "resumed": resumed}


def test_resumed_weights_are_bit_identical(runs: dict[str, Path]) -> None:
    a = torch.load(runs["straight"] / "model.pt", weights_only=True)
    b = torch.load(runs["resumed"] / "model.pt", weights_only=True)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    ckpt_a = load_checkpoint(runs["straight"] / "checkpoints" / "last.pt")
    ckpt_b = load_checkpoint(runs["resumed"] / "checkpoints" / "last.pt")
    assert all(torch.equal(ckpt_a["model"][k], ckpt_b["model"][k]) for k in ckpt_a["model"])


def test_resumed_log_has_every_step_once_with_the_same_losses(runs: dict[str, Path]) -> None:
    assert _losses(runs["straight"]) == _losses(runs["resumed"])
    assert len(_losses(runs["resumed"])) == 6


def test_failed_checkpoint_write_keeps_the_last_good_one(
    runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = runs["resumed"] / "checkpoints" / "last.pt"
    before = path.read_bytes()

    def crash_midway(obj: object, f: object) -> None:
        Path(f).write_bytes(b"partial")
        raise RuntimeError("simulated crash while writing")

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(RuntimeError, match="simulated crash"):
        save_checkpoint(path, {"step": 99})
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name != "last.pt"]


def test_resume_refuses_a_different_spec(runs: dict[str, Path]) -> None:
    with pytest.raises(ConfigError, match="different training spec"):
        run_training(dataclasses.replace(SPEC, lr=1e-2), runs["straight"])
