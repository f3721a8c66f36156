"""Training throughput (samples/s) and peak memory (RSS) of IPT tiny/small/paper at batch 8 on
this machine's CPU; writes ``benchmarks/results/training.json`` with machine info.

Run: ``python benchmarks/bench_training.py [--steps-small 6] [--steps-paper 2]``. The measurement
is the optimizer step (forward, L1 + contrastive, backward, clip, Adam) on synthetic x2 patches,
so data loading is excluded; the first step is a warm-up and is not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

import torch

from ipt_bench.core.atomic import atomic_write_text
from ipt_bench.models.registry import get_variant
from ipt_bench.train.losses import restoration_loss
from ipt_bench.train.runner import ADAM_BETAS, GRAD_CLIP_NORM

RESULTS = Path(__file__).resolve().parent / "results" / "training.json"
BATCH = 8


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(variant_name: str, steps: int, batch: int = BATCH) -> dict:
    """Timed optimizer steps of one variant's x2 model."""
    torch.manual_seed(0)
    variant = get_variant(variant_name)
    model = variant.build_model([2])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5, betas=ADAM_BETAS)
    size = model.patch_size
    x = torch.rand(batch, 3, size, size) * 255
    y = torch.rand(batch, 3, 2 * size, 2 * size) * 255
    times = []
    for _ in range(steps + 1):
        began = time.perf_counter()
        out, tokens = model(x, 0, return_tokens=True)
        terms = restoration_loss(out, y, tokens, variant.contrastive_weight)
        optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP_NORM)
        optimizer.step()
        times.append(time.perf_counter() - began)
    timed = times[1:]
    return {
        "variant": variant_name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "patch_size": size,
        "batch": batch,
        "timed_steps": len(timed),
        "seconds_per_step": sum(timed) / len(timed),
        "samples_per_s": batch * len(timed) / sum(timed),
        "peak_rss_mib_after": peak_rss_mib(),
    }


def machine() -> dict:
    """Where the numbers were measured."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps-small", type=int, default=6, help="timed steps for tiny and small")
    parser.add_argument("--steps-paper", type=int, default=2, help="timed steps for the paper size")
    args = parser.parse_args()
    rows = []
    # Smallest first: ru_maxrss only grows, so each row's peak includes the earlier ones.
    for name, steps in (
        ("ipt-tiny-con", args.steps_small),
        ("ipt-small-con", args.steps_small),
        ("ipt-paper-con", args.steps_paper),
    ):
        rows.append(measure(name, steps))
        print(json.dumps(rows[-1]))
    atomic_write_text(RESULTS, json.dumps({"machine": machine(), "results": rows}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
