"""Checks a suite passes before it is expanded into a plan: a bounded number of nodes (a list of
a million seeds would plan for minutes), a training batch that can fit in memory, and an
official-checkpoints folder that exists (a typo must not silently drop the official variant)."""

from __future__ import annotations

from pathlib import Path

from ipt_bench.core.errors import ConfigError
from ipt_bench.suite.schema import Suite

#: The most nodes one plan may hold (the paper-scale suites have a few hundred).
MAX_PLAN_NODES = 5000


def check_before_planning(suite: Suite, profile: str) -> None:
    """Raise :class:`ConfigError` for a suite that cannot be planned sensibly under ``profile``."""
    estimate = estimated_nodes(suite, profile)
    if estimate > MAX_PLAN_NODES:
        raise ConfigError(
            f"suite {suite.name} would expand to about {estimate} nodes under profile {profile}, more than "
            f"the {MAX_PLAN_NODES} one run can hold ({len(suite.variants)} variants x "
            f"{len(suite.seeds_for(profile))} seeds)",
            "use fewer seeds, variants or noise levels, or split the suite into several",
        )
    batch = suite.overrides_for(profile).batch_size
    if batch is not None:
        from ipt_bench.train.spec_checks import check_batch_fits

        check_batch_fits(batch)
    if suite.checkpoints is not None and not Path(suite.checkpoints).is_dir():
        raise ConfigError(
            f"checkpoints: folder {suite.checkpoints} does not exist (relative paths start from "
            f"{Path.cwd()}), so the official weights would be skipped",
            "fix the path to the folder holding IPT_*.pt, or remove the checkpoints: key",
        )


def estimated_nodes(suite: Suite, profile: str) -> int:
    """An upper estimate of the plan's node count, computed without expanding it."""
    tasks = suite.tasks
    cells = 0
    if tasks.sr is not None:
        cells += len(tasks.sr.scales) * (1 + len(suite.datasets_for(profile, "sr")))
    if tasks.denoise is not None:
        levels = len(suite.test_sigmas_for(profile) or ()) or max(
            (len(s) if isinstance(s, tuple) else 1) for s in tasks.denoise.train_sigmas
        )
        cells += len(tasks.denoise.train_sigmas) * (1 + levels * len(suite.datasets_for(profile, "denoise")))
    if tasks.derain is not None:
        cells += 1 + len(suite.datasets_for(profile, "derain"))
    return len(suite.variants) * len(suite.seeds_for(profile)) * (1 + cells)
