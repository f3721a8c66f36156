"""An image too large for the memory budget is refused from its header, before it is decoded:
the refusing process's peak RSS stays far below the decoded image's size."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.conftest import REPO_ROOT

#: The refusal must cost less than this peak RSS (the decoded 10000x9000 RGB image alone is
#: 257 MiB, its float64 scoring planes 13 GiB).
MAX_PEAK_RSS = 1 << 30


def test_refusing_a_10000x9000_image_under_a_512mib_budget_peaks_below_1_gib(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    Image.new("RGB", (10000, 9000), (90, 120, 150)).save(folder / "huge.png", compress_level=1)
    env = {k: v for k, v in os.environ.items() if k != "IPT_BENCH_DATA"}
    env.update(IPT_BENCH_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(REPO_ROOT))
    argv = ["eval", "--task", "sr", "--model", "bicubic", "--dataset", "./big", "--memory-budget", "512MiB"]
    # A forked child's ru_maxrss starts from its parent's resident size, and this test process holds
    # torch and every earlier test's data; a bare interpreter launches the CLI so the peak is its own.
    launcher = (
        "import os, subprocess, sys\n"
        "child = subprocess.Popen(sys.argv[1:], stderr=open('err.txt', 'w'), stdout=subprocess.DEVNULL)\n"
        "_, status, usage = os.wait4(child.pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
    )
    launched = subprocess.run(
        [sys.executable, "-c", launcher, sys.executable, "-m", "ipt_bench", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    returncode, max_rss_kib = (int(v) for v in launched.stdout.split())
    stderr = (tmp_path / "err.txt").read_text()
    peak = max_rss_kib * 1024  # ru_maxrss is in KiB on Linux
    print(f"peak RSS of the refusing process: {peak / 2**20:.0f} MiB")
    assert returncode == 2, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in stderr
    assert "huge (9000x10000, y) needs" in errors[0] and "memory budget is 0.50 GiB" in errors[0]
    assert peak < MAX_PEAK_RSS, f"peak RSS {peak / 2**20:.0f} MiB"
