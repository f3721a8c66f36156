"""How an output is scored against its target: gray handling, channel, Y formula and rounding,
border crop and the SSIM variant (the scoring half of a :class:`~ipt_bench.core.protocols.Protocol`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ipt_bench.core.errors import ConfigError, IptBenchError
from ipt_bench.core.protocols import Protocol, check_switch
from ipt_bench.core.rows import CUSTOM_PROTOCOL
from ipt_bench.metrics.color import rgb_to_y
from ipt_bench.metrics.quality import crop_border, matlab_ssim_downsample
from ipt_bench.metrics.registry import DEFAULT_METRICS, get_metric

Channel = Literal["y", "rgb"]
YRounding = Literal["round", "float"]


@dataclass(frozen=True)
class MetricProtocol:
    """Scoring protocol. ``channel`` "y" scores Y (``y_formula``: see :mod:`ipt_bench.metrics.color`;
    ``y_rounding`` "round" = MATLAB uint8 ``rgb2ycbcr``, "float" = BasicSR/official IPT); "rgb"
    scores all three channels. ``gray`` "own" scores a gray target on its single channel,
    "replicate" copies it to three channels first. ``border`` pixels are dropped from every side
    (the SR scale; 0 for denoising and deraining). ``ssim_variant`` "valid-downsample" shrinks the planes
    the SSIM sees like MATLAB's ``ssim_index.m``."""

    channel: Channel = "y"
    y_rounding: YRounding = "round"
    border: int = 0
    #: The named preset these switches come from (``custom`` when set one by one).
    name: str = CUSTOM_PROTOCOL
    y_formula: str = "bt601"
    gray: str = "own"
    ssim_variant: str = "valid"

    def __post_init__(self) -> None:
        if self.channel not in ("y", "rgb"):
            raise ConfigError(f"unknown metric channel {self.channel!r}", "use 'y' or 'rgb'")
        if self.y_rounding not in ("round", "float"):
            raise ConfigError(f"unknown Y rounding {self.y_rounding!r}", "use 'round' or 'float'")
        if int(self.border) != self.border or self.border < 0:
            raise ConfigError(
                f"crop border must be a non-negative integer, got {self.border!r}", "e.g. 0 or 4"
            )
        for switch in ("y_formula", "gray", "ssim_variant"):
            check_switch(switch, getattr(self, switch))

    @classmethod
    def from_protocol(cls, protocol: Protocol, scale: int) -> MetricProtocol:
        """The scoring switches of ``protocol`` for an SR ``scale`` (1 when not SR)."""
        return cls(
            channel=protocol.channel,  # type: ignore[arg-type]
            y_rounding=protocol.y_rounding,  # type: ignore[arg-type]
            border=protocol.border_for(scale),
            name=protocol.name,
            y_formula=protocol.y_formula,
            gray=protocol.gray,
            ssim_variant=protocol.ssim_variant,
        )

    def as_row(self) -> dict[str, object]:
        """The scoring switches as result-row columns (see ``ipt_bench.core.rows.PROTOCOL_COLUMNS``)."""
        return {
            "protocol": self.name,
            "channel": self.channel,
            "y_formula": self.y_formula,
            "y_rounding": self.y_rounding,
            "gray": self.gray,
            "crop_border": self.border,
            "ssim_variant": self.ssim_variant,
        }


def score(
    output: np.ndarray,
    target: np.ndarray,
    protocol: MetricProtocol,
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> dict[str, float]:
    """``{metric name: value}`` of ``output`` against a uint8 ``target`` under ``protocol``.

    ``output`` is uint8 (a restored image, quantised) or float on the 0-255 scale (the unquantised
    network input of the Input row). A 2-D (gray) target is scored on its single channel under
    ``gray="own"`` whatever ``protocol.channel`` says (give a 2-D output), or replicated to three
    channels under ``gray="replicate"`` (give the 3-channel output).
    """
    if target.dtype != np.uint8:
        raise IptBenchError(
            f"score expects a uint8 target, but it is {target.dtype}", "read the clean image as uint8"
        )
    if output.dtype != np.uint8 and not np.issubdtype(output.dtype, np.floating):
        raise IptBenchError(
            f"score expects a uint8 (or float 0-255) output, but it is {output.dtype}",
            "clamp to [0, 255] and round to uint8 before scoring",
        )
    if protocol.gray == "replicate" and target.ndim == 2:
        target = np.repeat(target[:, :, None], 3, axis=2)
    if output.shape != target.shape:
        raise IptBenchError(
            f"output shape {output.shape} differs from target shape {target.shape}",
            "produce an output of the target's size and channel count (gray targets need 2-D outputs)",
        )
    if target.ndim == 2 or protocol.channel == "rgb":
        a, b = output, target
    else:
        rounded = protocol.y_rounding == "round"
        a = rgb_to_y(output, rounded=rounded, formula=protocol.y_formula)
        b = rgb_to_y(target, rounded=rounded, formula=protocol.y_formula)
    a, b = crop_border(a, protocol.border), crop_border(b, protocol.border)
    return score_planes(a, b, metrics, ssim_variant=protocol.ssim_variant)


def score_planes(
    a: np.ndarray, b: np.ndarray, metrics: Sequence[str] = DEFAULT_METRICS, ssim_variant: str = "valid"
) -> dict[str, float]:
    """``{metric name: value}`` of two images that are already in the scored channel and cropped."""
    values = {}
    for name in metrics:
        x, y = a, b
        if name == "ssim" and ssim_variant == "valid-downsample":
            x, y = matlab_ssim_downsample(a), matlab_ssim_downsample(b)
        values[name] = float(get_metric(name).compute(x, y))
    return values
