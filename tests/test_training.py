"""Training runs end to end: smoke pre-train + fine-tune (< 60 s on 2 idle cores) beats bicubic on
the held-out embedded test set, outputs have the documented layout, the divergence guard stops NaN
runs, fine-tune init copies the task, mixed-sigma fine-tunes and variant overrides work."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch

from ipt_bench.cli.main import main
from ipt_bench.core.errors import TrainingDiverged
from ipt_bench.core.tasks import PAPER_PRETRAIN_TASKS, Task
from ipt_bench.eval.evaluate import evaluate
from ipt_bench.models.ipt import IPT
from ipt_bench.models.registry import get_variant
from ipt_bench.train.logbook import read_log
from ipt_bench.train.runner import TrainSpec, run_training
from ipt_bench.train.transfer import read_pretrained, transfer_pretrained


def _x2_psnr_vs_bicubic(out_dir: Path) -> tuple[float, float]:
    """Mean Y-PSNR (border 2) of the trained model and of bicubic on the embedded test set, both
    through the full-image evaluation protocol."""
    ours = evaluate(task=Task("sr", 2), dataset="embedded", checkpoint=out_dir)
    bicubic = evaluate(task=Task("sr", 2), dataset="embedded", model="bicubic-rgb")
    return ours.psnr, bicubic.psnr


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("smoke")
    began = time.perf_counter()
    pre = run_training(TrainSpec("ipt-tiny-con", "pretrain", profile="smoke"), root / "pre")
    status = main(
        ["train", "--variant", "ipt-tiny-con", "--stage", "finetune", "--task", "sr", "--scale", "2",
         "--profile", "smoke", "--init", str(root / "pre"), "--out", str(root / "ft")]
    )  # fmt: skip
    return {"pre": pre, "status": status, "root": root, "seconds": time.perf_counter() - began}


@pytest.mark.slow
def test_smoke_finetuned_x2_beats_bicubic(smoke_runs: dict[str, object]) -> None:
    assert smoke_runs["status"] == 0
    ours, bicubic = _x2_psnr_vs_bicubic(smoke_runs["root"] / "ft")
    seconds = smoke_runs["seconds"]
    print(f"smoke pretrain+finetune {seconds:.1f} s; x2 Y-PSNR {ours:.2f} vs bicubic {bicubic:.2f}")
    # Measured: 1.1-1.4 dB over bicubic across seeds, learning rates and step splits; the official
    # random init (no identity_init_) stayed 0.1 dB below bicubic with the same recipe.
    assert ours > bicubic + 0.5


@pytest.mark.slow
def test_outputs_have_the_documented_layout(smoke_runs: dict[str, object]) -> None:
    pre_dir, ft_dir = smoke_runs["root"] / "pre", smoke_runs["root"] / "ft"
    meta = json.loads((pre_dir / "model.json").read_text())
    assert meta["tasks"] == [t.name for t in PAPER_PRETRAIN_TASKS]
    assert (meta["family"], meta["variant"], meta["size"], meta["profile"]) == (
        "ipt",
        "ipt-tiny-con",
        "tiny",
        "smoke",
    )
    assert meta["model_kwargs"] == get_variant("ipt-tiny-con").model_kwargs([2, 3, 4, 1, 1, 1])
    IPT(**meta["model_kwargs"]).load_state_dict(torch.load(pre_dir / "model.pt", weights_only=True))
    rows = read_log(pre_dir / "log.jsonl")
    assert [r["step"] for r in rows] == list(range(1, meta["steps"] + 1))
    assert {"loss", "l1", "contrastive", "lr", "samples_per_s"} <= rows[0].keys()
    assert all(r["loss"] == pytest.approx(r["l1"] + 0.1 * r["contrastive"], rel=1e-5) for r in rows)
    assert "val_psnr" in rows[-1] and set(rows[-1]["val_psnr_by_task"]) == set(meta["tasks"])
    assert (pre_dir / "checkpoints" / "last.pt").is_file() and (pre_dir / "spec.json").is_file()
    ft_meta = json.loads((ft_dir / "model.json").read_text())
    assert ft_meta["tasks"] == ["sr_x2"] and ft_meta["init_task"] == "sr_x2"
    ft_rows = read_log(ft_dir / "log.jsonl")
    assert all(r["contrastive"] == 0.0 for r in ft_rows)
    assert ft_rows[-1]["l1"] < ft_rows[0]["l1"]


def test_finetune_init_copies_body_and_the_matching_task(tmp_path: Path) -> None:
    variant = get_variant("ipt-tiny-con")
    torch.manual_seed(0)
    pre = variant.build_model([t.tail_scale for t in PAPER_PRETRAIN_TASKS])
    with torch.no_grad():  # stands in for pre-training: every head and tail becomes distinct
        for p in pre.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p))
    torch.save(pre.state_dict(), tmp_path / "model.pt")
    (tmp_path / "model.json").write_text(json.dumps({"tasks": [t.name for t in PAPER_PRETRAIN_TASKS]}))
    pretrained = read_pretrained(tmp_path)
    for task, source in (
        (Task("denoise", sigma=50.0), 5),
        (Task("denoise", sigma=70.0), 5),
        (Task("sr", 3), 1),
    ):
        model = variant.build_model([task.tail_scale])
        report = transfer_pretrained(model, task, pretrained)
        assert report.matched_task == PAPER_PRETRAIN_TASKS[source].name
        got, ref = model.state_dict(), pre.state_dict()
        assert torch.equal(got["tail.0.1.weight"], ref[f"tail.{source}.1.weight"])
        assert torch.equal(got["head.0.0.weight"], ref[f"head.{source}.0.weight"])
        assert torch.equal(got["body.query_embed.weight"][0], ref["body.query_embed.weight"][source])
        assert torch.equal(got["body.mlp_head.0.weight"], ref["body.mlp_head.0.weight"])


def test_training_starts_from_a_nearest_neighbour_upsampler() -> None:
    torch.manual_seed(0)
    scales = [2, 3, 4, 1]
    model = get_variant("ipt-tiny-scratch").build_model(scales)
    x = torch.rand(2, 3, 24, 24) * 255
    with torch.no_grad():
        shifted = model(x, 0)
        model.body.position_encoding.pe.weight.zero_()  # the one learned term left in the output
        for idx, s in enumerate(scales):
            nearest = x.repeat_interleave(s, dim=-2).repeat_interleave(s, dim=-1)
            torch.testing.assert_close(model(x, idx), nearest, rtol=0, atol=1e-3)
    assert 0 < (shifted - model(x, 0)).abs().max() < 4  # half a N(0, 1) embedding, 0-255 scale


def test_the_cnn_control_starts_from_the_same_upsampler() -> None:
    torch.manual_seed(0)
    scales = [2, 3, 4, 1]
    model = get_variant("cnn-tiny").build_model(scales)
    x = torch.rand(2, 3, 20, 20) * 255
    with torch.no_grad():
        for idx, s in enumerate(scales):
            nearest = x.repeat_interleave(s, dim=-2).repeat_interleave(s, dim=-1)
            torch.testing.assert_close(model(x, idx), nearest, rtol=0, atol=1e-3)


def test_nan_loss_stops_with_training_diverged(tmp_path: Path) -> None:
    spec = TrainSpec("ipt-tiny-nocon", "finetune", tasks=(Task("denoise", sigma=30.0),), steps=6,
                     batch_size=2, lr=1e30, checkpoint_every=1, threads=1)  # fmt: skip
    with pytest.raises(TrainingDiverged) as caught:
        run_training(spec, tmp_path)
    message = str(caught.value)
    assert "diverged at step" in message and "last good checkpoint at step" in message
    assert "lower the learning rate" in message
    assert not (tmp_path / "model.pt").exists()
    kept = torch.load(tmp_path / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in kept["model"].values() if v.is_floating_point())


def test_cli_reports_divergence_with_nonzero_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["train", "--variant", "cnn-tiny", "--stage", "finetune", "--task", "derain", "--steps", "5",
         "--batch-size", "2", "--lr", "1e30", "--out", str(tmp_path)]
    )  # fmt: skip
    assert status == 2
    assert "diverged" in capsys.readouterr().err
    assert not (tmp_path / "model.pt").exists()


def test_mixed_sigma_finetune_trains_one_head_on_several_levels(tmp_path: Path) -> None:
    levels = tuple(Task("denoise", sigma=s) for s in (5.0, 25.0, 45.0, 75.0))
    spec = TrainSpec("ipt-tiny-scratch", "finetune", tasks=levels, steps=3, batch_size=6, threads=1)
    result = run_training(spec, tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    assert meta["tasks"] == ["denoise_s45"] and meta["train_tasks"] == [t.name for t in levels]
    assert meta["model_kwargs"]["scale"] == [1] and result.model_path is not None
    rows = read_log(tmp_path / "log.jsonl")
    assert all("+" in r["task"] for r in rows)  # every batch mixes several sigmas
    assert set(rows[-1]["val_psnr_by_task"]) == {t.name for t in levels}


def test_contrastive_weight_override_reaches_the_loss(tmp_path: Path) -> None:
    spec = TrainSpec("ipt-tiny-con", "pretrain", steps=2, batch_size=4, threads=1,
                     variant_overrides=(("contrastive_weight", 0.5),))  # fmt: skip
    run_training(spec, tmp_path)
    rows = read_log(tmp_path / "log.jsonl")
    assert all(r["contrastive"] > 0 for r in rows)
    assert all(r["loss"] == pytest.approx(r["l1"] + 0.5 * r["contrastive"], rel=1e-5) for r in rows)
    resolved = json.loads((tmp_path / "spec.json").read_text())["resolved"]
    assert resolved["contrastive_weight"] == 0.5
