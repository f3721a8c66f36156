"""Checkpoints, their ``model.json`` sidecar, and training/evaluation arguments that must be
refused before torch sees them (odd tensor shapes, NaN weights, out-of-range values, options
that do not apply to the chosen task)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bad_inputs.makers import Case

TINY_IPT = {"n_feats": 12, "patch_size": 8, "patch_dim": 2, "num_heads": 12, "num_layers": 1, "scale": [2]}
EVAL_CKPT = ("eval", "--task", "sr", "--checkpoint", "ipt.pt")
TRAIN = ("train", "--variant", "ipt-tiny-scratch", "--out", "trained", "--steps", "1")
FINETUNE_SR = (*TRAIN, "--stage", "finetune", "--task", "sr")


def official_state(edit: Callable[[dict], None] | None = None):
    """A maker of a small official-layout IPT state dict, changed by ``edit``."""

    def make(path: Path) -> None:
        import torch

        from ipt_bench.models.ipt import IPT

        torch.manual_seed(0)
        state = IPT(**TINY_IPT).state_dict()
        if edit is not None:
            edit(state)
        torch.save(state, path)

    return make


def trained_folder(meta: object, *, raw: str | None = None):
    """A maker of a training output folder: model.pt of the tiny IPT and ``meta`` as model.json."""

    def make(path: Path) -> None:
        official_state()(path)
        sidecar = path.with_name("model.json")
        sidecar.write_text(raw if raw is not None else json.dumps(meta))

    return make


def _set(key: str, make_value: Callable[[], object]) -> Callable[[dict], None]:
    def edit(state: dict) -> None:
        state[key] = make_value()

    return edit


def _nan_everywhere(state: dict) -> None:
    for value in state.values():
        if value.is_floating_point():
            value.fill_(float("nan"))


def _tensor(*shape: int, fill: float = 0.0):
    def make():
        import torch

        return torch.full(shape, fill)

    return make


GOOD_META = {"tasks": ["sr_x2"], "family": "ipt", "model_kwargs": TINY_IPT}

CASES: tuple[Case, ...] = (
    Case(
        "checkpoint-nan-weights",
        EVAL_CKPT,
        r"ipt\.pt holds NaN or infinite weights",
        {"ipt.pt": official_state(_nan_everywhere)},
    ),
    Case(
        "checkpoint-nan-mean-bias",
        EVAL_CKPT,
        r"NaN or infinite weights in sub_mean\.bias",
        {"ipt.pt": official_state(_set("sub_mean.bias", _tensor(3, fill=float("nan"))))},
    ),
    Case(
        "checkpoint-1d-head-weight",
        EVAL_CKPT,
        r"head\.0\.0\.weight has shape \(8,\)",
        {"ipt.pt": official_state(_set("head.0.0.weight", _tensor(8)))},
    ),
    Case(
        "checkpoint-zero-features",
        EVAL_CKPT,
        r"head\.0\.0\.weight has shape \(0, 3, 3, 3\)",
        {"ipt.pt": official_state(_set("head.0.0.weight", _tensor(0, 3, 3, 3)))},
    ),
    Case(
        "checkpoint-names-layer-5000",
        EVAL_CKPT,
        r"layers\.5000 is present but 4999 lower layers are missing",
        {"ipt.pt": official_state(_set("body.encoder.layers.5000.linear1.weight", _tensor(4, 4)))},
    ),
    Case(
        "checkpoint-wrong-token-width",
        EVAL_CKPT,
        r"ipt\.pt",
        {"ipt.pt": official_state(_set("body.encoder.layers.0.self_attn.in_proj_weight", _tensor(96, 31)))},
    ),
    Case("checkpoint-empty-file", EVAL_CKPT, r"ipt\.pt", {"ipt.pt": ""}),
    Case("checkpoint-missing", EVAL_CKPT, r"ipt\.pt does not exist"),
    Case(
        "task-idx-out-of-range",
        (*EVAL_CKPT, "--task-idx", "7"),
        r"--task-idx 7 is out of range",
        {"ipt.pt": official_state()},
    ),
    Case(
        "task-idx-negative",
        (*EVAL_CKPT, "--task-idx", "-1"),
        r"--task-idx -1 is out of range",
        {"ipt.pt": official_state()},
    ),
    # --- model.json sidecar --------------------------------------------------------------------
    Case(
        "sidecar-truncated",
        ("eval", "--task", "sr", "--checkpoint", "run"),
        r"cannot read model description .*model\.json",
        {"run/model.pt": trained_folder(None, raw=json.dumps(GOOD_META)[:20])},
    ),
    Case(
        "sidecar-not-an-object",
        ("eval", "--task", "sr", "--checkpoint", "run"),
        r"model\.json holds a JSON list",
        {"run/model.pt": trained_folder(["sr_x2"])},
    ),
    Case(
        "sidecar-without-tasks",
        ("eval", "--task", "sr", "--checkpoint", "run"),
        r"'tasks' must be a non-empty list",
        {"run/model.pt": trained_folder({"family": "ipt", "model_kwargs": TINY_IPT})},
    ),
    Case(
        "sidecar-unknown-task",
        ("eval", "--task", "sr", "--checkpoint", "run"),
        r"invalid task name",
        {"run/model.pt": trained_folder({**GOOD_META, "tasks": ["teleport"]})},
    ),
    Case(
        "sidecar-unknown-kwargs",
        ("eval", "--task", "sr", "--checkpoint", "run"),
        r"does not fit IPT.*colour",
        {"run/model.pt": trained_folder({**GOOD_META, "model_kwargs": {**TINY_IPT, "colour": "red"}})},
    ),
    Case(
        "sidecar-kwargs-not-an-object",
        ("eval", "--task", "sr", "--checkpoint", "run"),
        r"'model_kwargs' must be an object",
        {"run/model.pt": trained_folder({**GOOD_META, "model_kwargs": [1, 2]})},
    ),
    Case(
        "sidecar-unknown-family",
        ("eval", "--task", "sr", "--checkpoint", "run"),
        r"unknown model family 'gan'",
        {"run/model.pt": trained_folder({**GOOD_META, "family": "gan"})},
    ),
    Case(
        "sidecar-kwargs-of-another-size",
        ("eval", "--task", "sr", "--checkpoint", "run"),
        r"does not fit the IPT architecture",
        {"run/model.pt": trained_folder({**GOOD_META, "model_kwargs": {**TINY_IPT, "n_feats": 24}})},
    ),
    # --- arguments checked before torch ----------------------------------------------------------
    Case("train-lr-nan", (*TRAIN, "--lr", "nan"), r"--lr nan is invalid"),
    Case("train-lr-negative", (*TRAIN, "--lr", "-1"), r"--lr -1\.0 is invalid"),
    Case("train-lr-infinite", (*TRAIN, "--lr", "inf"), r"--lr inf is invalid"),
    Case("train-workers-negative", (*TRAIN, "--workers", "-1"), r"--workers -1 is out of range"),
    Case("train-batch-size-zero", (*TRAIN, "--batch-size", "0"), r"--batch-size 0 is out of range"),
    Case(
        "train-batch-size-billion",
        (*TRAIN, "--batch-size", "1000000000"),
        r"--batch-size 1000000000 needs at least",
    ),
    Case("train-seed-negative", (*TRAIN, "--seed", "-3"), r"--seed -3 is out of range"),
    Case("train-data-fraction-zero", (*TRAIN, "--data-fraction", "0"), r"--data-fraction 0\.0 must be in"),
    Case("train-max-images-zero", (*TRAIN, "--max-images", "0"), r"--max-images 0 is out of range"),
    Case("train-unknown-stage", (*TRAIN, "--stage", "warmup"), r"unknown --stage 'warmup'"),
    Case(
        "train-derain-with-scale",
        (*TRAIN, "--stage", "finetune", "--task", "derain", "--scale", "4"),
        r"--scale 4 does not apply to --task derain",
    ),
    Case(
        "train-sr-with-sigma", (*FINETUNE_SR, "--sigma", "30"), r"--sigma 30\.0 does not apply to --task sr"
    ),
    Case(
        "eval-derain-with-scale",
        ("eval", "--task", "derain", "--model", "identity", "--scale", "4"),
        r"--scale 4 does not apply to --task derain",
    ),
    Case(
        "eval-sr-with-sigma",
        ("eval", "--task", "sr", "--model", "bicubic", "--sigma", "30"),
        r"--sigma 30\.0 does not apply to --task sr",
    ),
    Case(
        "eval-sr-with-seeded-noise",
        ("eval", "--task", "sr", "--model", "bicubic", "--noise-mode", "seeded"),
        r"--noise-mode seeded does not apply to --task sr",
    ),
    Case(
        "eval-model-and-checkpoint",
        ("eval", "--task", "sr", "--model", "bicubic", "--checkpoint", "ckpt/model.pt"),
        r"exactly one of --model and --checkpoint",
    ),
    Case("eval-unknown-variant", ("eval", "--task", "sr", "--model", "ipt-tiny-scrach"), r"ipt-tiny-scrach"),
)
