"""What a training run trains: :class:`TrainSpec`, the frozen description a suite node or the
``train`` command hands to :func:`ipt_bench.train.runner.run_training`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ipt_bench.core.tasks import Task
from ipt_bench.models.registry import VariantSpec, get_variant
from ipt_bench.train.profiles import Stage


@dataclass(frozen=True)
class TrainSpec:
    """What to train. ``None`` fields take the profile's (or the variant's) value.

    ``tasks``: empty for pre-training means the variant's pre-training tasks; fine-tuning takes
    one task, or several denoising levels that train one shared head on mixed noise (each sample
    draws its sigma from the list). ``data``: a catalog name or a folder of clean images. ``init``: for
    fine-tuning, a pre-training output folder or ``.pt`` file (None: from scratch).
    ``variant_overrides``: ``(key, value)`` pairs for ``VariantSpec.with_overrides`` (ablations).
    """

    variant: str
    stage: Stage = "pretrain"
    tasks: tuple[Task, ...] = ()
    profile: str = "smoke"
    steps: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int = 0
    data: str = "embedded-train"
    data_fraction: float = 1.0
    max_images: int | None = None
    init: str | None = None
    contrastive_weight: float | None = None
    augment: bool = True
    ema: bool | None = None
    checkpoint_every: int | None = None
    val_every: int | None = None
    num_workers: int = 0
    threads: int | None = None
    deterministic: bool = True
    variant_overrides: tuple[tuple[str, Any], ...] = ()

    def variant_spec(self) -> VariantSpec:
        """The registered variant with this spec's overrides applied."""
        variant = get_variant(self.variant)
        return variant.with_overrides(**dict(self.variant_overrides)) if self.variant_overrides else variant

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form (tasks by name)."""
        data = dataclasses.asdict(self)
        data["tasks"] = [t.name for t in self.tasks]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainSpec:
        """Inverse of :meth:`to_json`."""
        overrides = tuple(
            (k, tuple(v) if isinstance(v, list) else v) for k, v in data.get("variant_overrides", ())
        )
        return cls(
            **{**data, "tasks": tuple(Task.parse(t) for t in data["tasks"]), "variant_overrides": overrides}
        )
