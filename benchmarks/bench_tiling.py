"""Tiled inference: official stride-12 protocol vs our default blend tiling.

Times a full (cropped) Urban100 x2 LR image through random-weight ``small`` (192x192 LR crop) and
``paper`` (96x96 LR crop: a whole image costs minutes on CPU) IPTs in both modes, measures
tiles/s and peak RSS against the tile batch size, and the PSNR (Y, border 2) difference of the
two modes over Set5 x2 with a ``tiny`` IPT briefly trained on T91 (``small`` trains too slowly
here). Run: ``python benchmarks/bench_tiling.py [--quick]``; writes ``results/tiling.json``.
"""

from __future__ import annotations

import resource
import time

import numpy as np
import torch
from common import DATA_ROOT, best_time, quick_parser, write_result

from ipt_bench.data.images import read_image, to_rgb
from ipt_bench.data.patches import PatchSampler, load_images
from ipt_bench.data.resize import imresize
from ipt_bench.data.tasks import Task
from ipt_bench.metrics.color import rgb_to_y
from ipt_bench.metrics.quality import crop_border, psnr
from ipt_bench.models.registry import get_variant
from ipt_bench.models.tiling import count_tiles, tiled_forward

GOAL_SPEEDUP = 5.0
GOAL_PSNR_DIFF = 0.02


def lr_crop(size: int) -> torch.Tensor:
    """The top-left ``2*size`` HR crop of Urban100 img_001, bicubic-downscaled x2, as (1, 3, size, size)."""
    hr = to_rgb(read_image(DATA_ROOT / "Urban100" / "HR" / "img_001.png"))[: 2 * size, : 2 * size]
    lr = imresize(hr, 0.5).astype(np.float32)
    return torch.from_numpy(lr.transpose(2, 0, 1).copy())[None]


def run_model(model: torch.nn.Module, x: torch.Tensor, mode: str, tile_batch: int = 16) -> torch.Tensor:
    """Tiled x2 inference of ``x`` (0-255 scale) without autograd."""
    with torch.inference_mode():
        return tiled_forward(
            lambda b: model(b, 0), x, tile=model.patch_size, scale=2, mode=mode, tile_batch=tile_batch
        )


def timing(variant: str, crop: int, repeat: int) -> dict:
    """Seconds per image of both modes for one random-weight model."""
    torch.manual_seed(0)
    model = get_variant(variant).build_model([2]).eval()
    x = lr_crop(crop)
    seconds = {
        mode: best_time(lambda m=mode: run_model(model, x, m), repeat, warmup=0)
        for mode in ("official", "blend")
    }
    tiles = {
        mode: count_tiles(crop, crop, tile=model.patch_size, mode=mode) for mode in ("official", "blend")
    }
    return {
        "variant": variant,
        "lr_crop": crop,
        "tiles": tiles,
        "seconds": seconds,
        "speedup": seconds["official"] / seconds["blend"],
    }


def tile_batch_sweep(variant: str, crop: int, batches: list[int]) -> list[dict]:
    """Tiles/s and the process's peak RSS after each tile batch size (blend mode)."""
    torch.manual_seed(0)
    model = get_variant(variant).build_model([2]).eval()
    x = lr_crop(crop)
    tiles = count_tiles(crop, crop, tile=model.patch_size, mode="blend")
    rows = []
    for tb in batches:
        seconds = best_time(lambda b=tb: run_model(model, x, "blend", b), 1, warmup=0)
        rows.append(
            {
                "tile_batch": tb,
                "tiles": tiles,
                "tiles_per_s": tiles / seconds,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    return rows


def train_tiny(steps: int) -> torch.nn.Module:
    """A tiny x2 IPT trained ``steps`` Adam steps (L1, batch 8) on T91 patches, seed 0."""
    torch.manual_seed(0)
    model = get_variant("ipt-tiny-scratch").build_model([2])
    images = load_images(sorted((DATA_ROOT / "T91" / "HR").glob("*.png")), 48)
    sampler = PatchSampler(images, [Task("sr", 2)], model.patch_size, 8, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    for step in range(steps):
        batch = sampler.batch(step)
        loss = (model(batch.degraded, 0) - batch.clean).abs().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval()


def set5_psnr(model: torch.nn.Module, limit: int, max_lr: int = 10**6) -> dict:
    """Per-image Y-PSNR (border 2) of both modes over Set5 x2 (MATLAB LR files, top-left ``max_lr`` px)."""
    rows = []
    for hr_path in sorted((DATA_ROOT / "Set5" / "HR").glob("*.png"))[:limit]:
        lr_path = DATA_ROOT / "Set5" / "LR_bicubic" / "X2" / f"{hr_path.stem}x2.png"
        hr, lr = to_rgb(read_image(hr_path)), to_rgb(read_image(lr_path))[:max_lr, :max_lr]
        x = torch.from_numpy(lr.astype(np.float32).transpose(2, 0, 1).copy())[None]
        row: dict = {"image": hr_path.stem}
        for mode in ("official", "blend"):
            began = time.perf_counter()
            out = run_model(model, x, mode)[0].clamp(0, 255).round().byte().numpy().transpose(1, 2, 0)
            row[f"seconds_{mode}"] = time.perf_counter() - began
            row[f"psnr_{mode}"] = psnr(
                crop_border(rgb_to_y(out), 2), crop_border(rgb_to_y(hr[: out.shape[0], : out.shape[1]]), 2)
            )
        row["psnr_diff"] = row["psnr_blend"] - row["psnr_official"]
        rows.append(row)
    return {
        "model": "ipt-tiny (trained on T91)",
        "images": rows,
        "mean_abs_psnr_diff": float(np.mean([abs(r["psnr_diff"]) for r in rows])),
        "max_abs_psnr_diff": float(max(abs(r["psnr_diff"]) for r in rows)),
    }


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    if args.quick:
        timings = [timing("ipt-tiny-con", 48, 1)]
        sweep = tile_batch_sweep("ipt-tiny-con", 48, [1, 4])
        quality = set5_psnr(train_tiny(2), 1, max_lr=48)
    else:
        timings = [timing("ipt-small-con", 192, 1), timing("ipt-paper-con", 96, 1)]
        sweep = tile_batch_sweep("ipt-small-con", 192, [1, 4, 16, 32])
        quality = {"train_steps": 300, **set5_psnr(train_tiny(300), 5)}
    for row in timings:
        print(f"{row['variant']} {row['lr_crop']}px: {row['seconds']} x{row['speedup']:.2f}")
    print(f"Set5 |dPSNR| max {quality['max_abs_psnr_diff']:.4f} dB")
    write_result(
        "tiling",
        {
            "goal_speedup": GOAL_SPEEDUP,
            "goal_psnr_diff_db": GOAL_PSNR_DIFF,
            "timings": timings,
            "tile_batch_sweep": sweep,
            "set5": quality,
        },
        args.quick,
    )


if __name__ == "__main__":
    main()
