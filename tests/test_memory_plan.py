"""Memory planning: estimates are upper bounds of measured peak RSS (and not absurdly loose), the
planner picks the largest batch that fits, and too-large requests fail cleanly, early."""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from ipt_bench.core.errors import ConfigError
from ipt_bench.eval.evaluate import scoring_bytes
from ipt_bench.eval.restorers import NetworkRestorer, check_tile_batch, to_uint8
from ipt_bench.models.ipt import IPT
from ipt_bench.models.memory import (
    GIB,
    LIBRARY_FIRST_USE_BYTES,
    MIB,
    assembly_bytes,
    available_memory_bytes,
    cgroup_headroom,
    parse_memory_size,
    plan_tile_batch,
    tile_workspace_bytes,
)
from ipt_bench.models.registry import SIZES
from ipt_bench.models.tiling import tiled_forward

# Peak RSS growth of a forward after malloc_trim, with the peak reset (clear_refs) where allowed.
# The peak is VmHWM, the high-water mark of this process's own memory: ru_maxrss would also count
# what the forked pytest parent held before exec.
RSS_HELPERS = """
import ctypes, json, sys

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))

def start():
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        print(json.dumps({"skip": "cannot reset the peak RSS (/proc/self/clear_refs)"}))
        sys.exit(0)
    return status("VmRSS:")

def growth(before):
    return status("VmHWM:") - before
"""

MEASURE_IPT = RSS_HELPERS + textwrap.dedent(
    """
    import torch
    from ipt_bench.models.ipt import IPT
    from ipt_bench.models.registry import SIZES

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = IPT(**SIZES["paper"], scale=[2]).eval()
    facts = {}
    with torch.no_grad():
        for label, batch in (("first", 1), ("1", 1), ("4", 4)):  # "first" is also the warm-up
            x = torch.rand(batch, 3, 48, 48) * 255
            before = start()
            model(x)
            facts[label] = growth(before)
    print(json.dumps(facts))
    """
)

MEASURE_SCORING = RSS_HELPERS + textwrap.dedent(
    """
    import numpy as np
    from ipt_bench.metrics.protocol import MetricProtocol, score

    side, channel = int(sys.argv[1]), sys.argv[2]
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (side, side, 3), dtype=np.uint8) for _ in range(2))
    protocol = MetricProtocol(channel=channel, border=2)
    score(a[:64, :64], b[:64, :64], protocol)
    before = start()
    score(a, b, protocol)
    print(json.dumps({"growth": growth(before)}))
    """
)


def _run(script: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    if "skip" in facts:
        pytest.skip(facts["skip"])
    return facts


def _meta_ipt(size: str = "paper", scale: int = 2) -> IPT:
    with torch.device("meta"):
        return IPT(**SIZES[size], scale=[scale])


@pytest.mark.slow
def test_paper_ipt_tile_estimate_bounds_measured_peak_rss() -> None:
    facts = _run(MEASURE_IPT)
    model = _meta_ipt()
    for batch in (1, 4):
        measured, estimate = facts[str(batch)], tile_workspace_bytes(model, 48, 48, 2, batch)
        assert measured <= estimate, f"batch {batch}: {measured / MIB:.1f} MiB > {estimate / MIB:.1f} MiB"
        # Measured here: 15-19 MiB (batch 1), 50-75 MiB (batch 4) against 27 / 108 MiB estimated.
        assert estimate < 3 * measured, f"batch {batch}: estimate {estimate / measured:.1f}x measured"
    first = tile_workspace_bytes(model, 48, 48, 2, 1) + LIBRARY_FIRST_USE_BYTES
    assert facts["first"] <= first, f"first forward: {facts['first'] / MIB:.1f} MiB > {first / MIB:.1f}"


@pytest.mark.parametrize("channel", ["y", "rgb"])
def test_scoring_estimate_bounds_measured_peak_rss(channel: str) -> None:
    side = 1024
    measured = _run(MEASURE_SCORING, str(side), channel)["growth"]
    estimate = scoring_bytes((side - 4, side - 4, 3), channel)
    assert measured <= estimate, f"{measured / MIB:.0f} MiB > {estimate / MIB:.0f} MiB"
    assert estimate < 3 * measured


def test_planner_picks_the_largest_batch_within_the_budget() -> None:
    model = _meta_ipt()
    fixed = assembly_bytes(321, 481, 3, 2) + LIBRARY_FIRST_USE_BYTES
    one = tile_workspace_bytes(model, 48, 48, 2, 1)
    for batch in (1, 5, 13):
        budget = fixed + batch * one
        assert plan_tile_batch(model, 321, 481, 2, 48, budget) == batch
        if batch > 1:
            assert plan_tile_batch(model, 321, 481, 2, 48, budget - 1) == batch - 1
    with pytest.raises(ConfigError, match="one 48x48 tile"):
        plan_tile_batch(model, 321, 481, 2, 48, fixed + one - 1)
    assert plan_tile_batch(model, 321, 481, 2, 48, 100 * GIB, max_batch=16) == 16
    assert plan_tile_batch(model, 321, 481, 2, 48, 100 * GIB) == 64


def test_a_huge_image_is_refused_naming_the_gib_it_needs() -> None:
    model = _meta_ipt(scale=4)
    image_bytes = 20000 * 20000 * 3 * 4  # float32 input; the output is 16x that
    with pytest.raises(ConfigError) as caught:
        plan_tile_batch(model, 20000, 20000, 4, 48, budget_bytes=8 * GIB)
    message = caught.value.one_line()
    needed = float(re.search(r"needs ([0-9.]+) GiB", message)[1])
    assert 17 * image_bytes / GIB <= needed < 17 * image_bytes / GIB + 0.2
    assert "budget is 8.00 GiB" in message
    assert "--memory-budget" in message
    assert "\n" not in message


def test_a_too_large_image_is_refused_before_anything_big_is_allocated() -> None:
    model = IPT(**SIZES["tiny"], scale=[2])
    restorer = NetworkRestorer(model, 0, 2, name="tiny", memory_budget=4 * GIB)
    huge = np.broadcast_to(np.zeros((1, 1, 3), np.float32), (20000, 20000, 3))  # no memory behind it
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ConfigError, match=r"needs [0-9.]+ GiB"):
        restorer(huge)
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 < 64 * MIB


