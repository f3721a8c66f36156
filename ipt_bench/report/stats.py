"""Paired comparisons of trained models on the same images, with a test chosen by the sample size.

The unit compared is a *model*: a variant plus its training setting (train sigma(s), contrastive
weight, data fraction), never a variant pooled over settings. Two models are paired on the same
evaluation cell (task, dataset, scale, test sigma, metric protocol) and image. Training seeds and
images are the two sources of variance: with >= 2 seeds the effect is tested on the per-seed mean
differences (the seed is the experimental unit, so one lucky seed cannot make a verdict); with a
single seed the test runs over images and the verdict is marked provisional.

Test by number of units n (seeds, or images when there is one seed), see :func:`paired_test`:

* Student t-test, t interval, when a sign-flip test could not reach significance after Holm over
  the report's m comparisons (its smallest p, 2 / 2**n, is >= 0.05 / m): n <= 5 for a single
  comparison, n <= 8 among ten. A distribution-free test there would never detect anything.
* otherwise, n <= 16: exact sign-flip permutation test over all 2**n flips; CI by inverting it.
* 17 <= n < 30: the same test on a seeded Monte-Carlo sample of flips; CI by inverting it.
* n >= 30: Monte-Carlo sign-flip p-value; BCa bootstrap CI (scipy.stats.bootstrap).

p-values are Holm-adjusted over every comparison of one report (:func:`holm`); each comparison
also states its minimum detectable effect (:func:`minimum_detectable_effect`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.rows import PROTOCOL_NAMES
from ipt_bench.report.model_keys import (
    ModelKey,
    comparable,
    is_trained,
    model_keys,
    model_labels,
)
from ipt_bench.report.paired_tests import minimum_detectable_effect, paired_test

A_BETTER = "A better"
B_BETTER = "B better"
NO_DIFFERENCE = "no significant difference"
ALPHA = 0.05
# An evaluation cell: two models are compared only on rows that agree on all of these.
CELL_COLUMNS = [
    "task",
    "dataset",
    "scale",
    "sigma",
    *PROTOCOL_NAMES,
]


@dataclass(frozen=True)
class PairedComparison:
    """Model A minus model B on shared images: effect, CI, the test used, raw and Holm-adjusted p, MDE."""

    a: str
    b: str
    context: str
    metric: str
    n_images: int
    n_seeds: int
    level: str  # "seed" (per-seed mean differences tested) or "image" (one seed, images tested)
    mean_diff: float
    ci_low: float
    ci_high: float
    ci_method: str
    test: str
    p_value: float
    p_adjusted: float
    family_size: int  # comparisons Holm-adjusted together (and considered when choosing the test)
    mde: float
    share_a_better: float
    provisional: bool
    verdict: str

    @property
    def significant(self) -> bool:
        """Holm-adjusted p below 0.05."""
        return bool(self.p_adjusted < ALPHA)

    def summary(self) -> str:
        """One compact line, e.g. ``a vs b (psnr): +0.310 [95% CI +0.12, +0.50], p_Holm 0.004: a better``."""
        who = {A_BETTER: f"{self.a} better", B_BETTER: f"{self.b} better"}.get(self.verdict, self.verdict)
        return (
            f"{self.a} vs {self.b} ({self.metric}, {self.context}): mean difference {self.mean_diff:+.3f} "
            f"[95% CI {self.ci_low:+.3f}, {self.ci_high:+.3f}], {self.n_images} images x {self.n_seeds} "
            f"seeds, {self.test}, p {self.p_value:.3g}, Holm p {self.p_adjusted:.3g}: {who}"
        )


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN entries stay NaN and are not counted in the family).

    Written here because scipy.stats only offers Benjamini-Hochberg/Yekutieli
    (``false_discovery_control``) and statsmodels' ``multipletests`` would be a new dependency
    for five lines; Holm controls the family-wise error rate, which suits a report whose every
    "better" verdict a reader takes at face value.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def verdict(p_adjusted: float, mean_diff: float, alpha: float = ALPHA) -> str:
    """``A better``/``B better`` when the adjusted p is below ``alpha``, by the sign of the effect."""
    if not np.isfinite(p_adjusted) or p_adjusted >= alpha or mean_diff == 0:
        return NO_DIFFERENCE
    return A_BETTER if mean_diff > 0 else B_BETTER


def adjust_holm(comparisons: Sequence[PairedComparison]) -> list[PairedComparison]:
    """Holm-adjust the p-values of one report's comparisons together and set their verdicts."""
    adjusted = holm([c.p_value for c in comparisons])
    return [
        replace(c, p_adjusted=float(p), family_size=len(comparisons), verdict=verdict(float(p), c.mean_diff))
        for c, p in zip(comparisons, adjusted, strict=True)
    ]


