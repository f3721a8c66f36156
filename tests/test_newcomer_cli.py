"""Small things a first-time user meets: plain flags without a type in --help, the evaluation
protocol printed under eval's table, output files with the permissions the umask gives."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from ipt_bench.core.atomic import atomic_write_text


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "150"}
    return subprocess.run(
        [sys.executable, "-m", "ipt_bench", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_help_shows_no_type_on_plain_flags(tmp_path: Path) -> None:
    done = _cli("run", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "<bool>" not in done.stdout
    assert "--dry-run" in done.stdout and "<path>" in done.stdout  # valued options keep their type


def test_eval_table_ends_with_the_protocol_line(tmp_path: Path) -> None:
    done = _cli("eval", "--model", "bicubic", "--task", "sr", "--scale", "2", "--dataset", "embedded",
                "--max-images", "1", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith(
        "protocol: matlab@1 (channel y, y_formula bt601, y_rounding round, gray own, crop_border 2"
    )


def test_atomic_files_get_the_umask_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "index.html", "<html></html>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
