"""Validation during training: PSNR on fixed held-out patches (RGB, [0, 255], clamped and rounded)."""

from __future__ import annotations

import numpy as np
import torch

from ipt_bench.data.patches import PatchBatch
from ipt_bench.metrics.quality import psnr


@torch.no_grad()
def validation_psnr(model: torch.nn.Module, batch: PatchBatch, device: torch.device) -> float:
    """Mean PSNR of ``model`` over the patches of ``batch`` (quantised like evaluation)."""
    was_training = model.training
    model.eval()
    output = model(batch.degraded.to(device), batch.task_idx)
    model.train(was_training)
    restored = output.float().clamp(0, 255).round().cpu().numpy().astype(np.uint8)
    clean = batch.clean.numpy().astype(np.uint8)
    return float(
        np.mean(
            [psnr(r.transpose(1, 2, 0), c.transpose(1, 2, 0)) for r, c in zip(restored, clean, strict=True)]
        )
    )
