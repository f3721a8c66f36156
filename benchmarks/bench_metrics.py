"""PSNR + SSIM (Y, border 4, float64, CPU) over Urban100 x4 bicubic outputs: ours vs scikit-image
vs pyiqa (``color_space='ycbcr'``; its column is skipped when pyiqa is not installed).

Outputs are MATLAB-bicubic down-then-up x4 of each HR image. Run:
``python benchmarks/bench_metrics.py [--quick]``; writes ``results/metrics.json``.
"""

from __future__ import annotations

import time

import numpy as np
from common import DATA_ROOT, quick_parser, write_result
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ipt_bench.data.images import read_image, to_rgb
from ipt_bench.data.resize import imresize, mod_crop
from ipt_bench.metrics.color import rgb_to_y
from ipt_bench.metrics.quality import crop_border, psnr, ssim

GOAL_VS_SKIMAGE, GOAL_VS_PYIQA, TOLERANCE_DB = 1.0, 5.0, 1e-4


def pairs(limit: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(HR, bicubic x4 output) uint8 pairs of the first ``limit`` Urban100 images."""
    out = []
    for path in sorted((DATA_ROOT / "Urban100" / "HR").glob("*.png"))[:limit]:
        hr = mod_crop(to_rgb(read_image(path)), 4)
        out.append((hr, imresize(imresize(hr, 0.25), 4.0)))
    return out


def ours(hr_y: np.ndarray, sr_y: np.ndarray) -> tuple[float, float]:
    return psnr(sr_y, hr_y), ssim(sr_y, hr_y)


def skimage_pair(hr_y: np.ndarray, sr_y: np.ndarray) -> tuple[float, float]:
    score = structural_similarity(
        sr_y, hr_y, data_range=255.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    return peak_signal_noise_ratio(hr_y, sr_y, data_range=255.0), score


def timed(fn, ys: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, list[tuple[float, float]]]:
    began = time.perf_counter()
    values = [fn(h, s) for h, s in ys]
    return time.perf_counter() - began, values


def pyiqa_column(data: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, list[tuple[float, float]]] | None:
    """pyiqa's psnr/ssim on RGB tensors with ``color_space='ycbcr'`` (None when not installed)."""
    try:
        import pyiqa
        import torch
    except ImportError:
        return None
    metrics = [
        pyiqa.create_metric(n, test_y_channel=True, color_space="ycbcr", crop_border=4, device="cpu")
        for n in ("psnr", "ssim")
    ]
    tensors = [tuple(torch.from_numpy(a).permute(2, 0, 1)[None].double() / 255 for a in p) for p in data]
    began = time.perf_counter()
    values = [tuple(float(m(s, h)) for m in metrics) for h, s in tensors]
    return time.perf_counter() - began, values


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    data = pairs(2 if args.quick else 100)
    ys = [(crop_border(rgb_to_y(h), 4), crop_border(rgb_to_y(s), 4)) for h, s in data]
    t_ours, v_ours = timed(ours, ys)
    t_sk, v_sk = timed(skimage_pair, ys)
    diff_sk = max(max(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in zip(v_ours, v_sk, strict=True))
    result = {
        "images": len(data),
        "seconds_ours": t_ours,
        "seconds_skimage": t_sk,
        "speedup_vs_skimage": t_sk / t_ours,
        "max_diff_vs_skimage": diff_sk,
        "mean_psnr_ours": float(np.mean([v[0] for v in v_ours])),
        "mean_ssim_ours": float(np.mean([v[1] for v in v_ours])),
        "goals": {"vs_skimage": GOAL_VS_SKIMAGE, "vs_pyiqa": GOAL_VS_PYIQA, "tolerance_db": TOLERANCE_DB},
        "pyiqa": None,
    }
    iqa = pyiqa_column(data)
    if iqa is not None:
        t_iqa, v_iqa = iqa
        diff = max(abs(a[0] - b[0]) for a, b in zip(v_ours, v_iqa, strict=True))
        result["pyiqa"] = {"seconds": t_iqa, "speedup": t_iqa / t_ours, "max_psnr_diff": diff}
    print(f"ours {t_ours:.2f} s, skimage {t_sk:.2f} s (x{t_sk / t_ours:.2f}), max diff {diff_sk:.2e}")
    write_result("metrics", result, args.quick)


if __name__ == "__main__":
    main()