def compare_differences(
    diffs: np.ndarray,
    *,
    names: tuple[str, str] = ("A", "B"),
    context: str = "",
    metric: str = "psnr",
    trained: bool = True,
    seed: int = 0,
    family_size: int = 1,
) -> PairedComparison:
    """Test a ``seeds x images`` matrix of paired differences A - B (p not yet adjusted).

    With >= 2 rows the per-seed means are the units tested; with one row the images are, and a
    comparison involving a trained model is then provisional. ``family_size``: the number of
    comparisons to be Holm-adjusted together (it decides whether a sign-flip test can be used).
    """
    diffs = np.atleast_2d(np.asarray(diffs, dtype=float))
    if diffs.ndim != 2 or diffs.shape[1] < 2 or diffs.shape[0] < 1 or not np.isfinite(diffs).all():
        raise IptBenchError(
            f"paired comparison {names[0]} vs {names[1]} needs finite differences on >= 2 images, "
            f"got shape {diffs.shape}",
            "compare models evaluated on the same images (same task, dataset and protocol)",
        )
    n_seeds, n_images = diffs.shape
    units = diffs.mean(axis=1) if n_seeds >= 2 else diffs[0]
    result = paired_test(units, seed=seed, family_size=family_size)
    mean = float(units.mean())
    return PairedComparison(
        a=names[0],
        b=names[1],
        context=context,
        metric=metric,
        n_images=int(n_images),
        n_seeds=int(n_seeds),
        level="seed" if n_seeds >= 2 else "image",
        mean_diff=mean,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        ci_method=result.ci_method,
        test=result.test,
        p_value=result.p_value,
        p_adjusted=result.p_value,
        family_size=1,
        mde=minimum_detectable_effect(units),
        share_a_better=float(np.mean(diffs.mean(axis=0) > 0)),
        provisional=trained and n_seeds < 2,
        verdict=verdict(result.p_value, mean),
    )


@dataclass(frozen=True)
class PairedSample:
    """Differences A - B (``seeds x images``) of one model pair in one evaluation cell."""

    a: str
    b: str
    context: str
    trained: bool
    diffs: np.ndarray


def paired_samples(
    rows: pd.DataFrame, pairs: Sequence[tuple[ModelKey, ModelKey]], *, metric: str = "psnr"
) -> list[list[PairedSample]]:
    """For each (A, B) pair, its samples in every evaluation cell that scored both models."""
    if rows.empty:
        return [[] for _ in pairs]
    rows = rows.assign(_model=model_keys(rows))
    labels = model_labels(list(rows["_model"]))
    samples: list[list[PairedSample]] = [[] for _ in pairs]
    for cell, group in rows.groupby(CELL_COLUMNS, dropna=False, sort=True):
        scores = {key: _scores(frame, metric) for key, frame in _by_model(group).items()}
        for found, (a, b) in zip(samples, pairs, strict=True):
            if a not in scores or b not in scores:
                continue
            diffs = _paired_differences(scores[a], scores[b])
            if diffs is not None:  # else no common images (or seeds): nothing to pair in this cell
                trained = is_trained(a) or is_trained(b)
                found.append(PairedSample(labels[a], labels[b], f"{cell[0]} on {cell[1]}", trained, diffs))
    return samples


def compare_samples(
    samples: Sequence[PairedSample], *, metric: str = "psnr", seed: int = 0
) -> list[PairedComparison]:
    """Test every sample as one family: tests chosen knowing its size, p-values Holm-adjusted over it."""
    comparisons = [
        compare_differences(
            sample.diffs,
            names=(sample.a, sample.b),
            context=sample.context,
            metric=metric,
            trained=sample.trained,
            seed=seed,
            family_size=len(samples),
        )
        for sample in samples
    ]
    return adjust_holm(comparisons)


