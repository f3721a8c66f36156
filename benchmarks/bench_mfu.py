"""Training MFU on CPU: FLOPs per optimizer step (FlopCounterMode) x steps/s / dense fp32 matmul rate.

Run: ``python benchmarks/bench_mfu.py [--quick]``; writes ``results/mfu.json``. The step is the
training runner's (forward, L1 + contrastive, backward, clip, Adam) on synthetic x2 patches at
batch 8; the matmul peak is a 2048^3 ``torch.mm`` measured in the same process just before.
"""

from __future__ import annotations

import time

import torch
from common import matmul_flops_per_s, quick_parser, write_result
from torch.utils.flop_counter import FlopCounterMode

from ipt_bench.models.registry import get_variant
from ipt_bench.train.losses import restoration_loss
from ipt_bench.train.runner import ADAM_BETAS, GRAD_CLIP_NORM

BATCH = 8
GOAL = 0.5


def step_fn(variant_name: str, batch: int):
    """A closure running one training step of the variant's x2 model on fixed random patches."""
    torch.manual_seed(0)
    variant = get_variant(variant_name)
    model = variant.build_model([2])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5, betas=ADAM_BETAS)
    size = model.patch_size
    x = torch.rand(batch, 3, size, size) * 255
    y = torch.rand(batch, 3, 2 * size, 2 * size) * 255

    def step() -> None:
        out, tokens = model(x, 0, return_tokens=True)
        loss = restoration_loss(out, y, tokens, variant.contrastive_weight).total
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP_NORM)
        optimizer.step()

    return step, model


def measure(variant_name: str, steps: int, peak: float, batch: int = BATCH) -> dict:
    """FLOPs per step, timed steps (after one warm-up) and MFU of one variant."""
    step, model = step_fn(variant_name, batch)
    with FlopCounterMode(display=False) as counter:
        step()  # also the warm-up
    flops = counter.get_total_flops()
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    seconds = min(times)
    achieved = flops / seconds
    return {
        "variant": variant_name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "batch": batch,
        "timed_steps": steps,
        "gflops_per_step": flops / 1e9,
        "seconds_per_step_best": seconds,
        "seconds_per_step_mean": sum(times) / len(times),
        "achieved_gflops_per_s": achieved / 1e9,
        "mfu": achieved / peak,
    }


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    if args.quick:
        plan, batch, peak = [("ipt-tiny-con", 1)], 2, matmul_flops_per_s(256)
    else:
        plan, batch, peak = [("ipt-tiny-con", 5), ("ipt-small-con", 3), ("ipt-paper-con", 2)], BATCH, None
        peak = matmul_flops_per_s(2048)
    rows = [measure(name, steps, peak, batch) for name, steps in plan]
    for row in rows:
        print(
            f"{row['variant']}: {row['gflops_per_step']:.1f} GFLOP/step, "
            f"{row['seconds_per_step_best']:.3f} s, "
            f"MFU {row['mfu']:.2f}"
        )
    write_result("mfu", {"matmul_gflops_per_s": peak / 1e9, "goal_mfu": GOAL, "results": rows}, args.quick)


if __name__ == "__main__":
    main()
