"""Experiment tracking: training curves as TensorBoard event files (``pip install
'ipt-bench[track]'``); view them with ``tensorboard --logdir <results folder>``. The HTML report
stays the primary output; tracking only mirrors the rows of ``log.jsonl`` as they are written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ipt_bench.core.errors import ConfigError

TRACKERS = ("tensorboard",)
#: ``log.jsonl`` fields written as scalars (under ``train/`` or ``val/``).
SCALARS = {
    "loss": "train/loss",
    "l1": "train/l1",
    "contrastive": "train/contrastive",
    "lr": "train/lr",
    "samples_per_s": "train/samples_per_s",
    "val_psnr": "val/psnr",
}


def check_trackers(names: tuple[str, ...]) -> tuple[str, ...]:
    """Validate ``--track`` names (one-line error for an unknown one or a missing package)."""
    for name in names:
        if name not in TRACKERS:
            raise ConfigError(f"unknown tracker {name!r}", f"use one of: {', '.join(TRACKERS)}")
        try:
            import tensorboard  # noqa: F401  (torch's SummaryWriter needs it)
        except ImportError:
            raise ConfigError(
                "--track tensorboard needs the tensorboard package, which is not installed",
                "pip install 'ipt-bench[track]'",
            ) from None
    return names


def run_name(title: str) -> str:
    """A folder name for a node title (``finetune ipt-tiny-con denoise_s30 seed0``)."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", title).strip("_")


class TensorBoardLog:
    """A training progress callback that writes each log row to TensorBoard events in ``log_dir``."""

    def __init__(self, log_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(log_dir))

    def __call__(self, step: int, total: int, row: dict[str, Any]) -> None:
        for field, tag in SCALARS.items():
            value = row.get(field)
            if isinstance(value, (int, float)):
                self.writer.add_scalar(tag, float(value), step)
        for task, psnr in (row.get("val_psnr_by_task") or {}).items():
            self.writer.add_scalar(f"val/psnr_{task}", float(psnr), step)

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.close()
