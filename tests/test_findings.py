"""Findings sentences from synthetic studies with a known effect, no effect, and a one-seed effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ipt_bench.core.errors import IptBenchError
from ipt_bench.report.findings import (
    Question,
    answer_questions,
    finding_sentence,
    significance_mark,
)
from ipt_bench.report.stats import A_BETTER, B_BETTER, NO_DIFFERENCE, compare_differences, holm
from tests.study_rows import study_row

PRETRAINING = Question("pre-training vs scratch", {"variant": "ipt-con"}, {"variant": "ipt-scratch"})


def _study(per_seed_effect: list[float], *, n_images: int = 20, noise: float = 0.05, rng_seed: int = 0):
    """ipt-con and ipt-scratch (both trained at sigma 30 and 50) plus the noisy input; ipt-con is
    ``per_seed_effect[s]`` dB better under seed s at train sigma 30, equal at 50."""
    rng = np.random.default_rng(rng_seed)
    difficulty = rng.normal(30.0, 2.0, size=n_images)
    records = []
    for seed, effect in enumerate(per_seed_effect):
        models = [("identity", None, None, -5.0)]
        for sigmas in ("30", "50"):
            models.append(("ipt-scratch", sigmas, 0.0, 0.0))
            models.append(("ipt-con", sigmas, 0.1, effect if sigmas == "30" else 0.0))
        for variant, sigmas, weight, offset in models:
            jitter = 0.0 if variant == "identity" else rng.normal(0.0, noise, size=n_images)
            records.extend(
                study_row(variant, sigmas or "", weight, seed, index, psnr)  # "" = unset, as on disk
                for index, psnr in enumerate(difficulty + offset + jitter)
            )
    return pd.DataFrame.from_records(records)


def _at_sigma(findings, sigmas: str):
    (found,) = [f for f in findings if f"train σ={sigmas}" in f.comparison.a]
    return found


@pytest.mark.parametrize(
    ("seeds", "test", "mark"),
    [(1, "Monte-Carlo sign-flip permutation test", "(*)"), (3, "t-test on 3 per-seed means", "*")],
)
def test_a_known_effect_is_found_with_its_ci_test_and_mark(seeds, test, mark):
    findings = answer_questions(_study([0.3] * seeds), [PRETRAINING])
    assert len(findings) == 2  # one per training setting, never pooled
    found = _at_sigma(findings, "30")
    c = found.comparison
    assert c.verdict == A_BETTER and c.ci_low < 0.3 < c.ci_high
    assert c.n_images == 20 and c.n_seeds == seeds and c.test.startswith(test.split(" on ")[0])
    assert found.mark == mark == significance_mark(c)
    sentence = found.sentence
    assert sentence.startswith("pre-training vs scratch (denoise_s30 on CBSD68): ")
    assert f"ipt-con (train σ=30) beats ipt-scratch (train σ=30) by {c.mean_diff:.2f} dB" in sentence
    assert f"95% CI {c.ci_low:+.2f} to {c.ci_high:+.2f} dB" in sentence
    assert f"20 images × {seeds} seed" in sentence and test in sentence
    assert "p < 0.001 Holm-adjusted over 2 comparisons" in sentence
    assert ("Provisional: single training seed" in sentence) == (seeds == 1)
    assert "can only detect" not in sentence  # powered: the MDE is below 0.1 dB here


def test_no_effect_says_no_detectable_difference_with_its_mde():
    found = _at_sigma(answer_questions(_study([0.0]), [PRETRAINING]), "50")
    c = found.comparison
    assert c.verdict == NO_DIFFERENCE and found.mark == ""
    # The MDE from the per-image differences, computed here independently of the module.
    rows = _study([0.0])
    rows = rows[rows["train_sigmas"] == "50"].pivot_table(index="image", columns="variant", values="psnr")
    diffs = (rows["ipt-con"] - rows["ipt-scratch"]).to_numpy()
    mde = (stats.t.ppf(0.975, 19) + stats.t.ppf(0.8, 19)) * diffs.std(ddof=1) / np.sqrt(20)
    assert c.mde == pytest.approx(mde)
    assert (
        "no detectable difference between ipt-con (train σ=50) and ipt-scratch (train σ=50)" in found.sentence
    )
    assert f"With 20 images and 1 seed this study can only detect differences larger than {mde:.2f} dB." in (
        found.sentence
    )


def test_an_effect_carried_by_one_seed_of_three_is_not_called_significant():
    found = _at_sigma(answer_questions(_study([1.0, 0.0, 0.0]), [PRETRAINING]), "30")
    assert found.comparison.mean_diff == pytest.approx(1 / 3, abs=0.02)
    assert found.comparison.verdict == NO_DIFFERENCE and found.mark == ""
    assert "no detectable difference" in found.sentence and "t-test on 3 per-seed means" in found.sentence


def test_a_loss_is_told_from_the_winners_side():
    c = compare_differences(np.array([[-0.31, -0.29, -0.30, -0.32, -0.28, -0.30]]), names=("con", "scratch"))
    sentence = finding_sentence(c)
    assert c.verdict == B_BETTER and c.ci_high < 0
    assert (
        f"scratch beats con by {-c.mean_diff:.2f} dB (95% CI {-c.ci_high:+.2f} to {-c.ci_low:+.2f} dB"
        in sentence
    )


def test_an_underpowered_design_says_what_it_could_detect():
    diffs = np.array([[0.5, -0.2, 0.6, 0.1]])
    c = compare_differences(diffs, names=("con", "scratch"), context="denoise_s10 on CBSD68")
    sentence = finding_sentence(c, "pre-training vs scratch")
    expected = (stats.t.ppf(0.975, 3) + stats.t.ppf(0.8, 3)) * diffs.std(ddof=1) / 2
    assert c.test == "t-test" and c.provisional
    assert (
        f"With 4 images and 1 seed this study can only detect differences larger than {expected:.2f} dB"
        in (sentence)
    )


def test_seen_vs_unseen_sigma_and_the_input_baseline_are_questions_too():
    seen = Question(
        "trained at the test sigma vs at 50",
        {"variant": "ipt-con", "train_sigmas": 30},  # a number matches the rows' "30"
        {"variant": "ipt-con", "train_sigmas": 50},
    )
    versus_input = Question("pre-trained vs noisy input", {"variant": "ipt-con"}, {"variant": "identity"})
    findings = answer_questions(_study([0.3, 0.3, 0.3]), [seen, versus_input])
    assert [f.title for f in findings] == [seen.title, versus_input.title, versus_input.title]
    assert findings[0].comparison.mean_diff == pytest.approx(0.3, abs=0.05)
    assert {f.comparison.b for f in findings[1:]} == {"identity"}
    raw = [f.comparison.p_value for f in findings]
    assert [f.comparison.p_adjusted for f in findings] == pytest.approx(holm(raw))  # one Holm family


def test_a_question_naming_an_unknown_column_is_a_user_error():
    bad = Question("typo", {"varient": "ipt-con"}, {"variant": "ipt-scratch"})
    with pytest.raises(IptBenchError, match=r"unknown columns \['varient'\]"):
        answer_questions(_study([0.3]), [bad])
