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
from ipt_bench.core.protocols import DEFAULT_PRESET, Protocol, resolve_protocol, row_switches
from ipt_bench.core.rows import PROTOCOL_NAMES
from ipt_bench.core.tasks import Task
from ipt_bench.data.catalog import resolve_dataset
from ipt_bench.data.content import check_file_names, verify_before_scoring
from ipt_bench.data.image_header import header_size
from ipt_bench.data.images import write_png
from ipt_bench.data.noise import NoiseProtocol
from ipt_bench.data.pairs import input_description, lr_source, make_test_pair
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
    protocol: str | Protocol = DEFAULT_PRESET,
    channel: str | None = None,
    y_rounding: str | None = None,
    noise_mode: str | None = None,
    **options,
) -> EvalResult:
    """Evaluate under one protocol: the preset ``protocol`` (a name or a :class:`Protocol`) with
    the single switches ``channel``, ``y_rounding``, ``noise_mode`` overriding it when given.
    ``options`` are those of :func:`evaluate_protocols`."""
    base = resolve_protocol(protocol) if isinstance(protocol, str) else protocol
    chosen = base.with_overrides({"channel": channel, "y_rounding": y_rounding, "noise_mode": noise_mode})
    return evaluate_protocols(task=task, dataset=dataset, protocols=(chosen,), **options)[0]


def evaluate_protocols(
    *,
    task: Task,
    dataset: str,
    protocols: Sequence[Protocol],
    model: str | None = None,
    checkpoint: Path | None = None,
    task_idx: int | None = None,
    data_root: Path | None = None,
    allow_partial: bool = False,
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
) -> list[EvalResult]:
    """Evaluate ``model`` (a variant name, ``bicubic``, ``bicubic-rgb``, ``identity``) or a
    ``checkpoint`` on every image of ``dataset`` for ``task`` (or on its first ``max_images``
    images in sorted order, which the rows record as a subset), scored under each of
    ``protocols``: one :class:`EvalResult` per protocol, in order. Protocols that degrade the
    input alike (noise and LR switches) share one restoration of every image.

    ``tile_batch`` is "auto" (sized from ``memory_budget`` bytes, by default a share of the
    available memory) or a number of tiles per forward. Before an image is restored, its
    inference and scoring are checked to fit the budget (from the image header, before it is
    decoded); if not, a ConfigError says by how much. A named dataset is checked against its
    manifest first unless ``no_verify`` (recorded in the protocol's ``verified``).
    ``metrics`` are registered metric names; ``crops_dir`` (an eval node's folder) receives small
    crops of every image (:mod:`ipt_bench.eval.outputs`, first protocol), ``save_images`` the
    full outputs.
    """
    metrics = check_metric_names(metrics)
    if not protocols:
        raise ConfigError("no scoring protocol given", "name at least one preset, e.g. ipt")
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
    legacy = model == LEGACY_BICUBIC
    if legacy and task.kind != "sr":
        raise ConfigError(
            "--model bicubic is the super-resolution baseline", "use --model identity for this task"
        )
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
    image_set = {
        "partial": bool(partial),
        "subset": f"first {len(resolved.items)} of {n_found}" if max_images is not None else "",
        "tiling": "" if legacy or model in UNTILED else tiling,
        "verified": verified,
    }
    results = [
        EvalResult(
            model=model or str(checkpoint),
            task=task,
            dataset=resolved.name,
            protocol=_protocol_record(p, task, legacy, seed, image_set),
            metrics=metrics,
        )
        for p in protocols
    ]
    groups: dict[tuple, list[int]] = {}
    for index, p in enumerate(protocols):
        groups.setdefault(_degradation_key(p, task), []).append(index)
    for members in groups.values():
        first = protocols[members[0]]
        noise = NoiseProtocol.from_protocol(first, seed)
        sr_source = "matlab-bicubic" if legacy else first.lr_source
        for item in resolved.items:
            for path in (item.clean_path, *item.degraded_paths.values()):  # before anything is decoded
                width, height = header_size(path)
                _check_scoring_memory(item.name, (height, width, 3), first.channel, memory_budget)
            pair = make_test_pair(resolved.name, item, task, noise, sr_source)
            start = time.perf_counter()
            try:
                output = None if restorer is None else restorer(pair.degraded)
            except NonFiniteOutput as exc:
                raise NonFiniteOutput(exc.model, f"{pair.name} of {resolved.name}") from None
            restored = time.perf_counter() - start
            for n, index in enumerate(members):
                result, began = results[index], time.perf_counter()
                if output is None:
                    kept, values = _legacy_bicubic(pair.target, task.scale, metrics)
                else:
                    kept = _scored_output(output, pair.target, protocols[index])
                    scoring = MetricProtocol.from_protocol(protocols[index], task.scale)
                    values = score(kept, pair.target, scoring, metrics)
                seconds = time.perf_counter() - began + (restored if n == 0 else 0.0)
                row = {"image": pair.name, **values, "seconds": seconds}
                result.rows.append(row)
                if index == 0:
                    _save(pair, output, kept, save_images, crops_dir, result)
                    if on_image is not None:
                        on_image(row)
    return results


