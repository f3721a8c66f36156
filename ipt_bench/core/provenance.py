"""Where a result came from: package versions, git revision, device, host and CPU."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import socket
import subprocess
from pathlib import Path

_PACKAGES = ("ipt-bench", "torch", "torchvision", "timm", "numpy", "scikit-image", "pillow", "ray")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that influence results (absent ones are left out)."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


@functools.cache
def git_revision(path: str | None = None) -> str | None:
    """``<sha>`` (plus ``-dirty`` with uncommitted changes) of the checkout holding ``path``, or None."""
    where = Path(path) if path else Path(__file__).resolve().parent
    try:
        sha = _git(where, "rev-parse", "HEAD")
        dirty = _git(where, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{sha}-dirty" if dirty else sha


def _git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, timeout=10, check=True)
    return done.stdout.strip()


def device_description() -> str:
    """``cuda:<name>`` for the current GPU, else ``cpu`` (torch is imported lazily)."""
    import torch

    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(torch.cuda.current_device())}"
    return "cpu"


def cpu_description() -> str:
    """CPU model name (from /proc/cpuinfo on Linux) and the cores this process may use."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model} ({cores} cores)"


def collect_provenance(*, device: bool = True) -> dict[str, object]:
    """Everything above in one JSON-ready dict (``device=False`` skips the torch import)."""
    info: dict[str, object] = {
        "versions": package_versions(),
        "git": git_revision(),
        "hostname": socket.gethostname(),
        "cpu": cpu_description(),
        "platform": platform.platform(),
    }
    if device:
        info["device"] = device_description()
    return info
