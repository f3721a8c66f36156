"""Shared helpers of the benchmark scripts: machine info, JSON output, timing, the matmul peak.

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

from ipt_bench.core.atomic import atomic_write_text

BENCH_DIR = Path(__file__).resolve().parent
DATA_ROOT = Path(os.environ.get("IPT_BENCH_DATA", BENCH_DIR.parent.parent / "shared" / "data"))


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
    """Where the numbers were measured."""
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def quick_parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with the common ``--quick`` flag (tiny sizes for the smoke test)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs")
    return parser


def write_result(name: str, payload: dict[str, Any], quick: bool) -> Path:
    """Write ``{machine, quick, **payload}`` to ``<results>/<name>.json`` and print the path."""
    path = results_dir() / f"{name}.json"
    atomic_write_text(path, json.dumps({"machine": machine(), "quick": quick, **payload}, indent=2))
    print(f"wrote {path}")
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


def matmul_flops_per_s(n: int = 2048, repeat: int = 3) -> float:
    """Dense fp32 ``torch.mm`` rate (FLOP/s) of an n x n x n product on this CPU."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / best_time(lambda: torch.mm(a, b), repeat)
