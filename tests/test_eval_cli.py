"""`ipt-bench eval` end to end: published bicubic baselines, the Input row, untrained networks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ipt_bench.cli.main import main
from ipt_bench.core.tasks import Task
from ipt_bench.eval.evaluate import evaluate
from tests.published import PUBLISHED_BICUBIC


def run_json(capsys, *args: str) -> dict:
    status = main(["eval", *args, "--json"])
    out = capsys.readouterr().out
    assert status == 0, out
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize(("dataset", "scale"), sorted(PUBLISHED_BICUBIC))
def test_bicubic_reproduces_published_baselines(capsys, data_root, dataset, scale):
    got = run_json(
        capsys,
        "--model",
        "bicubic",
        "--task",
        "sr",
        "--scale",
        str(scale),
        "--dataset",
        dataset,
        "--data-root",
        str(data_root),
    )
    want_psnr, want_ssim = PUBLISHED_BICUBIC[(dataset, scale)]
    assert got["n_images"] == {"Set5": 5, "Set14": 14}[dataset]
    assert got["channel"] == "y"
    if dataset == "Set5":  # to the printed digits
        assert round(got["psnr"], 2) == want_psnr
        assert round(got["ssim"], 4) == want_ssim
    else:  # SRCNN-era tables differ by up to 0.01 dB on Set14
        assert abs(got["psnr"] - want_psnr) <= 0.01 + 1e-9
        assert abs(got["ssim"] - want_ssim) <= 0.001
    assert got["psnr"] == pytest.approx(np.mean([im["psnr"] for im in got["images"]]))


def test_bicubic_rgb_differs_from_the_legacy_pipeline_by_hundredths(data_root):
    """Upsampling the RGB uint8 LR scores a few hundredths above the legacy Y pipeline on float
    Y, and slightly below it on MATLAB-rounded Y (peers' measurements: 33.68 / 33.65 vs 33.66)."""
    task = Task("sr", 2)
    legacy = evaluate(task=task, dataset="Set5", model="bicubic", data_root=data_root)
    rgb_float = evaluate(
        task=task, dataset="Set5", model="bicubic-rgb", data_root=data_root, y_rounding="float"
    )
    rgb_round = evaluate(task=task, dataset="Set5", model="bicubic-rgb", data_root=data_root)
    assert rgb_float.protocol["lr_source"] == "matlab-bicubic"
    assert legacy.protocol["lr_source"] == "legacy-y-double"
    assert 0.0 < rgb_float.psnr - legacy.psnr < 0.05
    assert -0.05 < rgb_round.psnr - legacy.psnr < 0.0


def test_identity_scores_the_noisy_input(capsys):
    got = run_json(
        capsys, "--model", "identity", "--task", "denoise", "--sigma", "30", "--dataset", "embedded"
    )
    assert got["task"] == "denoise" and got["sigma"] == 30
    # Gaussian noise of sigma 30 on [0, 255]: PSNR on the unclipped noisy image is near
    # 20*log10(255/30) = 18.6 dB on RGB; clipping/rounding and Y weighting move it a little.
    assert 17.0 < got["psnr"] < 22.0


def test_untrained_tiny_ipt_runs_end_to_end(capsys, tmp_path):
    images = tmp_path / "out"
    got = run_json(
        capsys,
        "--model",
        "ipt-tiny-scratch",
        "--task",
        "sr",
        "--scale",
        "2",
        "--dataset",
        "embedded",
        "--save-images",
        str(images),
    )
    assert got["n_images"] == len(got["images"]) > 0
    saved = sorted(p.stem for p in images.glob("*.png"))
    assert saved == sorted(im["name"] for im in got["images"])
    assert all(np.isfinite(im["psnr"]) for im in got["images"])


def test_untrained_tiny_ipt_on_set5(capsys, data_root, tmp_path):
    got = run_json(
        capsys,
        "--model",
        "ipt-tiny-scratch",
        "--task",
        "sr",
        "--scale",
        "4",
        "--dataset",
        "Set5",
        "--data-root",
        str(data_root),
        "--parquet",
        str(tmp_path / "rows.parquet"),
    )
    import pandas as pd

    rows = pd.read_parquet(tmp_path / "rows.parquet")
    assert len(rows) == got["n_images"] == 5
    assert rows["crop_border"].unique().tolist() == [4]


def test_missing_dataset_is_one_clear_error_line(capsys, tmp_path, monkeypatch):
    # --data-root is searched first, then $IPT_BENCH_DATA and the cache: empty all three
    monkeypatch.delenv("IPT_BENCH_DATA", raising=False)
    monkeypatch.setenv("IPT_BENCH_CACHE", str(tmp_path / "cache"))
    status = main(
        ["eval", "--model", "bicubic", "--task", "sr", "--dataset", "Set5", "--data-root", str(tmp_path)]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith("error:") and "Set5" in err[0]
