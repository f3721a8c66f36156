"""Pre-training loader throughput (corrupted patches/s, 0 and 2 workers) vs what a ``small``
training step consumes (batch 8 / step time, measured in the same process).

The loader draws the six pre-training tasks' corrupted 48x48 patches from T91; its rate
includes worker start-up. Run: ``python benchmarks/bench_data.py [--quick]``.
"""

from __future__ import annotations

import time

from bench_mfu import step_fn
from common import DATA_ROOT, best_time, quick_parser, write_result

from ipt_bench.core.tasks import pretrain_tasks
from ipt_bench.data.patches import PatchSampler, load_images, step_loader

GOAL = 3.0
BATCH = 8


def loader_rate(sampler: PatchSampler, batches: int, workers: int) -> float:
    """Patches per second yielded by the step loader (worker start-up included)."""
    began = time.perf_counter()
    count = sum(b.degraded.shape[0] for b in step_loader(sampler, 0, batches, num_workers=workers))
    return count / (time.perf_counter() - began)


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    batches, variant, steps = (2, "ipt-tiny-con", 1) if args.quick else (40, "ipt-small-con", 2)
    images = load_images(sorted((DATA_ROOT / "T91" / "HR").glob("*.png")), 48 * 4)
    sampler = PatchSampler(images, pretrain_tasks(), 48, BATCH, seed=0)
    rates = {f"workers_{w}": loader_rate(sampler, batches, w) for w in (0, 2)}
    step, _ = step_fn(variant, BATCH)
    step_seconds = best_time(step, steps, warmup=1)
    consumed = BATCH / step_seconds
    result = {
        "variant": variant,
        "batch": BATCH,
        "batches": batches,
        "patches_per_s": rates,
        "train_step_seconds": step_seconds,
        "train_consumes_patches_per_s": consumed,
        "ratio_workers_0": rates["workers_0"] / consumed,
        "ratio_workers_2": rates["workers_2"] / consumed,
        "goal_ratio": GOAL,
    }
    print(result)
    write_result("data", result, args.quick)


if __name__ == "__main__":
    main()
