"""DDP on CPU (gloo, 2 processes): the same global batch split over ranks trains like one process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from ipt_bench.train.runner import TrainSpec, run_training

# Contrastive pre-training: the loss couples every patch of the global batch, so this also checks
# that tokens are gathered across ranks.
SPEC = TrainSpec(
    variant="ipt-tiny-con", stage="pretrain", steps=3, batch_size=4, threads=1, seed=5, val_every=3
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, out: str) -> None:
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
    )  # fmt: skip
    run_training(SPEC, out)


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_two_gloo_ranks_match_one_process(tmp_path: Path) -> None:
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    run_training(SPEC, single)
    mp.spawn(_worker, args=(2, _free_port(), str(ddp)), nprocs=2, join=True)

    one, two = _rows(single), _rows(ddp)
    assert [r["step"] for r in two] == [1, 2, 3]
    assert [r["task"] for r in two] == [r["task"] for r in one]
    for a, b in zip(one, two, strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-4)
        assert b["contrastive"] == pytest.approx(a["contrastive"], rel=1e-4)
    assert two[-1]["val_psnr"] == pytest.approx(one[-1]["val_psnr"], abs=1e-3)
    spec_record = json.loads((ddp / "spec.json").read_text())
    assert spec_record["resolved"]["world_size"] == 2
    w1 = torch.load(single / "model.pt", weights_only=True)
    w2 = torch.load(ddp / "model.pt", weights_only=True)
    # Adam divides by sqrt(v): parameters with near-zero gradients amplify float-summation order
    # differences between one process and two, so weights get a looser absolute tolerance than losses.
    for key in w1:
        torch.testing.assert_close(w2[key], w1[key], rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_torchrun_launch_of_the_cli_matches_one_process(tmp_path: Path) -> None:
    """`torchrun --nproc_per_node=2 ipt-bench train ...`, as a user types it."""
    bin_dir = Path(sys.executable).parent
    train = ["train", "--variant", "ipt-tiny-con", "--stage", "pretrain", "--steps", "3",
             "--batch-size", "4", "--seed", "5", "--out"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = subprocess.run(
        [str(bin_dir / "ipt-bench"), *train, str(tmp_path / "single")],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert single.returncode == 0, single.stdout + single.stderr
    launch = [str(bin_dir / "torchrun"), "--standalone", "--nproc_per_node=2", "--no-python"]
    ddp = subprocess.run(
        [*launch, str(bin_dir / "ipt-bench"), *train, str(tmp_path / "ddp")],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert ddp.returncode == 0, ddp.stdout + ddp.stderr

    one, two = _rows(tmp_path / "single"), _rows(tmp_path / "ddp")
    assert [r["step"] for r in two] == [1, 2, 3]  # rank 0 alone writes the log
    for a, b in zip(one, two, strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-4)
    assert json.loads((tmp_path / "ddp" / "spec.json").read_text())["resolved"]["world_size"] == 2
