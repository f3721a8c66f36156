"""PSNR + SSIM (Y, border 4, float64, CPU) over Urban100 x4 bicubic outputs: ours vs scikit-image
vs pyiqa (``color_space='ycbcr'``; its column is skipped when pyiqa is not installed).

Outputs are MATLAB-bicubic down-then-up x4 of each HR image. Each scorer starts from the RGB
pair: ours and scikit-image share our Y conversion (MATLAB-rounded Y, as the protocol scores)
and run interleaved image by image over all 100 images; pyiqa converts RGB itself to
unrounded Y, so it is compared with ours on unrounded Y. pyiqa's float64 SSIM takes seconds
per image on 2 cores, so it runs on the first images until ``PYIQA_BUDGET_S`` is spent and
its speed ratio is per image against ours on the same images.
Run: ``python benchmarks/bench_metrics.py [--quick]``; writes ``results/metrics.json``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from common import DATA_ROOT, quick_parser, write_result
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ipt_bench.data.images import read_image, to_rgb
from ipt_bench.data.resize import imresize, mod_crop
from ipt_bench.metrics.color import rgb_to_y
from ipt_bench.metrics.quality import crop_border, psnr, ssim

GOAL_VS_SKIMAGE, GOAL_VS_PYIQA, TOLERANCE_DB = 1.0, 5.0, 1e-4
BORDER = 4
PYIQA_BUDGET_S = 25.0

Pair = tuple[np.ndarray, np.ndarray]
Scorer = Callable[[np.ndarray, np.ndarray], tuple[float, float]]


def pairs(limit: int) -> list[Pair]:
    """(HR, bicubic x4 output) uint8 RGB pairs of the first ``limit`` Urban100 images."""
    out = []
    for path in sorted((DATA_ROOT / "Urban100" / "HR").glob("*.png"))[:limit]:
        hr = mod_crop(to_rgb(read_image(path)), 4)
        out.append((hr, imresize(imresize(hr, 0.25), 4.0)))
    return out


def _y(img: np.ndarray, rounded: bool) -> np.ndarray:
    return crop_border(rgb_to_y(img, rounded=rounded), BORDER)


def ours(hr: np.ndarray, sr: np.ndarray, rounded: bool = True) -> tuple[float, float]:
    """Our PSNR and SSIM of an RGB pair on Y (MATLAB-rounded unless ``rounded`` is False)."""
    hr_y, sr_y = _y(hr, rounded), _y(sr, rounded)
    return psnr(sr_y, hr_y), ssim(sr_y, hr_y)


def skimage_pair(hr: np.ndarray, sr: np.ndarray) -> tuple[float, float]:
    """scikit-image's PSNR and SSIM (Gaussian 11x11, sigma 1.5, population covariance) on our Y."""
    hr_y, sr_y = _y(hr, True), _y(sr, True)
    score = structural_similarity(
        sr_y, hr_y, data_range=255.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    return peak_signal_noise_ratio(hr_y, sr_y, data_range=255.0), score


def interleaved(scorers: dict[str, Scorer], data: list[Pair]) -> dict[str, tuple[float, list]]:
    """Each scorer's total seconds and values over ``data``, alternating scorers image by image."""
    seconds = dict.fromkeys(scorers, 0.0)
    values: dict[str, list] = {name: [] for name in scorers}
    for hr, sr in data:
        for name, fn in scorers.items():
            began = time.perf_counter()
            values[name].append(fn(hr, sr))
            seconds[name] += time.perf_counter() - began
    return {name: (seconds[name], values[name]) for name in scorers}


def max_diffs(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> dict[str, float]:
    """Largest absolute PSNR (dB) and SSIM differences between two score lists."""
    return {
        "psnr_db": float(max(abs(x[0] - y[0]) for x, y in zip(a, b, strict=True))),
        "ssim": float(max(abs(x[1] - y[1]) for x, y in zip(a, b, strict=True))),
    }


def pyiqa_column(data: list[Pair], budget_s: float) -> dict | None:
    """pyiqa's psnr/ssim (float64 tensors, ``color_space='ycbcr'``, Y, border 4) on the first
    images within ``budget_s``, against ours (unrounded Y) on the same images; None without pyiqa."""
    try:
        import pyiqa
        import torch
    except ImportError:
        return None
    metrics = [
        pyiqa.create_metric(n, test_y_channel=True, color_space="ycbcr", crop_border=BORDER, device="cpu")
        for n in ("psnr", "ssim")
    ]

    def score(hr: np.ndarray, sr: np.ndarray) -> tuple[float, float]:
        h, s = (torch.from_numpy(a).permute(2, 0, 1)[None].double() / 255 for a in (hr, sr))
        return tuple(float(m(s, h)) for m in metrics)  # type: ignore[return-value]

    score(data[0][0][:64, :64], data[0][1][:64, :64])  # untimed warm-up
    t_ours = t_iqa = 0.0
    v_ours: list[tuple[float, float]] = []
    v_iqa: list[tuple[float, float]] = []
    for pair in data:
        if v_iqa and t_iqa >= budget_s:
            break
        runs = interleaved({"ours": lambda h, s: ours(h, s, rounded=False), "pyiqa": score}, [pair])
        t_ours, t_iqa = t_ours + runs["ours"][0], t_iqa + runs["pyiqa"][0]
        v_ours += runs["ours"][1]
        v_iqa += runs["pyiqa"][1]
    used = v_iqa
    return {
        "images": len(used),
        "seconds_per_image": t_iqa / len(used),
        "seconds_per_image_ours": t_ours / len(used),
        "speedup": t_iqa / t_ours,
        "max_diff": max_diffs(v_ours, v_iqa),
    }


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    data = pairs(2 if args.quick else 100)
    runs = interleaved({"ours": ours, "skimage": skimage_pair}, data)
    (t_ours, v_ours), (t_sk, v_sk) = runs["ours"], runs["skimage"]
    result = {
        "images": len(data),
        "seconds_ours": t_ours,
        "seconds_skimage": t_sk,
        "speedup_vs_skimage": t_sk / t_ours,
        "max_diff_vs_skimage": max_diffs(v_ours, v_sk),
        "mean_psnr_ours": float(np.mean([v[0] for v in v_ours])),
        "mean_ssim_ours": float(np.mean([v[1] for v in v_ours])),
        "goals": {"vs_skimage": GOAL_VS_SKIMAGE, "vs_pyiqa": GOAL_VS_PYIQA, "tolerance_db": TOLERANCE_DB},
        "pyiqa_budget_s": PYIQA_BUDGET_S,
        "pyiqa": pyiqa_column(data, 1.0 if args.quick else PYIQA_BUDGET_S),
    }
    print(
        f"ours {t_ours:.2f} s, skimage {t_sk:.2f} s (x{t_sk / t_ours:.2f}), "
        f"max diff {result['max_diff_vs_skimage']}, pyiqa {result['pyiqa']}"
    )
    write_result("metrics", result, args.quick)


if __name__ == "__main__":
    main()
