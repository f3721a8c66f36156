"""Memory planning for tiled inference: how much memory the process may still use, how much one
tile forward and the image assembly need, and the largest tile batch that fits a budget.

All estimates are upper bounds in bytes, checked against measured peak RSS in
``tests/test_memory_plan.py``; the documented bound is in RELIABILITY.md ("Memory").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ipt_bench.core.errors import ConfigError

GIB = 2**30
MIB = 2**20

#: Share of the available memory a plan may use when no budget is given: the rest is left to the
#: interpreter, libraries, the page cache and other processes.
DEFAULT_BUDGET_FRACTION = 0.75

#: Assumed free memory where neither /proc/meminfo, a cgroup limit nor psutil can tell.
ASSUMED_AVAILABLE_BYTES = 4 * GIB

#: Peak resident memory over the bytes of live tensors in a forward. Measured with IPT paper,
#: small and tiny sizes and the CNN baselines on CPU (glibc malloc, oneDNN, 1-2 threads):
#: 1.4-2.1, from freed blocks the heap keeps while a forward allocates new ones.
ALLOCATOR_SLACK = 3.0

#: What the first forward leaves resident once per process (oneDNN primitives, GEMM buffers,
#: thread-local state). Measured: 20-25 MiB for the paper size.
LIBRARY_FIRST_USE_BYTES = 32 * MIB

#: Feature channels assumed for a network that does not declare ``config["n_feats"]``.
GENERIC_FEATURES = 64

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)


def parse_memory_size(text: str) -> int:
    """Bytes in ``text``: a plain number of bytes, or a size such as "512MiB", "2GiB", "1.5GB"
    (``KiB/MiB/GiB/TiB`` are powers of 1024, ``kB/MB/GB/TB`` powers of 1000)."""
    match = _SIZE.match(str(text))
    if not match:
        raise ConfigError(
            f"memory size {text!r} is not understood", "write a size such as 512MiB, 2GiB or 1.5GB"
        )
    number, prefix, binary = float(match[1]), match[2].lower(), bool(match[3])
    if binary and not prefix:
        raise ConfigError(f"memory size {text!r} is not understood", "write e.g. 512MiB or 2GiB")
    factor = 1024 ** ("kmgt".index(prefix) + 1) if binary else _UNITS[prefix]
    value = int(number * factor)
    if value < 1:
        raise ConfigError(f"memory size {text!r} is zero", "give a positive size such as 2GiB")
    return value


def format_size(n_bytes: float) -> str:
    """``n_bytes`` in GiB with two decimals ("1.25 GiB"), or in MiB below 0.1 GiB ("12.0 MiB")."""
    return f"{n_bytes / GIB:.2f} GiB" if n_bytes >= 0.1 * GIB else f"{n_bytes / MIB:.1f} MiB"


def available_memory_bytes(device: str = "cpu") -> int:
    """Memory this process may still allocate on ``device``.

    CUDA: the free memory the driver reports. CPU: the smallest of /proc/meminfo
    ``MemAvailable`` (free + reclaimable page cache of the machine) and, for each cgroup the
    process is in (v2 ``memory.max``, v1 ``memory.limit_in_bytes``, up to the hierarchy's root),
    the limit minus the usage minus its inactive page cache (which the kernel reclaims before
    killing anything). Without /proc (not Linux): psutil's ``available`` if psutil is installed,
    else :data:`ASSUMED_AVAILABLE_BYTES`.
    """
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.mem_get_info(torch.device(device))[0])
    known = [v for v in (_meminfo_available(), cgroup_headroom()) if v is not None]
    if known:
        return max(0, min(known))
    try:
        import psutil
    except ImportError:
        return ASSUMED_AVAILABLE_BYTES
    return int(psutil.virtual_memory().available)


def _meminfo_available(path: Path = Path("/proc/meminfo")) -> int | None:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def cgroup_headroom(
    proc_cgroup: Path = Path("/proc/self/cgroup"), root: Path = Path("/sys/fs/cgroup")
) -> int | None:
    """Smallest (limit - usage + inactive page cache) over the memory cgroups of this process and
    their ancestors, or None where no limit is set or cgroups are not readable."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    headrooms = []
    for line in lines:
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        _, controllers, path = fields
        if controllers == "":  # v2 unified hierarchy
            base, files = root, ("memory.max", "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):  # v1 memory controller
            base = root / "memory"
            files = ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
        else:
            continue
        parts = [p for p in path.split("/") if p]
        for depth in range(len(parts), -1, -1):
            headroom = _cgroup_dir_headroom(base.joinpath(*parts[:depth]), *files)
            if headroom is not None:
                headrooms.append(headroom)
    return min(headrooms) if headrooms else None


def _cgroup_dir_headroom(folder: Path, limit_file: str, usage_file: str, inactive_key: str) -> int | None:
    try:
        limit_text = (folder / limit_file).read_text().strip()
        usage = int((folder / usage_file).read_text().strip())
    except (OSError, ValueError):
        return None
    if limit_text == "max" or int(limit_text) >= 2**60:  # v1 writes "no limit" as ~2**63
        return None
    inactive = 0
    try:
        for line in (folder / "memory.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == inactive_key:
                inactive = int(value)
    except (OSError, ValueError):
        pass
    return int(limit_text) - max(0, usage - inactive)


def default_budget_bytes(device: str = "cpu") -> int:
    """The budget used when none is given: :data:`DEFAULT_BUDGET_FRACTION` of what is available."""
    return int(DEFAULT_BUDGET_FRACTION * available_memory_bytes(device))


def _upsampler_stages(scale: int) -> list[int]:
    """Cumulative scale after each sub-pixel stage, as ``ipt.Upsampler`` builds them."""
    if scale == 3:
        return [3]
    return [2**i for i in range(1, int(math.log2(scale)) + 1)] if scale > 1 else []


def _tail_units(scale: int, n_colors: int, n_feats: int) -> float:
    """Peak live feature maps (in input-resolution ``n_feats`` maps) of the upsampling tail.

    Four maps stay alive throughout (head features, body output, body tokens, their sum). A
    stage holds its input (s_prev^2 maps) and its conv output twice (oneDNN writes a re-laid-out
    copy; then the pixel shuffle's copy): 2 s^2 maps. The last conv adds n_colors/n_feats s^2.
    """
    held, peak, prev = 4.0, 4.0, 1
    for s in _upsampler_stages(scale):
        peak = max(peak, held + (prev * prev if prev > 1 else 0) + 2 * s * s)
        prev = s
    return max(peak, held + prev * prev * (1 + 2 * n_colors / n_feats))


def ipt_tile_units(config: Mapping[str, Any], scale: int) -> float:
    """Peak live ``n_feats x tile x tile`` feature maps of one IPT tile forward (inference).

    One token map (tokens x dim = (P/p)^2 x n_feats p^2) holds exactly as many numbers as one
    feature map, so body and convolutions count in the same unit. Derived from ``ipt.py``:
    * body: the decoder FFN peaks with 8 token maps alive (head features, the layer's input,
      LN1 output, LN1 + task query, the cross-attention query, the residual stream, the encoder
      memory, LN3 output) plus linear1's output and its ReLU (2 x 4 maps, MLP width 4 x dim).
      Attention (scaled_dot_product_attention) stays below: 14 maps, no N x N score matrix.
    * head: at most 6 maps (two 5x5 ResBlocks, each conv output plus its re-laid-out copy).
    * tail: see :func:`_tail_units` (x2: 12 maps, x4: 40 maps).
    Checked against the live tensor bytes torch's profiler records: exact at x1, x2 and x4; at x3
    oneDNN's convolution scratch adds about 10% (covered by :data:`ALLOCATOR_SLACK`).
    """
    body = 8 + 2 * 4
    n_feats = int(config.get("n_feats", GENERIC_FEATURES))
    return max(6.0, body, _tail_units(scale, int(config.get("n_colors", 3)), n_feats))


def cnn_pixel_units(config: Mapping[str, Any], scale: int) -> float:
    """Peak live ``n_feats`` feature maps of a conv net (EDSR-like baselines): 7 maps in a residual
    block (head features, block input, two conv outputs and their copies, the scaled sum), or the
    upsampling tail. Conservative for any network of convolutions at ``n_feats`` width."""
    n_feats = int(config.get("n_feats", GENERIC_FEATURES))
    return max(7.0, _tail_units(scale, int(config.get("n_colors", 3)), n_feats))


def _itemsize(model: Any) -> int:
    for param in model.parameters():
        return int(param.element_size())
    return 4


def tile_workspace_bytes(model: Any, tile_height: int, tile_width: int, scale: int, batch: int = 1) -> int:
    """Upper bound of the resident memory a forward of ``batch`` tiles of ``tile_height`` x
    ``tile_width`` adds (no autograd): live activations x :data:`ALLOCATOR_SLACK`.
    IPT: :func:`ipt_tile_units`; other networks: :func:`cnn_pixel_units`."""
    config = getattr(model, "config", None) or {}
    is_ipt = hasattr(model, "patch_size") and "patch_dim" in config
    units = ipt_tile_units(config, scale) if is_ipt else cnn_pixel_units(config, scale)
    maps = units * int(config.get("n_feats", GENERIC_FEATURES)) * tile_height * tile_width
    return int(batch * maps * _itemsize(model) * ALLOCATOR_SLACK)


def assembly_bytes(
    height: int, width: int, channels: int, scale: int, itemsize: int = 4, tile: int = 0
) -> int:
    """Bytes :func:`ipt_bench.models.tiling.tiled_forward` holds besides the forward itself: the
    (1, C, H, W) input, its padded copy when smaller than a ``tile``, and the
    (1, C, H*scale, W*scale) output accumulator (batches of tiles are counted in the workspace)."""
    image = channels * height * width * itemsize
    padded = channels * max(height, tile) * max(width, tile) * itemsize if min(height, width) < tile else 0
    return image + padded + image * scale * scale


def plan_tile_batch(
    model: Any,
    height: int,
    width: int,
    scale: int,
    tile: int | None,
    budget_bytes: int | None = None,
    max_batch: int = 64,
    *,
    channels: int = 3,
    extra_bytes: int = 0,
    device: str = "cpu",
) -> int:
    """The largest tile batch (<= ``max_batch``) whose forward fits ``budget_bytes`` together with
    the image assembly and ``extra_bytes`` (the caller's own buffers). ``tile=None`` means the
    network runs on the whole image at once (the answer is then 1).

    The budget defaults to :func:`default_budget_bytes`. Raises ConfigError, before anything big
    is allocated, when even one tile does not fit.
    """
    if max_batch < 1:
        raise ConfigError(f"max_batch must be at least 1, got {max_batch}", "use e.g. 16")
    budget = default_budget_bytes(device) if budget_bytes is None else int(budget_bytes)
    fixed = assembly_bytes(height, width, channels, scale, _itemsize(model), tile or 0)
    fixed += extra_bytes + LIBRARY_FIRST_USE_BYTES
    th, tw = (height, width) if tile is None else (tile, tile)
    one = tile_workspace_bytes(model, th, tw, scale, 1)
    if fixed + one > budget:
        what = "the whole image at once" if tile is None else f"one {tile}x{tile} tile"
        raise ConfigError(
            f"evaluating a {height}x{width} image at x{scale} needs {format_size(fixed + one)} "
            f"({format_size(fixed)} for the image buffers + {format_size(one)} for {what}) "
            f"but the memory budget is {format_size(budget)}",
            "evaluate a smaller image or a crop, raise --memory-budget if that much memory is "
            "really free, or run on a machine with more memory or a GPU",
        )
    return 1 if tile is None else min(max_batch, (budget - fixed) // one)
