"""Every writer replaces only regular files: symlinks, devices, FIFOs and folders at the target
are refused and left as they were; a killed writer's temporary file is removed by the next write."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ipt_bench.cli.main import main
from ipt_bench.core.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from ipt_bench.core.errors import IptBenchError
from ipt_bench.data.images import write_png
from ipt_bench.suite.store import ResultsStore


def _parquet(target: Path) -> None:
    import pandas as pd

    with atomic_path(target) as tmp:
        pd.DataFrame({"a": [1]}).to_parquet(tmp)


def _checkpoint(target: Path) -> None:
    from ipt_bench.train.checkpoint import save_checkpoint

    save_checkpoint(target, {"step": 1})


def _record(target: Path) -> None:
    store = ResultsStore(target.parent.parent.parent)
    store.write_record(target.parent.name, {"status": "done"})


WRITERS: dict[str, Callable[[Path], object]] = {
    "text": lambda target: atomic_write_text(target, "new"),
    "bytes": lambda target: atomic_write_bytes(target, b"new"),
    "png": lambda target: write_png(target, np.zeros((4, 4, 3), np.uint8)),
    "parquet": _parquet,
    "checkpoint": _checkpoint,
    "node record": _record,
    "report page": lambda target: ResultsStore(target.parent).write_if_changed(target.name, "<html>"),
}


def _target(tmp_path: Path, kind: str) -> Path:
    """A path of the given kind, ``record.json`` inside a node folder so every writer can aim at it."""
    target = tmp_path / "out" / "nodes" / "k" / "record.json"
    target.parent.mkdir(parents=True)
    if kind == "symlink":
        (tmp_path / "precious.txt").write_text("precious\n")
        target.symlink_to(tmp_path / "precious.txt")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "device":  # a character device with /dev/null's numbers (needs root)
        try:
            os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("creating a device node needs root; eval --parquet /dev/null is tested instead")
    return target


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder", "device"])
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_every_writer_refuses_a_target_that_is_not_a_regular_file(tmp_path, writer, kind):
    target = _target(tmp_path, kind)
    before = os.lstat(target)
    with pytest.raises(IptBenchError, match=r"refusing to write .*not a regular file"):
        WRITERS[writer](target)
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    if kind == "symlink":
        assert (tmp_path / "precious.txt").read_text() == "precious\n"
    assert not list(target.parent.glob(f".{target.name}.*.tmp"))


@pytest.mark.parametrize("kind", ["symlink", "real /dev/null"])
def test_eval_parquet_refuses_a_device_or_link_with_one_error_line(tmp_path, monkeypatch, capsys, kind):
    monkeypatch.chdir(tmp_path)
    target = _target(tmp_path, kind) if kind == "symlink" else Path("/dev/null")
    argv = ["eval", "--task", "sr", "--model", "bicubic", "--max-images", "1", "--parquet", str(target)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a regular file" in err[0]


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "report.html"
    # a writer killed mid-write leaves its hidden temporary file (its lock dies with it)
    script = (
        "import os, sys\n"
        "from ipt_bench.core.atomic import atomic_write\n"
        "atomic_write(sys.argv[1], lambda h: (h.write(b'half'), h.flush(), os._exit(9)))\n"
    )
    subprocess.run([sys.executable, "-c", script, str(target)], check=False)
    [stale] = tmp_path.glob(".report.html.*.tmp")
    atomic_write_text(target, "complete")
    assert not stale.exists() and target.read_text() == "complete"


def test_a_live_writers_temporary_file_is_kept(tmp_path):
    target = tmp_path / "a.txt"
    with atomic_path(target) as live:
        live.write_text("in progress")
        atomic_write_text(target, "another writer")  # must not delete the file still being written
        assert live.exists()
    assert target.read_text() == "in progress"
