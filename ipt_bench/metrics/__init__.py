"""Image quality metrics: BT.601 Y, PSNR, SSIM and the scoring protocol (pure numpy, float64)."""

from ipt_bench.metrics.color import rgb_to_y
from ipt_bench.metrics.protocol import MetricProtocol, score
from ipt_bench.metrics.quality import crop_border, psnr, ssim

__all__ = ["MetricProtocol", "crop_border", "psnr", "rgb_to_y", "score", "ssim"]
