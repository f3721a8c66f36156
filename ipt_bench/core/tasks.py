"""Restoration tasks: super-resolution at a scale, Gaussian denoising at a sigma, deraining."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ipt_bench.core.errors import ConfigError

TaskKind = Literal["sr", "denoise", "derain"]
SR_SCALES = (2, 3, 4)
MAX_SIGMA = 100.0


@dataclass(frozen=True, order=True)
class Task:
    """One restoration task. ``scale`` is the SR factor (1 for denoise/derain); ``sigma`` is the
    Gaussian noise standard deviation on the [0, 255] scale (denoise only)."""

    kind: TaskKind
    scale: int = 1
    sigma: float | None = None

    def __post_init__(self) -> None:
        if self.kind == "sr":
            if self.scale not in SR_SCALES:
                raise ConfigError(
                    f"super-resolution scale {self.scale} is not supported",
                    f"use one of {', '.join(map(str, SR_SCALES))}",
                )
            if self.sigma is not None:
                raise ConfigError("a super-resolution task takes no sigma", "drop sigma or use task denoise")
        elif self.kind == "denoise":
            if self.sigma is None or not (0 < float(self.sigma) <= MAX_SIGMA):
                raise ConfigError(
                    f"denoising sigma {self.sigma} is out of range",
                    f"give a sigma in (0, {MAX_SIGMA:g}] on the 0-255 scale, e.g. 30",
                )
            if self.scale != 1:
                raise ConfigError("a denoising task has scale 1", "drop the scale")
        elif self.kind == "derain":
            if self.scale != 1 or self.sigma is not None:
                raise ConfigError("a deraining task takes no scale or sigma", "drop scale and sigma")
        else:
            raise ConfigError(f"unknown task kind {self.kind!r}", "use one of: sr, denoise, derain")

    @property
    def name(self) -> str:
        """Stable short name, e.g. ``sr_x2``, ``denoise_s30``, ``derain``."""
        if self.kind == "sr":
            return f"sr_x{self.scale}"
        if self.kind == "denoise":
            return f"denoise_s{float(self.sigma):g}"
        return "derain"

    @property
    def tail_scale(self) -> int:
        """The upsampling factor of the network tail serving this task (1 unless SR)."""
        return self.scale

    @classmethod
    def parse(cls, text: str) -> Task:
        """Inverse of :attr:`name` (also accepts ``sr2``, ``denoise30``)."""
        t = text.strip().lower()
        if t == "derain":
            return cls("derain")
        if t.startswith("sr"):
            return cls("sr", scale=int(t.removeprefix("sr").lstrip("_x")))
        if t.startswith("denoise"):
            return cls("denoise", sigma=float(t.removeprefix("denoise").lstrip("_s")))
        raise ConfigError(f"unknown task {text!r}", "use e.g. sr_x2, denoise_s30 or derain")


#: The six pre-training tasks of the paper, in the order of the official 6-task checkpoint
#: (``IPT_pretrain.pt``): x2, x3, x4, derain, sigma 30, sigma 50.
PAPER_PRETRAIN_TASKS: tuple[Task, ...] = (
    Task("sr", 2),
    Task("sr", 3),
    Task("sr", 4),
    Task("derain"),
    Task("denoise", sigma=30.0),
    Task("denoise", sigma=50.0),
)


def pretrain_tasks(noise_levels: tuple[float, ...] = (30.0, 50.0)) -> tuple[Task, ...]:
    """The paper's pre-training task list with the denoising levels replaced by ``noise_levels``."""
    fixed = (Task("sr", 2), Task("sr", 3), Task("sr", 4), Task("derain"))
    return fixed + tuple(Task("denoise", sigma=float(s)) for s in noise_levels)
