"""Seeded synthetic rain streaks: sparse random drops smeared along a line, added to all channels.

The official MindSpore pre-training adds a gray rain-streak image to every RGB channel and clamps
to [0, 255]; this module draws such streak layers procedurally so no RainTrainL files are needed.
"""

from __future__ import annotations

import numpy as np

from ipt_bench.core.errors import IptBenchError
from ipt_bench.data.resize import round_half_away

# Ranges the parameters are drawn from when not given (uniform; tuned so a natural image with
# added rain scores roughly 22-33 dB against the clean one, like the Rain100L inputs).
DENSITY_RANGE = (0.0005, 0.002)  # fraction of pixels that seed a streak
LENGTH_RANGE = (10.0, 30.0)  # streak length in pixels
ANGLE_RANGE = (-25.0, 25.0)  # degrees from vertical; one angle per layer
THICKNESS_RANGE = (1.0, 2.0)  # streak width in pixels
BRIGHTNESS_RANGE = (0.25, 0.5)  # peak streak intensity on the unit scale


def rain_layer(
    height: int,
    width: int,
    rng: np.random.Generator,
    *,
    density: float | None = None,
    length: float | None = None,
    angle: float | None = None,
    thickness: float | None = None,
    brightness: float | None = None,
) -> np.ndarray:
    """A float64 (height, width) rain-streak layer in [0, 1], fully determined by ``rng``.

    Parameters left as ``None`` are drawn from the module's ``*_RANGE`` constants (in this order:
    density, length, angle, thickness, brightness). ``angle`` is in degrees from vertical.
    """
    if height < 1 or width < 1:
        raise IptBenchError(f"rain layer size must be positive, got {height}x{width}", "pass the image size")
    density = _draw(rng, density, DENSITY_RANGE, "density", 0.0, 1.0)
    length = _draw(rng, length, LENGTH_RANGE, "length", 1.0, None)
    angle = _draw(rng, angle, ANGLE_RANGE, "angle", -90.0, 90.0)
    thickness = _draw(rng, thickness, THICKNESS_RANGE, "thickness", 0.5, None)
    brightness = _draw(rng, brightness, BRIGHTNESS_RANGE, "brightness", 0.0, 1.0)
    seeds = (rng.random((height, width)) < density) * rng.uniform(0.5, 1.0, (height, width))
    from scipy.signal import fftconvolve  # scipy.signal costs seconds to import; only rain needs it

    streaks = fftconvolve(seeds, _line_kernel(length, angle, thickness), mode="same")
    return np.clip(streaks * brightness, 0.0, 1.0)


def add_rain(clean: np.ndarray, rng: np.random.Generator, **params: float) -> np.ndarray:
    """``clean`` (uint8 HxW or HxWx3) plus a ``rain_layer`` on every channel, clipped and rounded to uint8.

    ``params`` are passed to ``rain_layer`` (density, length, angle, thickness, brightness).
    """
    if clean.dtype != np.uint8 or clean.ndim not in (2, 3):
        raise IptBenchError(
            f"add_rain expects a uint8 HxW or HxWxC image, got {clean.dtype} of shape {clean.shape}",
            "read the clean image with ipt_bench.data.images.read_image",
        )
    layer = rain_layer(clean.shape[0], clean.shape[1], rng, **params) * 255.0
    if clean.ndim == 3:
        layer = layer[..., None]
    return np.clip(round_half_away(clean + layer), 0, 255).astype(np.uint8)


def _draw(
    rng: np.random.Generator,
    value: float | None,
    bounds: tuple[float, float],
    name: str,
    low: float,
    high: float | None,
) -> float:
    if value is None:
        return float(rng.uniform(*bounds))
    if not (np.isfinite(value) and value >= low and (high is None or value <= high)):
        allowed = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
        raise IptBenchError(f"rain {name} {value!r} is out of range", f"pass a {name} {allowed}")
    return float(value)


def _line_kernel(length: float, angle: float, thickness: float) -> np.ndarray:
    """A streak footprint: a line of ``length`` px at ``angle`` degrees from vertical, anti-aliased."""
    radius = int(np.ceil(length / 2 + thickness))
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    y, x = np.meshgrid(offsets, offsets, indexing="ij")
    theta = np.deg2rad(angle)
    along = y * np.cos(theta) + x * np.sin(theta)
    across = -y * np.sin(theta) + x * np.cos(theta)
    cross_profile = np.clip(thickness / 2 + 0.5 - np.abs(across), 0.0, 1.0)
    end_profile = np.clip(length / 2 + 0.5 - np.abs(along), 0.0, 1.0)
    return cross_profile * end_profile
