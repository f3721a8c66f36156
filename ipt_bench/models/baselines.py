"""Baselines with IPT's interface: ``forward(x, task_idx=0, *, return_tokens=False)`` on images in
[0, ``rgb_range``], one entry of ``scales`` per task.

* :class:`Bicubic` -- MATLAB bicubic upsampling of the uint8 LR (no parameters).
* :class:`Identity` -- the degraded input itself (the "Input" row of denoise/derain tables).
* :class:`CNNSmall` -- an EDSR-like CNN (per-task conv head, shared residual body, per-task
  upsampler tail, mean shift), the convolutional control for the transformer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ipt_bench.core.errors import ConfigError
from ipt_bench.data.resize import imresize
from ipt_bench.models.ipt import MeanShift, Upsampler, conv3x3, copy_channels_, zero_


class _TaskModel(nn.Module):
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


class Bicubic(_TaskModel):
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


class Identity(_TaskModel):
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


class ResBlock3(nn.Module):
    """EDSR residual block: conv3x3 -> ReLU -> conv3x3, scaled by ``res_scale``, plus the input."""

    def __init__(self, n_feats: int, res_scale: float) -> None:
        super().__init__()
        self.body = nn.Sequential(conv3x3(n_feats, n_feats), nn.ReLU(inplace=True), conv3x3(n_feats, n_feats))
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) * self.res_scale + x


class CNNSmall(_TaskModel):
    """EDSR-like CNN with per-task heads and tails around a shared residual body."""

    def __init__(
        self,
        *,
        n_feats: int = 64,
        n_resblocks: int = 16,
        res_scale: float = 1.0,
        scale: Sequence[int] = (2,),
        rgb_range: float = 255,
        n_colors: int = 3,
    ) -> None:
        super().__init__(scale, rgb_range)
        if n_feats < 1 or n_resblocks < 0:
            raise ConfigError(
                f"invalid CNN size n_feats={n_feats}, n_resblocks={n_resblocks}", "use positive sizes"
            )
        self.config = {
            "n_feats": n_feats,
            "n_resblocks": n_resblocks,
            "res_scale": res_scale,
            "scale": list(self.scales),
            "rgb_range": rgb_range,
            "n_colors": n_colors,
        }
        self.sub_mean = MeanShift(rgb_range, sign=-1, n_colors=n_colors)
        self.add_mean = MeanShift(rgb_range, sign=1, n_colors=n_colors)
        self.head = nn.ModuleList(conv3x3(n_colors, n_feats) for _ in self.scales)
        self.body = nn.Sequential(
            *(ResBlock3(n_feats, res_scale) for _ in range(n_resblocks)), conv3x3(n_feats, n_feats)
        )
        self.tail = nn.ModuleList(
            nn.Sequential(Upsampler(s, n_feats), conv3x3(n_feats, n_colors)) for s in self.scales
        )

    def forward(self, x: Tensor, task_idx: int = 0, *, return_tokens: bool = False) -> Tensor | tuple:
        """Restore a (B, C, H, W) batch of any size; ``return_tokens`` gives ``(out, None)``."""
        self._check_task(task_idx)
        feats = self.head[task_idx](self.sub_mean(x))
        out = self.add_mean(self.tail[task_idx](self.body(feats) + feats))
        return (out, None) if return_tokens else out

    @torch.no_grad()
    def identity_init_(self) -> CNNSmall:
        """Re-initialise in place as a nearest-neighbour upsampler, like registry IPTs
        (:func:`ipt_bench.models.ipt.identity_init_`): every residual branch and the body's last
        conv are zero, each head copies RGB into feature channels 0-2, each upsampling conv copies
        channel c into its sub-pixel group and the last tail conv reads channels 0-2. Returns self."""
        *blocks, last_body = self.body
        for block in blocks:
            zero_(block.body[2])
        zero_(last_body)
        n_colors = self.config["n_colors"]
        for head, tail in zip(self.head, self.tail, strict=True):
            copy_channels_(head, n_colors, 1, 1.0)
            *upsamplers, last = (m for m in tail.modules() if isinstance(m, nn.Conv2d))
            for conv in upsamplers:
                copy_channels_(conv, n_colors, conv.out_channels // conv.in_channels, 1.0)
            zero_(last)
            copy_channels_(last, n_colors, 1, 1.0)
        return self
