"""Report plots: files written, byte-stable reruns, graceful skips, crop selection."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from matplotlib import image as mpimg
from skimage import data as skdata

from ipt_bench.report import plots
from ipt_bench.report.synthetic import synthetic_rows


@pytest.fixture(scope="module")
def rows():
    return synthetic_rows({"ipt": 0.4, "cnn": 0.0}, seeds=(0, 1), n_images=4)


def _digest(paths):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_generalization_writes_png_and_svg_deterministically(rows, tmp_path):
    paths = plots.plot_generalization(rows, tmp_path)
    assert sorted(p.suffix for p in paths) == [".png", ".svg"]
    first = _digest(paths)
    assert _digest(plots.plot_generalization(rows, tmp_path)) == first
    png = mpimg.imread(next(p for p in paths if p.suffix == ".png"))
    assert png.shape[0] > 100 and png.shape[1] > 100
    svg = next(p for p in paths if p.suffix == ".svg").read_text()
    assert "<dc:date>" not in svg and "ipt (trained σ 30,50)" in svg


@pytest.mark.slow
def test_sweeps_plot_when_the_factor_varies(rows, tmp_path):
    assert plots.plot_lambda(rows, tmp_path) == []  # one λ only: nothing to plot
    assert plots.plot_data_fraction(rows, tmp_path) == []
    sweep = rows.copy()
    sweep["contrastive_weight"] = np.where(sweep["seed"] == 0, 0.0, 0.1)
    sweep["seed"] = 0
    sweep["data_fraction"] = np.where(sweep["image"] == "img_000", 0.2, 1.0)
    assert len(plots.plot_lambda(sweep, tmp_path)) == 2
    assert len(plots.plot_data_fraction(sweep, tmp_path)) == 2


def test_training_curves_and_scatter(rows, tmp_path):
    import pandas as pd

    log = pd.DataFrame({"step": [1, 2, 3], "loss": [0.3, 0.2, 0.1], "val_psnr": [np.nan, 25.0, np.nan]})
    assert len(plots.plot_training_curves({"pretrain": log}, tmp_path)) == 2
    assert plots.plot_training_curves({}, tmp_path) == []
    assert len(plots.plot_scatter(rows, "ipt", "cnn", tmp_path)) == 2
    assert plots.plot_scatter(rows, "ipt", "missing", tmp_path) == []
    assert plots.plot_generalization(rows[rows["task_kind"] == "sr"], tmp_path) == []


def test_largest_differences_orders_by_absolute_gap(rows):
    shifted = rows.copy()
    shifted.loc[(shifted["variant"] == "cnn") & (shifted["image"] == "img_002"), "psnr"] += 5.0
    shifted.loc[(shifted["variant"] == "cnn") & (shifted["image"] == "img_001"), "psnr"] -= 3.0
    assert plots.largest_differences(shifted, "ipt", "cnn", k=2) == ["img_002", "img_001"]


def test_crop_window_finds_the_changed_region():
    first = np.zeros((100, 120), dtype=np.uint8)
    second = first.copy()
    second[60:76, 30:46] = 200
    top, left = plots.crop_window(first, second, 16)
    assert (top, left) == (60, 30)


def test_crop_comparison_on_embedded_image(tmp_path):
    truth = skdata.astronaut()[:128, :128]
    blurred = (truth.astype(float) * 0.9).astype(np.uint8)
    output_a = truth.copy()
    output_b = truth.copy()
    output_b[10:40, 70:100] = 0
    case = plots.CropCase(
        "astronaut", {"input": blurred, "A": output_a, "B": output_b, "ground truth": truth}
    )
    paths = plots.plot_crops([case], tmp_path, size=32)
    assert len(paths) == 2 and all(p.stat().st_size > 0 for p in paths)
    assert plots.plot_crops([], tmp_path) == []


def test_generalization_marks_the_levels_of_a_mixed_level_model(rows, tmp_path):
    mixed = rows.copy()
    denoise = mixed["task_kind"] == "denoise"
    mixed.loc[denoise, "train_sigmas"] = "5+15+25"  # the planner's label for mixed-level training
    paths = plots.plot_generalization(mixed, tmp_path)
    assert {p.suffix for p in paths} == {".png", ".svg"}
