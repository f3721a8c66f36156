"""BT.601 studio-range luma (Y of YCbCr) in the variants the references use.

- ``bt601``: ``16 + (65.481 R + 128.553 G + 24.966 B) / 255`` in float64, optionally rounded like
  MATLAB ``rgb2ycbcr`` on uint8.
- ``bt601-f32``: the same computed as BasicSR's ``to_y_channel`` does (image as float32 / 255,
  weights applied, result cast to float32 and scaled back by 255 in float32).
- ``ipt``: the official IPT ``utility.calc_psnr`` weights ``[65.738, 129.057, 25.064] / 256``
  (it applies them to the difference of two images, where the offset cancels; here to each image,
  with the offset 16 kept so the plane looks like Y).
"""

from __future__ import annotations

import numpy as np

from ipt_bench.core.errors import IptBenchError

# ITU-R BT.601 studio range: Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 for R, G, B in [0, 255].
_BT601 = np.array([65.481, 128.553, 24.966], dtype=np.float64)
_IPT_WEIGHTS = np.array([65.738, 129.057, 25.064], dtype=np.float64) / 256.0
_Y_OFFSET = 16.0
Y_FORMULAS = ("bt601", "bt601-f32", "ipt")


def rgb_to_y(img: np.ndarray, rounded: bool = True, formula: str = "bt601") -> np.ndarray:
    """Y channel (HxW, 0-255 scale; float64, float32 for ``bt601-f32``) of an RGB image with values
    on the 0-255 scale.

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
    if formula == "bt601":
        y = arr.astype(np.float64) @ (_BT601 / 255.0) + _Y_OFFSET
    elif formula == "bt601-f32":  # float32 result: PSNR then takes BasicSR's float32 MSE
        unit = arr.astype(np.float32) / np.float32(255.0)
        y = ((unit @ _BT601 + _Y_OFFSET) / 255.0).astype(np.float32) * np.float32(255.0)
    elif formula == "ipt":
        y = arr.astype(np.float64) @ _IPT_WEIGHTS + _Y_OFFSET
    else:
        raise IptBenchError(f"unknown Y formula {formula!r}", f"use one of {', '.join(Y_FORMULAS)}")
    if not rounded:
        return y
    # MATLAB round: half away from zero (Y >= 16 here, so floor(y + 0.5) is the same thing).
    return np.floor(y + 0.5)
