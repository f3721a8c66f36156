"""Paired comparison of two variants on the same images: bootstrap CI of the mean difference."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.rows import PROTOCOL_NAMES

A_BETTER = "A better"
B_BETTER = "B better"
NO_DIFFERENCE = "no significant difference"
PAIR_COLUMNS = [
    "task",
    "dataset",
    "scale",
    "sigma",
    *PROTOCOL_NAMES,
    "image",
]


@dataclass(frozen=True)
class PairedComparison:
    """Mean of per-image differences ``A - B`` with a percentile bootstrap CI and a verdict."""

    a: str
    b: str
    metric: str
    n_images: int
    mean_diff: float
    ci_low: float
    ci_high: float
    share_a_better: float
    verdict: str

    def summary(self) -> str:
        """One readable sentence, e.g. ``ipt vs cnn: +0.31 dB [0.12, 0.50], A better on 80% of 20 images``."""
        who = {A_BETTER: f"{self.a} better", B_BETTER: f"{self.b} better"}.get(self.verdict, NO_DIFFERENCE)
        return (
            f"{self.a} vs {self.b} ({self.metric}): mean difference {self.mean_diff:+.3f} "
            f"[95% CI {self.ci_low:+.3f}, {self.ci_high:+.3f}], {self.a} ahead on "
            f"{100 * self.share_a_better:.0f}% of {self.n_images} images: {who}"
        )


def verdict(ci_low: float, ci_high: float) -> str:
    """``A better`` if the CI lies above 0, ``B better`` if below, else no significant difference."""
    if ci_low > 0:
        return A_BETTER
    if ci_high < 0:
        return B_BETTER
    return NO_DIFFERENCE


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    *,
    names: tuple[str, str] = ("A", "B"),
    metric: str = "psnr",
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedComparison:
    """Percentile bootstrap of ``mean(a - b)`` over paired images, resampled with a seeded Generator."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise IptBenchError(
            f"paired comparison {names[0]} vs {names[1]} needs two equally long 1-D score lists "
            f"of >= 2 images, "
            f"got shapes {a.shape} and {b.shape}",
            "compare variants evaluated on the same images (same task, dataset and protocol)",
        )
    diffs = a - b
    result = stats.bootstrap(
        (diffs,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    return PairedComparison(
        a=names[0],
        b=names[1],
        metric=metric,
        n_images=int(diffs.size),
        mean_diff=float(diffs.mean()),
        ci_low=low,
        ci_high=high,
        share_a_better=float(np.mean(diffs > 0)),
        verdict=verdict(low, high),
    )


def compare_variants(
    rows: pd.DataFrame, a: str, b: str, *, metric: str = "psnr", n_resamples: int = 10_000, seed: int = 0
) -> PairedComparison:
    """Pair variant ``a`` and ``b`` rows per image (seeds averaged per image first) and bootstrap."""
    per_image = rows.groupby(["variant", *PAIR_COLUMNS], dropna=False)[metric].mean().reset_index()
    left = per_image[per_image["variant"] == a].drop(columns="variant")
    right = per_image[per_image["variant"] == b].drop(columns="variant")
    paired = left.merge(right, on=PAIR_COLUMNS, suffixes=("_a", "_b"))
    if len(paired) < 2:
        raise IptBenchError(
            f"variants {a!r} and {b!r} share {len(paired)} scored images under the same protocol",
            "compare variants evaluated on the same task, dataset, images and metric protocol",
        )
    return paired_bootstrap(
        paired[f"{metric}_a"].to_numpy(),
        paired[f"{metric}_b"].to_numpy(),
        names=(a, b),
        metric=metric,
        n_resamples=n_resamples,
        seed=seed,
    )


def all_pair_comparisons(
    rows: pd.DataFrame, *, metric: str = "psnr", seed: int = 0, max_pairs: int = 30
) -> pd.DataFrame:
    """Every pair of variants within each (task, dataset), at most ``max_pairs`` in all, as a table."""
    records = []
    for (task, dataset), group in rows.groupby(["task", "dataset"], sort=True):
        variants = sorted(group["variant"].astype(str).unique())
        for i, first in enumerate(variants):
            for second in variants[i + 1 :]:
                if len(records) >= max_pairs:
                    return pd.DataFrame.from_records(records)
                try:
                    result = compare_variants(group, first, second, metric=metric, seed=seed)
                except IptBenchError:
                    continue  # the two variants were not scored on common images; nothing to pair
                records.append(
                    {"task": task, "dataset": dataset, **result.__dict__, "summary": result.summary()}
                )
    return pd.DataFrame.from_records(records)
