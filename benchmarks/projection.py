"""Projected GPU time of each suite's ``paper`` profile from FLOP counts (no training is run).

Every node of the suite's plan under ``--profile paper`` is costed by the package's cost model
(``ipt_bench.suite.costs``, also behind ``ipt-bench run --dry-run``):

- training node: ``steps x batch x 3 x forward FLOPs per patch`` (forward + backward; for
  multi-task pre-training, the mean over its tasks' tails);
- evaluation node: ``tiles x forward FLOPs per tile`` over the test set's images (blend
  tiling, the evaluation default; image sizes from the package's dataset manifests, so no
  data is needed), or ``pixels / tile pixels x per-tile FLOPs`` for whole-image CNNs;
  bicubic/identity cost nothing. A test set without a size manifest (``embedded``) is counted
  as unknown and left out.

The GPU rate is an assumption stated with the result (``GPU_FLOPS``); evaluation FLOPs are
summed separately here so that sets without sizes can be listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ipt_bench.suite.costs import (  # noqa: F401 (GPU_* re-exported for summary.py)
    GPU_FLOPS,
    GPU_PEAK_FLOPS,
    GPU_UTILISATION,
    node_gflops,
)
from ipt_bench.suite.loader import load_suite
from ipt_bench.suite.planner import build_plan


def suite_projection(path: Path) -> dict[str, Any]:
    """Node counts, training and evaluation PFLOPs and projected GPU hours of one suite (paper profile)."""
    plan = build_plan(load_suite(path, check_names=False), profile="paper")
    train = evaluate = 0.0
    unknown = set()
    for node in plan:
        gflop = node_gflops(node, plan)
        if gflop is None:
            unknown.add(node.spec["dataset"])
        elif node.kind == "eval":
            evaluate += gflop
        else:
            train += gflop
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
