"""MATLAB-compatible bicubic ``imresize`` (antialiased, a = -0.5), ``mod_crop`` and MATLAB rounding.

Hand-written because no maintained library reproduces MATLAB bit for bit: OpenCV/Pillow/torch use
other kernels or no antialiasing, and the usual Python ports (BasicSR, pyiqa) round only once at
the end, which is 1-2 levels off on 10-15% of pixels of the published LR test images.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ipt_bench.core.errors import IptBenchError

_KERNEL_WIDTH = 4.0


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Round half away from zero, as MATLAB ``round`` does (``np.round`` rounds half to even)."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def mod_crop(img: np.ndarray, s: int) -> np.ndarray:
    """Keep the top-left ``(h - h % s) x (w - w % s)`` part, so both sides divide by ``s``."""
    if int(s) != s or s < 1:
        raise IptBenchError(f"mod_crop needs a positive integer scale, got {s!r}", "pass e.g. 2, 3 or 4")
    h, w = img.shape[:2]
    return img[: h - h % s, : w - w % s]


def imresize(
    img: np.ndarray, scale: float | None = None, *, output_shape: tuple[int, int] | None = None
) -> np.ndarray:
    """Resize like MATLAB ``imresize(img, scale, 'bicubic')`` (or to ``output_shape`` = (h, w)).

    uint8 input gives uint8 output, rounded half away from zero and saturated after each pass,
    as MATLAB does; float input gives float64 output without rounding. The output size is
    ``ceil(in * scale)``; the dimension with the smaller scale is resized first (height on ties).
    """
    arr = np.asarray(img)
    if arr.ndim not in (2, 3) or min(arr.shape[:2]) < 1:
        raise IptBenchError(
            f"imresize expects an HxW or HxWxC image, got shape {arr.shape}", "pass a non-empty 2-D/3-D array"
        )
    is_uint8 = arr.dtype == np.uint8
    if not is_uint8 and not np.issubdtype(arr.dtype, np.floating):
        raise IptBenchError(
            f"imresize supports uint8 or float images, got dtype {arr.dtype}",
            "convert with img.astype(np.uint8) or img.astype(np.float64)",
        )
    scales, out_shape = _scales_and_shape(arr.shape[:2], scale, output_shape)
    out = arr.astype(np.float64)
    for axis in np.argsort(scales, kind="stable"):
        weights, columns = _contributions(arr.shape[axis], out_shape[axis], scales[axis])
        first = np.ascontiguousarray(np.moveaxis(out, axis, 0))  # row gathers are fast when contiguous
        out = np.moveaxis(_apply_along_first_axis(first, weights, columns), 0, axis)
        if is_uint8:
            out = np.clip(round_half_away(out), 0, 255)
    return out.astype(np.uint8) if is_uint8 else out


def _scales_and_shape(
    in_shape: tuple[int, ...], scale: float | None, output_shape: tuple[int, int] | None
) -> tuple[tuple[float, float], tuple[int, int]]:
    if (scale is None) == (output_shape is None):
        raise IptBenchError(
            "imresize needs exactly one of scale or output_shape",
            "pass e.g. scale=0.5 or output_shape=(h, w)",
        )
    if scale is not None:
        if not (math.isfinite(scale) and scale > 0):
            raise IptBenchError(f"imresize scale must be a positive number, got {scale!r}", "pass e.g. 0.5")
        shape = (math.ceil(in_shape[0] * scale), math.ceil(in_shape[1] * scale))
        return (float(scale), float(scale)), shape
    assert output_shape is not None
    if len(output_shape) != 2 or min(output_shape) < 1:
        raise IptBenchError(
            f"imresize output_shape must be two positive sizes (h, w), got {output_shape!r}",
            "pass e.g. output_shape=(128, 96)",
        )
    shape = (int(output_shape[0]), int(output_shape[1]))
    return (shape[0] / in_shape[0], shape[1] / in_shape[1]), shape


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys cubic convolution kernel with a = -0.5."""
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    near = (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))
    return near + far


@functools.lru_cache(maxsize=256)
def _contributions(in_len: int, out_len: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Per output pixel: normalised bicubic tap weights and their mirrored 0-based input indices.

    Cached (training resizes thousands of same-sized patches); the arrays are made read-only.
    """
    antialias = scale < 1
    width = _KERNEL_WIDTH / scale if antialias else _KERNEL_WIDTH
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    indices = left[:, None] + np.arange(math.ceil(width) + 2)[None, :]
    distance = u[:, None] - indices
    weights = scale * _cubic(scale * distance) if antialias else _cubic(distance)
    weights = weights / weights.sum(axis=1, keepdims=True)
    keep = np.any(weights != 0, axis=0)  # MATLAB drops tap columns that are zero for every output
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    columns = mirror[np.mod(indices[:, keep].astype(np.int64) - 1, 2 * in_len)]
    weights = np.ascontiguousarray(weights[:, keep])
    weights.flags.writeable = columns.flags.writeable = False
    return weights, columns


def _apply_along_first_axis(x: np.ndarray, weights: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``out[o] = sum_p weights[o, p] * x[columns[o, p]]``, one vectorised step per tap."""
    expand = (slice(None),) + (None,) * (x.ndim - 1)
    out = weights[:, 0][expand] * x[columns[:, 0]]
    for tap in range(1, weights.shape[1]):
        out += weights[:, tap][expand] * x[columns[:, tap]]
    return out
