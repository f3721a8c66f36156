"""Baselines with IPT's interface: ``forward(x, task_idx=0, *, return_tokens=False)`` on images in
[0, ``rgb_range``], one entry of ``scales`` per task.

* :class:`Bicubic` -- MATLAB bicubic upsampling of the uint8 LR (no parameters).
* :class:`Identity` -- the degraded input itself (the "Input" row of denoise/derain tables).

The CNN control lives in its family file, :mod:`ipt_bench.models.families.cnn`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ipt_bench.core.errors import ConfigError
from ipt_bench.data.resize import imresize


class TaskModel(nn.Module):
    """Shared task bookkeeping: ``scales`` (one per task) and the task-index check."""

    def __init__(self, scale: Sequence[int], rgb_range: float) -> None:
        super().__init__()
        if not scale:
            raise ConfigError("a model needs at least one task scale", "pass e.g. scale=[2]")
        self.scales = [int(s) for s in scale]
        self.rgb_range = rgb_range
        self.num_queries = len(self.scales)

    def _check_task(self, task_idx: int) -> int:
        if not 0 <= task_idx < len(self.scales):
            raise ConfigError(
                f"task index {task_idx} is out of range: {type(self).__name__} has "
                f"{len(self.scales)} task(s)",
                f"use a task index in 0..{len(self.scales) - 1}",
            )
        return self.scales[task_idx]


class Bicubic(TaskModel):
    """MATLAB ``imresize(lr, s, 'bicubic')`` of the LR rounded to uint8 (it is uint8 in the data)."""

    def __init__(self, scale: Sequence[int] = (2,), rgb_range: float = 255) -> None:
        super().__init__(scale, rgb_range)

    @torch.no_grad()
    def forward(self, x: Tensor, task_idx: int = 0, *, return_tokens: bool = False) -> Tensor | tuple:
        """Upsample each (C, H, W) image of the batch by the task's scale."""
        s = self._check_task(task_idx)
        unit = 255.0 / self.rgb_range
        imgs = (x.detach().cpu().double() * unit).clamp(0, 255).round().to(torch.uint8).numpy()
        up = np.stack(
            [
                imresize(img.transpose(1, 2, 0), float(s)).reshape(s * img.shape[1], -1, len(img))
                for img in imgs
            ]
        )
        out = torch.from_numpy(up.transpose(0, 3, 1, 2).copy()).to(x.device, x.dtype) / unit
        return (out, None) if return_tokens else out


class Identity(TaskModel):
    """Returns the input unchanged; only defined for scale-1 tasks (denoise, derain)."""

    def __init__(self, scale: Sequence[int] = (1,), rgb_range: float = 255) -> None:
        super().__init__(scale, rgb_range)
        if any(s != 1 for s in self.scales):
            raise ConfigError(
                f"the identity baseline cannot upsample (scales {self.scales})",
                "use it for denoising/deraining, or the bicubic baseline for super-resolution",
            )

    def forward(self, x: Tensor, task_idx: int = 0, *, return_tokens: bool = False) -> Tensor | tuple:
        """The input itself."""
        self._check_task(task_idx)
        return (x, None) if return_tokens else x
