"""Each benchmark script runs in its ``--quick`` mode and writes valid JSON with machine info."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

from tests.conftest import require_dataset

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
NEEDS_DATA = {
    "bench_mfu": (),
    "bench_attention": (),
    "bench_suite": (),
    "bench_tiling": ("Urban100/HR", "Set5/HR", "T91/HR"),
    "bench_metrics": ("Urban100/HR",),
    "bench_data": ("T91/HR",),
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(NEEDS_DATA))
def test_quick_mode_writes_json(script: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if NEEDS_DATA[script]:
        monkeypatch.setenv("IPT_BENCH_DATA", str(require_dataset(*NEEDS_DATA[script])))
    monkeypatch.setenv("BENCH_RESULTS_DIR", str(tmp_path))
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.setattr(sys, "argv", [script, "--quick"])
    sys.modules.pop("common", None)
    runpy.run_path(str(BENCH / f"{script}.py"), run_name="__main__")
    (result,) = tmp_path.glob("*.json")
    payload = json.loads(result.read_text())
    assert payload["quick"] is True
    assert payload["machine"]["cpu_count"] >= 1 and payload["machine"]["torch"]


def test_summary_table_from_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README generator turns a result file into a goal row (MFU 0.6 >= 0.5 is met)."""
    monkeypatch.setenv("BENCH_RESULTS_DIR", str(tmp_path))
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("common", None)
    run_all = runpy.run_path(str(BENCH / "run_all.py"))
    row = {
        "variant": "ipt-small-con",
        "mfu": 0.6,
        "achieved_gflops_per_s": 60.0,
        "seconds_per_step_best": 1.0,
        "gflops_per_step": 60.0,
    }
    (tmp_path / "mfu.json").write_text(
        json.dumps({"machine": {}, "quick": False, "goal_mfu": 0.5, "results": [row]})
    )
    assert run_all["goal_rows"]() == [
        ("MFU ipt-small-con", "0.60 (60 GFLOP/s, 1.00 s/step)", ">= 0.5", "yes")
    ]
