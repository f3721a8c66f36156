"""Tiled inference: translation-equivariant stand-ins give their whole-image output (blend: a
pointwise one; official: within the forward_chop quirk), the blend cross-fade and the official
weights match values worked out by hand, and every axis plan sums to one."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ipt_bench.core.errors import ConfigError
from ipt_bench.models.tiling import axis_plan, count_tiles, tiled_forward


def _stand_in(scale: int, radius: int = 1, channels: int = 3):
    """conv (2*radius+1)^2 with reflect padding, tanh, then nearest upsampling: translation-
    equivariant with a receptive-field radius of ``radius`` input pixels; reflect padding at the
    bottom/right border coincides with the tiler's reflect padding of small images."""
    gen = torch.Generator().manual_seed(0)
    size = 2 * radius + 1
    weight = torch.randn(channels, channels, size, size, generator=gen, dtype=torch.float64)

    def fn(x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(F.pad(x, (radius,) * 4, mode="reflect") if radius else x, weight)
        return F.interpolate(torch.tanh(y), scale_factor=scale, mode="nearest")

    return fn


SIZES = [
    (85, 85, 3, 48),
    (321, 481, 1, 48),
    (50, 130, 2, 48),
    (30, 40, 2, 48),
    (30, 60, 4, 48),
    (37, 29, 2, 24),
]


def _image(height: int, width: int) -> torch.Tensor:
    return torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


@pytest.mark.parametrize(("height", "width", "scale", "tile"), SIZES)
def test_blend_equals_whole_image(height: int, width: int, scale: int, tile: int) -> None:
    fn, x = _stand_in(scale, radius=0), _image(height, width)
    out = tiled_forward(fn, x, tile=tile, scale=scale, mode="blend", tile_batch=7)
    assert out.shape == (1, 3, height * scale, width * scale)
    torch.testing.assert_close(out, fn(x), rtol=0, atol=1e-5)


def test_blend_errors_stay_in_the_overlap_bands() -> None:
    # 3x3 receptive field, 130 columns at x1, tile 40, overlap 8: tiles at 0, 32, 64 and a flush
    # one at 90, sharing [32, 40), [64, 72) and [90, 104). Away from those bands one tile alone
    # gives each pixel, away from its edges: exact there.
    fn, x = _stand_in(1, radius=1), _image(40, 130)
    err = (tiled_forward(fn, x, tile=40, scale=1, mode="blend", overlap=8) - fn(x)).abs()[0].amax((0, 1))
    bands = torch.zeros(130, dtype=torch.bool)
    bands[32:40] = bands[64:72] = bands[90:104] = True
    assert err[~bands].max() < 1e-12
    assert err[bands].max() > 0  # the cross-fade mixes in tile-edge pixels
    assert err.max() < 0.05


def test_blend_cross_fade_by_hand() -> None:
    # 56 columns, tile 48, overlap 8, x1: tiles at 0 and 8 share [8, 48), a 40-pixel band, over
    # which the second tile's weight rises as sin^2(pi/2 * (i + 0.5) / 40).
    (s0, w0), (s1, w1) = axis_plan(56, 48, 1, "blend", overlap=8)
    assert (s0, s1) == (0, 8)
    assert w0[:8].tolist() == [1.0] * 8 and w1[40:].tolist() == [1.0] * 8
    assert w1[0] == pytest.approx(math.sin(math.pi / 160) ** 2)  # ~0.0004 at the tile's edge
    assert w1[19] == pytest.approx(math.sin(math.pi / 2 * 19.5 / 40) ** 2)
    assert w0[8 + 19] + w1[19] == pytest.approx(1.0)
    assert w0[8 + 20] == pytest.approx(math.cos(math.pi / 2 * 20.5 / 40) ** 2)


@pytest.mark.parametrize(("height", "width", "scale", "tile"), SIZES)
def test_official_equals_whole_image(height: int, width: int, scale: int, tile: int) -> None:
    x = _image(height, width)
    pointwise = _stand_in(scale, radius=0)
    out = tiled_forward(pointwise, x, tile=tile, scale=scale, mode="official", tile_batch=7)
    torch.testing.assert_close(out, pointwise(x), rtol=0, atol=1e-5)
    # With a 3x3 receptive field forward_chop is exact except where its top band takes the first
    # tile's last column (tile edge): rows [0, tile/4) x column tile-1, in output pixels.
    fn = _stand_in(scale)
    out, whole = tiled_forward(fn, x, tile=tile, scale=scale, mode="official"), fn(x)
    edge = slice((tile - 1) * scale, tile * scale)
    out[..., : tile // 4 * scale, edge] = whole[..., : tile // 4 * scale, edge]
    torch.testing.assert_close(out, whole, rtol=0, atol=1e-5)


def test_tiny_image_is_padded_by_replication_and_cropped() -> None:
    x = torch.rand(1, 3, 5, 7, dtype=torch.float64)
    out = tiled_forward(lambda t: F.interpolate(t, scale_factor=2, mode="nearest"), x, tile=48, scale=2)
    torch.testing.assert_close(out, F.interpolate(x, scale_factor=2, mode="nearest"))


def _anchor_id(t: torch.Tensor) -> torch.Tensor:
    """A non-equivariant stand-in: every output pixel holds the id of its tile (top-left input)."""
    return t[:, :, :1, :1].expand_as(t).clone()


def test_official_weights_follow_forward_chop_by_hand() -> None:
    # 72 rows x 96 columns at x1, tile 48, stride 12. Rows: starts 0, 12, 24, split at 72 - 24 = 48.
    # Columns: starts 0, 12, 24, 36, 48, split at 96 - 24 = 72. A tile's centre is [start+12, start+36).
    rows, cols = torch.meshgrid(torch.arange(72.0), torch.arange(96.0), indexing="ij")
    x = (1000 * rows + cols)[None, None].double()
    out = tiled_forward(_anchor_id, x, tile=48, scale=1, mode="official")[0, 0]
    assert out[30, 30] == pytest.approx((0 + 12_012) / 2)  # centres of tiles (0|12, 0|12): mean id
    assert out[30, 5] == pytest.approx((0 + 12_000) / 2)  # left band: column tile 0, rows averaged
    assert out[5, 30] == 0  # top band, columns [12, 48): the first tile alone (forward_chop quirk)
    assert out[5, 50] == pytest.approx((24 + 36) / 2)  # top band beyond 48: column centres averaged
    assert out[5, 80] == 48  # top band past the column split: the right-most tile
    assert out[70, 70] == pytest.approx(24_000 + (36 + 48) / 2)  # past the row split: bottom tiles
    assert out[20, 40] == pytest.approx((12 + 24) / 2)  # row 20: centre of row tile 0 only


@pytest.mark.parametrize("mode", ["blend", "official"])
@pytest.mark.parametrize("length", [48, 49, 60, 85, 89, 321])
def test_axis_weights_sum_to_one(mode: str, length: int) -> None:
    # 89 at overlap 8: tiles 0, 40 and a flush one at 41 -- the middle tile overlaps on both sides
    for scale in (1, 3):
        total = torch.zeros(length * scale, dtype=torch.float64)
        for start, weight in axis_plan(length, 48, scale, mode):
            assert weight.min() >= 0
            total[start * scale : (start + 48) * scale] += weight
        torch.testing.assert_close(total, torch.ones_like(total))


@pytest.mark.parametrize("mode", ["blend", "official"])
@pytest.mark.parametrize(("height", "width"), [(321, 481), (48, 48), (85, 85), (20, 100)])
def test_count_tiles_matches_the_forward_calls(mode: str, height: int, width: int) -> None:
    seen = []

    def fn(t: torch.Tensor) -> torch.Tensor:
        seen.append(t.shape[0])
        return t

    tiled_forward(fn, torch.rand(1, 1, height, width), mode=mode, tile_batch=64)
    assert sum(seen) == count_tiles(height, width, mode=mode)
    assert max(seen) <= 64


def test_official_tile_count_for_a_bsd_image() -> None:
    # 321 rows: (321 - 48) % 12 = 9 -> main starts 0..264 (23) + the tile at 273 = 24;
    # 481 cols: (481 - 48) % 12 = 1 -> 37 + 1 = 38. forward_chop itself runs 972 (it repeats
    # the first row/column of tiles); this implementation needs 24 * 38.
    assert count_tiles(321, 481, mode="official") == 24 * 38
    # blend, overlap 8: starts 0, 40, ..., 240 and 273 -> 8 rows; 0..400 and 433 -> 12 columns.
    assert count_tiles(321, 481, mode="blend", overlap=8) == 8 * 12


def test_bad_arguments_raise_config_errors() -> None:
    fn = _stand_in(1)
    x = torch.rand(1, 3, 50, 50, dtype=torch.float64)
    with pytest.raises(ConfigError, match="unknown tiling mode"):
        tiled_forward(fn, x, mode="fast")
    with pytest.raises(ConfigError, match="one image"):
        tiled_forward(fn, torch.rand(2, 3, 50, 50))
    with pytest.raises(ConfigError, match="divisible by 4"):
        tiled_forward(fn, x, tile=30, mode="official")
    with pytest.raises(ConfigError, match="overlap"):
        tiled_forward(fn, x, overlap=48)
    with pytest.raises(ConfigError, match="scale="):
        tiled_forward(fn, x, scale=2)  # the stand-in does not upsample
