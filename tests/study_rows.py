"""One per-image result row of a synthetic denoising study (sigma 30 on CBSD68), for statistics tests."""

from __future__ import annotations

import numpy as np

CELL = {
    "task": "denoise_s30",
    "dataset": "CBSD68",
    "scale": 1,
    "sigma": 30.0,
    "channel": "y",
    "y_rounding": "round",
    "crop_border": 0,
    "lr_source": "synthetic_gaussian",
    "noise_mode": "seeded",
}


def study_row(
    variant: str, train_sigmas: str | None, weight: float | None, seed: int, image: int, psnr: float
) -> dict:
    """A row of model (variant, train sigmas, contrastive weight); weight None = untrained baseline."""
    return {
        **CELL,
        "variant": variant,
        "seed": seed,
        "image": f"img{image:02d}",
        "psnr": float(psnr),
        "train_sigmas": train_sigmas,
        "contrastive_weight": weight,
        "data_fraction": 1.0 if weight is not None else np.nan,
    }
