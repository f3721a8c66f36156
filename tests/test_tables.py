"""Result tables: per-seed means, t-intervals, paper layout, deltas and exports."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ipt_bench.report.references import load_references
from ipt_bench.report.synthetic import synthetic_rows
from ipt_bench.report.tables import mean_ci, paper_table, summarize


def test_mean_ci_matches_scipy_t_interval():
    values = np.array([31.0, 33.0, 32.5, 30.2])
    mean, half = mean_ci(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert mean == pytest.approx(values.mean())
    assert half == pytest.approx((high - low) / 2)


def test_mean_ci_single_value_has_no_interval():
    mean, half = mean_ci([32.0])
    assert mean == 32.0 and np.isnan(half)


def _rows(
    per_seed: dict[int, list[float]],
    variant: str = "ipt",
    channel: str = "y",
    protocol: str = "ipt@1",
    subset="",
) -> pd.DataFrame:
    base = synthetic_rows({variant: 0.0}, seeds=(0,), n_images=1).iloc[[0]]  # one sr_x2 Set5 row
    records = []
    for seed, values in per_seed.items():
        for index, value in enumerate(values):
            records.append(
                {
                    **base.iloc[0].to_dict(),
                    "seed": seed,
                    "image": f"im{index}",
                    "psnr": value,
                    "channel": channel,
                    "protocol": protocol,
                    "subset": subset,
                }
            )
    return pd.DataFrame(records)


def test_summarize_means_images_per_seed_then_seeds():
    # seed 0: images 30, 32 -> 31; seed 1: 31, 35 -> 33; over seeds: 32 +/- t(0.975, 1) * 1.
    summary = summarize(_rows({0: [30.0, 32.0], 1: [31.0, 35.0]}))
    assert len(summary) == 1
    row = summary.iloc[0]
    assert row["psnr"] == pytest.approx(32.0)
    assert row["psnr_ci"] == pytest.approx(stats.t.ppf(0.975, 1) * 1.0)
    assert row["n_seeds"] == 2 and row["n_images"] == 2


def test_paper_table_puts_measured_beside_reported_with_delta():
    summary = summarize(_rows({0: [38.0, 38.2]}))
    table = paper_table(summary, load_references(), "sr")
    col = ("x2", "Set5", "psnr")
    reported_ipt = table.values.loc[("reported (table1_sr)", "IPT", "paper", "ipt", "y"), col]
    measured = table.values.loc[("measured", "ipt", "smoke", "ipt@1", "y"), col]
    assert reported_ipt == 38.37
    assert measured == pytest.approx(38.1)
    assert table.delta.loc[("measured", "ipt", "smoke", "ipt@1", "y"), col] == pytest.approx(38.1 - 38.37)
    # The peer rows were measured by the MATLAB scripts, IPT's by its own code: no Δ, and why.
    han = ("reported (table1_sr)", "HAN", "paper", "matlab", "y")
    assert np.isnan(table.delta.loc[han, col])
    why = table.display.loc[han, ("x2", "Set5", "Δ PSNR")]
    assert why.startswith("no Δ: matlab row vs ipt reference (") and "y_rounding" in why
    # Paper layout: scale-major columns, datasets in the paper's order.
    assert list(table.values.columns[:4]) == [
        ("x2", d, "psnr") for d in ("Set5", "Set14", "B100", "Urban100")
    ]
    assert np.isnan(table.ci.loc[("measured", "ipt", "smoke", "ipt@1", "y"), col])  # one seed: no interval
    assert "channel y" in table.caption and "border crop 2 px" in table.caption


def test_delta_only_against_the_same_protocol():
    rows = synthetic_rows({"cnn": 0.0}, seeds=(0, 1), n_images=3).assign(channel="rgb", protocol="kair@1")
    table = paper_table(summarize(rows), load_references(), "denoise")
    key = ("measured", "cnn", "smoke", "kair@1", "rgb")
    col = ("σ30", "CBSD68", "psnr")
    assert np.isfinite(table.values.loc[key, col])
    assert np.isnan(table.delta.loc[key, col])  # the baseline IPT number is under ipt (Y)
    assert table.display.loc[key, ("σ30", "CBSD68", "PSNR")].count("±") == 1
    assert table.display.loc[key, ("σ30", "CBSD68", "Δ PSNR")].startswith("no Δ: kair@1 row vs ipt reference")


def test_no_delta_for_a_max_images_subset_against_a_full_set_reference():
    summary = summarize(_rows({0: [26.0]}, subset="first 5 of 14"))
    table = paper_table(summary.assign(dataset="Set14"), load_references(), "sr")
    key, col = ("measured", "ipt", "smoke", "ipt@1", "y"), ("x2", "Set14", "psnr")
    assert table.values.loc[key, col] == 26.0 and np.isnan(table.delta.loc[key, col])
    assert table.display.loc[key, ("x2", "Set14", "Δ PSNR")] == "no Δ: subset 5/14"


def test_unconfirmed_reported_values_are_marked_and_partial_sets_named():
    table = paper_table(
        summarize(synthetic_rows(seeds=(0,), n_images=2)),
        load_references(),
        "derain",
        metrics=("psnr", "ssim"),
    )
    display = table.display
    assert (
        display.loc[("reported (table3_derain)", "Input", "paper", "ipt", "y"), ("-", "Rain100L", "PSNR")]
        == "26.90†"
    )
    ipt_row = ("reported (table3_derain)", "IPT", "paper", "ipt", "y")
    assert display.loc[ipt_row, ("-", "Rain100L", "PSNR")] == "41.62"
    assert "partial datasets: Rain100L" in table.caption


def test_the_caption_says_what_the_identity_rows_score():
    rows = synthetic_rows({"identity": 0.0}, seeds=(0,), n_images=2).assign(
        input="noisy float (seeded, clipped)"
    )
    table = paper_table(summarize(rows), load_references(), "denoise")
    assert "identity rows score the network input itself: noisy float (seeded, clipped)" in table.caption


def test_a_partial_rain100l_gets_no_delta_against_the_full_set_number():
    rows = synthetic_rows(seeds=(0,), n_images=2).assign(protocol="ipt@1")
    table = paper_table(summarize(rows), load_references(), "derain")
    measured = [k for k in table.display.index if k[0] == "measured"]
    assert measured
    for key in measured:
        assert np.isnan(table.delta.loc[key, ("-", "Rain100L", "psnr")])
        assert table.display.loc[key, ("-", "Rain100L", "Δ PSNR")] == "no Δ: partial set (2 images)"


def test_exports(tmp_path):
    rows = synthetic_rows({"<b>bold</b>": 0.0}, seeds=(0, 1), n_images=2)
    table = paper_table(summarize(rows), load_references(), "sr")
    paths = table.export(tmp_path, "sr")
    assert sorted(paths) == ["csv", "html", "md", "tex"]
    long = pd.read_csv(io.StringIO(paths["csv"].read_text()))
    ipt = long[(long["method"] == "IPT") & (long["dataset"] == "Urban100") & (long["setting"] == "x4")]
    assert ipt["value"].tolist() == [27.26]
    tex = paths["tex"].read_text()
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex and "\\caption{" in tex
    md = paths["md"].read_text().splitlines()
    assert md[0].startswith("**Super-resolution") and md[2].startswith("| source | method |")
    assert len({line.count("|") for line in md[2:] if line}) == 1  # same column count on every row
    html = paths["html"].read_text()
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold" not in html
    assert not list(tmp_path.glob(".*.tmp"))
