"""Paired model comparisons: tests against hand enumeration, scipy and power theory; per-model pairing."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ipt_bench.core.errors import IptBenchError
from ipt_bench.report.paired_tests import SignFlips, minimum_detectable_effect, paired_test
from ipt_bench.report.stats import (
    A_BETTER,
    B_BETTER,
    NO_DIFFERENCE,
    PairedSample,
    all_pair_comparisons,
    compare_differences,
    compare_samples,
    holm,
    pair_comparisons,
)
from tests.study_rows import study_row


def test_exact_sign_flip_matches_hand_enumeration():
    # Differences 0.3, 0.1, -0.2, 0.4: flipping the subset F of the all-positive signs gives the sum
    # 1.0 - 2 * sum(|d| in F); observed F = {0.2} -> 0.6. |sum| >= 0.6 iff sum(F) <= 0.2 or >= 0.8:
    # F = {}, {0.1}, {0.2} and {0.3,0.1,0.4}, {0.3,0.2,0.4}, {all}: 6 of the 16 flips.
    assert SignFlips(np.array([0.3, 0.1, -0.2, 0.4])).p_value(0.0) == pytest.approx(6 / 16)


def test_exact_sign_flip_matches_scipy_permutation_test():
    diffs = np.random.default_rng(1).normal(0.2, 0.3, size=10)
    expected = stats.permutation_test(
        (diffs,), np.mean, permutation_type="samples", n_resamples=np.inf
    ).pvalue
    assert SignFlips(diffs).p_value(0.0) == pytest.approx(expected)


def test_monte_carlo_sign_flip_is_close_to_the_exact_p_value():
    diffs = np.random.default_rng(2).normal(0.1, 0.3, size=17)
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=diffs.size)))  # all 2**17 flips
    exact = np.mean(np.abs(signs @ diffs) >= abs(diffs.sum()) - 1e-12)
    flips = SignFlips(diffs, seed=4)
    assert not flips.exact and "Monte-Carlo" in flips.name
    assert flips.p_value(0.0) == pytest.approx(exact, abs=0.01)


def test_sign_flip_ci_is_the_set_of_deltas_the_test_accepts():
    diffs = np.random.default_rng(3).normal(0.3, 0.2, size=12)
    flips = SignFlips(diffs)
    low, high = flips.confidence_interval(0.05)
    assert low < diffs.mean() < high
    step = 1e-3
    assert flips.p_value(low + step) > 0.05 >= flips.p_value(low - step)
    assert flips.p_value(high - step) > 0.05 >= flips.p_value(high + step)
    t_low, t_high = stats.ttest_1samp(diffs, 0.0).confidence_interval()
    assert low == pytest.approx(t_low, abs=0.05) and high == pytest.approx(t_high, abs=0.05)


def test_holm_matches_hand_computed_values():
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.06.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    adjusted = holm([0.2, np.nan, 0.01])  # a missing p-value is not part of the family
    assert np.isnan(adjusted[1]) and adjusted[[0, 2]] == pytest.approx([0.2, 0.02])
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1


@pytest.mark.parametrize(
    ("n", "test", "ci_method"),
    [
        (4, "t-test", "t interval"),
        (10, "exact sign-flip", "inverted sign-flip test"),
        (20, "Monte-Carlo sign-flip", "inverted sign-flip test"),
        (40, "Monte-Carlo sign-flip", "BCa bootstrap"),
    ],
)
def test_the_test_is_chosen_by_the_number_of_units(n, test, ci_method):
    diffs = np.random.default_rng(n).normal(0.3, 0.1, size=n)
    result = paired_test(diffs)
    assert result.test.startswith(test) and result.ci_method.startswith(ci_method)
    assert result.ci_low < 0.3 < result.ci_high
    assert result.p_value < 0.01


def test_a_sign_flip_test_that_could_not_survive_holm_gives_way_to_the_t_test():
    # 7 images: the smallest sign-flip p is 2/128 = 0.016, enough alone, never after Holm over 10.
    diffs = np.array([5.1, 6.0, 5.5, 6.4, 5.9, 5.2, 6.3])
    assert paired_test(diffs, family_size=1).test.startswith("exact sign-flip")
    among_ten = paired_test(diffs, family_size=10)
    assert among_ten.test == "t-test" and among_ten.p_value == pytest.approx(
        stats.ttest_1samp(diffs, 0).pvalue
    )
    comparisons = compare_samples(
        [PairedSample(f"m{i}", "identity", "denoise_s30", True, diffs[None, :] * (i == 0)) for i in range(10)]
    )
    assert comparisons[0].verdict == A_BETTER and comparisons[0].family_size == 10
    assert all(c.verdict == NO_DIFFERENCE for c in comparisons[1:])


def test_small_sample_t_test_is_scipys():
    diffs = np.array([0.4, -0.1, 0.3, 0.2])
    expected = stats.ttest_1samp(diffs, 0.0)
    result = paired_test(diffs)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert (result.ci_low, result.ci_high) == pytest.approx(tuple(expected.confidence_interval()))


@pytest.mark.parametrize("n", [5, 20, 68])
def test_minimum_detectable_effect_has_80_percent_power(n):
    diffs = np.random.default_rng(n).normal(0.0, 0.5, size=n)
    mde = minimum_detectable_effect(diffs)
    sd = diffs.std(ddof=1)
    # Power of the two-sided one-sample t-test at effect = MDE, from the noncentral t distribution.
    df, critical = n - 1, stats.t.ppf(0.975, n - 1)
    shift = mde / (sd / np.sqrt(n))
    power = stats.nct.sf(critical, df, shift) + stats.nct.cdf(-critical, df, shift)
    assert power == pytest.approx(0.8, abs=0.03)


def _rows(effects: dict[tuple[str, str], list[float]], *, n_images: int = 20, seed: int = 0) -> pd.DataFrame:
    """Rows of models (variant, train sigmas) -> per-seed offsets in dB, plus the `identity` baseline."""
    rng = np.random.default_rng(seed)
    base = rng.normal(30.0, 2.0, size=n_images)
    records = []

    def add(variant, train_sigmas, weight, seed_index, values):
        records.extend(
            study_row(variant, train_sigmas, weight, seed_index, index, value)
            for index, value in enumerate(values)
        )

    n_seeds = len(next(iter(effects.values())))
    for seed_index in range(n_seeds):
        add("identity", None, None, seed_index, base - 5.0)  # deterministic: the same under each seed
        for (variant, train_sigmas), offsets in effects.items():
            weight = 0.1 if variant.endswith("con") else 0.0
            values = base + offsets[seed_index] + rng.normal(0.0, 0.05, size=n_images)
            add(variant, train_sigmas, weight, seed_index, values)
    return pd.DataFrame.from_records(records)


def _one(comparisons, a_prefix):
    (found,) = [c for c in comparisons if c.a.startswith(a_prefix) and not c.b.startswith("identity")]
    return found


def test_models_are_compared_per_training_setting_never_pooled():
    # con beats scratch when both are trained at sigma 30 and loses at 50: pooled, the effects cancel.
    rows = _rows(
        {
            ("ipt-con", "30"): [0.5],
            ("ipt-scratch", "30"): [0.0],
            ("ipt-con", "50"): [-0.5],
            ("ipt-scratch", "50"): [0.0],
        }
    )
    comparisons = pair_comparisons(rows)
    trained = [c for c in comparisons if "identity" not in (c.a, c.b)]
    assert {(c.a, c.b): c.verdict for c in trained} == {
        ("ipt-con (train σ=30)", "ipt-scratch (train σ=30)"): A_BETTER,
        ("ipt-con (train σ=50)", "ipt-scratch (train σ=50)"): B_BETTER,
    }
    assert all(c.mean_diff == pytest.approx(0.5, abs=0.05) for c in trained if c.verdict == A_BETTER)
    baseline = [c for c in comparisons if c.b == "identity"]
    assert len(baseline) == 4 and all("nan" not in c.a for c in baseline)  # identity is always B


@pytest.mark.parametrize("lucky", [1.0, 3.0])
def test_a_verdict_carried_by_one_seed_of_three_is_not_significant(lucky):
    rows = _rows({("ipt-con", "30"): [lucky, 0.0, 0.0], ("ipt-scratch", "30"): [0.0, 0.0, 0.0]})
    result = _one(pair_comparisons(rows), "ipt-con")
    assert result.level == "seed" and result.n_seeds == 3 and result.n_images == 20
    assert result.verdict == NO_DIFFERENCE and not result.significant
    assert result.ci_low < 0 < result.ci_high
    # The same numbers pooled over 60 image pairs would call it "better": the seed level matters.
    pivot = rows.pivot_table(index=["seed", "image"], columns="variant", values="psnr")
    assert paired_test((pivot["ipt-con"] - pivot["ipt-scratch"]).to_numpy()).p_value < 0.001


def test_a_single_seed_gives_a_provisional_image_level_test():
    rows = _rows({("ipt-con", "30"): [0.3], ("ipt-scratch", "30"): [0.0]})
    result = _one(pair_comparisons(rows), "ipt-con")
    assert result.level == "image" and result.n_seeds == 1 and result.provisional
    assert result.verdict == A_BETTER


def test_a_deterministic_baseline_is_one_seed_and_untrained_pairs_are_not_provisional():
    rows = _rows({("ipt-con", "30"): [0.3, 0.3, 0.3]})
    (versus_input,) = pair_comparisons(rows)
    assert versus_input.b == "identity" and versus_input.a == "ipt-con"
    assert versus_input.n_seeds == 3 and versus_input.mean_diff == pytest.approx(5.3, abs=0.05)
    bicubic = rows[rows["variant"] == "identity"].assign(variant="other-baseline", psnr=lambda f: f.psnr + 1)
    rows = pd.concat([rows[rows["variant"] == "identity"], bicubic])
    (untrained,) = pair_comparisons(rows)
    assert untrained.n_seeds == 1 and not untrained.provisional and untrained.mean_diff == pytest.approx(-1)


def test_holm_runs_over_every_comparison_of_the_table():
    rows = _rows(
        {("ipt-con", "30"): [0.02, 0.0], ("ipt-scratch", "30"): [0.0, 0.01], ("ipt-nocon", "30"): [0.0, 0.0]}
    )
    frame = all_pair_comparisons(rows)
    assert len(frame) == 6  # three trained models pairwise, and each against the input
    assert frame["p_adjusted"].to_numpy() == pytest.approx(holm(frame["p_value"].to_numpy()))
    assert {"test", "ci_method", "mde", "n_seeds", "significant", "summary"} <= set(frame.columns)


def test_an_image_with_infinite_psnr_is_left_out_of_the_pairing():
    rows = _rows({("ipt-con", "30"): [0.3], ("ipt-scratch", "30"): [0.0]})
    rows.loc[(rows["variant"] == "ipt-con") & (rows["image"] == "img03"), "psnr"] = np.inf
    assert {c.n_images for c in pair_comparisons(rows)} == {19, 20}  # con vs identity/scratch; scratch 20


def test_too_few_images_is_a_user_error():
    with pytest.raises(IptBenchError, match=">= 2 images"):
        compare_differences(np.array([[0.3]]))


def test_comparisons_are_deterministic():
    rows = _rows({("ipt-con", "30"): [0.1], ("ipt-scratch", "30"): [0.0]})
    first, second = pair_comparisons(rows), pair_comparisons(rows)
    assert first and first == second
