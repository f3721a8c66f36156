"""SSIM (Wang et al. 2004), 11x11 Gaussian window, 'valid' map, channel mean."""

from ipt_bench.metrics.quality import ssim
from ipt_bench.metrics.registry import Metric, register_metric

register_metric(
    Metric(
        name="ssim",
        compute=ssim,
        label="SSIM",
        digits=4,
        description="structural similarity, 11x11 Gaussian window (sigma 1.5), 'valid' map, no downsampling",
    )
)
