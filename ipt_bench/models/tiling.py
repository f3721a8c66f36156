"""Tiled inference: IPT's body only accepts ``patch_size`` x ``patch_size`` inputs.

Both modes run square tiles through ``fn`` in batches and assemble the output as a weighted
sum of tile outputs, with per-axis weights that sum to one at every output pixel:

* ``official`` -- the official ``forward_chop`` protocol (huawei-noah/Pretrained-IPT,
  ``model/__init__.py``): tiles every ``tile // 4`` pixels (12 for 48), each output pixel the
  average of the central ``tile // 2`` crops covering it; the outer ``tile // 4`` band on the
  top/left comes from the first tile alone, and the bottom/right remainder from tiles anchored
  at ``H - tile`` / ``W - tile``, split where the official code splits. Same numbers, fewer
  forward passes (the official code runs the first tile row/column twice).
* ``blend`` (fast default) -- tiles every ``tile - overlap`` pixels (the last one flush with the
  border); where two neighbouring tiles overlap, their outputs cross-fade with raised-cosine
  weights (cos^2 falling to 0 at a tile's edge, sin^2 rising in its neighbour: they sum to 1).
  Each pixel of an overlap band thus averages two predictions, weighted towards the tile
  that gives it more context, which brings blend closer to the official averaging than taking
  the nearer tile alone (measured: ``benchmarks/bench_tiling.py``). A pointwise model gives
  exactly its whole-image output.

Images smaller than a tile are padded at the bottom/right (reflect, or replicate when too small
to reflect) and the output is cropped back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from ipt_bench.core.errors import ConfigError

TileMode = Literal["blend", "official"]
MODES = ("blend", "official")

# An axis plan: (tile start in input pixels, weight of each of the tile's output pixels).
AxisPlan = list[tuple[int, Tensor]]


def tiled_forward(
    fn: Callable[[Tensor], Tensor],
    x: Tensor,
    *,
    tile: int = 48,
    scale: int = 1,
    mode: TileMode = "blend",
    overlap: int = 8,
    tile_batch: int = 16,
) -> Tensor:
    """Run ``fn`` (a batch of ``tile`` x ``tile`` inputs -> a batch of ``tile*scale`` outputs) over
    the (1, C, H, W) image ``x`` in tiles and return the (1, C_out, H*scale, W*scale) output."""
    _check_args(x, tile, scale, mode, overlap, tile_batch)
    height, width = x.shape[-2:]
    x = _pad_to_tile(x, tile)
    plan_y = axis_plan(x.shape[-2], tile, scale, mode, overlap)
    plan_x = axis_plan(x.shape[-1], tile, scale, mode, overlap)
    jobs = [(ay, wy, ax, wx) for ay, wy in plan_y for ax, wx in plan_x]
    out: Tensor | None = None
    size = tile * scale
    for start in range(0, len(jobs), tile_batch):
        chunk = jobs[start : start + tile_batch]
        batch = torch.cat([x[..., ay : ay + tile, ax : ax + tile] for ay, _, ax, _ in chunk])
        y = fn(batch)
        if y.shape[0] != len(chunk) or y.shape[-2:] != (size, size):
            raise ConfigError(
                f"tiled_forward: the model turned {len(chunk)} tiles of {tile}x{tile} into {tuple(y.shape)}",
                f"pass scale={y.shape[-1] // tile} matching the model's tail, or the model's own tile size",
            )
        if out is None:
            out = y.new_zeros((1, y.shape[1], x.shape[-2] * scale, x.shape[-1] * scale))
        for i, (ay, wy, ax, wx) in enumerate(chunk):
            weight = wy[:, None] * wx[None, :]
            if mode == "official" and ay == 0:
                _official_top_left(weight, ax, x.shape[-1], tile, scale)
            rows, cols = weight.any(1).nonzero(), weight.any(0).nonzero()
            if not len(rows):
                continue
            r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
            region = out[0, :, ay * scale + r0 : ay * scale + r1, ax * scale + c0 : ax * scale + c1]
            region += y[i, :, r0:r1, c0:c1] * weight[r0:r1, c0:c1].to(y)
    assert out is not None
    return out[..., : height * scale, : width * scale]


def count_tiles(
    height: int, width: int, *, tile: int = 48, mode: TileMode = "blend", overlap: int = 8
) -> int:
    """How many tile forwards :func:`tiled_forward` makes for an ``height`` x ``width`` input."""
    if mode not in MODES:
        raise ConfigError(f"unknown tiling mode {mode!r}", f"use one of {', '.join(MODES)}")
    rows = len(_anchors(max(height, tile), tile, mode, overlap))
    cols = len(_anchors(max(width, tile), tile, mode, overlap))
    return rows * cols


def axis_plan(length: int, tile: int, scale: int, mode: TileMode, overlap: int = 8) -> AxisPlan:
    """Tile starts along one axis of ``length`` (>= tile) input pixels, each with the weights of
    its ``tile * scale`` output pixels; at every output pixel the weights of all tiles sum to 1."""
    if mode == "official":
        return _official_plan(length, tile, scale)
    return _blend_plan(length, tile, scale, overlap)


def _anchors(length: int, tile: int, mode: TileMode, overlap: int) -> list[int]:
    if mode == "official":
        stride = tile // 4
        main_end = length - (length - tile) % stride
        return sorted(set(range(0, main_end - tile + 1, stride)) | {length - tile})
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    return [*starts, length - tile]


def _blend_plan(length: int, tile: int, scale: int, overlap: int) -> AxisPlan:
    starts = _anchors(length, tile, "blend", overlap)
    size = tile * scale
    # Tiles are laid down in order, each over the ones before it with an opacity ("alpha") that
    # rises as sin^2 across the band it shares with its predecessor, then is 1; a tile's weight is
    # its alpha times the transparency of every later tile. The weights telescope to exactly 1,
    # even where a flush last tile overlaps more than one neighbour.
    alphas = []
    for k, start in enumerate(starts):
        alpha = torch.zeros(length * scale, dtype=torch.float64)
        alpha[start * scale : start * scale + size] = 1.0
        if k:
            band = (starts[k - 1] + tile - start) * scale
            ramp = (torch.arange(band, dtype=torch.float64) + 0.5) / band
            alpha[start * scale : start * scale + band] = torch.sin(torch.pi / 2 * ramp) ** 2
        alphas.append(alpha)
    plan = []
    uncovered = torch.ones(length * scale, dtype=torch.float64)  # the product of (1 - later alphas)
    for start, alpha in reversed(list(zip(starts, alphas, strict=True))):
        weight = alpha * uncovered
        uncovered = uncovered * (1.0 - alpha)
        plan.append((start, weight[start * scale : start * scale + size]))
    return plan[::-1]


def _official_plan(length: int, tile: int, scale: int) -> AxisPlan:
    stride = tile // 4  # the official shave = tile/2, stride = shave/2; a tile's centre = [stride, 3*stride)
    cut = (length - tile) % stride
    main = list(range(0, length - cut - tile + 1, stride))
    last = length - tile
    split = _official_split(length, tile, scale)  # before: the main grid; from here: the tile at `last`
    out_len = length * scale
    o = torch.arange(out_len)
    starts = torch.tensor(main)[:, None] * scale
    in_centre = (o[None] >= starts + stride * scale) & (o[None] < starts + 3 * stride * scale)
    in_centre[0, : stride * scale] = True  # the first band is the first tile alone
    in_centre[:, split:] = False
    coverage = in_centre.double()
    coverage = coverage / coverage.sum(0).clamp_min(1)
    weights = {a: coverage[i] for i, a in enumerate(main)}
    tail = torch.zeros(out_len, dtype=torch.float64)
    tail[split:] = 1.0
    weights[last] = weights.get(last, torch.zeros(out_len, dtype=torch.float64)) + tail
    return [(a, w[a * scale : (a + tile) * scale]) for a, w in sorted(weights.items())]


def _official_split(length: int, tile: int, scale: int) -> int:
    """First output pixel along an axis that the official code takes from the tile at ``length - tile``."""
    cut = (length - tile) % (tile // 4)
    return (length - cut) * scale - ((tile - cut) * scale) // 2


def _official_top_left(weight: Tensor, start_x: int, width: int, tile: int, scale: int) -> None:
    """The one non-separable rule of ``forward_chop``: its left band (written after the top band)
    gives the top ``tile/4`` rows of the columns [tile/4, tile) from the first tile alone."""
    band = tile // 4 * scale
    cols = torch.arange(weight.shape[1]) + start_x * scale
    region = (cols >= band) & (cols < min(tile * scale, _official_split(width, tile, scale)))
    weight[:band, region] = 1.0 if start_x == 0 else 0.0


def _pad_to_tile(x: Tensor, tile: int) -> Tensor:
    pad_h, pad_w = max(0, tile - x.shape[-2]), max(0, tile - x.shape[-1])
    if not pad_h and not pad_w:
        return x
    can_reflect = pad_h < x.shape[-2] and pad_w < x.shape[-1]
    return F.pad(x, (0, pad_w, 0, pad_h), mode="reflect" if can_reflect else "replicate")


def _check_args(x: Tensor, tile: int, scale: int, mode: str, overlap: int, tile_batch: int) -> None:
    if mode not in MODES:
        raise ConfigError(f"unknown tiling mode {mode!r}", f"use one of {', '.join(MODES)}")
    if x.ndim != 4 or x.shape[0] != 1:
        raise ConfigError(
            f"tiled_forward takes one image shaped (1, C, H, W), got {tuple(x.shape)}",
            "loop over the batch and pass images one at a time",
        )
    if tile < 4 or scale < 1 or tile_batch < 1:
        raise ConfigError(
            f"invalid tiling: tile={tile}, scale={scale}, tile_batch={tile_batch}",
            "use tile >= 4, scale >= 1 and tile_batch >= 1",
        )
    if mode == "official" and tile % 4:
        raise ConfigError(
            f"the official tiling needs a tile size divisible by 4, got {tile}",
            "use mode='blend' or a tile such as 48",
        )
    if mode == "blend" and not 0 <= overlap < tile:
        raise ConfigError(f"overlap {overlap} must lie in [0, tile={tile})", "use e.g. overlap=8")
