"""What a plan costs, from FLOP counts: GPU-hours for the ``paper`` profile, minutes on a CPU.

Every node is costed from the forward FLOPs of its network (``variant_cost``: one 48x48 tile,
or the size's patch, with the task's tail):

- training node: ``steps x batch x 3 x forward FLOPs per patch`` (forward + backward; for
  multi-task pre-training, the mean over its tasks' tails);
- evaluation node: ``tiles x forward FLOPs per tile`` over the test set's images (blend tiling,
  the evaluation default; image sizes from the package's dataset manifests, so no data is
  needed), or ``pixels / tile pixels x per-tile FLOPs`` for whole-image CNNs; bicubic/identity
  cost nothing. A test set without a size manifest (``embedded``) has no FLOP count: the
  planner's rough per-node seconds stand in for it.

The rates are assumptions stated with every estimate (:data:`GPU_FLOPS`, :data:`CPU_FLOPS_PER_CORE`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ipt_bench.core.errors import DatasetError
from ipt_bench.core.tasks import Task
from ipt_bench.data.catalog import get_spec, load_manifest
from ipt_bench.models.registry import VariantSpec, variant_cost
from ipt_bench.models.tiling import count_tiles
from ipt_bench.suite.planner import Node, Plan

#: Assumed sustained GPU rate: 40% of an H100-class card's 990 TFLOP/s dense bf16.
GPU_PEAK_FLOPS = 990e12
GPU_UTILISATION = 0.4
GPU_FLOPS = GPU_UTILISATION * GPU_PEAK_FLOPS
#: Sustained training rate per CPU core: the tiny IPT's step ran at 76 GFLOP/s on 2 cores
#: (benchmarks/results/mfu.json), rounded down.
CPU_FLOPS_PER_CORE = 35e9


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


@functools.cache  # a plan evaluates one model on many test levels with the same tiles
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
    from ipt_bench.train.runner import TrainSpec

    train = TrainSpec.from_json(spec)
    variant = train.variant_spec()
    forwards = [forward_gflops(variant, task.scale)[0] for task in train.tasks]
    return (spec["steps"] or 0) * (spec["batch_size"] or 0) * 3 * sum(forwards) / len(forwards)


def node_gflops(node: Node, plan: Plan) -> float | None:
    """GFLOPs of one node (None: an evaluation on a set without image sizes)."""
    if node.kind != "eval":
        return train_gflops(node.spec)
    spec = node.spec
    if spec["model"] is not None or not node.deps:  # bicubic / identity / official weights
        return 0.0
    from ipt_bench.train.runner import TrainSpec

    variant = TrainSpec.from_json(plan.nodes[node.deps[0]].spec).variant_spec()
    return eval_gflops(variant, Task.parse(spec["task"]), spec["dataset"], spec["max_images"])


@dataclass(frozen=True)
class PlanCost:
    """The cost of the nodes of a plan that are still to run."""

    train_gflop: float
    eval_gflop: float
    unsized_seconds: float  # planner estimate of the evaluations without a FLOP count

    @property
    def gpu_hours(self) -> float:
        """Hours on one GPU at :data:`GPU_FLOPS` (evaluations without sizes at their CPU estimate)."""
        return ((self.train_gflop + self.eval_gflop) * 1e9 / GPU_FLOPS + self.unsized_seconds) / 3600

    def cpu_seconds(self, cores: int) -> float:
        """Seconds on ``cores`` CPU cores at :data:`CPU_FLOPS_PER_CORE` each."""
        rate = CPU_FLOPS_PER_CORE * max(cores, 1)
        return (self.train_gflop + self.eval_gflop) * 1e9 / rate + self.unsized_seconds


def plan_cost(plan: Plan, skip: set[str] | frozenset[str] = frozenset()) -> PlanCost:
    """FLOPs of every node of ``plan`` not in ``skip`` (cached nodes)."""
    train = evaluate = unsized = 0.0
    for node in plan:
        if node.key in skip:
            continue
        gflop = node_gflops(node, plan)
        if gflop is None:
            unsized += node.est_seconds
        elif node.kind == "eval":
            evaluate += gflop
        else:
            train += gflop
    return PlanCost(train, evaluate, unsized)


def human_duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3.5 h``, ``77 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"
