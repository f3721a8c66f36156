"""Which profile a run uses: ``auto`` picks ``paper`` only where it can run, and an explicit
``paper`` on a machine without a GPU is refused with the cost of both choices.

GPUs are counted without importing torch (a cached rerun must stay fast): ``CUDA_VISIBLE_DEVICES``
and the NVIDIA driver's ``/proc/driver/nvidia/gpus`` entries, or torch itself when it is already
imported.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ipt_bench.core.errors import ConfigError
from ipt_bench.suite.schema import Suite


@dataclass(frozen=True)
class ProfileChoice:
    """The profile a run uses and why (printed first and recorded in ``run.json``)."""

    name: str
    reason: str

    def line(self) -> str:
        """The announcement printed on the first line of a run."""
        return f"profile: {self.name} ({self.reason})"


def gpu_count() -> int:
    """CUDA GPUs this process may use (see the module docstring)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return 0
    if "torch" in sys.modules:
        import torch

        return torch.cuda.device_count()
    driver = Path("/proc/driver/nvidia/gpus")
    found = len(list(driver.iterdir())) if driver.is_dir() else 0
    if visible is not None:
        found = min(found, len([v for v in visible.split(",") if v.strip()]))
    return found


def paper_data_present(suite: Suite, data_root: str | Path | None) -> bool:
    """True when the suite names a pre-training set of its own that resolves on this machine."""
    from ipt_bench.core.errors import DatasetError
    from ipt_bench.data.training_sets import check_training_data
    from ipt_bench.train.profiles import get_profile

    name = suite.train_data.pretrain or get_profile("paper").train_data["pretrain"]
    try:
        check_training_data(name, data_root)
    except DatasetError:
        return False
    return True


def choose_profile(suite: Suite, requested: str | None, data_root: str | Path | None) -> ProfileChoice:
    """Resolve ``--profile`` (or the suite's own, default ``auto``) to a concrete profile."""
    wanted = requested or suite.profile
    source = "--profile" if requested else "the suite's default"
    if wanted != "auto":
        from ipt_bench.train.profiles import get_profile  # light: no torch

        return ProfileChoice(get_profile(wanted).name, source)
    gpus = gpu_count()
    if gpus and paper_data_present(suite, data_root):
        return ProfileChoice("paper", f"auto: {gpus} GPU(s) and the pre-training set found")
    missing = "no GPU found" if not gpus else "no pre-training set (train_data.pretrain) found"
    return ProfileChoice("cpu", f"auto: {missing}; --profile paper for the paper's schedule")


def refuse_paper_without_gpu(gpu_hours: float, gpu_tflops: float, cpu_estimate: str) -> ConfigError:
    """The one-line refusal of a ``paper`` run on a machine without a GPU."""
    return ConfigError(
        f"profile paper is a GPU job (about {gpu_hours:,.1f} GPU-hours at {gpu_tflops:.0f} TFLOP/s) and "
        "this machine has no GPU",
        f"use --profile cpu (about {cpu_estimate} here), or add --no-gpu-check to run paper on the CPU "
        "anyway",
    )
