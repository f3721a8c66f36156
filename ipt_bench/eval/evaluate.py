"""Score a restorer (network, checkpoint, bicubic or identity) on a dataset for one task: the one
pipeline that restores, scores and saves outputs (full images on request, crops for reports).

Scores are means of per-image metrics under an explicit, recorded protocol.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ipt_bench.core.errors import ConfigError
from ipt_bench.core.rows import PROTOCOL_NAMES
from ipt_bench.core.tasks import Task
from ipt_bench.data.catalog import resolve_dataset
from ipt_bench.data.content import check_file_names, verify_before_scoring
from ipt_bench.data.image_header import header_size
from ipt_bench.data.images import write_png
from ipt_bench.data.noise import NoiseProtocol
from ipt_bench.data.pairs import lr_source, make_test_pair
from ipt_bench.eval.baseline_bicubic import legacy_y_bicubic
from ipt_bench.eval.outputs import save_crops
from ipt_bench.metrics.protocol import MetricProtocol, score, score_planes
from ipt_bench.metrics.quality import crop_border
from ipt_bench.metrics.registry import DEFAULT_METRICS, check_metric_names
from ipt_bench.models.finite import NonFiniteOutput
from ipt_bench.models.memory import default_budget_bytes, format_size

LEGACY_BICUBIC = "bicubic"


@dataclass
class EvalResult:
    """Per-image rows (``image``, one value per metric, ``seconds``), the protocol they were scored
    under, the metrics scored, and the crop files saved (relative to the crops folder's parent)."""

    model: str
    task: Task
    dataset: str
    rows: list[dict] = field(default_factory=list)
    protocol: dict = field(default_factory=dict)
    metrics: tuple[str, ...] = DEFAULT_METRICS
    saved: list[str] = field(default_factory=list)

    def mean(self, metric: str) -> float:
        """Mean of ``metric`` over images."""
        return float(np.mean([r[metric] for r in self.rows]))

    @property
    def psnr(self) -> float:
        """Mean PSNR over images."""
        return self.mean("psnr")

    @property
    def ssim(self) -> float:
        """Mean SSIM over images."""
        return self.mean("ssim")

    def row_protocol(self) -> dict:
        """The protocol columns of a result row (``ipt_bench.core.rows.PROTOCOL_COLUMNS``)."""
        return {name: self.protocol[name] for name in PROTOCOL_NAMES}

    def summary(self) -> dict:
        """The stable machine-readable form printed by ``ipt-bench eval --json``: one key per
        metric (its mean), ``metrics`` (the names scored), the protocol and per-image values."""
        return {
            "model": self.model,
            "task": self.task.kind,
            "dataset": self.dataset,
            "scale": self.task.scale,
            "sigma": self.task.sigma,
            "channel": self.protocol["channel"],
            "n_images": len(self.rows),
            "metrics": list(self.metrics),
            **{name: self.mean(name) for name in self.metrics},
            "protocol": self.protocol,
            "images": [{"name": r["image"], **{m: r[m] for m in self.metrics}} for r in self.rows],
        }


def evaluate(
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
    tile_batch: int | str = "auto",
    memory_budget: int | None = None,
    save_images: Path | None = None,
    device: str = "cpu",
    max_images: int | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    crops_dir: Path | None = None,
    on_image: Callable[[dict], None] | None = None,
    no_verify: bool = False,
) -> EvalResult:
    """Evaluate ``model`` (a variant name, ``bicubic``, ``bicubic-rgb``, ``identity``) or a
    ``checkpoint`` on every image of ``dataset`` for ``task`` (or on its first ``max_images``
    images in sorted order, which the protocol records as a subset).

    ``tile_batch`` is "auto" (sized from ``memory_budget`` bytes, by default a share of the
    available memory) or a number of tiles per forward. Before an image is restored, its
    inference and scoring are checked to fit the budget (from the image header, before it is
    decoded); if not, a ConfigError says by how much. A named dataset is checked against its
    manifest first unless ``no_verify`` (recorded in the protocol's ``verified``).
    ``metrics`` are registered metric names; ``crops_dir`` (an eval node's folder) receives small
    crops of every image (:mod:`ipt_bench.eval.outputs`), ``save_images`` the full outputs.
    """
    metrics = check_metric_names(metrics)
    if (model is None) == (checkpoint is None):
        raise ConfigError("give exactly one of --model and --checkpoint", "e.g. --model bicubic")
    resolved = resolve_dataset(dataset, data_root, allow_partial=allow_partial)
    check_file_names(resolved)
    verified = verify_before_scoring(resolved, skip=no_verify)
    n_found, partial = resolved.n_found, resolved.partial
    if max_images is not None:
        if max_images < 1:
            raise ConfigError(f"max_images must be at least 1, got {max_images}", "drop it for every image")
        resolved = dataclasses.replace(resolved, items=resolved.items[:max_images])
    border = task.scale if task.kind == "sr" else 0
    metric = MetricProtocol(channel=channel, y_rounding=y_rounding, border=border)
    noise = NoiseProtocol(mode=noise_mode, seed=seed)
    legacy = model == LEGACY_BICUBIC
    if legacy and task.kind != "sr":
        raise ConfigError(
            "--model bicubic is the super-resolution baseline", "use --model identity for this task"
        )
    protocol = {
        **metric.as_row(),
        "lr_source": "legacy_y_double" if legacy else lr_source(task),
        "noise_mode": noise.describe() if task.kind == "denoise" else "",
        "partial": bool(partial),
        "subset": f"first {len(resolved.items)} of {n_found}" if max_images is not None else "",
        "tiling": "" if legacy else tiling,
        "verified": verified,
    }
    if legacy:
        protocol.update(channel="y", y_rounding="round")
    restorer = (
        None
        if legacy
        else make_restorer(
            model,
            checkpoint,
            task,
            task_idx=task_idx,
            seed=seed,
            tiling=tiling,
            tile_batch=tile_batch,
            device=device,
            memory_budget=memory_budget,
        )
    )
    result = EvalResult(
        model=model or str(checkpoint), task=task, dataset=resolved.name, protocol=protocol, metrics=metrics
    )
    for item in resolved.items:
        for path in (item.clean_path, *item.degraded_paths.values()):  # before anything is decoded
            width, height = header_size(path)
            _check_scoring_memory(item.name, (height, width, 3), protocol["channel"], memory_budget)
        pair = make_test_pair(resolved.name, item, task, noise)
        start = time.perf_counter()
        if restorer is None:
            output, values = _legacy_bicubic(pair.target, task.scale, metrics)
        else:
            try:
                output = restorer(pair.degraded)
            except NonFiniteOutput as exc:
                raise NonFiniteOutput(exc.model, f"{pair.name} of {resolved.name}") from None
            values = score(match_channels(output, pair.target), pair.target, metric, metrics)
        row = {"image": pair.name, **values, "seconds": time.perf_counter() - start}
        result.rows.append(row)
        if save_images is not None and restorer is not None:
            write_png(Path(save_images) / f"{pair.name}.png", output)
        if crops_dir is not None:
            scored = output if restorer is None else match_channels(output, pair.target)
            result.saved += save_crops(Path(crops_dir), pair, scored)
        if on_image is not None:
            on_image(row)
    return result


def make_restorer(
    model: str | None,
    checkpoint: Path | None,
    task: Task,
    *,
    task_idx: int | None = None,
    seed: int = 0,
    tiling: str = "blend",
    tile_batch: int | str = "auto",
    device: str = "cpu",
    memory_budget: int | None = None,
):
    """The restorer :func:`evaluate` scores: from ``checkpoint`` if given, else the variant ``model``."""
    from ipt_bench.eval.restorers import load_checkpoint_restorer, variant_restorer

    options = {"tiling": tiling, "tile_batch": tile_batch, "device": device, "memory_budget": memory_budget}
    if checkpoint is not None:
        return load_checkpoint_restorer(Path(checkpoint), task, task_idx=task_idx, **options)
    if model is None:
        raise ConfigError("a restorer needs a model name or a checkpoint", "pass model= or checkpoint=")
    return variant_restorer(model, task, seed=seed, **options)


def scoring_bytes(shape: tuple[int, ...], channel: str) -> int:
    """Upper bound of the memory PSNR + SSIM (``metrics.quality``) take on an output of ``shape``:
    float64 planes of the image size. Y: two Y planes, their float64 copies, x^2, y^2, xy, five
    filtered maps and the SSIM terms (measured peak: 16 planes); RGB: the HxWx3 float64 copies,
    per-channel contiguous planes, then the same per plane (measured: 24). 25% margin on top."""
    planes = 30 if channel == "rgb" and len(shape) == 3 else 20
    return planes * 8 * shape[0] * shape[1]


def _check_scoring_memory(name: str, shape: tuple[int, ...], channel: str, budget: int | None) -> None:
    need = scoring_bytes(shape, channel)
    budget = default_budget_bytes() if budget is None else budget
    if need > budget:
        raise ConfigError(
            f"scoring image {name} ({shape[0]}x{shape[1]}, {channel}) needs {format_size(need)} "
            f"but the memory budget is {format_size(budget)}",
            "evaluate a smaller image or a crop, or raise --memory-budget if that much memory is really free",
        )


def match_channels(output: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Gray targets are scored on one channel: the rounded mean of the output's channels."""
    if target.ndim == 2 and output.ndim == 3:
        return np.clip(np.rint(output.astype(np.float64).mean(axis=2)), 0, 255).astype(np.uint8)
    return output


def _legacy_bicubic(
    hr: np.ndarray, scale: int, metrics: Sequence[str]
) -> tuple[np.ndarray, dict[str, float]]:
    """The Y-only bicubic baseline: its output is the Y plane it is scored on (as uint8)."""
    sr_y, hr_y = legacy_y_bicubic(hr, scale)
    values = score_planes(crop_border(sr_y, scale), crop_border(hr_y, scale), metrics)
    return sr_y.astype(np.uint8), values
