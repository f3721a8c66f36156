"""Results store: the done check, untouched rewrites, flock claims across processes, provenance."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from ipt_bench.core.provenance import collect_provenance
from ipt_bench.suite.store import ResultsStore
from tests.conftest import REPO_ROOT

KEY = "ab" * 32


def finished_node(store: ResultsStore, payload: bytes = b"0123456789") -> None:
    store.node_dir(KEY).mkdir(parents=True)
    store.rows_path(KEY).write_bytes(payload)
    store.write_record(KEY, {"key": KEY, "status": "done", **store.file_entries(KEY, ["rows.parquet"])})


def test_a_node_is_done_only_with_a_done_record_and_intact_files(tmp_path):
    store = ResultsStore(tmp_path)
    assert not store.is_done(KEY)
    finished_node(store)
    assert store.is_done(KEY)
    store.rows_path(KEY).write_bytes(b"01234")  # truncated
    assert not store.is_done(KEY)
    store.rows_path(KEY).unlink()
    assert not store.is_done(KEY)


def test_failed_or_damaged_records_are_not_done(tmp_path):
    store = ResultsStore(tmp_path)
    finished_node(store)
    store.write_record(KEY, {"key": KEY, "status": "failed", "files": {}})
    assert not store.is_done(KEY)
    store.record_path(KEY).write_text('{"status": "do')  # torn write from another tool
    assert store.read_record(KEY) is None and not store.is_done(KEY)


def test_clear_node_removes_results_but_keeps_the_folder(tmp_path):
    store = ResultsStore(tmp_path)
    finished_node(store)
    (store.train_dir(KEY) / "checkpoints").mkdir(parents=True)
    store.clear_node(KEY)
    assert not store.record_path(KEY).exists() and not store.train_dir(KEY).exists()
    assert store.node_dir(KEY).is_dir()


def test_write_if_changed_leaves_equal_files_untouched(tmp_path):
    store = ResultsStore(tmp_path)
    path = store.write_if_changed("plan.json", '{"a": 1}')
    before = path.stat().st_mtime_ns
    time.sleep(0.01)
    store.write_if_changed("plan.json", '{"a": 1}')
    assert path.stat().st_mtime_ns == before
    store.write_if_changed("plan.json", '{"a": 2}')
    assert json.loads(path.read_text()) == {"a": 2}


HOLDER = """
import sys, time
from ipt_bench.suite.store import ResultsStore
with ResultsStore(sys.argv[1]).claim(sys.argv[2]) as got:
    print("held" if got else "busy", flush=True)
    time.sleep(60)
"""


def test_a_claim_held_by_another_process_is_busy_until_that_process_dies(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), KEY], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with ResultsStore(tmp_path).claim(KEY, wait=False) as got:
            assert got is False
        os.kill(holder.pid, signal.SIGKILL)  # the OS drops a dead process's flock
        holder.wait(timeout=10)
        with ResultsStore(tmp_path).claim(KEY, wait=False) as got:
            assert got is True
    finally:
        if holder.poll() is None:
            holder.kill()


def test_a_claim_is_exclusive_within_one_process_too(tmp_path):
    store = ResultsStore(tmp_path)
    with store.claim(KEY) as outer:
        assert outer
        with store.claim(KEY, wait=False) as inner:
            assert inner is False


def test_provenance_names_versions_git_and_device(tmp_path):
    info = collect_provenance()
    assert torch.__version__.startswith(info["versions"]["torch"])
    assert info["device"].startswith("cuda:" if torch.cuda.is_available() else "cpu")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    assert info["git"].startswith(head.stdout.strip())
    assert f"({len(os.sched_getaffinity(0))} cores)" in info["cpu"]
