"""Shared helpers of the benchmark scripts: machine info, JSON output, timing, the matmul peak,
FLOP counting and profiler summaries.

``BENCH_RESULTS_DIR`` redirects the JSON files (the smoke test writes to a temporary folder so
quick runs never overwrite the committed results).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

from ipt_bench.core.atomic import atomic_write_text

BENCH_DIR = Path(__file__).resolve().parent
DATA_ROOT = Path(os.environ.get("IPT_BENCH_DATA", BENCH_DIR.parent.parent / "shared" / "data"))
#: When this script's measurements began (after its imports): ``write_result`` records the span.
STARTED = time.perf_counter()


def results_dir() -> Path:
    """Folder the JSON results go to."""
    return Path(os.environ.get("BENCH_RESULTS_DIR", BENCH_DIR / "results"))


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (falls back to the platform's machine type)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Where the numbers were measured (``load_average``: 1-minute load when the file is written)."""
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def quick_parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with the common ``--quick`` flag (tiny sizes for the smoke test)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs")
    return parser


def write_result(name: str, payload: dict[str, Any], quick: bool) -> Path:
    """Write ``{machine, quick, wall_seconds, **payload}`` to ``<results>/<name>.json``, print the
    path and the script's wall time (measurements only; imports excluded)."""
    path = results_dir() / f"{name}.json"
    wall = time.perf_counter() - STARTED
    document = {"machine": machine(), "quick": quick, "wall_seconds": wall, **payload}
    atomic_write_text(path, json.dumps(document, indent=2))
    print(f"wrote {path} ({wall:.1f} s of measurements)")
    return path


def best_time(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    """Smallest wall time of ``repeat`` calls after ``warmup`` untimed ones (least disturbed by load)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def best_times_interleaved(fns: dict[str, Callable[[], object]], repeat: int, warmup: int = 1) -> dict:
    """Smallest wall time of each function, calling them in turn ``repeat`` times (after ``warmup``
    rounds), so a change in machine load hits every contender alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            began = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - began)
    return {name: min(values) for name, values in times.items()}


def matmul_flops_per_s(n: int = 2048, repeat: int = 10, warmup: int = 2) -> float:
    """Dense fp32 ``torch.mm`` rate (FLOP/s) of an n x n x n product: the best of ``repeat`` timed
    products after ``warmup`` untimed ones (the first products pay for page faults and thread
    start-up, and n below ~1024 measures overhead rather than the arithmetic rate)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / best_time(lambda: torch.mm(a, b), repeat, warmup)


def _cpu_sdpa_flops(query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query, key, value)


def _cpu_sdpa_backward_flops(grad_out, query, key, value, *args, out_shape=None, **kwargs) -> int:
    return sdpa_backward_flop_count(grad_out, query, key, value)


#: torch's FLOP counter knows the CUDA fused-attention kernels but not the CPU one that
#: ``scaled_dot_product_attention`` dispatches to here; count it with the same formulas.
CPU_ATTENTION_FLOPS = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _cpu_sdpa_flops,
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward: _cpu_sdpa_backward_flops,
}


def count_flops(fn: Callable[[], object]) -> tuple[int, dict[str, int]]:
    """Run ``fn`` once under ``FlopCounterMode``: (total FLOPs, FLOPs per aten op)."""
    with FlopCounterMode(display=False, custom_mapping=CPU_ATTENTION_FLOPS) as counter:
        fn()
    by_op = {str(op): int(n) for op, n in counter.get_flop_counts()["Global"].items()}
    return counter.get_total_flops(), by_op


#: Profiler op-name fragments of each category, first match wins (``aten::mm`` -> matmul).
OP_CATEGORIES = (
    ("attention", ("scaled_dot_product", "flash_attention", "softmax", "bmm", "baddbmm")),
    ("matmul", ("aten::mm", "aten::addmm", "aten::matmul", "aten::linear")),
    ("conv", ("convolution", "im2col", "col2im")),
    ("layernorm", ("layer_norm",)),
    ("optimizer", ("addcdiv", "addcmul", "lerp", "sqrt", "_foreach")),
    (
        "copy/fill/layout",
        ("copy_", "fill_", "zero_", "aten::cat", "clone", "contiguous", "empty", "pixel_shuffle"),
    ),
)
#: FlopCounterMode op names of the categories that carry FLOPs.
FLOP_CATEGORIES = {
    "aten.mm": "matmul",
    "aten.addmm": "matmul",
    "aten.bmm": "attention",
    "aten.baddbmm": "attention",
    "aten.convolution": "conv",
    "aten.convolution_backward": "conv",
    "aten._scaled_dot_product_flash_attention_for_cpu": "attention",
    "aten._scaled_dot_product_flash_attention_for_cpu_backward": "attention",
}


def op_category(name: str) -> str:
    """The category of a profiler op name (``other`` = element-wise ops, reductions, the rest)."""
    for category, fragments in OP_CATEGORIES:
        if any(fragment in name for fragment in fragments):
            return category
    return "other"


def profile_ops(
    fn: Callable[[], object],
    flops_by_op: dict[str, int] | None = None,
    ranges: tuple[str, ...] = (),
    top: int = 12,
) -> dict:
    """Run ``fn`` once under ``torch.profiler`` (CPU): the share of self CPU time per op category
    (with GFLOP/s where ``flops_by_op`` gives the FLOPs of one call of ``fn``), the top ops by
    self CPU time, and the wall time inside each ``record_function`` range named in ``ranges``."""
    from torch.profiler import ProfilerActivity, profile

    began = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    wall = time.perf_counter() - began
    events = [e for e in prof.key_averages() if not e.key.startswith(("autograd::", "Optimizer.", "##"))]
    ops = [e for e in events if "::" in e.key]
    total_us = sum(e.self_cpu_time_total for e in ops) or 1.0
    seconds: dict[str, float] = {}
    for e in ops:
        category = op_category(e.key)
        seconds[category] = seconds.get(category, 0.0) + e.self_cpu_time_total / 1e6
    flops: dict[str, float] = {}
    for op, n in (flops_by_op or {}).items():
        category = FLOP_CATEGORIES.get(op, "other")
        flops[category] = flops.get(category, 0.0) + n
    categories: dict[str, dict[str, float]] = {}
    for name, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        categories[name] = {"self_cpu_s": round(s, 4), "share": round(s * 1e6 / total_us, 4)}
        if flops.get(name):
            categories[name].update(
                gflop=round(flops[name] / 1e9, 3), gflops_per_s=round(flops[name] / s / 1e9, 2)
            )
    top_ops = [
        {
            "op": e.key,
            "self_cpu_s": round(e.self_cpu_time_total / 1e6, 4),
            "share": round(e.self_cpu_time_total / total_us, 4),
            "calls": e.count,
        }
        for e in sorted(ops, key=lambda e: -e.self_cpu_time_total)[:top]
    ]
    range_s = {e.key: round(e.cpu_time_total / 1e6, 4) for e in prof.key_averages() if e.key in ranges}
    return {
        "wall_s": wall,
        "self_cpu_total_s": total_us / 1e6,
        "categories": categories,
        "top_ops": top_ops,
        "ranges_s": range_s,
    }
