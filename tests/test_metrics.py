"""BT.601 Y, PSNR, SSIM and the scoring protocol: hand-computed cases and scikit-image on real images."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ipt_bench.core.errors import ConfigError, IptBenchError
from ipt_bench.data.images import read_image
from ipt_bench.data.resize import imresize, mod_crop
from ipt_bench.metrics import MetricProtocol, crop_border, psnr, rgb_to_y, score, ssim


def _skimage_ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(
        structural_similarity(
            a,
            b,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
            channel_axis=2 if a.ndim == 3 else None,
        )
    )


def _bicubic_round_trip(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    target = mod_crop(hr, scale)
    return imresize(imresize(target, 1.0 / scale), output_shape=target.shape[:2]), target


def test_y_of_hand_computed_pixels() -> None:
    pixels = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [10, 200, 30]]], dtype=np.uint8)
    # 16 + (65.481 R + 128.553 G + 24.966 B) / 255, e.g. (10, 200, 30): 16 + 27114.39 / 255.
    expected = [16.0, 235.0, 16 + 65.481, 16 + 27114.39 / 255]
    np.testing.assert_allclose(rgb_to_y(pixels, rounded=False)[0], expected, rtol=0, atol=1e-9)
    assert rgb_to_y(pixels)[0].tolist() == [16.0, 235.0, 81.0, 122.0]


def test_y_float_matches_skimage_and_rounded_is_matlab_round() -> None:
    img = np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    y_float = rgb_to_y(img, rounded=False)
    np.testing.assert_allclose(y_float, rgb2ycbcr(img)[..., 0], rtol=0, atol=1e-9)
    y_round = rgb_to_y(img)
    assert y_round.dtype == np.float64 and y_round.shape == (40, 30)
    assert np.array_equal(y_round, np.floor(y_float + 0.5))
    assert np.abs(y_round - y_float).max() <= 0.5


def test_gray_is_its_own_y_and_bad_shapes_fail() -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(rgb_to_y(gray), gray.astype(np.float64))
    with pytest.raises(IptBenchError, match="HxWx3"):
        rgb_to_y(np.zeros((3, 4, 4), dtype=np.uint8))


def test_psnr_hand_computed_and_identical() -> None:
    a = np.zeros((4, 4), dtype=np.uint8)
    b = a.copy()
    b[0, 0] = 255  # MSE = 255^2 / 16 -> PSNR = 10 log10(16)
    assert psnr(a, b) == pytest.approx(10 * math.log10(16), abs=1e-12)
    assert psnr(a, a) == math.inf
    assert psnr(a / 255.0, b / 255.0, data_range=1.0) == pytest.approx(10 * math.log10(16), abs=1e-12)


def test_ssim_of_constant_images_matches_the_formula() -> None:
    c1, c2 = 100.0, 130.0
    k1 = (0.01 * 255) ** 2
    a, b = np.full((16, 16), c1), np.full((16, 16), c2)
    # Zero variances: SSIM = luminance term only.
    expected = (2 * c1 * c2 + k1) / (c1**2 + c2**2 + k1)
    assert ssim(a, b) == pytest.approx(expected, abs=1e-12)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)


def test_ssim_is_the_mean_over_valid_windows_computed_directly() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (13, 14)).astype(np.float64)
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255)
    offsets = np.arange(11) - 5.0
    g = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * 1.5**2))
    g /= g.sum()
    k1, k2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values = []
    for i in range(3):  # 'valid': the 11x11 window fits at 3 x 4 positions
        for j in range(4):
            x, y = a[i : i + 11, j : j + 11], b[i : i + 11, j : j + 11]
            mx, my = (g * x).sum(), (g * y).sum()
            vx, vy = (g * (x - mx) ** 2).sum(), (g * (y - my) ** 2).sum()
            cov = (g * (x - mx) * (y - my)).sum()
            values.append((2 * mx * my + k1) * (2 * cov + k2) / ((mx**2 + my**2 + k1) * (vx + vy + k2)))
    assert ssim(a, b) == pytest.approx(np.mean(values), abs=1e-10)


@pytest.mark.data
@pytest.mark.parametrize(("dataset", "name", "scale"), [("Set5", "butterfly", 4), ("Set14", "bridge", 3)])
def test_psnr_ssim_match_skimage_on_real_images(data_root: Path, dataset: str, name: str, scale: int) -> None:
    sr, hr = _bicubic_round_trip(read_image(data_root / dataset / "HR" / f"{name}.png"), scale)
    for a, b in [(sr, hr), (rgb_to_y(sr, rounded=False), rgb_to_y(hr, rounded=False))]:
        assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(b, a, data_range=255), abs=1e-4)
        assert ssim(a, b) == pytest.approx(_skimage_ssim(a, b), abs=1e-5)


def test_shape_mismatch_and_tiny_images_fail_clearly() -> None:
    with pytest.raises(IptBenchError, match="shapes differ"):
        psnr(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(IptBenchError, match="at least 11x11"):
        ssim(np.zeros((10, 40)), np.zeros((10, 40)))


def test_crop_border() -> None:
    img = np.arange(100).reshape(10, 10)
    assert crop_border(img, 0) is img
    assert np.array_equal(crop_border(img, 2), img[2:8, 2:8])
    with pytest.raises(IptBenchError, match="cannot crop 5 px"):
        crop_border(img, 5)
    with pytest.raises(IptBenchError, match="non-negative"):
        crop_border(img, -1)


def test_protocol_row_and_validation() -> None:
    defaults = {"y_formula": "bt601", "gray": "own", "ssim_variant": "valid"}
    assert MetricProtocol().as_row() == {
        "protocol": "custom",
        "channel": "y",
        "y_rounding": "round",
        "crop_border": 0,
        **defaults,
    }
    assert MetricProtocol("rgb", "float", 4).as_row() == {
        "protocol": "custom",
        "channel": "rgb",
        "y_rounding": "float",
        "crop_border": 4,
        **defaults,
    }
    with pytest.raises(ConfigError, match="channel"):
        MetricProtocol(channel="yuv")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="rounding"):
        MetricProtocol(y_rounding="nearest")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="border"):
        MetricProtocol(border=-2)
    with pytest.raises(ConfigError, match="gray cannot be 'mean'"):
        MetricProtocol(gray="mean")


def test_score_follows_the_protocol() -> None:
    rng = np.random.default_rng(5)
    target = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    output = np.clip(target.astype(int) + rng.integers(-9, 10, target.shape), 0, 255).astype(np.uint8)
    ours = score(output, target, MetricProtocol("rgb", border=3))
    a, b = output[3:-3, 3:-3], target[3:-3, 3:-3]
    assert ours["psnr"] == pytest.approx(peak_signal_noise_ratio(b, a), abs=1e-10)
    assert ours["ssim"] == pytest.approx(_skimage_ssim(a, b), abs=1e-10)
    for rounding, rounded in (("round", True), ("float", False)):
        y_out, y_tgt = rgb_to_y(output, rounded=rounded), rgb_to_y(target, rounded=rounded)
        assert score(output, target, MetricProtocol("y", rounding)) == pytest.approx(
            {"psnr": psnr(y_out, y_tgt), "ssim": ssim(y_out, y_tgt)}, abs=1e-12
        )
    assert score(output, target, MetricProtocol("y", "round")) != score(
        output, target, MetricProtocol("y", "float")
    )


def test_score_gray_target_uses_its_single_channel() -> None:
    rng = np.random.default_rng(6)
    target = rng.integers(0, 256, (32, 32), dtype=np.uint8)
    output = np.clip(target.astype(int) + rng.integers(-5, 6, target.shape), 0, 255).astype(np.uint8)
    expected = {"psnr": psnr(output, target), "ssim": ssim(output, target)}
    assert score(output, target, MetricProtocol("y")) == pytest.approx(expected, abs=1e-12)
    assert score(output, target, MetricProtocol("rgb")) == pytest.approx(expected, abs=1e-12)


def test_score_rejects_non_uint8_and_mismatched_channels() -> None:
    target = np.zeros((16, 16), dtype=np.uint8)
    with pytest.raises(IptBenchError, match="uint8"):
        score(target.astype(np.int16), target, MetricProtocol())
    with pytest.raises(IptBenchError, match="uint8 target"):
        score(target, target.astype(np.float32), MetricProtocol())
    # A float output (the unquantised input of the Input row) is scored as it is.
    noisy = target.astype(np.float64) + 0.5
    assert score(noisy, target, MetricProtocol(), ("psnr",))["psnr"] == pytest.approx(
        10 * np.log10(255**2 / 0.25)
    )
    with pytest.raises(IptBenchError, match="differs from target shape"):
        score(np.zeros((16, 16, 3), dtype=np.uint8), target, MetricProtocol())
