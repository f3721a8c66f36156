"""PSNR in dB (peak 255)."""

from ipt_bench.metrics.quality import psnr
from ipt_bench.metrics.registry import Metric, register_metric

register_metric(
    Metric(
        name="psnr",
        compute=psnr,
        label="PSNR",
        digits=2,
        unit="dB",
        description="peak signal-to-noise ratio, peak 255, over all scored pixels",
    )
)