#: Restorers that never tile (their rows record no tiling).
UNTILED = ("bicubic-rgb", "identity")


def _degradation_key(protocol: Protocol, task: Task) -> tuple:
    if task.kind == "sr":
        return (protocol.lr_source,)
    if task.kind == "denoise":
        return (protocol.noise_mode, protocol.noise_clip, protocol.noise_round)
    return ()


def _protocol_record(protocol: Protocol, task: Task, legacy: bool, seed: int, image_set: dict) -> dict:
    """The row protocol of ``protocol`` (every switch), plus the image set and tiling."""
    if legacy:  # the Y-only bicubic pipeline scores rounded BT.601 Y, gray as its own Y
        return {
            **row_switches(
                resolve_protocol("matlab"),
                border=task.scale,
                denoise=False,
                lr_source="legacy-y-double",
                input_text="Y plane, not quantised (legacy Y pipeline)",
            ),
            **image_set,
        }
    noise = NoiseProtocol.from_protocol(protocol, seed)
    switches = row_switches(
        protocol,
        border=protocol.border_for(task.scale),
        denoise=task.kind == "denoise",
        lr_source=lr_source(task, protocol.lr_source),
        input_text=input_description(task, noise, protocol.lr_source),
    )
    return {**switches, **image_set}


def _scored_output(output: np.ndarray, target: np.ndarray, protocol: Protocol) -> np.ndarray:
    """The output as the protocol scores it: gray targets under ``gray="own"`` on one channel."""
    return match_channels(output, target) if protocol.gray == "own" else output


def _save(pair, output, kept, save_images: Path | None, crops_dir: Path | None, result: EvalResult) -> None:
    from ipt_bench.eval.restorers import to_uint8

    if save_images is not None and output is not None:
        write_png(Path(save_images) / f"{pair.name}.png", to_uint8(output))
    if crops_dir is not None:
        shown = kept if kept.dtype == np.uint8 else to_uint8(kept)
        result.saved += save_crops(Path(crops_dir), pair, shown)


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
    """Gray targets are scored on one channel: the mean of the output's channels, rounded to
    uint8 for a quantised output (a float output, the Input row's, stays float)."""
    if target.ndim == 2 and output.ndim == 3:
        mean = output.astype(np.float64).mean(axis=2)
        if output.dtype != np.uint8:
            return mean
        return np.clip(np.rint(mean), 0, 255).astype(np.uint8)
    return output


def _legacy_bicubic(
    hr: np.ndarray, scale: int, metrics: Sequence[str]
) -> tuple[np.ndarray, dict[str, float]]:
    """The Y-only bicubic baseline: its output is the Y plane it is scored on (as uint8)."""
    sr_y, hr_y = legacy_y_bicubic(hr, scale)
    values = score_planes(crop_border(sr_y, scale), crop_border(hr_y, scale), metrics)
    return sr_y.astype(np.uint8), values
