"""Tiled inference on a 2048x2048 image holds only one batch of tiles at a time: peak memory stays
within the documented bound (input + a few output-sized buffers), whatever the tile count."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch

from ipt_bench.core.errors import ConfigError
from ipt_bench.models.tiling import tiled_forward

MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    import torch
    from ipt_bench.models.tiling import tiled_forward

    side, scale, tile_batch = (int(a) for a in sys.argv[1:4])
    torch.set_num_threads(1)
    x = torch.rand(1, 3, side, side)
    up = lambda t: t.repeat_interleave(scale, -1).repeat_interleave(scale, -2)  # a cheap "network"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    y = tiled_forward(up, x, tile=48, scale=scale, tile_batch=tile_batch)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert y.shape == (1, 3, side * scale, side * scale)
    print(json.dumps({"before": before, "peak": peak, "out_bytes": y.numel() * 4}))
    """
)


@pytest.mark.slow
def test_2048_image_peak_memory_is_bounded_by_output_buffers() -> None:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, "2048", "2", "16"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    growth = facts["peak"] - facts["before"]
    # Documented bound (RELIABILITY.md): output + blend-weight accumulator + normalised copy
    # (3 output-sized float32 buffers) plus 64 MiB slack for one tile batch and allocator overhead.
    # Materialising all ~2,600 overlapping tiles at once would need about 1.5 output sizes more.
    bound = 3 * facts["out_bytes"] + 64 * 2**20
    assert growth < bound, f"peak grew by {growth / 2**20:.0f} MiB, bound {bound / 2**20:.0f} MiB"


def test_a_tile_batch_below_one_fails_cleanly() -> None:
    with pytest.raises(ConfigError, match="tile_batch=0"):
        tiled_forward(lambda t: t, torch.zeros(1, 3, 64, 64), tile=48, tile_batch=0)
