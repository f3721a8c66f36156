"""Tiled inference: official stride-12 protocol vs our default blend tiling, on a full image.

The image is Urban100 img_001 (1024x644 HR) bicubic-downscaled x2: a 322x512 LR input, 960
official tiles vs 104 blend tiles at the 48-pixel tile. For each random-weight IPT (``small``,
``paper``) the script measures the model's seconds per tile (best of the repeats, after a warm-up
of the same shape) and each mode's assembly overhead (the whole tiling with a trivial upsampler
in place of the model), and projects each mode's full-image time as ``tiles x s/tile +
assembly``. A mode whose projection fits ``MEASURE_BUDGET_S`` is also run for real on the whole
image, and the ratio uses measured times when both modes were run (``small``), projections
otherwise (``paper``: its official pass alone would take over 20 minutes on 2 cores; its
seconds per tile are measured at a tile batch of 4 instead of the evaluation default of 16).

Also: tiles/s and peak RSS against the tile batch size (``small``, blend, ascending sizes
first thing in the process: ``ru_maxrss`` only grows), and the Y-PSNR (border 2) difference of
the two modes over Set5 x2 (MATLAB LR files) with a ``tiny`` IPT trained on T91, scored after
300 and after 1500 steps (a ``small`` one trains too slowly on 2 cores to be meaningfully
trained within the time budget), plus blend with a wider overlap (more of each image averaged).
Run: ``python benchmarks/bench_tiling.py [--quick]``; writes ``results/tiling.json``.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from common import DATA_ROOT, best_time, quick_parser, write_result

from ipt_bench.core.tasks import Task
from ipt_bench.data.images import read_image, to_rgb
from ipt_bench.data.patches import PatchSampler, load_images
from ipt_bench.data.resize import imresize, mod_crop
from ipt_bench.metrics.color import rgb_to_y
from ipt_bench.metrics.quality import crop_border, psnr
from ipt_bench.models.registry import get_variant
from ipt_bench.models.tiling import count_tiles, tiled_forward

GOAL_SPEEDUP = 5.0
GOAL_PSNR_DIFF = 0.02
TILE_BATCH = 16  # the evaluation default (ipt_bench.eval)
MEASURE_BUDGET_S = 100.0
MODES = ("official", "blend")
WIDE_OVERLAP = 16
#: Set5 is scored after each number of training steps; the goal is judged on the last (a 300-step
#: model is still far from trained, and how far its tiles disagree is what the modes average).
TRAIN_STAGES = (300, 1500)
QUICK_STAGES = (1, 2)


def urban_lr(crop: int | None = None) -> torch.Tensor:
    """Urban100 img_001 bicubic-downscaled x2 (optionally its top-left ``crop`` px) as (1, 3, H, W)."""
    hr = mod_crop(to_rgb(read_image(DATA_ROOT / "Urban100" / "HR" / "img_001.png")), 2)
    lr = imresize(hr, 0.5).astype(np.float32)
    if crop is not None:
        lr = lr[:crop, :crop]
    return torch.from_numpy(lr.transpose(2, 0, 1).copy())[None]


def run_tiled(
    fn, x: torch.Tensor, tile: int, mode: str, tile_batch: int = TILE_BATCH, overlap: int = 8
) -> torch.Tensor:
    """Tiled x2 inference of ``x`` (0-255 scale) through ``fn`` without autograd."""
    with torch.inference_mode():
        return tiled_forward(fn, x, tile=tile, scale=2, mode=mode, tile_batch=tile_batch, overlap=overlap)


def model_fn(model: torch.nn.Module):
    return lambda b: model(b, 0)


def nearest_x2(batch: torch.Tensor) -> torch.Tensor:
    """Stand-in model for the assembly overhead: nearest-neighbour x2 (negligible arithmetic)."""
    return F.interpolate(batch, scale_factor=2, mode="nearest")


def seconds_per_tile(model: torch.nn.Module, tile_batch: int, repeat: int) -> float:
    """Best time of one forward of ``tile_batch`` random tiles, per tile, after one untimed forward
    of the same shape (the first call of a shape sets up kernels and memory)."""
    tiles = torch.rand(tile_batch, 3, model.patch_size, model.patch_size) * 255
    with torch.inference_mode():
        return best_time(lambda: model(tiles, 0), repeat, warmup=1) / tile_batch


def full_image(variant: str, x: torch.Tensor, repeat: int, per_tile_batch: int = TILE_BATCH) -> dict:
    """Projected (and, within budget, measured) full-image seconds of both modes for one model."""
    torch.manual_seed(0)
    model = get_variant(variant).build_model([2]).eval()
    tile = model.patch_size
    height, width = x.shape[-2:]
    s_tile = seconds_per_tile(model, per_tile_batch, repeat)
    tiles = {m: count_tiles(height, width, tile=tile, mode=m) for m in MODES}
    assembly = {m: best_time(lambda m=m: run_tiled(nearest_x2, x, tile, m), 2, warmup=1) for m in MODES}
    projected = {m: tiles[m] * s_tile + assembly[m] for m in MODES}
    measured = {
        m: best_time(lambda m=m: run_tiled(model_fn(model), x, tile, m), 1, warmup=0)
        for m in MODES
        if projected[m] <= MEASURE_BUDGET_S
    }
    basis = measured if len(measured) == len(MODES) else projected
    return {
        "variant": variant,
        "lr_size": [height, width],
        "tile": tile,
        "tiles": tiles,
        "seconds_per_tile": s_tile,
        "seconds_per_tile_batch": per_tile_batch,
        "assembly_seconds": assembly,
        "projected_seconds": projected,
        "measured_seconds": measured,
        "basis": "measured" if basis is measured else "projected",
        "seconds": basis,
        "speedup": basis["official"] / basis["blend"],
        "tile_ratio": tiles["official"] / tiles["blend"],
    }


def tile_batch_sweep(variant: str, x: torch.Tensor, batches: list[int]) -> dict:
    """Blend-mode tiles/s and the process's peak RSS after each tile batch size (ascending)."""
    torch.manual_seed(0)
    model = get_variant(variant).build_model([2]).eval()
    tile = model.patch_size
    tiles = count_tiles(*x.shape[-2:], tile=tile, mode="blend")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = []
    for tb in sorted(batches):
        seconds = best_time(lambda b=tb: run_tiled(model_fn(model), x, tile, "blend", b), 1, warmup=0)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append({"tile_batch": tb, "tiles": tiles, "tiles_per_s": tiles / seconds, "peak_rss_mib": peak})
    return {"variant": variant, "lr_size": list(x.shape[-2:]), "rss_before_mib": rss_before, "rows": rows}


