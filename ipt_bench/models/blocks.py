"""Network pieces shared by the model families: convolutions, the RGB mean shift, residual
blocks, the sub-pixel upsampler, and the in-place initialisations that make a head/tail pair
start as a nearest-neighbour upsampler."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor, nn

from ipt_bench.core.errors import ConfigError

RGB_MEAN = (0.4488, 0.4371, 0.4040)


def conv3x3(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Conv2d:
    """A 'same'-padded convolution with bias (the official ``default_conv``)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)


class MeanShift(nn.Conv2d):
    """Frozen 1x1 conv adding (``sign=1``) or subtracting (``sign=-1``) the DIV2K RGB mean."""

    def __init__(self, rgb_range: float, sign: int = -1, n_colors: int = 3) -> None:
        super().__init__(n_colors, n_colors, kernel_size=1)
        mean = torch.tensor(RGB_MEAN[:n_colors] if n_colors == 3 else (0.0,) * n_colors)
        with torch.no_grad():
            self.weight.copy_(torch.eye(n_colors).view(n_colors, n_colors, 1, 1))
            self.bias.copy_(sign * rgb_range * mean)
        for p in self.parameters():
            p.requires_grad = False


class ResBlock(nn.Module):
    """conv -> ReLU -> conv, times ``res_scale``, plus the input (no batch norm). IPT's heads use
    5x5 convolutions and scale 1; the EDSR-like CNN 3x3 convolutions."""

    def __init__(self, n_feats: int, kernel_size: int = 5, res_scale: float = 1.0) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv3x3(n_feats, n_feats, kernel_size),
            nn.ReLU(inplace=True),
            conv3x3(n_feats, n_feats, kernel_size),
        )
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        out = self.body(x)
        return (out if self.res_scale == 1.0 else out * self.res_scale) + x


class Upsampler(nn.Sequential):
    """Sub-pixel upsampling: x2^n = n stages of conv(C->4C)+PixelShuffle(2); x3 one conv(C->9C)."""

    def __init__(self, scale: int, n_feats: int) -> None:
        layers: list[nn.Module] = []
        if scale == 3:
            layers += [conv3x3(n_feats, 9 * n_feats), nn.PixelShuffle(3)]
        elif scale >= 1 and scale & (scale - 1) == 0:
            for _ in range(int(math.log2(scale))):
                layers += [conv3x3(n_feats, 4 * n_feats), nn.PixelShuffle(2)]
        else:
            raise ConfigError(f"upsampling scale {scale} is not supported", "use 1, 2, 3, 4 or 8")
        super().__init__(*layers)


def zero_(module: nn.Linear | nn.Conv2d) -> None:
    """Zero ``module``'s weight and bias in place."""
    nn.init.zeros_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)


def copy_channels_(conv: nn.Conv2d, channels: int, group: int, gain: float) -> None:
    """Output channels ``c * group + k`` (k < group) of ``conv`` become ``gain`` times input
    channel ``c``, for each ``c < channels``; the conv's other output channels are left alone."""
    rows = min(channels, conv.in_channels, conv.out_channels // group) * group
    conv.weight[:rows] = 0.0
    conv.bias[:rows] = 0.0
    centre = conv.kernel_size[0] // 2
    for row in range(rows):
        conv.weight[row, row // group, centre, centre] = gain


@torch.no_grad()
def pass_through_init_(pairs: Iterable[tuple[nn.Conv2d, nn.Module]], n_colors: int, tail_gain: float) -> None:
    """Make each (first head conv, tail) pair pass RGB through: the head conv copies the input
    into feature channels 0..n_colors-1, each upsampling conv of the tail copies channel c into
    its sub-pixel group, and the tail's last conv reads channels 0..n_colors-1 with ``tail_gain``."""
    for first, tail in pairs:
        *upsamplers, last = (m for m in tail.modules() if isinstance(m, nn.Conv2d))
        copy_channels_(first, n_colors, 1, 1.0)
        for conv in upsamplers:
            copy_channels_(conv, n_colors, conv.out_channels // conv.in_channels, 1.0)
        zero_(last)
        copy_channels_(last, n_colors, 1, tail_gain)
