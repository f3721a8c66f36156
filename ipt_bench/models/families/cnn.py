"""The CNN control: an EDSR-like network (per-task conv head, shared residual body, per-task
upsampler tail, mean shift) with about the per-tile cost of the IPT of the same size name.

This file is the whole family: network, sizes, architecture options, initialisation, variants.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ipt_bench.core.errors import ConfigError
from ipt_bench.models.baselines import TaskModel
from ipt_bench.models.blocks import MeanShift, ResBlock, Upsampler, conv3x3, pass_through_init_, zero_
from ipt_bench.models.family import ModelFamily, register_family
from ipt_bench.models.registry import VariantSpec, register_variant

#: Sizes chosen to cost about as many FLOPs per tile as the IPT of the same size.
CNN_SIZES: dict[str, dict[str, Any]] = {
    "small": {"n_feats": 64, "n_resblocks": 8, "res_scale": 1.0},
    "tiny": {"n_feats": 32, "n_resblocks": 4, "res_scale": 1.0},
}


class CNNSmall(TaskModel):
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
            *(ResBlock(n_feats, 3, res_scale) for _ in range(n_resblocks)), conv3x3(n_feats, n_feats)
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
        pass_through_init_(zip(self.head, self.tail, strict=True), self.config["n_colors"], tail_gain=1.0)
        return self


register_family(
    ModelFamily(
        name="cnn",
        build=CNNSmall,
        sizes=CNN_SIZES,
        init=CNNSmall.identity_init_,
        description="EDSR-like CNN control (no tokens, no contrastive loss)",
    )
)
for _size in CNN_SIZES:
    register_variant(
        VariantSpec(
            f"cnn-{_size}",
            "cnn",
            _size,
            description=f"EDSR-like CNN with about the per-tile cost of ipt-{_size}, trained on its task",
        )
    )
