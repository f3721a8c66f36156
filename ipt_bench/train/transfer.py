"""Fine-tuning initialisation: copy a pre-trained multi-task model into a single-task model.

The shared body is copied as is; the head, tail and task-query row of the pre-trained task that
matches the fine-tuning task (by task name, or for an unseen noise level the nearest denoising
level) go to index 0. Keys follow the official layout: ``head.{i}.``, ``tail.{i}.``,
``body.query_embed.weight``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ipt_bench.core.errors import CheckpointError
from ipt_bench.core.tasks import PAPER_PRETRAIN_TASKS, Task

QUERY_KEY = "body.query_embed.weight"
PER_TASK_PREFIXES = ("head.", "tail.")


@dataclass(frozen=True)
class Pretrained:
    """A pre-trained model's weights and the task list in its head order."""

    path: Path
    state_dict: dict[str, torch.Tensor]
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class TransferReport:
    """Which pre-trained task initialised the fine-tuned head/tail/query (None: fresh init)."""

    source: Path
    matched_task: str | None
    copied: int


def read_pretrained(init: str | Path) -> Pretrained:
    """Load ``model.pt`` (+ ``model.json`` for the task order) from a training output folder or a
    state-dict file; a bare 6-query file is taken to be in the official ``IPT_pretrain.pt`` order."""
    path = Path(init)
    weights = path / "model.pt" if path.is_dir() else path
    if not weights.is_file():
        raise CheckpointError(
            f"pre-trained model {weights} does not exist",
            "pass --init a pre-training output folder (with model.pt) or a .pt file",
        )
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"cannot read pre-trained model {weights}: {exc}", "re-run pre-training"
        ) from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    meta = weights.with_suffix(".json")
    if meta.is_file():
        tasks = tuple(Task.parse(name) for name in json.loads(meta.read_text())["tasks"])
    elif QUERY_KEY in state and state[QUERY_KEY].shape[0] == len(PAPER_PRETRAIN_TASKS):
        tasks = PAPER_PRETRAIN_TASKS
    else:
        raise CheckpointError(
            f"{weights} has no model.json beside it, so its task order is unknown",
            "use the output folder of `ipt-bench train --stage pretrain` or the official IPT_pretrain.pt",
        )
    return Pretrained(weights, state, tasks)


def source_task_index(task: Task, tasks: tuple[Task, ...]) -> int | None:
    """The pre-trained task that should initialise ``task``: the same task, else for denoising
    the nearest noise level, else None."""
    if task in tasks:
        return tasks.index(task)
    if task.kind == "denoise":
        levels = [
            (abs(float(t.sigma) - float(task.sigma)), i) for i, t in enumerate(tasks) if t.kind == "denoise"
        ]
        if levels:
            return min(levels)[1]
    return None


def transfer_pretrained(model: torch.nn.Module, task: Task, pretrained: Pretrained) -> TransferReport:
    """Initialise single-task ``model`` for ``task`` from ``pretrained`` in place."""
    source = source_task_index(task, pretrained.tasks)
    target = model.state_dict()
    new_state: dict[str, torch.Tensor] = {}
    for key, value in target.items():
        src_key = _source_key(key, source)
        if src_key is None or src_key not in pretrained.state_dict:
            continue
        src = pretrained.state_dict[src_key]
        if key == QUERY_KEY:
            if source is None:
                continue
            row = source if src.shape[0] > 1 else 0  # a shared (1-row) query serves every task
            src = src[row : row + 1]
        if src.shape != value.shape:
            raise CheckpointError(
                f"pre-trained {src_key} has shape {tuple(src.shape)}, the model needs {tuple(value.shape)}",
                "fine-tune the same model size as was pre-trained (same variant family and size)",
            )
        new_state[key] = src.to(value.dtype)
    body_missing = [k for k in target if _is_shared(k) and k not in new_state]
    if body_missing:
        raise CheckpointError(
            f"pre-trained {pretrained.path} lacks {len(body_missing)} body weights, e.g. {body_missing[0]}",
            "fine-tune the same model size as was pre-trained (same variant family and size)",
        )
    model.load_state_dict(new_state, strict=False)
    matched = pretrained.tasks[source].name if source is not None else None
    return TransferReport(pretrained.path, matched, len(new_state))


def _is_shared(key: str) -> bool:
    return not key.startswith(PER_TASK_PREFIXES) and key != QUERY_KEY


def _source_key(key: str, source: int | None) -> str | None:
    for prefix in PER_TASK_PREFIXES:
        if key.startswith(prefix):
            index, _, rest = key[len(prefix) :].partition(".")
            if index != "0" or source is None:
                return None
            return f"{prefix}{source}.{rest}"
    return key
