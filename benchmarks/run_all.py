"""Run every benchmark script and regenerate ``benchmarks/README.md`` from the JSON results.

Run: ``python benchmarks/run_all.py [--quick] [--summary-only]`` (``nox -s bench``). ``--quick``
runs each script in its tiny smoke mode; ``--summary-only`` only rewrites the README.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import BENCH_DIR, quick_parser, results_dir

from ipt_bench.core.atomic import atomic_write_text

SCRIPTS = ("bench_mfu", "bench_attention", "bench_tiling", "bench_metrics", "bench_data", "bench_suite")
#: Assumed GPU rate for projections: 40% of an H100-class card's 990 TFLOP/s dense bf16.
GPU_FLOPS = 0.4 * 990e12


def load(name: str) -> dict[str, Any] | None:
    path = results_dir() / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def goal_rows() -> list[tuple[str, str, str, str]]:
    """(benchmark, measured, goal, met) rows of the summary table."""
    rows = []
    if mfu := load("mfu"):
        for r in mfu["results"]:
            met = "n/a" if "tiny" in r["variant"] else _yes(r["mfu"] >= mfu["goal_mfu"])
            rows.append(
                (
                    f"MFU {r['variant']}",
                    f"{r['mfu']:.2f} ({r['achieved_gflops_per_s']:.0f} GFLOP/s, "
                    f"{r['seconds_per_step_best']:.2f} s/step)",
                    f">= {mfu['goal_mfu']}",
                    met,
                )
            )
    if att := load("attention"):
        for r in att["results"]:
            rows.append(
                (
                    f"body fwd+bwd vs MHA {r['variant']}",
                    f"x{r['speedup']:.2f} "
                    f"({r['seconds_ours']:.2f} vs {r['seconds_official_mha']:.2f} s, "
                    f"diff {r['max_abs_diff']:.1e})",
                    f">= x{att['goal_speedup']}",
                    _yes(
                        r["speedup"] >= att["goal_speedup"] and r["max_abs_diff"] < att["max_abs_diff_limit"]
                    ),
                )
            )
    if til := load("tiling"):
        for r in til["timings"]:
            rows.append(
                (
                    f"blend vs official tiling {r['variant']} {r['lr_crop']}px",
                    f"x{r['speedup']:.2f} ({r['tiles']['official']} vs {r['tiles']['blend']} tiles)",
                    f">= x{til['goal_speedup']}",
                    _yes(r["speedup"] >= til["goal_speedup"]),
                )
            )
        d = til["set5"]["max_abs_psnr_diff"]
        rows.append(
            (
                "Set5 x2 PSNR, blend - official",
                f"{d:.4f} dB max",
                f"< {til['goal_psnr_diff_db']} dB",
                _yes(d < til["goal_psnr_diff_db"]),
            )
        )
    if met := load("metrics"):
        rows.append(
            (
                f"PSNR+SSIM vs scikit-image ({met['images']} Urban100 x4)",
                f"x{met['speedup_vs_skimage']:.2f} (diff {met['max_diff_vs_skimage']:.1e})",
                ">= x1",
                _yes(met["speedup_vs_skimage"] >= 1),
            )
        )
        iqa = met["pyiqa"]
        rows.append(
            (
                "PSNR+SSIM vs pyiqa",
                f"x{iqa['speedup']:.1f}" if iqa else "pyiqa not installed",
                ">= x5",
                _yes(iqa["speedup"] >= 5) if iqa else "n/a",
            )
        )
    if dat := load("data"):
        for w in (0, 2):
            ratio = dat[f"ratio_workers_{w}"]
            rows.append(
                (f"loader / {dat['variant']} step, {w} workers", f"x{ratio:.1f}", ">= x3", _yes(ratio >= 3))
            )
    if sui := load("suite"):
        for cmd, s in sui["import_seconds"].items():
            rows.append((f"`ipt-bench {cmd}` wall time", f"{s:.2f} s", "< 1 s", _yes(s < 1)))
        if "cached_run_seconds" in sui:
            s = sui["cached_run_seconds"]
            rows.append(("cached quickstart smoke run", f"{s:.2f} s", "< 3 s", _yes(s < 3)))
    return rows


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def scaling_section() -> list[str]:
    """Cost vs image and model size (tiles, GFLOPs per image) and projected GPU seconds."""
    from ipt_bench.models.registry import get_variant, variant_cost
    from ipt_bench.models.tiling import count_tiles

    lines = [
        "## Scaling",
        "",
        f"Projected GPU time assumes {GPU_FLOPS / 1e12:.0f} TFLOP/s (40% of 990 TFLOP/s "
        "bf16, H100-class); inference = forward FLOPs x tiles, training step = 3 x forward x batch.",
        "",
        "| size | LR image | mode | tiles | GFLOP/image | GPU s/image (projected) |",
        "|---|---|---|---|---|---|",
    ]
    for size in ("tiny", "small", "paper"):
        cost = variant_cost(get_variant(f"ipt-{size}-con"), 2)
        assert cost is not None
        for side in (128, 256, 512):
            for mode in ("official", "blend"):
                tiles = count_tiles(side, side, tile=cost.tile, mode=mode)
                gflop = tiles * cost.gflops_per_tile
                lines.append(
                    f"| {size} | {side}x{side} | {mode} | {tiles} | {gflop:,.0f} | "
                    f"{gflop * 1e9 / GPU_FLOPS:.3f} |"
                )
    lines += ["", "Per-size training cost: 3 x forward FLOPs per sample (forward + backward).", ""]
    if mfu := load("mfu"):
        lines += [
            "| variant | GFLOP/step (batch 8, measured) | CPU s/step | projected GPU ms/step |",
            "|---|---|---|---|",
        ]
        for r in mfu["results"]:
            lines.append(
                f"| {r['variant']} | {r['gflops_per_step']:,.1f} | {r['seconds_per_step_best']:.2f} | "
                f"{r['gflops_per_step'] * 1e9 / GPU_FLOPS * 1e3:.2f} |"
            )
    return lines


def write_readme() -> Path:
    """Regenerate ``benchmarks/README.md`` from the JSON files."""
    machine = next((d["machine"] for n in ("mfu", "attention", "metrics") if (d := load(n))), {})
    quick = any(
        (d or {}).get("quick") for d in map(load, ("mfu", "attention", "tiling", "metrics", "data", "suite"))
    )
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/run_all.py` (`nox -s bench`); raw numbers in "
        "`results/*.json`. Ratios are measured in the same run; absolute times in brackets.",
        "",
        f"Machine: {machine.get('cpu_model')}, {machine.get('cpu_count')} cores, "
        f"torch {machine.get('torch')}, "
        f"{machine.get('torch_threads')} threads."
        + (" **Quick (smoke) mode: not representative.**" if quick else ""),
        "",
        "| benchmark | measured | goal | met |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in goal_rows()]
    lines += ["", *scaling_section(), ""]
    default = results_dir() == BENCH_DIR / "results"
    path = BENCH_DIR / "README.md" if default else results_dir() / "README.md"
    atomic_write_text(path, "\n".join(lines))
    print(f"wrote {path}")
    return path


def main() -> None:
    parser = quick_parser(__doc__)
    parser.add_argument("--summary-only", action="store_true", help="only regenerate README.md")
    args = parser.parse_args()
    if not args.summary_only:
        for script in SCRIPTS:
            cmd = [sys.executable, str(BENCH_DIR / f"{script}.py"), *(["--quick"] if args.quick else [])]
            print("+", " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
    write_readme()


if __name__ == "__main__":
    main()
