"""Additive white Gaussian test noise: the legacy per-image ``np.random.seed(0)`` draws (BGR order:
SwinIR ``main_test_swinir.py`` and KAIR's copy of it; RGB order: KAIR ``main_test_dncnn.py`` and
Restormer), or keyed seeded noise; optionally clamped and rounded (the official IPT code clamps)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ipt_bench.core.errors import ConfigError, IptBenchError
from ipt_bench.core.protocols import Protocol
from ipt_bench.data.resize import round_half_away

NoiseMode = Literal["legacy-bgr", "legacy-rgb", "seeded"]
NOISE_MODES = ("legacy-bgr", "legacy-rgb", "seeded")
#: The old name of ``legacy-bgr``.
_LEGACY = "legacy"


@dataclass(frozen=True)
class NoiseProtocol:
    """How test noise is drawn and post-processed (see ``add_gaussian_noise``)."""

    mode: NoiseMode = "legacy-bgr"
    seed: int = 0
    clip: bool = False
    round_: bool = False

    def __post_init__(self) -> None:
        if self.mode == _LEGACY:
            object.__setattr__(self, "mode", "legacy-bgr")
        _check_mode(self.mode)

    @classmethod
    def from_protocol(cls, protocol: Protocol, seed: int = 0) -> NoiseProtocol:
        """The noise switches of an evaluation ``protocol``."""
        return cls(protocol.noise_mode, seed, protocol.noise_clip, protocol.noise_round)  # type: ignore[arg-type]

    def describe(self) -> str:
        """One label, e.g. ``legacy-bgr np.random.seed(0)/image, unclipped, unrounded``."""
        source = (
            f"seeded seed={self.seed}" if self.mode == "seeded" else f"{self.mode} np.random.seed(0)/image"
        )
        clip = "clipped" if self.clip else "unclipped"
        rounding = "rounded" if self.round_ else "unrounded"
        return f"{source}, {clip}, {rounding}"


def add_gaussian_noise(
    clean: np.ndarray,
    sigma: float,
    *,
    mode: NoiseMode = "legacy-bgr",
    seed: int = 0,
    key: str = "",
    clip: bool = False,
    round_: bool = False,
) -> np.ndarray:
    """Return ``clean`` (uint8, 0-255) plus N(0, sigma/255) noise as float64 on the unit scale.

    ``legacy-bgr`` reproduces SwinIR's ``main_test_swinir.py`` (and KAIR's copy of it) bit for bit:
    the image as float32 / 255 in OpenCV's BGR channel order, ``np.random.seed(0)`` before every
    image, ``img + np.random.normal(0, sigma / 255, img.shape)``; the result is returned in RGB
    order. ``legacy-rgb`` is the same draw for the RGB-ordered image (KAIR ``main_test_dncnn.py``,
    Restormer). The global numpy RNG state is restored afterwards. ``seeded`` draws from
    ``np.random.default_rng`` seeded by a stable hash of (seed, key, sigma); pass the
    dataset/image name as ``key``. ``seed`` is ignored in legacy mode.
    ``clip`` clips to [0, 1]; ``round_`` rounds to the 1/255 grid.
    """
    if clean.dtype != np.uint8 or clean.ndim not in (2, 3):
        raise IptBenchError(
            f"add_gaussian_noise expects a uint8 HxW or HxWxC image, "
            f"got {clean.dtype} of shape {clean.shape}",
            "read the clean image with ipt_bench.data.images.read_image",
        )
    if not (np.isfinite(sigma) and sigma >= 0):
        raise IptBenchError(f"noise sigma must be a non-negative number, got {sigma!r}", "e.g. 15, 25 or 50")
    mode = "legacy-bgr" if mode == _LEGACY else mode
    _check_mode(mode)
    if mode in ("legacy-bgr", "legacy-rgb"):
        noisy = _legacy_noisy(clean, sigma, bgr=mode == "legacy-bgr")
    elif mode == "seeded":
        rng = np.random.default_rng(_stable_seed(seed, key, sigma))
        noisy = clean.astype(np.float64) / 255.0 + rng.normal(0.0, sigma / 255.0, clean.shape)
    if clip:
        noisy = np.clip(noisy, 0.0, 1.0)
    if round_:
        noisy = round_half_away(noisy * 255.0) / 255.0
    return noisy


def _check_mode(mode: str) -> None:
    if mode not in NOISE_MODES:
        raise ConfigError(f"unknown noise mode {mode!r}", f"use one of {', '.join(NOISE_MODES)}")


def _legacy_noisy(clean: np.ndarray, sigma: float, *, bgr: bool) -> np.ndarray:
    colour = bgr and clean.ndim == 3 and clean.shape[2] == 3
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
