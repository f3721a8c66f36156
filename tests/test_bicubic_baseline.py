"""The published bicubic baselines (RCAN/EDSR-era tables) from the legacy Y pipeline on the real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ipt_bench.data.images import read_image
from ipt_bench.eval.baseline_bicubic import legacy_y_bicubic, rgb_bicubic
from ipt_bench.metrics import MetricProtocol, crop_border, psnr, score, ssim
from tests.published import PUBLISHED_BICUBIC as PUBLISHED


def _legacy_means(root: Path, dataset: str, scale: int) -> tuple[float, float]:
    scores = []
    for path in sorted((root / dataset / "HR").glob("*.png")):
        sr_y, hr_y = legacy_y_bicubic(read_image(path), scale)
        sr_y, hr_y = crop_border(sr_y, scale), crop_border(hr_y, scale)
        scores.append((psnr(sr_y, hr_y), ssim(sr_y, hr_y)))
    return tuple(np.mean(scores, axis=0))


@pytest.mark.data
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_set5_reproduces_published_bicubic_to_the_printed_digits(data_root: Path, scale: int) -> None:
    mean_psnr, mean_ssim = _legacy_means(data_root, "Set5", scale)
    assert (round(mean_psnr, 2), round(mean_ssim, 4)) == PUBLISHED[("Set5", scale)]


@pytest.mark.data
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_set14_is_within_a_hundredth_of_published_bicubic(data_root: Path, scale: int) -> None:
    mean_psnr, mean_ssim = _legacy_means(data_root, "Set14", scale)
    published_psnr, published_ssim = PUBLISHED[("Set14", scale)]
    assert abs(mean_psnr - published_psnr) < 0.01
    assert abs(mean_ssim - published_ssim) < 0.001


def test_legacy_pipeline_shapes_and_rounding() -> None:
    hr = np.random.default_rng(0).integers(0, 256, (50, 37, 3), dtype=np.uint8)
    sr_y, hr_y = legacy_y_bicubic(hr, 3)
    assert sr_y.shape == hr_y.shape == (48, 36)
    assert sr_y.dtype == hr_y.dtype == np.float64
    assert np.array_equal(sr_y, np.round(sr_y)) and np.array_equal(hr_y, np.round(hr_y))
    assert sr_y.min() >= 0 and sr_y.max() <= 255
    gray_sr, gray_hr = legacy_y_bicubic(hr[..., 0], 2)
    assert np.array_equal(gray_hr, hr[:50, :36, 0])
    assert gray_sr.shape == (50, 36)


@pytest.mark.data
def test_rgb_pipeline_on_set5_x2_is_close_to_the_legacy_row(data_root: Path) -> None:
    rounded, floating = [], []
    for path in sorted((data_root / "Set5" / "HR").glob("*.png")):
        sr, target = rgb_bicubic(read_image(path), 2)
        assert sr.dtype == np.uint8 and sr.shape == target.shape
        rounded.append(score(sr, target, MetricProtocol("y", "round", 2))["psnr"])
        floating.append(score(sr, target, MetricProtocol("y", "float", 2))["psnr"])
    legacy_psnr = _legacy_means(data_root, "Set5", 2)[0]
    rounded_psnr, floating_psnr = np.mean(rounded), np.mean(floating)
    # Quantising LR and SR to uint8 costs ~0.02 dB with rounded Y; float Y gains ~0.01 dB back.
    assert 33.62 < rounded_psnr < legacy_psnr < floating_psnr < 33.69
