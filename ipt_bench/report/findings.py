"""Findings in words: one sentence per comparison a study asks about, and significance marks for tables.

A sentence states the effect (A - B), its 95% CI and how it was computed, the design
(images x training seeds), the test, the Holm-adjusted p-value, and plain caveats: the
minimum detectable effect when nothing was found or the design is underpowered, and
"provisional" when a trained model was run with a single seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ipt_bench.report.model_keys import ModelKey, comparable, model_keys, select_models
from ipt_bench.report.stats import (
    A_BETTER,
    B_BETTER,
    PairedComparison,
    compare_samples,
    paired_samples,
)

# An effect the study should be able to resolve; a larger MDE gets a caveat even when significant.
TARGET_EFFECT_DB = 0.1
MARK_LEGEND = (
    "* = significant after Holm correction at 5% over this report's comparisons, tested over "
    "training seeds; (*) = the same from a single training seed (provisional, image-level test)."
)
UNITS = {"psnr": " dB"}


@dataclass(frozen=True)
class Question:
    """A question the study asks: models matching ``a`` against models matching ``b``.

    Selectors map MODEL_COLUMNS to values as they appear in the rows, e.g.
    ``Question("pre-training vs scratch", {"variant": "ipt-tiny-con"}, {"variant": "ipt-tiny-scratch"})``
    or, for seen vs unseen sigma, ``{"variant": v, "train_sigmas": "30"}`` vs ``{..., "train_sigmas": "50"}``.
    The two models must share their training noise levels unless a selector names ``train_sigmas``
    (or one side is an untrained baseline).
    """

    title: str
    a: Mapping[str, object]
    b: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One answered question in one evaluation cell."""

    title: str
    comparison: PairedComparison
    sentence: str
    mark: str


def significance_mark(comparison: PairedComparison) -> str:
    """``*`` when significant after Holm over seeds, ``(*)`` when only from a single seed, else ``""``."""
    if not comparison.significant:
        return ""
    return "(*)" if comparison.provisional else "*"


def question_pairs(keys: Sequence[ModelKey], question: Question) -> list[tuple[ModelKey, ModelKey]]:
    """The (A, B) model pairs a question asks about among ``keys``."""
    free_sigmas = "train_sigmas" in question.a or "train_sigmas" in question.b
    return [
        (a, b)
        for a in select_models(keys, question.a)
        for b in select_models(keys, question.b)
        if comparable(a, b) or (free_sigmas and a != b)
    ]


def answer_questions(
    rows: pd.DataFrame,
    questions: Sequence[Question],
    *,
    metric: str = "psnr",
    seed: int = 0,
    target: float = TARGET_EFFECT_DB,
) -> list[Finding]:
    """Compare every pair each question names in every cell scoring both; Holm over all of them."""
    if rows.empty:
        return []
    keys = list(dict.fromkeys(model_keys(rows)))
    titles, samples = [], []
    for question in questions:
        pairs = question_pairs(keys, question)
        for found in paired_samples(rows, pairs, metric=metric):
            titles.extend(question.title for _ in found)
            samples.extend(found)
    comparisons = compare_samples(samples, metric=metric, seed=seed)
    return [
        Finding(title, c, finding_sentence(c, title, target=target), significance_mark(c))
        for title, c in zip(titles, comparisons, strict=True)
    ]


def finding_sentence(
    comparison: PairedComparison, title: str | None = None, *, target: float = TARGET_EFFECT_DB
) -> str:
    """One plain sentence (plus caveats) for a comparison whose p-value has been Holm-adjusted."""
    c = comparison
    unit = UNITS.get(c.metric, "")
    head = f"{title} ({c.context})" if title else c.context
    low, high = c.ci_low, c.ci_high
    if c.verdict == A_BETTER:
        claim = f"{c.a} beats {c.b} by {c.mean_diff:.2f}{unit} ("
    elif c.verdict == B_BETTER:  # told from B's side: effect and CI of B - A
        claim = f"{c.b} beats {c.a} by {-c.mean_diff:.2f}{unit} ("
        low, high = -c.ci_high, -c.ci_low
    else:
        claim = (
            f"no detectable difference between {c.a} and {c.b} "
            f"(mean {c.metric.upper()} difference {c.mean_diff:+.2f}{unit}, "
        )
    design = f"{_count(c.n_images, 'image')} × {_count(c.n_seeds, 'seed')}"
    tested = f"{c.test} on {c.n_seeds} per-seed means" if c.level == "seed" else f"{c.test} over images"
    sentence = (
        f"{head}: {claim}95% CI {low:+.2f} to {high:+.2f}{unit}, {c.ci_method}; {design}; "
        f"{tested}; {_p_text(c.p_adjusted)} Holm-adjusted over {_count(c.family_size, 'comparison')}, "
        f"raw {_p_text(c.p_value)})."
    )
    if c.provisional:
        sentence += " Provisional: single training seed, image-level test only."
    if c.verdict not in (A_BETTER, B_BETTER) or c.mde > target:
        sentence += (
            f" With {_count(c.n_images, 'image')} and {_count(c.n_seeds, 'seed')} this study can only "
            f"detect differences larger than {c.mde:.2f}{unit}."
        )
    return sentence


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _p_text(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"
