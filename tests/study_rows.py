"""One per-image result row of a synthetic denoising study (sigma 30 on CBSD68), for statistics tests."""

from __future__ import annotations

import numpy as np

from ipt_bench.core.protocols import resolve_protocol, row_switches

CELL = {
    "task": "denoise_s30",
    "dataset": "CBSD68",
    "scale": 1,
    "sigma": 30.0,
    **row_switches(
        resolve_protocol("ipt"), border=0, denoise=True, lr_source="synthetic_gaussian", input_text="noisy"
    ),
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
