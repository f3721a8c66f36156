"""Restore a few named images of a dataset exactly as :func:`~ipt_bench.eval.evaluate.evaluate`
scores them, keeping the pixels (input, output, ground truth) for visual comparisons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ipt_bench.core.errors import DatasetError
from ipt_bench.core.tasks import Task
from ipt_bench.data.catalog import resolve_dataset
from ipt_bench.data.noise import NoiseProtocol
from ipt_bench.data.pairs import TestPair, make_test_pair
from ipt_bench.eval.baseline_bicubic import legacy_y_bicubic
from ipt_bench.eval.evaluate import LEGACY_BICUBIC, make_restorer, match_channels
from ipt_bench.eval.restorers import to_uint8
from ipt_bench.metrics.protocol import MetricProtocol, score
from ipt_bench.metrics.quality import crop_border, psnr


@dataclass(frozen=True)
class RestoredImage:
    """One restored test image, all uint8 and of the ground truth's height and width.

    ``input`` is the degraded input (an SR input enlarged by pixel repetition); ``output`` is the
    image that was scored (one channel for a gray ground truth, and the Y plane for the legacy
    bicubic baseline); ``psnr`` is its score under the evaluation protocol.
    """

    name: str
    input: np.ndarray
    output: np.ndarray
    target: np.ndarray
    psnr: float


def restore_images(
    names: Sequence[str],
    *,
    task: Task,
    dataset: str,
    model: str | None = None,
    checkpoint: Path | None = None,
    task_idx: int | None = None,
    channel: str = "y",
    y_rounding: str = "round",
    data_root: Path | None = None,
    allow_partial: bool = False,
    noise_mode: str = "legacy",
    seed: int = 0,
    tiling: str = "blend",
    device: str = "cpu",
    threads: int | None = None,
) -> list[RestoredImage]:
    """Restore the images ``names`` of ``dataset`` (in that order) with the arguments
    :func:`~ipt_bench.eval.evaluate.evaluate` takes (tiles batched by the restorers' default, as
    there); ``threads`` pins torch's intra-op threads (the count the scores were made with, since
    it changes float reductions)."""
    resolved = resolve_dataset(dataset, data_root, allow_partial=allow_partial)
    items = {item.name: item for item in resolved.items}
    absent = [name for name in names if name not in items]
    if absent:
        raise DatasetError(
            f"{resolved.name} in {resolved.root} has no image named {', '.join(absent)}",
            "point at the copy of the dataset the results were computed on",
        )
    border = task.scale if task.kind == "sr" else 0
    metric = MetricProtocol(channel=channel, y_rounding=y_rounding, border=border)
    noise = NoiseProtocol(mode=noise_mode, seed=seed)
    pairs = [make_test_pair(resolved.name, items[name], task, noise) for name in names]
    if model == LEGACY_BICUBIC:
        return [_legacy_bicubic(pair, task.scale) for pair in pairs]
    from ipt_bench.core.runtime import compute_settings  # torch: only when a network runs

    with compute_settings(threads, deterministic=False):
        restorer = make_restorer(
            model, checkpoint, task, task_idx=task_idx, seed=seed, tiling=tiling, device=device
        )
        restored = []
        for pair in pairs:
            output = match_channels(restorer(pair.degraded), pair.target)
            value, _ = score(output, pair.target, metric)
            restored.append(RestoredImage(pair.name, _input_panel(pair), output, pair.target, value))
    return restored


def _legacy_bicubic(pair: TestPair, scale: int) -> RestoredImage:
    """The Y-only bicubic baseline: its output is the Y plane it is scored on."""
    sr_y, hr_y = legacy_y_bicubic(pair.target, scale)
    value = psnr(crop_border(sr_y, scale), crop_border(hr_y, scale))
    return RestoredImage(pair.name, _input_panel(pair), sr_y.astype(np.uint8), pair.target, value)


def _input_panel(pair: TestPair) -> np.ndarray:
    """The degraded input as uint8, enlarged by pixel repetition to the ground truth's size."""
    image = to_uint8(pair.degraded.astype(np.float64) * 255.0)
    height, width = pair.target.shape[:2]
    factor = height // image.shape[0]
    if factor > 1:
        image = image.repeat(factor, axis=0).repeat(factor, axis=1)
    return image[:height, :width]
