"""Projected GPU time of each suite's ``paper`` profile from FLOP counts (no training is run).

Every node of the suite's plan under ``--profile paper`` is costed from the forward FLOPs of
its network (``variant_cost``: one 48x48 tile, or the size's patch, with the task's tail):

- training node: ``steps x batch x 3 x forward FLOPs per patch`` (forward + backward; for
  multi-task pre-training, the mean over its tasks' tails);
- evaluation node: ``tiles x forward FLOPs per tile`` over the test set's images (blend
  tiling, the evaluation default; image sizes from the package's dataset manifests, so no
  data is needed), or ``pixels / tile pixels x per-tile FLOPs`` for whole-image CNNs;
  bicubic/identity cost nothing. A test set without a size manifest (``embedded``) is counted
  as unknown and left out.

The GPU rate is an assumption stated with the result (``GPU_FLOPS``).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ipt_bench.core.errors import DatasetError
from ipt_bench.core.tasks import Task
from ipt_bench.data.catalog import get_spec, load_manifest
from ipt_bench.models.registry import VariantSpec, variant_cost
from ipt_bench.models.tiling import count_tiles
from ipt_bench.suite.loader import load_suite
from ipt_bench.suite.planner import build_plan
from ipt_bench.train.runner import TrainSpec

#: Assumed sustained rate: 40% of an H100-class card's 990 TFLOP/s dense bf16.
GPU_PEAK_FLOPS = 990e12
GPU_UTILISATION = 0.4
GPU_FLOPS = GPU_UTILISATION * GPU_PEAK_FLOPS


def forward_gflops(variant: VariantSpec, scale: int) -> tuple[float, int]:
    """(GFLOPs of one forward on a tile, tile edge) of ``variant`` with a x``scale`` tail."""
    cost = variant_cost(variant, scale)
    return (0.0, 0) if cost is None else (cost.gflops_per_tile, cost.tile)


@functools.cache
def clean_sizes(dataset: str) -> tuple[tuple[int, int], ...] | None:
    """(height, width) of each clean image of ``dataset`` per its manifest (None without one)."""
    try:
        spec = get_spec(dataset)
    except DatasetError:
        return None
    if spec.manifest is None or not spec.manifest.is_file():
        return None
    entries = load_manifest(spec.manifest)
    clean = [e for e in entries if "LR_bicubic" not in e.path and "/rain/" not in e.path]
    return tuple((e.height, e.width) for e in clean) or None


def eval_gflops(variant: VariantSpec, task: Task, dataset: str, max_images: int | None) -> float | None:
    """Forward GFLOPs of evaluating ``variant`` on ``dataset`` (None: image sizes unknown)."""
    gflop, tile = forward_gflops(variant, task.scale)
    if not gflop:
        return 0.0
    sizes = clean_sizes(dataset)
    if sizes is None:
        return None
    n_images = get_spec(dataset).n_expected if max_images is None else min(max_images, len(sizes))
    per_image = []
    for height, width in sizes:
        h, w = height // task.scale, width // task.scale
        if variant.family == "ipt":
            per_image.append(count_tiles(h, w, tile=tile, mode="blend") * gflop)
        else:
            per_image.append(h * w / tile**2 * gflop)
    return sum(per_image) / len(per_image) * n_images


def train_gflops(spec: dict[str, Any]) -> float:
    """GFLOPs of a training node: steps x batch x 3 x mean forward GFLOPs over its tasks."""
    train = TrainSpec.from_json(spec)
    variant = train.variant_spec()
    forwards = [forward_gflops(variant, task.scale)[0] for task in train.tasks]
    return spec["steps"] * spec["batch_size"] * 3 * sum(forwards) / len(forwards)


def suite_projection(path: Path) -> dict[str, Any]:
    """Node counts, training and evaluation PFLOPs and projected GPU hours of one suite (paper profile)."""
    plan = build_plan(load_suite(path, check_names=False), profile="paper")
    nodes = {node.key: node for node in plan}
    train = evaluate = 0.0
    unknown = set()
    for node in plan:
        if node.kind != "eval":
            train += train_gflops(node.spec)
            continue
        spec = node.spec
        if spec["model"] is not None or not node.deps:  # bicubic / identity / official weights
            continue
        variant = TrainSpec.from_json(nodes[node.deps[0]].spec).variant_spec()
        gflop = eval_gflops(variant, Task.parse(spec["task"]), spec["dataset"], spec["max_images"])
        if gflop is None:
            unknown.add(spec["dataset"])
        else:
            evaluate += gflop
    counts = {kind: sum(n.kind == kind for n in plan) for kind in ("pretrain", "finetune", "eval")}
    return {
        "suite": path.stem,
        "nodes": counts,
        "train_pflop": train / 1e6,
        "eval_pflop": evaluate / 1e6,
        "gpu_hours": (train + evaluate) * 1e9 / GPU_FLOPS / 3600,
        "eval_gpu_seconds": evaluate * 1e9 / GPU_FLOPS,
        "datasets_without_sizes": sorted(unknown),
    }


def all_suites(folder: Path) -> list[dict[str, Any]]:
    """:func:`suite_projection` of every ``*.yaml`` suite in ``folder``."""
    return [suite_projection(path) for path in sorted(folder.glob("*.yaml"))]