def train_tiny(stages: tuple[int, ...]) -> Iterator[tuple[int, torch.nn.Module]]:
    """A tiny x2 IPT trained by Adam (L1, batch 8) on T91 patches, seed 0; yields ``(steps,
    model in eval mode)`` after each number of ``stages`` (ascending), then trains on."""
    torch.manual_seed(0)
    model = get_variant("ipt-tiny-scratch").build_model([2])
    images = load_images(sorted((DATA_ROOT / "T91" / "HR").glob("*.png")), 48)
    sampler = PatchSampler(images, [Task("sr", 2)], model.patch_size, 8, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    done = 0
    for stage in stages:
        model.train()
        for step in range(done, stage):
            batch = sampler.batch(step)
            loss = (model(batch.degraded, 0) - batch.clean).abs().mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        done = stage
        yield stage, model.eval()


def set5_psnr(model: torch.nn.Module, limit: int, max_lr: int = 10**6) -> dict:
    """Per-image Y-PSNR (border 2) over Set5 x2 (MATLAB LR files, top-left ``max_lr`` px) of the
    official tiling, blend (default overlap) and blend with ``WIDE_OVERLAP`` (is the gap at tile
    borders, or the official averaging of overlapping predictions?)."""
    runs = {
        "official": ("official", 8),
        "blend": ("blend", 8),
        f"blend_overlap{WIDE_OVERLAP}": ("blend", WIDE_OVERLAP),
    }
    rows = []
    for hr_path in sorted((DATA_ROOT / "Set5" / "HR").glob("*.png"))[:limit]:
        lr_path = DATA_ROOT / "Set5" / "LR_bicubic" / "X2" / f"{hr_path.stem}x2.png"
        hr, lr = to_rgb(read_image(hr_path)), to_rgb(read_image(lr_path))[:max_lr, :max_lr]
        x = torch.from_numpy(lr.astype(np.float32).transpose(2, 0, 1).copy())[None]
        row: dict = {"image": hr_path.stem}
        for name, (mode, overlap) in runs.items():
            began = time.perf_counter()
            out = run_tiled(model_fn(model), x, model.patch_size, mode, overlap=overlap)
            out = out[0].clamp(0, 255).round().byte().numpy().transpose(1, 2, 0)
            row[f"seconds_{name}"] = time.perf_counter() - began
            row[f"psnr_{name}"] = psnr(
                crop_border(rgb_to_y(out), 2), crop_border(rgb_to_y(hr[: out.shape[0], : out.shape[1]]), 2)
            )
        row["psnr_diff"] = row["psnr_blend"] - row["psnr_official"]
        row["psnr_diff_wide_overlap"] = row[f"psnr_blend_overlap{WIDE_OVERLAP}"] - row["psnr_official"]
        rows.append(row)
    return {
        "model": "ipt-tiny (trained on T91)",
        "tile": model.patch_size,
        "wide_overlap": WIDE_OVERLAP,
        "images": rows,
        "mean_psnr_diff": float(np.mean([r["psnr_diff"] for r in rows])),
        "mean_abs_psnr_diff": float(np.mean([abs(r["psnr_diff"]) for r in rows])),
        "max_abs_psnr_diff": float(max(abs(r["psnr_diff"]) for r in rows)),
        "mean_psnr_diff_wide_overlap": float(np.mean([r["psnr_diff_wide_overlap"] for r in rows])),
    }


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    if args.quick:
        sweep = tile_batch_sweep("ipt-tiny-con", urban_lr(48), [1, 4])
        timings = [full_image("ipt-tiny-con", urban_lr(72), 1)]
        stages = [{"train_steps": n, **set5_psnr(m, 1, max_lr=48)} for n, m in train_tiny(QUICK_STAGES)]
    else:
        full = urban_lr()
        sweep = tile_batch_sweep("ipt-small-con", urban_lr(168), [1, 4, 16])
        timings = [
            full_image("ipt-small-con", full, 2),
            full_image("ipt-paper-con", full, 1, per_tile_batch=4),
        ]
        stages = [{"train_steps": n, **set5_psnr(m, 5)} for n, m in train_tiny(TRAIN_STAGES)]
    quality = stages[-1]
    for row in timings:
        print(
            f"{row['variant']} {row['lr_size']}: {row['tiles']} tiles, {row['basis']} official "
            f"{row['seconds']['official']:.1f} s, blend {row['seconds']['blend']:.1f} s, "
            f"x{row['speedup']:.2f}"
        )
    print(f"Set5 |dPSNR| max {quality['max_abs_psnr_diff']:.4f} dB")
    write_result(
        "tiling",
        {
            "goal_speedup": GOAL_SPEEDUP,
            "goal_psnr_diff_db": GOAL_PSNR_DIFF,
            "measure_budget_s": MEASURE_BUDGET_S,
            "timings": timings,
            "tile_batch_sweep": sweep,
            "set5": quality,
            "set5_stages": stages,
        },
        args.quick,
    )


if __name__ == "__main__":
    main()
