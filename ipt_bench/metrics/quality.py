"""Full-reference quality: PSNR and SSIM (Wang et al. 2004), float64, plus border cropping.

SSIM is hand-written because it must equal the MATLAB reference ('valid' filtering, no
downsampling) and be at least as fast as scikit-image's ``structural_similarity``, which filters
the whole padded image: here the separable 11-tap Gaussian is a matrix product over sliding
column windows, then ``correlate1d`` along rows, and only the 'valid' region is kept.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import correlate1d, uniform_filter

from ipt_bench.core.errors import IptBenchError

_WINDOW = 11
_SIGMA = 1.5
_K1, _K2 = 0.01, 0.03


def crop_border(img: np.ndarray, n: int) -> np.ndarray:
    """Drop ``n`` pixels from every side (the SR evaluation ignores a border of ``scale`` px)."""
    if int(n) != n or n < 0:
        raise IptBenchError(f"crop border must be a non-negative integer, got {n!r}", "pass e.g. 0 or 4")
    if n == 0:
        return img
    h, w = img.shape[:2]
    if h <= 2 * n or w <= 2 * n:
        raise IptBenchError(
            f"cannot crop {n} px from each side of a {h}x{w} image", "use a smaller border or a larger image"
        )
    return img[n:-n, n:-n]


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB over all pixels (``inf`` for identical images).

    Two float32 images are compared in float32 (BasicSR's arithmetic on its float32 Y; the
    logarithm stays float64, as in BasicSR under NumPy 1.x); anything else in float64."""
    x, y = _pair_float64(a, b, "psnr")
    if np.asarray(a).dtype == np.float32 and np.asarray(b).dtype == np.float32:
        x, y = np.asarray(a), np.asarray(b)
    mse = float(np.mean((x - y) ** 2))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(data_range**2 / mse))


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """Mean SSIM: 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03, 'valid' map, no downsampling.

    A 3-D (HxWxC) input is scored per channel and the channel SSIMs are averaged.
    """
    x, y = _pair_float64(a, b, "ssim")
    if min(x.shape[:2]) < _WINDOW:
        raise IptBenchError(
            f"ssim needs images of at least {_WINDOW}x{_WINDOW} px, got {x.shape[0]}x{x.shape[1]}",
            "use a smaller crop border or larger images",
        )
    if x.ndim == 2:
        return _ssim_plane(x, y, data_range)
    planes = zip(np.moveaxis(x, 2, 0).copy(), np.moveaxis(y, 2, 0).copy(), strict=True)  # contiguous planes
    return float(np.mean([_ssim_plane(xc, yc, data_range) for xc, yc in planes]))


def _pair_float64(a: np.ndarray, b: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        raise IptBenchError(
            f"{name}: image shapes differ ({x.shape} vs {y.shape})",
            "compare an output with its own target (same size, same number of channels)",
        )
    if x.ndim not in (2, 3) or x.size == 0:
        raise IptBenchError(f"{name} expects non-empty HxW or HxWxC images, got shape {x.shape}", "")
    return x.astype(np.float64), y.astype(np.float64)


def _gaussian_taps() -> np.ndarray:
    offsets = np.arange(_WINDOW, dtype=np.float64) - (_WINDOW - 1) / 2
    taps = np.exp(-(offsets**2) / (2 * _SIGMA**2))
    return taps / taps.sum()


def _valid_filter(plane: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Separable 'valid' correlation of an HxW plane with ``taps`` along both axes."""
    r = (len(taps) - 1) // 2
    rows = sliding_window_view(plane, len(taps), axis=0) @ taps
    return correlate1d(rows, taps, axis=1)[:, r:-r]


def _ssim_plane(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    taps = _gaussian_taps()
    mu_x, mu_y, xx, yy, xy = (_valid_filter(p, taps) for p in (x, y, x * x, y * y, x * y))
    mu_xx, mu_yy, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    numerator = (2 * mu_xy + c1) * (2 * (xy - mu_xy) + c2)
    denominator = (mu_xx + mu_yy + c1) * ((xx - mu_xx) + (yy - mu_yy) + c2)
    return float(np.mean(numerator / denominator))


def matlab_ssim_downsample(img: np.ndarray) -> np.ndarray:
    """MATLAB ``ssim_index.m``'s pre-step: ``f = max(1, round(min(H, W) / 256))``; if ``f > 1``, an
    ``f x f`` average filter (``imfilter(..., 'symmetric', 'same')``) then every ``f``-th pixel."""
    plane = np.asarray(img, dtype=np.float64)
    f = max(1, int(np.floor(min(plane.shape[:2]) / 256 + 0.5)))
    if f == 1:
        return plane
    # MATLAB centres an even kernel at index f/2 (1-based): scipy needs origin -1 for that.
    origin = -1 if f % 2 == 0 else 0
    filtered = uniform_filter(plane, size=f, mode="reflect", origin=origin, axes=(0, 1))
    return filtered[::f, ::f]