def test_an_explicit_tile_batch_that_does_not_fit_is_refused() -> None:
    model = IPT(**SIZES["tiny"], scale=[2])
    height, width = 60, 70
    fixed = assembly_bytes(height, width, 3, 2) + LIBRARY_FIRST_USE_BYTES + 2 * 3 * height * width * 2**2
    budget = fixed + 3 * tile_workspace_bytes(model, 24, 24, 2, 1)
    restorer = NetworkRestorer(model, 0, 2, name="tiny", tile_batch=16, memory_budget=budget)
    with pytest.raises(ConfigError, match="at most 3"):
        restorer(np.zeros((height, width, 3), np.float32))
    assert NetworkRestorer(model, 0, 2, name="tiny", memory_budget=budget).plan(height, width) == 3


def test_auto_gives_the_numbers_of_tile_batch_16_quantised_like_to_uint8() -> None:
    torch.manual_seed(0)
    model = IPT(**SIZES["tiny"], scale=[2]).eval()
    image = np.random.default_rng(0).random((70, 90, 3), dtype=np.float32)
    auto = NetworkRestorer(model, 0, 2, name="tiny")(image)
    fixed16 = NetworkRestorer(model, 0, 2, name="tiny", tile_batch=16)(image)
    with torch.inference_mode():
        x = torch.from_numpy(image.transpose(2, 0, 1).copy())[None] * 255
        ref = tiled_forward(lambda b: model(b, 0), x, tile=24, scale=2, tile_batch=16)
    reference = to_uint8(ref[0].numpy().transpose(1, 2, 0))
    assert auto.flags.c_contiguous and auto.dtype == np.uint8
    np.testing.assert_array_equal(auto, fixed16)
    np.testing.assert_array_equal(auto, reference)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512MiB", 512 * MIB),
        ("2GiB", 2 * GIB),
        ("1.5GB", 1_500_000_000),
        ("1048576", MIB),
        ("2 gib", 2 * GIB),
    ],
)
def test_memory_sizes_parse(text: str, expected: int) -> None:
    assert parse_memory_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-1GiB", "0", "5iB", "2 GiB GiB"])
def test_bad_memory_sizes_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="memory size"):
        parse_memory_size(text)


@pytest.mark.parametrize("value", [0, -2, "0", "many", 2.5, True])
def test_bad_tile_batches_are_config_errors(value: object) -> None:
    with pytest.raises(ConfigError, match="tile batch"):
        check_tile_batch(value)  # type: ignore[arg-type]


def test_cgroup_headroom_reads_v2_and_v1_limits(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    leaf = root / "a" / "b"
    leaf.mkdir(parents=True)
    (leaf / "memory.max").write_text(f"{GIB}\n")
    (leaf / "memory.current").write_text(f"{700 * MIB}\n")
    (leaf / "memory.stat").write_text(f"anon 1\ninactive_file {100 * MIB}\n")
    (root / "a" / "memory.max").write_text("max\n")
    (root / "a" / "memory.current").write_text(f"{5 * GIB}\n")
    v1 = root / "memory" / "x"
    v1.mkdir(parents=True)
    (v1 / "memory.limit_in_bytes").write_text(f"{2 * GIB}\n")
    (v1 / "memory.usage_in_bytes").write_text(f"{GIB}\n")
    (root / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (root / "memory" / "memory.usage_in_bytes").write_text(f"{GIB}\n")
    proc = tmp_path / "cgroup.txt"
    proc.write_text("0::/a/b\n")
    assert cgroup_headroom(proc, root) == GIB - 600 * MIB
    proc.write_text("4:memory:/x\n1:cpu:/\n")
    assert cgroup_headroom(proc, root) == GIB
    proc.write_text("4:cpu:/\n")
    assert cgroup_headroom(proc, root) is None


def test_available_memory_is_within_what_the_machine_reports() -> None:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        pytest.skip("needs Linux /proc/meminfo")
    fields = dict(line.split(":", 1) for line in meminfo.read_text().splitlines())
    mem_available = int(fields["MemAvailable"].split()[0]) * 1024
    assert 0 < available_memory_bytes() <= mem_available


def test_cli_tiny_budget_exits_2_with_one_error_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ipt_bench",
            "eval",
            "--task",
            "sr",
            "--model",
            "ipt-tiny-con",
            "--max-images",
            "1",
            "--memory-budget",
            "1MiB",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in done.stderr
    assert re.search(r"needs [0-9.]+ (GiB|MiB) but the memory budget is 1\.0 MiB", lines[0])
