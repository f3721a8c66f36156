"""Paired bootstrap comparison: cases with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.protocols import resolve_protocol, row_switches
from ipt_bench.report.stats import (
    A_BETTER,
    B_BETTER,
    NO_DIFFERENCE,
    compare_variants,
    paired_bootstrap,
    verdict,
)


@pytest.mark.parametrize(("shift", "expected"), [(0.25, A_BETTER), (-0.4, B_BETTER), (0.0, NO_DIFFERENCE)])
def test_constant_difference_gives_degenerate_ci(shift, expected):
    b = np.linspace(28.0, 34.0, 12)
    result = paired_bootstrap(b + shift, b, n_resamples=2000)
    assert result.mean_diff == pytest.approx(shift, abs=1e-12)
    assert result.ci_low == pytest.approx(shift, abs=1e-12)
    assert result.ci_high == pytest.approx(shift, abs=1e-12)
    assert result.verdict == expected


def test_symmetric_zero_mean_differences_cover_zero():
    diffs = np.array([-0.3, 0.3, -0.1, 0.1, -0.5, 0.5, -0.2, 0.2, -0.05, 0.05])
    result = paired_bootstrap(diffs, np.zeros_like(diffs), n_resamples=5000, seed=3)
    assert result.ci_low < 0 < result.ci_high
    assert result.verdict == NO_DIFFERENCE
    assert result.share_a_better == 0.5


def test_bootstrap_matches_analytic_normal_ci_for_large_sample():
    rng = np.random.default_rng(7)
    diffs = rng.normal(0.1, 1.0, size=4000)
    result = paired_bootstrap(diffs, np.zeros_like(diffs), n_resamples=10_000, seed=11)
    half = stats.norm.ppf(0.975) * diffs.std(ddof=1) / np.sqrt(diffs.size)
    se = diffs.std(ddof=1) / np.sqrt(diffs.size)
    assert result.ci_low == pytest.approx(diffs.mean() - half, abs=0.1 * se)
    assert result.ci_high == pytest.approx(diffs.mean() + half, abs=0.1 * se)


def test_seeded_and_reproducible():
    rng = np.random.default_rng(0)
    a, b = rng.normal(30, 1, 20), rng.normal(30, 1, 20)
    assert paired_bootstrap(a, b, seed=5) == paired_bootstrap(a, b, seed=5)
    assert paired_bootstrap(a, b, seed=5).ci_low != paired_bootstrap(a, b, seed=6).ci_low


def test_verdict_boundaries():
    assert verdict(0.01, 0.2) == A_BETTER
    assert verdict(-0.2, -0.01) == B_BETTER
    assert verdict(-0.01, 0.2) == NO_DIFFERENCE
    assert verdict(0.0, 0.0) == NO_DIFFERENCE


def _rows(variant: str, psnrs: dict[tuple[int, str], float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "variant": variant,
                "task": "sr_x2",
                "dataset": "Set5",
                "scale": 2,
                "sigma": np.nan,
                **row_switches(
                    resolve_protocol("matlab"),
                    border=2,
                    denoise=False,
                    lr_source="matlab-bicubic",
                    input_text="LR uint8",
                ),
                "seed": seed,
                "image": image,
                "psnr": value,
            }
            for (seed, image), value in psnrs.items()
        ]
    )


def test_compare_variants_pairs_images_and_averages_seeds():
    # Image means over seeds: ipt = (31, 33, 30), cnn = (30, 33.5, 29) -> diffs (+1, -0.5, +1).
    ipt = _rows("ipt", {(0, "a"): 30, (1, "a"): 32, (0, "b"): 33, (1, "b"): 33, (0, "c"): 30, (1, "c"): 30})
    cnn = _rows("cnn", {(0, "a"): 30, (1, "a"): 30, (0, "b"): 33, (1, "b"): 34, (0, "c"): 29, (1, "c"): 29})
    other = _rows("cnn", {(0, "zzz"): 99.0})  # an image only one variant has must not be paired
    result = compare_variants(pd.concat([ipt, cnn, other]), "ipt", "cnn", n_resamples=2000)
    assert result.n_images == 3
    assert result.mean_diff == pytest.approx(0.5)
    assert result.share_a_better == pytest.approx(2 / 3)
    assert "ipt vs cnn" in result.summary()


def test_compare_variants_without_shared_images_is_a_user_error():
    ipt = _rows("ipt", {(0, "a"): 30, (0, "b"): 31})
    cnn = _rows("cnn", {(0, "c"): 30, (0, "d"): 31})
    with pytest.raises(IptBenchError, match="share 0 scored images"):
        compare_variants(pd.concat([ipt, cnn]), "ipt", "cnn")
