"""Restorers: what evaluation runs on each degraded image (a network, bicubic, or identity).

A restorer maps a float32 HxWx3 image in [0, 1] to the uint8 HxWx3 restored image,
quantised like the official code (clamp to [0, 255], round) before scoring; only the identity
restorer returns its input unquantised (float, 0-255), so the Input row scores what networks see.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from ipt_bench.core.errors import CheckpointError, ConfigError
from ipt_bench.core.tasks import PAPER_PRETRAIN_TASKS, Task
from ipt_bench.data.resize import imresize
from ipt_bench.models.checkpoint import build_ipt_from_state_dict, load_state_dict_file
from ipt_bench.models.finite import check_finite
from ipt_bench.models.memory import plan_tile_batch
from ipt_bench.models.prebuild import build_checked, check_finite_weights
from ipt_bench.models.registry import get_variant
from ipt_bench.models.sidecar import ModelDescription, read_model_json
from ipt_bench.models.tiling import tiled_forward

#: ``tile_batch`` value that sizes tile batches from the memory budget.
AUTO = "auto"
#: The largest batch "auto" picks: the batch size changes float results in the last bits (GEMM
#: blocking), so whenever memory allows, "auto" runs the same batches as a fixed 16.
AUTO_MAX_TILE_BATCH = 16


class Restorer(Protocol):
    """Maps a degraded float image in [0, 1] (HxWx3) to a restored uint8 image."""

    name: str

    def __call__(self, degraded: np.ndarray) -> np.ndarray: ...


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Clamp to [0, 255] and round, as the official quantisation does."""
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


@dataclass
class IdentityRestorer:
    """Returns the degraded input exactly as networks receive it (float, 0-255 scale, neither
    clipped nor rounded unless the protocol's degradation did so): the "Input" row."""

    name: str = "identity"

    def __call__(self, degraded: np.ndarray) -> np.ndarray:
        return degraded.astype(np.float64) * 255.0


@dataclass
class BicubicRGBRestorer:
    """MATLAB bicubic upsampling of the RGB uint8 LR that networks see."""

    scale: int
    name: str = "bicubic-rgb"

    def __call__(self, degraded: np.ndarray) -> np.ndarray:
        return imresize(to_uint8(degraded.astype(np.float64) * 255.0), float(self.scale))


def check_tile_batch(value: int | str) -> int | str:
    """``"auto"`` or a positive integer (also given as text); anything else is a ConfigError."""
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or str(number) != str(value).strip():
        raise ConfigError(f"tile batch {value!r} is invalid", "use --tile-batch auto or a whole number >= 1")
    return number


@dataclass
class NetworkRestorer:
    """A network with per-task heads; inputs/outputs on the [0, rgb_range] scale, run in tiles.

    ``tile_batch`` "auto" runs the largest batch (at most :data:`AUTO_MAX_TILE_BATCH`) that fits
    ``memory_budget`` bytes (default: a share of the memory available when an image starts); a
    number is used as given once it is checked to fit. An image that does not fit even one tile
    at a time is refused with a ConfigError before anything big is allocated.
    """

    model: torch.nn.Module
    task_idx: int
    scale: int
    name: str
    tiling: str = "blend"
    tile_batch: int | str = AUTO
    device: str = "cpu"
    memory_budget: int | None = None

    def __post_init__(self) -> None:
        self.tile_batch = check_tile_batch(self.tile_batch)
        self.model.eval().to(self.device)
        self.rgb_range = float(getattr(self.model, "rgb_range", 255))
        self.tile = getattr(self.model, "patch_size", None)

    def plan(self, height: int, width: int, channels: int = 3) -> int:
        """Tiles per forward for an ``height`` x ``width`` image (1 for whole-image networks)."""
        cap = AUTO_MAX_TILE_BATCH if self.tile_batch == AUTO else int(self.tile_batch)
        quantised = 2 * channels * height * width * self.scale**2  # uint8 result and its HWC copy
        batch = plan_tile_batch(
            self.model,
            height,
            width,
            self.scale,
            None if self.tile is None else int(self.tile),
            self.memory_budget,
            cap,
            channels=channels,
            extra_bytes=quantised,
            device=self.device,
        )
        if self.tile is not None and self.tile_batch != AUTO and batch < cap:
            raise ConfigError(
                f"--tile-batch {cap} does not fit the memory budget for a {height}x{width} image "
                f"(at most {batch} tiles per forward fit)",
                f"use --tile-batch auto or at most {batch}, or raise --memory-budget",
            )
        return batch

    @torch.inference_mode()
    def __call__(self, degraded: np.ndarray) -> np.ndarray:
        tile_batch = self.plan(*degraded.shape[:3])
        x = torch.from_numpy(np.ascontiguousarray(degraded.transpose(2, 0, 1)))[None].float()
        x = (x * self.rgb_range).to(self.device)

        def run(batch: torch.Tensor) -> torch.Tensor:
            return self.model(batch, self.task_idx)

        if self.tile is None:
            out = run(x)
        else:
            out = tiled_forward(
                run, x, tile=int(self.tile), scale=self.scale, mode=self.tiling, tile_batch=tile_batch
            )
        check_finite(out, self.name)
        # Quantised in place (same numbers as to_uint8): no float copies of the large output.
        out = out[0].float().cpu().permute(1, 2, 0).mul_(255.0 / self.rgb_range)
        return out.round_().clamp_(0, 255).to(torch.uint8).contiguous().numpy()


