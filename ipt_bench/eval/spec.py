"""The typed evaluation spec: what one evaluation scores, made by the suite planner or the eval
CLI and consumed unchanged by the workers; and the result rows it yields.

Everything in :class:`EvalSpec` decides the numbers or names the row, except display labels,
which stay in the plan (so relabelling a variant never re-runs its evaluations).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ipt_bench.core.protocols import Protocol, resolve_protocol
from ipt_bench.core.rows import ResultRow
from ipt_bench.core.tasks import Task
from ipt_bench.metrics.registry import DEFAULT_METRICS

if TYPE_CHECKING:
    from ipt_bench.eval.evaluate import EvalResult


@dataclass(frozen=True)
class EvalSpec:
    """One evaluation: a restorer (``model`` name, official ``checkpoint``, or the fine-tuned model
    of the node's training dependency when ``trained``) scored on ``dataset`` for ``task``."""

    task: str
    dataset: str
    model: str | None = None
    checkpoint: str | None = None
    trained: bool = False
    #: Every protocol the restored images are scored under (one restoration per degradation).
    protocols: tuple[Protocol, ...] = field(default_factory=lambda: (resolve_protocol(),))
    metrics: tuple[str, ...] = DEFAULT_METRICS
    noise_seed: int = 0
    allow_partial: bool = False
    max_images: int | None = None
    #: What pins the dataset's content (manifest hash, embedded recipe), so a new copy re-runs.
    dataset_id: str = ""
    #: Size and mtime of an official weights file (pins it without hashing ~460 MB).
    weights_size: int | None = None
    weights_mtime_ns: int | None = None
    # Row context: recorded in every row, not used to compute it.
    suite: str = ""
    profile: str = ""
    #: What the evaluated model was trained on (recorded in every row).
    train_data: str = ""
    seed: int = 0
    train_sigmas: str | None = None
    contrastive_weight: float | None = None
    data_fraction: float | None = None

    @property
    def parsed_task(self) -> Task:
        """``task`` as a :class:`Task`."""
        return Task.parse(self.task)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (inverse: :meth:`from_json`)."""
        data = dataclasses.asdict(self)
        data["metrics"] = list(self.metrics)
        data["protocols"] = [p.to_json() for p in self.protocols]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvalSpec:
        """Rebuild a spec from :meth:`to_json` output."""
        stored = data.get("protocols") or [resolve_protocol().to_json()]
        protocols = tuple(Protocol.from_json(p) for p in stored)
        return cls(**{**data, "metrics": tuple(data.get("metrics", DEFAULT_METRICS)), "protocols": protocols})


def result_rows(spec: EvalSpec, result: EvalResult, *, variant: str, cell_key: str = "") -> list[ResultRow]:
    """The :class:`ResultRow` of every image of ``result`` (an evaluation of ``spec``)."""
    task = spec.parsed_task
    protocol = result.protocol
    return [
        ResultRow(
            suite=spec.suite,
            variant=variant,
            task=task.name,
            task_kind=task.kind,
            dataset=spec.dataset,
            scale=task.scale,
            sigma=task.sigma,
            seed=spec.seed,
            image=row["image"],
            metrics={name: row[name] for name in spec.metrics},
            seconds=row["seconds"],
            protocol=result.row_protocol(),
            partial=bool(protocol.get("partial")),
            subset=str(protocol.get("subset", "")),
            verified=str(protocol.get("verified", "")),
            profile=spec.profile,
            train_data=spec.train_data,
            ablation={
                "train_sigmas": spec.train_sigmas,
                "contrastive_weight": spec.contrastive_weight,
                "data_fraction": spec.data_fraction,
            },
            cell_key=cell_key,
        )
        for row in result.rows
    ]
