"""Read the ``model.json`` written beside a trained ``model.pt``: its tasks, model family and the
exact constructor arguments, each checked so a damaged or edited file is one clear error."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipt_bench.core.errors import CheckpointError, IptBenchError
from ipt_bench.core.tasks import Task

_FIX = "restore the model.json written with the model (re-train if it is lost)"


@dataclass(frozen=True)
class ModelDescription:
    """What ``model.json`` says: the heads' tasks, the family and its keyword arguments."""

    tasks: list[Task]
    family: str = "ipt"
    kwargs: dict[str, Any] = field(default_factory=dict)


def read_model_json(path: Path) -> ModelDescription:
    """Parse and check ``path``; any problem is a :class:`CheckpointError` naming the file."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"cannot read model description {path}: {exc}", _FIX) from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path} holds a JSON {type(meta).__name__}, not an object", _FIX)
    names = meta.get("tasks")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise CheckpointError(f"{path}: 'tasks' must be a non-empty list of task names, got {names!r}", _FIX)
    try:
        tasks = [Task.parse(name) for name in names]
    except (IptBenchError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: invalid task name in {names!r} ({exc})", _FIX) from None
    family = meta.get("family", "ipt")
    kwargs = meta.get("model_kwargs", {})
    if not isinstance(family, str):
        raise CheckpointError(f"{path}: 'family' must be a name, got {family!r}", _FIX)
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise CheckpointError(f"{path}: 'model_kwargs' must be an object, got {kwargs!r}", _FIX)
    return ModelDescription(tasks, family, kwargs)
