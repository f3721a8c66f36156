"""How an output is scored against its target: channel, Y rounding, border crop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ipt_bench.core.errors import ConfigError, IptBenchError
from ipt_bench.core.rows import CUSTOM_PROTOCOL
from ipt_bench.metrics.color import rgb_to_y
from ipt_bench.metrics.quality import crop_border
from ipt_bench.metrics.registry import DEFAULT_METRICS, get_metric

Channel = Literal["y", "rgb"]
YRounding = Literal["round", "float"]


@dataclass(frozen=True)
class MetricProtocol:
    """Scoring protocol. ``channel`` "y" scores BT.601 Y (``y_rounding`` "round" = MATLAB uint8
    ``rgb2ycbcr``, "float" = BasicSR/official IPT); "rgb" scores all three channels. ``border``
    pixels are dropped from every side (the SR scale; 0 for denoising and deraining)."""

    channel: Channel = "y"
    y_rounding: YRounding = "round"
    border: int = 0
    #: The named preset these switches come from (``custom`` when set one by one).
    name: str = CUSTOM_PROTOCOL

    def __post_init__(self) -> None:
        if self.channel not in ("y", "rgb"):
            raise ConfigError(f"unknown metric channel {self.channel!r}", "use 'y' or 'rgb'")
        if self.y_rounding not in ("round", "float"):
            raise ConfigError(f"unknown Y rounding {self.y_rounding!r}", "use 'round' or 'float'")
        if int(self.border) != self.border or self.border < 0:
            raise ConfigError(
                f"crop border must be a non-negative integer, got {self.border!r}", "e.g. 0 or 4"
            )

    def as_row(self) -> dict[str, object]:
        """The scoring switches as result-row columns (see ``ipt_bench.core.rows.PROTOCOL_COLUMNS``)."""
        return {
            "protocol": self.name,
            "channel": self.channel,
            "y_rounding": self.y_rounding,
            "crop_border": self.border,
        }


def score(
    output: np.ndarray,
    target: np.ndarray,
    protocol: MetricProtocol,
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> dict[str, float]:
    """``{metric name: value}`` of a uint8 ``output`` against a uint8 ``target`` under ``protocol``.

    A 2-D (gray) target is scored on its single channel whatever ``protocol.channel`` says.
    """
    for name, img in (("output", output), ("target", target)):
        if img.dtype != np.uint8:
            raise IptBenchError(
                f"score expects uint8 images, but the {name} is {img.dtype}",
                "clamp to [0, 255] and round to uint8 before scoring",
            )
    if output.shape != target.shape:
        raise IptBenchError(
            f"output shape {output.shape} differs from target shape {target.shape}",
            "produce an output of the target's size and channel count (gray targets need 2-D outputs)",
        )
    if target.ndim == 2 or protocol.channel == "rgb":
        a, b = output, target
    else:
        rounded = protocol.y_rounding == "round"
        a, b = rgb_to_y(output, rounded=rounded), rgb_to_y(target, rounded=rounded)
    return score_planes(crop_border(a, protocol.border), crop_border(b, protocol.border), metrics)


def score_planes(a: np.ndarray, b: np.ndarray, metrics: Sequence[str] = DEFAULT_METRICS) -> dict[str, float]:
    """``{metric name: value}`` of two images that are already in the scored channel and cropped."""
    return {name: float(get_metric(name).compute(a, b)) for name in metrics}
