"""Gaussian test noise (legacy KAIR/SwinIR protocol, keyed seeded noise) and synthetic rain streaks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import require_dataset
from skimage import data as skdata

from ipt_bench.core.errors import ConfigError, IptBenchError
from ipt_bench.data.images import read_image
from ipt_bench.data.noise import NoiseProtocol, add_gaussian_noise
from ipt_bench.data.rain import add_rain, rain_layer
from ipt_bench.metrics import MetricProtocol, psnr, score


def _literal_swinir_noisy(clean_rgb: np.ndarray, sigma: float) -> np.ndarray:
    """The SwinIR/KAIR test-script expression on the BGR image, flipped back to RGB afterwards."""
    img_gt = clean_rgb[..., ::-1].astype(np.float32) / 255.0
    np.random.seed(seed=0)
    img_lq = img_gt + np.random.normal(0, sigma / 255.0, img_gt.shape)
    return img_lq[..., ::-1]


@pytest.mark.parametrize("sigma", [15, 25, 50])
def test_legacy_colour_noise_is_bit_identical_to_the_test_script(sigma: int) -> None:
    clean = skdata.astronaut()[:96, :80]
    noisy = add_gaussian_noise(clean, sigma)
    assert noisy.dtype == np.float64 and noisy.shape == clean.shape
    assert np.array_equal(noisy, _literal_swinir_noisy(clean, sigma))
    # The channel order matters: noise drawn for the RGB-ordered array is different.
    np.random.seed(0)
    rgb_order = clean.astype(np.float32) / 255.0 + np.random.normal(0, sigma / 255.0, clean.shape)
    assert not np.array_equal(noisy, rgb_order)


@pytest.mark.data
def test_legacy_noise_matches_opencv_reading_of_a_real_file(data_root: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    path = data_root / "CBSD68" / "HR" / "101085.png"
    img_gt = cv2.imread(str(path), cv2.IMREAD_COLOR).astype(np.float32) / 255.0
    np.random.seed(seed=0)
    expected_bgr = img_gt + np.random.normal(0, 25 / 255.0, img_gt.shape)
    noisy = add_gaussian_noise(read_image(path), 25)
    assert np.array_equal(noisy[..., ::-1], expected_bgr)


def test_legacy_gray_noise_and_global_rng_is_left_alone() -> None:
    clean = skdata.camera()[:64, :48]
    np.random.seed(1234)
    before = np.random.random(3)
    np.random.seed(1234)
    noisy = add_gaussian_noise(clean, 30)
    after = np.random.random(3)
    assert np.array_equal(before, after)
    np.random.seed(0)
    expected = clean.astype(np.float32) / 255.0 + np.random.normal(0, 30 / 255.0, clean.shape)
    assert noisy.shape == clean.shape and np.array_equal(noisy, expected)
    # The KAIR gray path uses an HxWx1 array: the same draws in the same order.
    np.random.seed(0)
    kair = clean[..., None].astype(np.float32) / 255.0 + np.random.normal(0, 30 / 255.0, (64, 48, 1))
    assert np.array_equal(noisy, kair[..., 0])


def test_legacy_noise_is_unclipped_by_default_and_has_the_right_spread() -> None:
    clean = skdata.astronaut()
    noisy = add_gaussian_noise(clean, 50)
    assert noisy.min() < 0 and noisy.max() > 1
    assert np.std(noisy - clean / 255.0) == pytest.approx(50 / 255.0, rel=0.01)
    clipped = add_gaussian_noise(clean, 50, clip=True)
    assert clipped.min() == 0 and clipped.max() == 1
    assert np.array_equal(clipped, np.clip(noisy, 0, 1))
    rounded = add_gaussian_noise(clean, 50, clip=True, round_=True)
    assert np.allclose(rounded * 255, np.round(rounded * 255), atol=1e-9)
    assert np.abs(rounded - clipped).max() <= 0.5 / 255 + 1e-12


def test_seeded_noise_is_reproducible_and_keyed() -> None:
    clean = skdata.chelsea()[:50, :60]
    first = add_gaussian_noise(clean, 25, mode="seeded", seed=3, key="CBSD68/101085")
    again = add_gaussian_noise(clean, 25, mode="seeded", seed=3, key="CBSD68/101085")
    assert np.array_equal(first, again)
    assert np.array_equal(first, add_gaussian_noise(clean, 25.0, mode="seeded", seed=3, key="CBSD68/101085"))
    for other in (
        add_gaussian_noise(clean, 25, mode="seeded", seed=4, key="CBSD68/101085"),
        add_gaussian_noise(clean, 25, mode="seeded", seed=3, key="CBSD68/101087"),
        add_gaussian_noise(clean, 50, mode="seeded", seed=3, key="CBSD68/101085") * 0.5 + clean / 510.0,
    ):
        assert not np.allclose(first, other)
    assert not np.array_equal(first, add_gaussian_noise(clean, 25))
    assert np.std(first - clean / 255.0) == pytest.approx(25 / 255.0, rel=0.05)


def test_noise_protocol_describes_itself_and_validates() -> None:
    assert NoiseProtocol() == NoiseProtocol("legacy", 0, False, False)
    labels = {
        NoiseProtocol().describe(),
        NoiseProtocol("seeded", 1).describe(),
        NoiseProtocol("seeded", 2).describe(),
        NoiseProtocol(clip=True).describe(),
        NoiseProtocol(round_=True).describe(),
    }
    assert len(labels) == 5
    assert "legacy" in NoiseProtocol().describe() and "seed=2" in NoiseProtocol("seeded", 2).describe()
    with pytest.raises(ConfigError, match="noise mode"):
        NoiseProtocol(mode="gaussian")  # type: ignore[arg-type]
    with pytest.raises(IptBenchError, match="uint8"):
        add_gaussian_noise(np.zeros((4, 4)), 25)
    with pytest.raises(IptBenchError, match="sigma"):
        add_gaussian_noise(np.zeros((4, 4), np.uint8), -1)


def test_rain_is_deterministic_given_the_generator() -> None:
    clean = skdata.astronaut()[:120, :100]
    a = add_rain(clean, np.random.default_rng(11))
    b = add_rain(clean, np.random.default_rng(11))
    c = add_rain(clean, np.random.default_rng(12))
    assert a.dtype == np.uint8 and a.shape == clean.shape
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    layer = rain_layer(30, 40, np.random.default_rng(0), density=0.01, length=9, angle=10, thickness=1)
    assert layer.shape == (30, 40) and layer.dtype == np.float64
    assert layer.min() >= 0 and layer.max() <= 1 and layer.max() > 0


def test_rain_only_brightens_and_hits_every_channel_equally() -> None:
    clean = skdata.chelsea()
    rainy = add_rain(clean, np.random.default_rng(5))
    added = rainy.astype(int) - clean
    assert added.min() >= 0 and (added > 0).mean() > 0.01
    unsaturated = (clean < 120).all(axis=2)  # default peak streak is <= 0.5 * 255: no channel clips here
    assert np.array_equal(added[unsaturated][:, 0], added[unsaturated][:, 2])
    gray = add_rain(skdata.camera(), np.random.default_rng(5))
    assert gray.shape == (512, 512) and (gray.astype(int) >= skdata.camera()).all()


def test_rain_streaks_follow_the_angle() -> None:
    rng = np.random.default_rng(0)
    vertical = rain_layer(64, 64, rng, density=0.002, length=21, angle=0.0, thickness=1, brightness=1)
    rows, cols = np.nonzero(vertical > 0.5)
    assert np.ptp(rows) > 15 and len(set(cols.tolist())) < len(cols) / 5  # long thin vertical segments


def test_default_rain_psnr_is_in_a_sane_range() -> None:
    scores = [
        psnr(add_rain(img, np.random.default_rng(seed)), img)
        for seed, img in enumerate(
            [skdata.astronaut(), skdata.chelsea(), skdata.coffee(), skdata.camera()] * 2
        )
    ]
    assert min(scores) > 20 and max(scores) < 37
    assert 24 < np.mean(scores) < 33


@pytest.mark.data
def test_synthetic_rain_is_as_strong_as_the_real_rain100l_inputs() -> None:
    root = require_dataset("Rain100L/norain", "Rain100L/rain")
    clean_files = sorted((root / "Rain100L" / "norain").glob("*.png"))
    assert clean_files
    real, synthetic = [], []
    for index, clean_path in enumerate(clean_files):
        clean = read_image(clean_path)
        real.append(
            score(read_image(clean_path.parent.parent / "rain" / clean_path.name), clean, MetricProtocol())[
                "psnr"
            ]
        )
        synthetic.append(
            score(add_rain(clean, np.random.default_rng(index)), clean, MetricProtocol())["psnr"]
        )
    # Real Y-PSNR of the staged pairs: 23.9-34.4 dB (mean 29.7); the full set's published mean 26.9.
    assert abs(np.mean(synthetic) - np.mean(real)) < 4.0


def test_rain_parameters_are_validated() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(IptBenchError, match="density"):
        rain_layer(10, 10, rng, density=2.0)
    with pytest.raises(IptBenchError, match="angle"):
        rain_layer(10, 10, rng, angle=120.0)
    with pytest.raises(IptBenchError, match="uint8"):
        add_rain(np.zeros((5, 5)), rng)
