"""Training values checked before torch sees them: torch accepts ``lr=nan``, treats a negative
worker count as an internal error and would try to allocate a batch of a billion patches."""

from __future__ import annotations

import math
from typing import Any

from ipt_bench.core.errors import ConfigError

#: Bytes one training sample needs at the very least: clean and degraded patches of up to 192x192
#: (48 x4) RGB float32, before any activation (a lower bound: training holds far more).
_SAMPLE_BYTES_LOWER_BOUND = 2 * 3 * 4 * 192 * 192
_MAX_STEPS = 10**9
_MAX_WORKERS = 256
_MAX_SEED = 2**63 - 1


def check_train_spec(spec: Any) -> None:
    """Raise :class:`ConfigError` for a value of ``spec`` (a ``TrainSpec``) no run can use."""
    _count("--steps", spec.steps, 1, _MAX_STEPS)
    _count("--batch-size", spec.batch_size, 1, None)
    _count("--max-images", spec.max_images, 1, None)
    _count("--workers", spec.num_workers, 0, _MAX_WORKERS)
    _count("--seed", spec.seed, 0, _MAX_SEED)
    _count("checkpoint_every", spec.checkpoint_every, 1, None)
    _count("val_every", spec.val_every, 1, None)
    if spec.lr is not None and not (math.isfinite(spec.lr) and spec.lr > 0):
        raise ConfigError(
            f"--lr {spec.lr} is invalid: a learning rate must be a finite number above 0",
            "pass e.g. --lr 0.0001, or leave it out for the profile's default",
        )
    if not (math.isfinite(spec.data_fraction) and 0 < spec.data_fraction <= 1):
        raise ConfigError(
            f"--data-fraction {spec.data_fraction} must be in (0, 1]",
            "e.g. --data-fraction 0.5, or 1 for all",
        )
    if spec.contrastive_weight is not None and not (
        math.isfinite(spec.contrastive_weight) and spec.contrastive_weight >= 0
    ):
        raise ConfigError(
            f"contrastive weight {spec.contrastive_weight} must be a finite number >= 0", "e.g. 0.1"
        )
    if spec.batch_size is not None:
        check_batch_fits(spec.batch_size)


def check_batch_fits(batch_size: int) -> None:
    """Refuse a batch whose input patches alone exceed the memory available (before allocating)."""
    from ipt_bench.models.memory import default_budget_bytes, format_size

    need = batch_size * _SAMPLE_BYTES_LOWER_BOUND
    budget = default_budget_bytes()
    if need > budget:
        raise ConfigError(
            f"--batch-size {batch_size} needs at least {format_size(need)} for its patches alone, "
            f"more than the {format_size(budget)} available",
            f"use a batch size of at most {max(1, budget // _SAMPLE_BYTES_LOWER_BOUND)} (the paper uses 256)",
        )


def _count(option: str, value: int | None, minimum: int, maximum: int | None) -> None:
    if value is None:
        return
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ConfigError(f"{option} {value} is out of range: it must be {bound}", f"pass {option} {bound}")
