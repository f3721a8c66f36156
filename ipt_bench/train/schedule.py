"""Learning-rate schedules from timm, updated per optimizer step (``t_in_epochs=False``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ipt_bench.core.errors import ConfigError
from ipt_bench.train.profiles import StageRecipe

if TYPE_CHECKING:  # timm loads torchvision (seconds): imported when a schedule is built
    from timm.scheduler.scheduler import Scheduler


def build_scheduler(optimizer: torch.optim.Optimizer, recipe: StageRecipe, steps: int) -> Scheduler:
    """A timm scheduler for ``steps`` optimizer steps; call ``step_update(k)`` before step ``k``.

    ``step`` multiplies the lr by ``decay_rate`` at each fraction in ``decay_at`` (the paper's
    5e-5 -> 2e-5 at 200/300); ``cosine`` anneals to ``lr * min_lr_ratio``; ``constant`` keeps it.
    """
    from timm.scheduler import CosineLRScheduler, MultiStepLRScheduler

    warmup = {
        "warmup_t": recipe.warmup_steps,
        "warmup_lr_init": recipe.lr * 0.01 if recipe.warmup_steps else 0,
    }
    if recipe.schedule == "cosine":
        return CosineLRScheduler(
            optimizer,
            t_initial=max(1, steps),
            lr_min=recipe.lr * recipe.min_lr_ratio,
            t_in_epochs=False,
            **warmup,
        )
    if recipe.schedule in ("step", "constant"):
        # timm applies milestone m at index m - 1, so m = round(f * steps) + 1 decays from step f * steps.
        milestones = [round(f * steps) + 1 for f in recipe.decay_at] if recipe.schedule == "step" else []
        return MultiStepLRScheduler(
            optimizer, decay_t=milestones, decay_rate=recipe.decay_rate, t_in_epochs=False, **warmup
        )
    raise ConfigError(f"unknown lr schedule {recipe.schedule!r}", "use step, cosine or constant")
