"""`ipt-bench data list | verify | download` through the real CLI entry point."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ipt_bench.cli.main import main


@pytest.fixture(autouse=True)
def _isolated_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IPT_BENCH_DATA", raising=False)
    monkeypatch.setenv("IPT_BENCH_CACHE", str(tmp_path / "cache"))


def _error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


def test_list_json_reports_found_partial_and_missing(data_root: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "list", "--json", "--data-root", str(data_root)]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["Set5"]["state"] == "found" and rows["Set5"]["found"] == 5
    assert rows["Set5"]["where"] == str(data_root / "Set5")
    assert (rows["Rain100L"]["state"], rows["Rain100L"]["found"], rows["Rain100L"]["expected"]) == (
        "partial",
        10,
        100,
    )
    assert rows["embedded"]["state"] == "embedded" and rows["embedded"]["tasks"] == [
        "sr",
        "denoise",
        "derain",
    ]


def test_list_table_without_data(capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "Set5" in out and "missing" in out


def test_verify_ok_and_partial(data_root: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "verify", "Set5", "--data-root", str(data_root)]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["data", "verify", "Rain100L", "--data-root", str(data_root)]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "10 of 100 items" in errors[0]
    assert main(["data", "verify", "Rain100L", "--data-root", str(data_root), "--allow-partial"]) == 0


def test_verify_reports_a_corrupt_file(
    tmp_path: Path, data_root: Path, capsys: pytest.CaptureFixture
) -> None:
    shutil.copytree(data_root / "Set5", tmp_path / "data" / "Set5")
    victim = tmp_path / "data" / "Set5" / "HR" / "baby.png"
    victim.write_bytes(victim.read_bytes()[:1000])
    assert main(["data", "verify", "Set5", "--data-root", str(tmp_path / "data")]) == 2
    captured = capsys.readouterr()
    assert "baby.png" in captured.out and len(_error_lines(captured.err)) == 1


def test_missing_dataset_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "verify", "Urban100", "--data-root", str(tmp_path / "nowhere")]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1
    assert "Urban100 not found" in errors[0] and os.environ["IPT_BENCH_CACHE"] in errors[0]
    assert "ipt-bench data download Urban100" in errors[0]


def test_download_without_url_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "download", "T91", "--dest", str(tmp_path / "d")]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "T91 has no direct download URL" in errors[0]
    assert not (tmp_path / "d").exists()
