"""The bicubic super-resolution baselines: the legacy Y-only pipeline and the RGB uint8 pipeline."""

from __future__ import annotations

import numpy as np

from ipt_bench.data.resize import imresize, mod_crop, round_half_away
from ipt_bench.metrics.color import rgb_to_y


def legacy_y_bicubic(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(bicubic SR Y, HR Y) as float64 2-D arrays, by the SRCNN/VDSR-era pipeline of the published rows.

    Y of the uint8 HR rounded like MATLAB ``rgb2ycbcr`` (a 2-D image is its own Y), mod-cropped to
    ``scale``; MATLAB bicubic down by 1/scale and back up in double precision (the LR is *not*
    rounded); the result rounded half away from zero and clipped to [0, 255]. Score after
    cropping ``scale`` px from each side.
    """
    hr_y = mod_crop(rgb_to_y(hr, rounded=True), scale)
    low = imresize(hr_y, 1.0 / scale)
    sr_y = np.clip(round_half_away(imresize(low, output_shape=hr_y.shape)), 0.0, 255.0)
    return sr_y, hr_y


def rgb_bicubic(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(bicubic SR, mod-cropped HR) as uint8 images: what a network's LR input looks like, upsampled.

    LR = MATLAB bicubic of the uint8 HR by 1/scale, rounded to uint8; SR = MATLAB bicubic of that
    uint8 LR back to the HR size, rounded to uint8.
    """
    target = mod_crop(hr, scale)
    return imresize(imresize(target, 1.0 / scale), output_shape=target.shape[:2]), target
