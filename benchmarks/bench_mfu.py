"""Training MFU on CPU: FLOPs per optimizer step (FlopCounterMode) x steps/s / dense fp32 matmul rate.

Run: ``python benchmarks/bench_mfu.py [--quick]``; writes ``results/mfu.json``. The step is the
training runner's (forward, L1 + contrastive, backward, clip, Adam) on synthetic x2 patches at
batch 8. The matmul peak is the best 2048^3 ``torch.mm`` rate measured in the same process
before and after the steps (the higher of the two: load from other processes only lowers it).
FLOPs include the CPU fused-attention kernel, which torch's counter does not know by itself.

Evidence for what limits MFU, per size:

- one ``torch.profiler`` step: self CPU time per op category (matmul, attention, conv, layer
  norm, optimizer, copies, other) and the top ops. The paper size's single timed step is that
  profiled step (the profiler adds well under 1% to a step of many seconds);
- one step on a single thread timed by the process's CPU time, against the single-thread
  matmul rate timed the same way (also the higher of before and after): an MFU that other
  processes on the machine cannot lower (a descheduled thread stalls every parallel region of
  the other one; CPU time excludes it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import torch
from common import count_flops, matmul_flops_per_s, profile_ops, quick_parser, write_result
from torch.profiler import record_function

from ipt_bench.models.registry import get_variant
from ipt_bench.train.losses import restoration_loss
from ipt_bench.train.runner import ADAM_BETAS, GRAD_CLIP_NORM

BATCH = 8
GOAL = 0.5
#: (variant, timed steps); 0 timed steps = the profiled step is the timed one.
FULL_PLAN = (("ipt-tiny-con", 10), ("ipt-small-con", 3), ("ipt-paper-con", 0))
PHASES = ("forward", "loss", "backward", "optimizer")


def step_fn(variant_name: str, batch: int):
    """A closure running one training step of the variant's x2 model on fixed random patches,
    with its phases marked for the profiler (forward, loss, backward, optimizer)."""
    torch.manual_seed(0)
    variant = get_variant(variant_name)
    model = variant.build_model([2])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5, betas=ADAM_BETAS)
    size = model.patch_size
    x = torch.rand(batch, 3, size, size) * 255
    y = torch.rand(batch, 3, 2 * size, 2 * size) * 255

    def step() -> None:
        with record_function("forward"):
            out, tokens = model(x, 0, return_tokens=True)
        with record_function("loss"):
            loss = restoration_loss(out, y, tokens, variant.contrastive_weight).total
        with record_function("backward"):
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
        with record_function("optimizer"):
            torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP_NORM)
            optimizer.step()

    return step, model


def cpu_seconds(fn: Callable[[], object]) -> float:
    """Process CPU time (user + system) of one call of ``fn``."""
    began = time.process_time()
    fn()
    return time.process_time() - began


def single_thread(fn: Callable[[], float]) -> float:
    """Run ``fn`` with torch limited to one thread; returns its result."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn()
    finally:
        torch.set_num_threads(threads)


def single_thread_matmul_rate(n: int, repeat: int = 5) -> float:
    """One-thread ``torch.mm`` rate (FLOP/s) of an n^3 product by CPU time, best of ``repeat``."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    return 2 * n**3 / min(cpu_seconds(lambda: torch.mm(a, b)) for _ in range(repeat))


def measure(variant_name: str, steps: int, batch: int = BATCH) -> dict:
    """FLOPs per step (counted on the warm-up step), timed steps, one profiled step and one
    single-thread step timed by CPU time."""
    step, model = step_fn(variant_name, batch)
    load_before = os.getloadavg()[0]
    flops, by_op = count_flops(step)  # also the warm-up
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    profile = profile_ops(step, by_op, PHASES)
    if not times:
        times.append(profile["wall_s"])
    load_after = os.getloadavg()[0]
    # best of two where steps are cheap: the first after the switch sets up kernels for one thread
    one_thread_s = single_thread(lambda: min(cpu_seconds(step) for _ in range(2 if steps else 1)))
    return {
        "variant": variant_name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "batch": batch,
        "timed_steps": len(times),
        "timed_step_profiled": steps == 0,
        "gflops_per_step": flops / 1e9,
        "gflops_by_op": {op: n / 1e9 for op, n in by_op.items()},
        "seconds_per_step_best": min(times),
        "seconds_per_step_mean": sum(times) / len(times),
        "achieved_gflops_per_s": flops / min(times) / 1e9,
        "load_average": [load_before, load_after],
        "one_thread_cpu_seconds": one_thread_s,
        "one_thread_gflops_per_s": flops / one_thread_s / 1e9,
        "profile": profile,
    }


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    plan, batch, n = ((("ipt-tiny-con", 1),), 2, 1024) if args.quick else (FULL_PLAN, BATCH, 2048)
    peak_before = matmul_flops_per_s(n)
    one_thread_before = single_thread(lambda: single_thread_matmul_rate(n))
    rows = [measure(name, steps, batch) for name, steps in plan]
    peak_after = matmul_flops_per_s(n)
    one_thread_peak = max(one_thread_before, single_thread(lambda: single_thread_matmul_rate(n)))
    peak = max(peak_before, peak_after)
    for row in rows:
        row["mfu"] = row["achieved_gflops_per_s"] * 1e9 / peak
        row["one_thread_cpu_mfu"] = row["one_thread_gflops_per_s"] * 1e9 / one_thread_peak
        top = ", ".join(f"{k} {v['share']:.0%}" for k, v in list(row["profile"]["categories"].items())[:4])
        print(
            f"{row['variant']}: {row['gflops_per_step']:.1f} GFLOP/step, "
            f"{row['seconds_per_step_best']:.3f} s, "
            f"MFU {row['mfu']:.2f}, one-thread CPU-time MFU {row['one_thread_cpu_mfu']:.2f} ({top})"
        )
    print(
        f"matmul {n}^3: {peak_before / 1e9:.1f} GFLOP/s before, {peak_after / 1e9:.1f} after, "
        f"{one_thread_peak / 1e9:.1f} on one thread (CPU time)"
    )
    write_result(
        "mfu",
        {
            "matmul_n": n,
            "matmul_gflops_per_s": peak / 1e9,
            "matmul_gflops_per_s_before": peak_before / 1e9,
            "matmul_gflops_per_s_after": peak_after / 1e9,
            "one_thread_matmul_gflops_per_s": one_thread_peak / 1e9,
            "goal_mfu": GOAL,
            "results": rows,
        },
        args.quick,
    )


if __name__ == "__main__":
    main()
