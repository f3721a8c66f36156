"""Each benchmark script runs in its ``--quick`` mode and writes valid JSON with machine info;
the README generator turns results into goal rows; a cached ``variants`` listing skips torch."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_dataset

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
NEEDS_DATA = {
    "bench_mfu": (),
    "bench_attention": (),
    "bench_suite": (),
    "bench_load": (),
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
    assert payload["quick"] is True and payload["wall_seconds"] > 0
    assert payload["machine"]["cpu_count"] >= 1 and payload["machine"]["torch"]


def _summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("BENCH_RESULTS_DIR", str(tmp_path))
    monkeypatch.syspath_prepend(str(BENCH))
    for name in ("common", "summary", "projection"):
        sys.modules.pop(name, None)
    return runpy.run_path(str(BENCH / "summary.py"))


def _mfu_row(mfu: float) -> dict:
    categories = {
        "matmul": {"self_cpu_s": 0.6, "share": 0.6, "gflop": 60.0, "gflops_per_s": 100.0},
        "other": {"self_cpu_s": 0.4, "share": 0.4},
    }
    profile = {"categories": categories, "top_ops": [{"op": "aten::mm", "share": 0.6}]}
    return {
        "variant": "ipt-small-con",
        "batch": 8,
        "mfu": mfu,
        "achieved_gflops_per_s": 60.0,
        "seconds_per_step_best": 1.0,
        "gflops_per_step": 60.0,
        "profile": profile,
    }


def test_summary_rows_from_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An MFU of 0.6 meets the 0.5 goal; 0.3 does not and gets a note quoting the profile."""
    summary = _summary(tmp_path, monkeypatch)
    rows = [_mfu_row(0.6), {**_mfu_row(0.3), "variant": "ipt-paper-con"}]
    (tmp_path / "mfu.json").write_text(
        json.dumps(
            {"machine": {}, "quick": False, "goal_mfu": 0.5, "matmul_gflops_per_s": 100.0, "results": rows}
        )
    )
    met, unmet = summary["goal_rows"]()
    assert met.cells() == (
        "training MFU ipt-small-con (batch 8)",
        "60.0 of 100.0 GFLOP/s (60.0 GFLOP/step, 1.00 s/step)",
        "0.60",
        ">= 0.5",
        "yes",
    )
    assert met.limit == ""
    assert unmet.cells()[-1] == "**no**"
    # 0.3 / 0.6 (the share of time in ops that carry FLOPs) = 0.50
    assert "matmul 60% at 100 GFLOP/s" in unmet.limit and "MFU would be 0.50" in unmet.limit


@pytest.mark.slow
def test_cached_variants_listing_skips_torch(tmp_path: Path) -> None:
    """The second ``variants`` listing reads the cache and prints the same rows without torch."""
    env = {**os.environ, "IPT_BENCH_CACHE": str(tmp_path)}
    listing = [sys.executable, "-m", "ipt_bench", "variants", "--json"]
    first = subprocess.run(listing, env=env, check=True, capture_output=True, text=True).stdout
    probe = (
        "import sys; from ipt_bench.cli.main import main; code = main(['variants', '--json']); "
        "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(code)"
    )
    second = subprocess.run(
        [sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True
    )
    assert json.loads(second.stdout) == json.loads(first)
    assert list(tmp_path.glob("variant_costs_x2.json"))
