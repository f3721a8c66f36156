"""Run one plan node into the results store (in this process, a pool worker or a Ray task).

The node's ``flock`` claim is held throughout, so two runs on one results folder never do the same
node at once; the record is written last, so a killed node is simply not done yet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipt_bench.core.atomic import atomic_path, atomic_write_text
from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.provenance import collect_provenance
from ipt_bench.suite.planner import Node
from ipt_bench.suite.store import ResultsStore

_PROGRESS_EVERY_S = 1.0


@dataclass(frozen=True)
class RunOptions:
    """Settings shared by every node of one run (picklable, for worker processes and Ray)."""

    out: str
    data_root: str | None = None
    device: str = "auto"
    #: torch intra-op threads for every node, whatever ``--jobs``: the thread count changes the
    #: order of float reductions, so a fixed count keeps trained results bit-identical.
    threads: int = 1
    #: experiment trackers mirroring training logs (``tensorboard``); they do not change results
    track: tuple[str, ...] = ()


def execute_node(node_json: dict[str, Any], options: RunOptions, force: bool = False) -> dict[str, Any]:
    """Run the node unless it is already done; return ``{key, status, seconds, error}``.

    ``status`` is ``done``, ``cached`` (done before, possibly by another process) or ``failed``.
    """
    node = Node.from_json(node_json)
    store = ResultsStore(options.out)
    with store.claim(node.key):
        done, damage = (False, None) if force else store.check(node.key)
        if done:
            return {"key": node.key, "status": "cached", "seconds": 0.0, "error": None}
        if force or damage:  # a changed file is never served: the node runs again from scratch
            store.clear_node(node.key)
        started = dt.datetime.now(dt.timezone.utc)
        clock = time.perf_counter()
        error = None
        files: list[str] = []
        try:
            # imported here, not at module level: cached nodes and the planner need no torch
            from ipt_bench.core.runtime import compute_settings

            with compute_settings(options.threads, deterministic=False):
                files = _RUNNERS[node.kind](node, store, options)
        except IptBenchError as exc:
            error = exc.one_line()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc} | {_last_frames(exc)}"
        seconds = time.perf_counter() - clock
        record = {
            "key": node.key,
            "kind": node.kind,
            "title": node.title,
            "label": node.label,
            "spec": node.spec,
            "deps": list(node.deps),
            "status": "failed" if error else "done",
            "error": error,
            "seconds": seconds,
            **({"files": {}} if error else store.file_entries(node.key, files)),
            "started": started.isoformat(),
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(),
            **collect_provenance(),
        }
        store.write_record(node.key, record)
        store.progress_path(node.key).unlink(missing_ok=True)
        return {"key": node.key, "status": record["status"], "seconds": seconds, "error": error}


def _last_frames(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))


class ProgressFile:
    """A training/eval progress callback that writes ``progress.json`` at most once a second."""

    def __init__(self, path: Path, total: int | None = None) -> None:
        self.path = path
        self.total = total
        self.start = time.monotonic()
        self._last = 0.0

    def update(self, step: int, total: int | None = None) -> None:
        """Record that ``step`` of ``total`` is done."""
        now = time.monotonic()
        total = total or self.total
        if now - self._last < _PROGRESS_EVERY_S and step != total:
            return
        self._last = now
        elapsed = now - self.start
        eta = elapsed / step * (total - step) if total and step else None
        atomic_write_text(self.path, json.dumps({"step": step, "total": total, "eta": eta}))


def _run_training_node(node: Node, store: ResultsStore, options: RunOptions) -> list[str]:
    from ipt_bench.train.runner import TrainSpec, run_training

    spec = TrainSpec.from_json(node.spec)
    if node.deps:
        spec = dataclasses.replace(spec, init=str(store.train_dir(node.deps[0])))
    progress = ProgressFile(store.progress_path(node.key))
    callbacks = [lambda step, total, _row: progress.update(step, total)]
    if "tensorboard" in options.track:
        from ipt_bench.train.tracking import TensorBoardLog, run_name

        tensorboard = TensorBoardLog(Path(options.out) / "tensorboard" / run_name(node.title))
        callbacks.append(tensorboard)
    try:
        result = run_training(
            spec,
            store.train_dir(node.key),
            resume=True,
            data_root=options.data_root,
            progress=lambda step, total, row: _each(callbacks, step, total, row),
        )
    finally:
        if "tensorboard" in options.track:
            tensorboard.close()
    if result.interrupted or result.model_path is None:
        # a stop signal: the checkpoint is saved; stop the whole run, not just this node
        from ipt_bench.core.interrupts import interrupt_for

        raise interrupt_for(result.stop_signal, f"training of {node.title} was interrupted")
    return [p for p in ("train/model.pt", "train/model.json") if (store.node_dir(node.key) / p).is_file()]


def _each(callbacks: list, step: int, total: int, row: dict[str, Any]) -> None:
    for callback in callbacks:
        callback(step, total, row)


def _run_eval_node(node: Node, store: ResultsStore, options: RunOptions) -> list[str]:
    from ipt_bench.core.rows import rows_frame
    from ipt_bench.eval.evaluate import evaluate_protocols
    from ipt_bench.eval.spec import EvalSpec, result_rows

    spec = EvalSpec.from_json(node.spec)
    progress = ProgressFile(store.progress_path(node.key))
    counter = itertools.count(1)
    checkpoint = store.train_dir(node.deps[0]) if spec.trained else spec.checkpoint
    results = evaluate_protocols(
        task=spec.parsed_task,
        dataset=spec.dataset,
        model=None if checkpoint else spec.model,
        checkpoint=Path(checkpoint) if checkpoint else None,
        task_idx=0 if spec.trained else None,
        protocols=spec.protocols,
        data_root=Path(options.data_root) if options.data_root else None,
        allow_partial=spec.allow_partial,
        seed=spec.noise_seed,
        max_images=spec.max_images,
        metrics=spec.metrics,
        crops_dir=store.node_dir(node.key),
        device=_device(options.device),
        on_image=lambda _row: progress.update(next(counter)),
    )
    variant = node.label or spec.model or ""
    rows = [
        row for result in results for row in result_rows(spec, result, variant=variant, cell_key=node.key)
    ]
    with atomic_path(store.rows_path(node.key)) as tmp:
        rows_frame(rows, spec.metrics).to_parquet(tmp, index=False)
    return ["rows.parquet", *results[0].saved]


def _device(wanted: str) -> str:
    if wanted != "auto":
        return wanted
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


_RUNNERS = {"pretrain": _run_training_node, "finetune": _run_training_node, "eval": _run_eval_node}
