"""Stored results prove their integrity: a changed byte in a cached file re-runs its node, a
report is rebuilt when the rows it shows changed, a folder dataset is keyed by its content."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ipt_bench.cli.main import main
from ipt_bench.suite.store import ResultsStore

SUITE = """\
name: integrity
profile: smoke
variants: [identity]
tasks:
  denoise: {train_sigmas: [30], datasets: [DATASETS]}
"""


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IPT_BENCH_DATA", raising=False)
    monkeypatch.setenv("IPT_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    images = tmp_path / "imgs"
    images.mkdir()
    for i in range(2):
        pixels = np.random.default_rng(i).integers(0, 256, (24, 24, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / f"im{i}.png")
    (tmp_path / "suite.yaml").write_text(SUITE.replace("DATASETS", "./imgs"))
    return tmp_path


def run(capsys: pytest.CaptureFixture, *extra: str) -> str:
    status = main(["run", "suite.yaml", "--out", "results", "--jobs", "1", "--threads", "1", *extra])
    captured = capsys.readouterr()
    assert status == 0, captured.out + captured.err
    return captured.out


def eval_nodes(out: Path) -> list[str]:
    plan = json.loads((out / "plan.json").read_text())
    return [node["key"] for node in plan["nodes"] if node["kind"] == "eval"]


def test_a_flipped_byte_in_cached_rows_is_detected_and_recomputed(workspace, capsys):
    run(capsys, "--no-report")
    store = ResultsStore(workspace / "results")
    [key] = eval_nodes(store.root)
    rows = store.rows_path(key)
    original = pd.read_parquet(rows).drop(columns="seconds")
    data = bytearray(rows.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, same size: a size check cannot see it
    rows.write_bytes(bytes(data))
    assert not store.is_done(key) and "changed since it was written" in (store.check(key)[1] or "")

    out = run(capsys, "--no-report")
    assert "re-running eval identity" in out and "rows.parquet changed since it was written" in out
    assert "1 run, 0 cached" in out
    recomputed = pd.read_parquet(rows).drop(columns="seconds")  # timings differ, scores do not
    pd.testing.assert_frame_equal(recomputed, original)
    assert store.is_done(key)


def test_a_report_is_rebuilt_when_the_rows_it_shows_changed(workspace, capsys):
    report = workspace / "report"
    assert "report:" in run(capsys, "--report-dir", str(report))
    assert "report up to date" in run(capsys, "--report-dir", str(report))
    # the rows change behind the report's back (as a --force ... --no-report rerun would do)
    store = ResultsStore(workspace / "results")
    [key] = eval_nodes(store.root)
    frame = pd.read_parquet(store.rows_path(key))
    frame["psnr"] = frame["psnr"] + 1.0
    frame.to_parquet(store.rows_path(key), index=False)
    record = store.read_record(key)
    store.write_record(key, {**record, **store.file_entries(key, ["rows.parquet"])})
    built = (report / "index.html").stat().st_mtime_ns

    out = run(capsys, "--report-dir", str(report))
    assert "report up to date" not in out and "report:" in out
    assert (report / "index.html").stat().st_mtime_ns != built


def test_editing_one_image_of_a_folder_dataset_reruns_its_node(workspace, capsys):
    run(capsys, "--no-report")
    [before] = eval_nodes(workspace / "results")
    assert "0 run, 1 cached" in run(capsys, "--no-report")  # unchanged folder: served from the cache

    pixels = np.asarray(Image.open(workspace / "imgs" / "im1.png")).copy()
    pixels[0, 0] ^= 0xFF
    Image.fromarray(pixels).save(workspace / "imgs" / "im1.png")
    out = run(capsys, "--no-report")
    [after] = eval_nodes(workspace / "results")
    assert after != before
    assert "1 run, 0 cached" in out
