"""GMSD: gradient magnitude similarity deviation (Xue et al., IEEE TIP 2014); lower is better.

Follows the authors' reference: both images are averaged over 2x2 blocks and subsampled by 2,
filtered with the 3x3 Prewitt kernels (/3), and the per-pixel similarity
``(2 g1 g2 + c) / (g1^2 + g2^2 + c)`` (c = 170 on the 0-255 scale) is summarised by its standard
deviation (N - 1). Images scored on RGB are scored per channel and averaged. Filtering is
scipy's ``ndimage.convolve`` with zero padding (MATLAB ``conv2(..., 'same')``).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ipt_bench.metrics.registry import Metric, register_metric

_C = 170.0
_PREWITT_X = np.array([[1.0, 0.0, -1.0]] * 3) / 3.0


def gmsd(a: np.ndarray, b: np.ndarray) -> float:
    """GMSD of two same-shape images (HxW or HxWxC) on the 0-255 scale; 0 for identical images."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.ndim == 3:
        return float(np.mean([_gmsd_plane(x[..., c], y[..., c]) for c in range(x.shape[2])]))
    return _gmsd_plane(x, y)


def _gmsd_plane(x: np.ndarray, y: np.ndarray) -> float:
    gx, gy = _gradient_magnitude(_halve(x)), _gradient_magnitude(_halve(y))
    similarity = (2.0 * gx * gy + _C) / (gx**2 + gy**2 + _C)
    return float(np.std(similarity, ddof=1))


def _halve(plane: np.ndarray) -> np.ndarray:
    """Mean of each 2x2 block (zero beyond the last row/column), every second row and column."""
    padded = np.pad(plane, ((0, 1), (0, 1)))
    blocks = (padded[:-1, :-1] + padded[1:, :-1] + padded[:-1, 1:] + padded[1:, 1:]) / 4.0
    return blocks[::2, ::2]


def _gradient_magnitude(plane: np.ndarray) -> np.ndarray:
    gx = ndimage.convolve(plane, _PREWITT_X, mode="constant")
    gy = ndimage.convolve(plane, _PREWITT_X.T, mode="constant")
    return np.sqrt(gx**2 + gy**2)


register_metric(
    Metric(
        name="gmsd",
        compute=gmsd,
        label="GMSD",
        higher_is_better=False,
        digits=4,
        description="gradient magnitude similarity deviation (Xue et al. 2014), lower is better",
    )
)
