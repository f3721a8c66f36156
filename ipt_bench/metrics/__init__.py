"""Image quality metrics: BT.601 Y, the metric registry (PSNR, SSIM, GMSD, plug-ins) and the
scoring protocol (pure numpy, float64)."""

from ipt_bench.metrics.color import rgb_to_y
from ipt_bench.metrics.protocol import MetricProtocol, score
from ipt_bench.metrics.quality import crop_border, psnr, ssim
from ipt_bench.metrics.registry import DEFAULT_METRICS, Metric, get_metric, register_metric

__all__ = [
    "DEFAULT_METRICS",
    "Metric",
    "MetricProtocol",
    "crop_border",
    "get_metric",
    "psnr",
    "register_metric",
    "rgb_to_y",
    "score",
    "ssim",
]
