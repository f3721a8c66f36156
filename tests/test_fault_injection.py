"""SIGKILL in the middle of a write leaves the previous file intact; SIGINT stops training cleanly.

SIGKILL mid-training followed by a rerun is in tests/test_run_resume.py; a failing checkpoint
write in tests/test_resume.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

KILL_MID_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    from ipt_bench.core.atomic import atomic_write

    def half_then_die(handle):
        handle.write(b"NEW" * 1000)
        handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    atomic_write(sys.argv[1], half_then_die)
    """
)


@pytest.mark.parametrize("name", ["rows.parquet", "last.pt", "index.html"])
def test_sigkill_during_an_atomic_write_keeps_the_old_file(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    target.write_bytes(b"OLD complete file")
    done = subprocess.run([sys.executable, "-c", KILL_MID_WRITE, str(target)], timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"OLD complete file"
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    # only a hidden temp file may remain; no reader globs for it (it starts with '.', ends '.tmp')
    assert all(n.startswith(f".{name}.") and n.endswith(".tmp") for n in leftovers), leftovers


@pytest.mark.slow
def test_sigint_stops_training_with_a_checkpoint_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "train"
    argv = [sys.executable, "-m", "ipt_bench", "train", "--variant", "ipt-tiny-scratch", "--out", str(out)]
    argv += ["--steps", "100000", "--batch-size", "2"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = out / "log.jsonl"
    deadline = time.monotonic() + 180
    while proc.poll() is None and time.monotonic() < deadline and not (log.exists() and log.stat().st_size):
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()
    os.kill(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted at step" in stderr and "run the same command again" in stderr
    assert "Traceback" not in stderr
    assert (out / "checkpoints" / "last.pt").is_file()
    assert not (out / "model.pt").exists()
