"""The results folder of one suite run, and node-level claims between processes.

Layout (read by ``ipt_bench.report``)::

    <out>/suite.yaml  <out>/run.json  <out>/plan.json
    <out>/nodes/<key>/record.json    key, kind, spec, status, error, seconds, provenance, times
    <out>/nodes/<key>/rows.parquet   eval nodes: per-image rows (``ipt_bench.core.rows`` schema)
    <out>/nodes/<key>/crops/         eval nodes: <image>.{input,output,target}.png crops for reports
    <out>/nodes/<key>/train/         training nodes: run_training's out_dir

``record.json`` is written last: a node is done only when its record says so and every file the
record lists still has the recorded size and sha256 (``ipt_bench.core.integrity``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ipt_bench.core.atomic import atomic_write_text, check_writable_target
from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.integrity import file_entries, record_damage


class ResultsStore:
    """Paths and atomic reads/writes under one results folder."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def node_dir(self, key: str) -> Path:
        """``<out>/nodes/<key>``."""
        return self.root / "nodes" / key

    def record_path(self, key: str) -> Path:
        """``<out>/nodes/<key>/record.json``."""
        return self.node_dir(key) / "record.json"

    def rows_path(self, key: str) -> Path:
        """``<out>/nodes/<key>/rows.parquet``."""
        return self.node_dir(key) / "rows.parquet"

    def train_dir(self, key: str) -> Path:
        """``<out>/nodes/<key>/train`` (run_training's out_dir)."""
        return self.node_dir(key) / "train"

    def progress_path(self, key: str) -> Path:
        """``<out>/nodes/<key>/progress.json``: the running node's step, for the display."""
        return self.node_dir(key) / "progress.json"

    def read_record(self, key: str) -> dict[str, Any] | None:
        """The node's record, or None when absent or unreadable (a damaged record means not done)."""
        try:
            data = json.loads(self.record_path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def is_done(self, key: str) -> bool:
        """True when the record says done and every file it lists has its recorded size and sha256."""
        return self.check(key) == (True, None)

    def check(self, key: str) -> tuple[bool, str | None]:
        """``(done, damage)``: done when the record says so and its files are intact; ``damage`` says
        why a node whose record says done must run again (a file missing or changed), else None."""
        record = self.read_record(key)
        if record is None or record.get("status") != "done":
            return False, None
        why = record_damage(record, self.node_dir(key))
        return why is None, why

    def file_entries(self, key: str, relative_paths: list[str]) -> dict[str, Any]:
        """``files`` (sizes) and ``sha256`` (digests) of a node's files, for its record."""
        return file_entries(self.node_dir(key), relative_paths)

    def write_record(self, key: str, record: dict[str, Any]) -> None:
        """Atomically write the record (the node's commit point)."""
        atomic_write_text(self.record_path(key), json.dumps(record, indent=1, sort_keys=True, default=str))

    def clear_node(self, key: str) -> None:
        """Remove a node's results so it runs from scratch (``--force``)."""
        node = self.node_dir(key)
        self.record_path(key).unlink(missing_ok=True)
        self.rows_path(key).unlink(missing_ok=True)
        shutil.rmtree(node / "train", ignore_errors=True)
        shutil.rmtree(node / "crops", ignore_errors=True)

    def write_if_changed(self, name: str, text: str) -> Path:
        """Write ``<out>/<name>`` only if its content differs (so reruns leave files untouched)."""
        path = self.root / name
        check_writable_target(path)  # never open a FIFO or device to compare its content
        with contextlib.suppress(OSError):
            if path.read_text(encoding="utf-8") == text:
                return path
        return atomic_write_text(path, text)

    @contextlib.contextmanager
    def claim(self, key: str, *, wait: bool = True) -> Iterator[bool]:
        """Hold the node's ``flock`` while the block runs; yields False if busy and ``wait`` is off.

        The OS drops the lock when its holder dies, so a killed run never leaves a stale claim.
        """
        lock_path = self.node_dir(key) / ".lock"
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(lock_path, "a+b")  # noqa: SIM115 -- held for the whole block
        except OSError as exc:
            raise IptBenchError(
                f"cannot create the lock file {lock_path}: {exc.strerror or exc}",
                "choose an --out folder you can write to",
            ) from exc
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
