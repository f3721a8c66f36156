"""Additive white Gaussian noise: the legacy KAIR/SwinIR test protocol, or keyed seeded noise."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ipt_bench.core.errors import ConfigError, IptBenchError
from ipt_bench.data.resize import round_half_away

NoiseMode = Literal["legacy", "seeded"]


@dataclass(frozen=True)
class NoiseProtocol:
    """How test noise is drawn and post-processed (see ``add_gaussian_noise``)."""

    mode: NoiseMode = "legacy"
    seed: int = 0
    clip: bool = False
    round_: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ("legacy", "seeded"):
            raise ConfigError(f"unknown noise mode {self.mode!r}", "use 'legacy' or 'seeded'")

    def describe(self) -> str:
        """One label for result rows, e.g. ``legacy np.random.seed(0)/image BGR, unclipped, unrounded``."""
        source = "legacy np.random.seed(0)/image BGR" if self.mode == "legacy" else f"seeded seed={self.seed}"
        clip = "clipped" if self.clip else "unclipped"
        rounding = "rounded" if self.round_ else "unrounded"
        return f"{source}, {clip}, {rounding}"


def add_gaussian_noise(
    clean: np.ndarray,
    sigma: float,
    *,
    mode: NoiseMode = "legacy",
    seed: int = 0,
    key: str = "",
    clip: bool = False,
    round_: bool = False,
) -> np.ndarray:
    """Return ``clean`` (uint8, 0-255) plus N(0, sigma/255) noise as float64 on the unit scale.

    ``legacy`` reproduces the KAIR/SwinIR test scripts bit for bit: the image as float32 / 255 in
    OpenCV's BGR channel order, ``np.random.seed(0)`` before every image, ``img +
    np.random.normal(0, sigma / 255, img.shape)``; the result is returned in RGB order. The
    global numpy RNG state is restored afterwards. (Restormer draws for the RGB-ordered image,
    so its colour noise differs.) ``seeded`` draws from ``np.random.default_rng`` seeded by a
    stable hash of (seed, key, sigma); pass the dataset/image name as ``key``. ``seed`` is
    ignored in legacy mode. ``clip`` clips to [0, 1]; ``round_`` rounds to the 1/255 grid.
    """
    if clean.dtype != np.uint8 or clean.ndim not in (2, 3):
        raise IptBenchError(
            f"add_gaussian_noise expects a uint8 HxW or HxWxC image, "
            f"got {clean.dtype} of shape {clean.shape}",
            "read the clean image with ipt_bench.data.images.read_image",
        )
    if not (np.isfinite(sigma) and sigma >= 0):
        raise IptBenchError(f"noise sigma must be a non-negative number, got {sigma!r}", "e.g. 15, 25 or 50")
    if mode == "legacy":
        noisy = _legacy_noisy(clean, sigma)
    elif mode == "seeded":
        rng = np.random.default_rng(_stable_seed(seed, key, sigma))
        noisy = clean.astype(np.float64) / 255.0 + rng.normal(0.0, sigma / 255.0, clean.shape)
    else:
        raise ConfigError(f"unknown noise mode {mode!r}", "use 'legacy' or 'seeded'")
    if clip:
        noisy = np.clip(noisy, 0.0, 1.0)
    if round_:
        noisy = round_half_away(noisy * 255.0) / 255.0
    return noisy


def _legacy_noisy(clean: np.ndarray, sigma: float) -> np.ndarray:
    colour = clean.ndim == 3 and clean.shape[2] == 3
    img = (clean[..., ::-1] if colour else clean).astype(np.float32) / 255.0
    state = np.random.get_state()
    try:
        np.random.seed(0)
        noisy = img + np.random.normal(0, sigma / 255.0, img.shape)
    finally:
        np.random.set_state(state)
    return np.ascontiguousarray(noisy[..., ::-1]) if colour else noisy


def _stable_seed(seed: int, key: str, sigma: float) -> int:
    digest = hashlib.sha256(f"{int(seed)}\x00{key}\x00{float(sigma)!r}".encode()).digest()
    return int.from_bytes(digest[:8], "little")