def _pick_task_index(tasks: list[Task], task: Task, source: str) -> int:
    """Head serving ``task``: exact match, else the same kind (closest sigma for denoising)."""
    if task in tasks:
        return tasks.index(task)
    same_kind = [i for i, t in enumerate(tasks) if t.kind == task.kind and t.scale == task.scale]
    if not same_kind:
        raise CheckpointError(
            f"{source} has heads for {', '.join(t.name for t in tasks)} but not for {task.name}",
            "pick a checkpoint trained for this task, or pass --task-idx",
        )
    if task.kind == "denoise":
        return min(same_kind, key=lambda i: abs(float(tasks[i].sigma) - float(task.sigma)))
    return same_kind[0]


def _official_tasks(model_scales: list[int], num_queries: int) -> list[Task] | None:
    """Tasks of an official checkpoint, known from its tails (6-task pretrain or one SR scale)."""
    if num_queries == len(PAPER_PRETRAIN_TASKS) and model_scales == [
        t.tail_scale for t in PAPER_PRETRAIN_TASKS
    ]:
        return list(PAPER_PRETRAIN_TASKS)
    return None


def load_checkpoint_restorer(
    checkpoint: Path,
    task: Task,
    *,
    task_idx: int | None = None,
    tiling: str = "blend",
    tile_batch: int | str = AUTO,
    num_heads: int = 12,
    device: str = "cpu",
    memory_budget: int | None = None,
) -> NetworkRestorer:
    """A restorer from a model file (official IPT layout or ours) or a training output folder."""
    checkpoint = Path(checkpoint)
    meta_path = checkpoint / "model.json" if checkpoint.is_dir() else checkpoint.with_suffix(".json")
    weights = checkpoint / "model.pt" if checkpoint.is_dir() else checkpoint
    if not weights.exists():
        raise CheckpointError(
            f"checkpoint {weights} does not exist", "pass a model .pt file or a training folder"
        )
    state = load_state_dict_file(weights)
    check_finite_weights(state, str(weights))
    tasks: list[Task] | None = None
    if meta_path.exists():
        meta = read_model_json(meta_path)
        tasks = meta.tasks
        model = _build_from_meta(meta, state, weights)
    else:
        model = build_ipt_from_state_dict(state, num_heads=num_heads, source=str(weights))
        tasks = _official_tasks(list(model.scales), model.num_queries)
    scales = list(getattr(model, "scales", [task.tail_scale]))
    if task_idx is None:
        if tasks is not None:
            task_idx = _pick_task_index(tasks, task, str(weights))
        else:
            matching = [i for i, s in enumerate(scales) if s == task.tail_scale]
            if not matching:
                raise CheckpointError(
                    f"{weights} has tails for scales {scales}, none for {task.name}",
                    "use the checkpoint made for this task (e.g. IPT_sr2.pt for x2)",
                )
            task_idx = matching[0]
    if not 0 <= task_idx < len(scales):
        raise CheckpointError(
            f"--task-idx {task_idx} is out of range: {weights} has {len(scales)} head(s)",
            f"pass --task-idx between 0 and {len(scales) - 1}, or leave it out to pick the head of the task",
        )
    if scales[task_idx] != task.tail_scale:
        raise CheckpointError(
            f"head {task_idx} of {weights} is x{scales[task_idx]}, {task.name} needs x{task.tail_scale}",
            "choose the matching --task-idx or checkpoint",
        )
    return NetworkRestorer(
        model,
        task_idx,
        task.tail_scale,
        name=weights.stem,
        tiling=tiling,
        tile_batch=tile_batch,
        device=device,
        memory_budget=memory_budget,
    )


def _build_from_meta(meta: ModelDescription, state: dict, weights: Path) -> torch.nn.Module:
    """Rebuild a model trained here from the exact constructor arguments in its model.json."""
    from ipt_bench.models.family import FAMILIES

    if meta.family not in FAMILIES or not FAMILIES.get(meta.family).trainable:
        raise CheckpointError(f"{weights}: unknown model family {meta.family!r}", "re-train the model")
    return build_checked(FAMILIES.get(meta.family).build, meta.kwargs, state, str(weights))


def variant_restorer(
    name: str,
    task: Task,
    *,
    seed: int = 0,
    tiling: str = "blend",
    tile_batch: int | str = AUTO,
    device: str = "cpu",
    memory_budget: int | None = None,
) -> Restorer:
    """A restorer for a registered variant name; networks are freshly (seeded) initialised."""
    if name == "identity":
        return IdentityRestorer()
    if name == "bicubic-rgb":
        if task.kind != "sr":
            raise ConfigError(
                "bicubic applies to super-resolution only", "use --model identity for this task"
            )
        return BicubicRGBRestorer(task.scale)
    spec = get_variant(name)
    if spec.family in ("bicubic", "identity"):  # the untrained baselines: restorers of their own
        return variant_restorer(spec.family if spec.family == "identity" else "bicubic-rgb", task)
    torch.manual_seed(seed)
    model = spec.build_model([task.tail_scale])
    return NetworkRestorer(
        model,
        0,
        task.tail_scale,
        name=name,
        tiling=tiling,
        tile_batch=tile_batch,
        device=device,
        memory_budget=memory_budget,
    )