def compare_pairs(
    rows: pd.DataFrame,
    pairs: Sequence[tuple[ModelKey, ModelKey]],
    *,
    metric: str = "psnr",
    seed: int = 0,
) -> list[PairedComparison]:
    """Compare each (A, B) model pair in every evaluation cell that scored both; Holm over all of them."""
    samples = paired_samples(rows, pairs, metric=metric)
    return compare_samples([s for found in samples for s in found], metric=metric, seed=seed)


def pair_comparisons(
    rows: pd.DataFrame, *, metric: str = "psnr", seed: int = 0, max_pairs: int = 30
) -> list[PairedComparison]:
    """Every comparable pair of models (same training setting, or vs a baseline) scored on a common
    task and dataset, at most ``max_pairs`` model pairs, compared in each cell; Holm-adjusted together."""
    if rows.empty:
        return []
    scored: dict[ModelKey, set] = {}
    for key, task, dataset in zip(model_keys(rows), rows["task"], rows["dataset"], strict=True):
        scored.setdefault(key, set()).add((task, dataset))
    keys = sorted(scored, key=lambda k: tuple("" if v is None else str(v) for v in k))
    pairs = [
        (b, a) if is_trained(b) and not is_trained(a) else (a, b)  # a trained model is A, a baseline B
        for a, b in itertools.combinations(keys, 2)
        if comparable(a, b) and scored[a] & scored[b]
    ][:max_pairs]
    return compare_pairs(rows, pairs, metric=metric, seed=seed)


def all_pair_comparisons(
    rows: pd.DataFrame, *, metric: str = "psnr", seed: int = 0, max_pairs: int = 30
) -> pd.DataFrame:
    """:func:`pair_comparisons` as a table, one row per comparison (with a ``summary`` line)."""
    comparisons = pair_comparisons(rows, metric=metric, seed=seed, max_pairs=max_pairs)
    return comparisons_frame(comparisons)


def comparisons_frame(comparisons: Sequence[PairedComparison]) -> pd.DataFrame:
    """A list of comparisons as a DataFrame (fields plus ``significant`` and ``summary``)."""
    return pd.DataFrame.from_records(
        [{**c.__dict__, "significant": c.significant, "summary": c.summary()} for c in comparisons]
    )


def _paired_differences(left: pd.DataFrame, right: pd.DataFrame) -> np.ndarray | None:
    """``seeds x images`` differences of two ``seed x image`` score tables on the images both scored.

    A model scored alike under every seed (a deterministic baseline) counts as one seed; a
    single-seed side is broadcast over the other's seeds; two multi-seed sides are paired by seed.
    """
    images = left.columns.intersection(right.columns)
    left, right = left[images], right[images]
    if len(left) > 1 and len(right) > 1:
        seeds = left.index.intersection(right.index)
        left, right = left.loc[seeds], right.loc[seeds]
    with np.errstate(invalid="ignore"):  # inf - inf for an image both reproduce exactly
        diffs = left.to_numpy() - right.to_numpy()  # broadcasts a single-seed side
    diffs = diffs[:, np.isfinite(diffs).all(axis=0)]  # an infinite PSNR (exact output) has no difference
    if diffs.size == 0 or diffs.shape[1] < 2:
        return None
    return diffs


def _by_model(rows: pd.DataFrame) -> dict[ModelKey, pd.DataFrame]:
    """Rows split by model key (plain dict: pandas would turn tuple keys into a MultiIndex)."""
    positions: dict[ModelKey, list[int]] = {}
    for position, key in enumerate(rows["_model"]):
        positions.setdefault(key, []).append(position)
    return {key: rows.iloc[index] for key, index in positions.items()}


def _scores(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One model's ``seed x image`` scores (images scored under every seed only)."""
    table = rows.pivot_table(index="seed", columns="image", values=metric, aggfunc="mean").dropna(axis=1)
    values = table.to_numpy()
    if len(table) > 1 and (values == values[0]).all():
        return table.iloc[:1]  # a deterministic model: its seeds are copies, not replicates
    return table
