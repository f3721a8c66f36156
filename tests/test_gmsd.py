"""GMSD, the third registered metric: against pyiqa's implementation and by its definition."""

from __future__ import annotations

import numpy as np
import pytest

from ipt_bench.metrics.library.gmsd import gmsd
from ipt_bench.metrics.protocol import MetricProtocol, score
from ipt_bench.metrics.registry import get_metric


def _pair(shape: tuple[int, ...], sigma: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    clean = rng.integers(0, 256, shape).astype(np.float64)
    return clean, np.clip(np.rint(clean + rng.normal(0, sigma, shape)), 0, 255)


@pytest.mark.parametrize("shape", [(64, 48), (40, 40)])
def test_gmsd_equals_pyiqa_on_one_channel(shape):
    torch = pytest.importorskip("torch")
    reference = pytest.importorskip("pyiqa.archs.gmsd_arch")
    clean, noisy = _pair(shape, 20.0)
    to_tensor = lambda a: torch.from_numpy(a / 255.0)[None, None]  # noqa: E731
    expected = reference.gmsd(to_tensor(noisy), to_tensor(clean), channels=1, test_y_channel=False).item()
    assert gmsd(noisy, clean) == pytest.approx(expected, rel=1e-6)


def test_gmsd_by_its_definition_on_an_odd_sized_image():
    """2x2 block means with zeros past the last row/column (MATLAB conv2 'same' then 1:2:end),
    Prewitt/3 with zero padding, similarity c = 170, standard deviation with N - 1."""
    clean, noisy = _pair((9, 7), 30.0, seed=3)

    def halve(x):
        padded = np.zeros((x.shape[0] + 1, x.shape[1] + 1))
        padded[: x.shape[0], : x.shape[1]] = x
        return np.array(
            [
                [padded[i : i + 2, j : j + 2].mean() for j in range(0, x.shape[1], 2)]
                for i in range(0, x.shape[0], 2)
            ]
        )

    def magnitude(x):
        padded = np.pad(x, 1)
        out = np.zeros_like(x)
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                window = padded[i : i + 3, j : j + 3]
                gx = (window[:, 0].sum() - window[:, 2].sum()) / 3.0
                gy = (window[0, :].sum() - window[2, :].sum()) / 3.0
                out[i, j] = np.hypot(gx, gy)
        return out

    g1, g2 = magnitude(halve(noisy)), magnitude(halve(clean))
    expected = np.std((2 * g1 * g2 + 170.0) / (g1**2 + g2**2 + 170.0), ddof=1)
    assert gmsd(noisy, clean) == pytest.approx(expected, abs=1e-12)


def test_gmsd_is_registered_zero_for_identical_images_and_grows_with_noise():
    metric = get_metric("gmsd")
    assert metric.compute is gmsd and not metric.higher_is_better
    clean, _ = _pair((48, 48), 0.0)
    assert gmsd(clean, clean) == 0.0
    values = [gmsd(_pair((48, 48), s)[1], clean) for s in (5.0, 15.0, 40.0)]
    assert values == sorted(values) and values[0] > 0


def test_scoring_by_name_includes_gmsd_on_y_and_rgb():
    rng = np.random.default_rng(1)
    target = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    output = np.clip(target.astype(int) + rng.integers(-9, 10, target.shape), 0, 255).astype(np.uint8)
    rgb = score(output, target, MetricProtocol("rgb", border=2), ("gmsd",))
    per_channel = [gmsd(output[2:-2, 2:-2, c], target[2:-2, 2:-2, c]) for c in range(3)]
    assert rgb == {"gmsd": pytest.approx(float(np.mean(per_channel)), abs=1e-15)}
    assert set(score(output, target, MetricProtocol("y"), ("psnr", "gmsd"))) == {"psnr", "gmsd"}
