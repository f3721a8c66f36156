"""BT.601 studio-range luma (Y of YCbCr), rounded like MATLAB ``rgb2ycbcr`` on uint8 or left float."""

from __future__ import annotations

import numpy as np

from ipt_bench.core.errors import IptBenchError

# ITU-R BT.601 studio range: Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 for R, G, B in [0, 255].
_Y_WEIGHTS = np.array([65.481, 128.553, 24.966], dtype=np.float64) / 255.0
_Y_OFFSET = 16.0


def rgb_to_y(img: np.ndarray, rounded: bool = True) -> np.ndarray:
    """Y channel (float64 HxW, 0-255 scale) of an RGB image with values on the 0-255 scale.

    ``rounded`` rounds half away from zero, as MATLAB ``rgb2ycbcr`` does on uint8 input (the
    published MATLAB-era tables score that Y). A 2-D (gray) image is its own Y.
    """
    arr = np.asarray(img)
    if arr.ndim == 2:
        return arr.astype(np.float64)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise IptBenchError(
            f"rgb_to_y expects an HxWx3 RGB or HxW gray image, got shape {arr.shape}",
            "convert the image to RGB (e.g. drop alpha) before computing Y",
        )
    y = arr.astype(np.float64) @ _Y_WEIGHTS + _Y_OFFSET
    if not rounded:
        return y
    # MATLAB round: half away from zero (Y >= 16 here, so floor(y + 0.5) is the same thing).
    return np.floor(y + 0.5)
