"""``ipt-bench run`` end to end with the real trainer and evaluator (smoke profile, tiny models)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ipt_bench.core.rows import DEFAULT_METRICS, row_columns
from ipt_bench.core.tasks import Task
from ipt_bench.eval.evaluate import evaluate
from ipt_bench.suite.loader import load_suite
from ipt_bench.suite.planner import build_plan
from tests.conftest import REPO_ROOT

QUICKSTART = REPO_ROOT / "suites" / "quickstart.yaml"
pytestmark = pytest.mark.slow


def ipt_bench_run(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if k != "IPT_BENCH_DATA"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ipt_bench", "run", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )
    return done, time.perf_counter() - start


def snapshot(out: Path) -> dict[str, tuple[int, str]]:
    """mtime and sha256 of every result file (run.json is the run's own log and may change)."""
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "run.json"
    }


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    out = tmp_path_factory.mktemp("quickstart") / "results"
    done, seconds = ipt_bench_run(
        str(QUICKSTART), "--profile", "smoke", "--out", str(out), "--no-report", cwd=out.parent
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out, seconds, snapshot(out)


def test_quickstart_completes_with_every_node_done(quickstart):
    out, _, _ = quickstart
    plan = build_plan(load_suite(QUICKSTART), profile="smoke")
    records = {p.parent.name: json.loads(p.read_text()) for p in (out / "nodes").glob("*/record.json")}
    assert set(records) == set(plan.nodes)
    assert all(r["status"] == "done" and r["error"] is None for r in records.values())
    assert all("torch" in r["versions"] and r["device"] for r in records.values())
    for node in plan:
        if node.kind != "eval":
            assert (out / "nodes" / node.key / "train" / "model.pt").is_file()
    run = json.loads((out / "run.json").read_text())
    assert run["complete"] is True and run["counts"] == {"done": len(plan)}
    assert (out / "suite.yaml").is_file() and json.loads((out / "plan.json").read_text())[
        "profile"
    ] == "smoke"


def test_rows_have_the_agreed_columns_and_the_evaluators_numbers(quickstart, tmp_path):
    out, _, _ = quickstart
    rows = pd.concat([pd.read_parquet(p) for p in (out / "nodes").glob("*/rows.parquet")], ignore_index=True)
    assert list(rows.columns) == row_columns(DEFAULT_METRICS)
    n_images = rows["image"].nunique()
    assert len(rows) == n_images * 12  # 12 eval nodes, one row per image each
    assert set(rows["variant"]) == {"ipt-tiny-con", "ipt-tiny-scratch", "bicubic", "identity"}
    assert set(rows.loc[rows.task_kind == "denoise", "sigma"]) == {10.0, 30.0, 50.0}
    assert set(rows.loc[rows.task_kind == "denoise", "train_sigmas"].dropna()) == {"30"}
    # the stored numbers are exactly what the evaluator gives when called directly
    direct = evaluate(task=Task("denoise", sigma=50.0), dataset="embedded", model="identity")
    stored = rows[(rows.variant == "identity") & (rows.sigma == 50.0)].set_index("image")
    for row in direct.rows:
        assert stored.loc[row["image"], "psnr"] == pytest.approx(row["psnr"], abs=1e-12)
        assert stored.loc[row["image"], "ssim"] == pytest.approx(row["ssim"], abs=1e-12)


def test_rerun_is_fast_and_changes_no_result_file(quickstart):
    out, first_seconds, before = quickstart
    done, seconds = ipt_bench_run(
        str(QUICKSTART), "--profile", "smoke", "--out", str(out), "--no-report", cwd=out.parent
    )
    assert done.returncode == 0, done.stderr
    assert seconds < 0.1 * first_seconds, (seconds, first_seconds)
    assert snapshot(out) == before
    n_nodes = len(build_plan(load_suite(QUICKSTART), profile="smoke"))
    assert json.loads((out / "run.json").read_text())["counts"] == {"cached": n_nodes}


def test_force_reruns_the_named_node_and_its_dependants_only(quickstart):
    out, _, _ = quickstart
    before = snapshot(out)
    plan = build_plan(load_suite(QUICKSTART), profile="smoke")
    bicubic = next(n for n in plan if n.spec.get("model") == "bicubic")
    old_rows = pd.read_parquet(out / "nodes" / bicubic.key / "rows.parquet")
    done, _ = ipt_bench_run(
        str(QUICKSTART),
        "--profile",
        "smoke",
        "--out",
        str(out),
        "--no-report",
        "--force",
        bicubic.key[:12],
        cwd=out.parent,
    )
    assert done.returncode == 0, done.stderr
    after = snapshot(out)
    changed = {path for path in after if after[path][0] != before.get(path, (None,))[0]}
    node_dir = f"nodes/{bicubic.key}/"  # the forced node rewrites its files (rows, record, crops) only
    assert {f"{node_dir}record.json", f"{node_dir}rows.parquet"} <= changed
    assert all(path.startswith(node_dir) for path in changed), sorted(changed)
    new_rows = pd.read_parquet(out / "nodes" / bicubic.key / "rows.parquet")
    assert new_rows["psnr"].tolist() == old_rows["psnr"].tolist()  # same spec, same numbers


FAILING = """\
name: failing
profile: smoke
variants: [ipt-tiny-scratch, identity]
tasks:
  denoise: {train_sigmas: [30], datasets: [embedded]}
train_data: {finetune: /nonexistent/training-images}
profiles:
  smoke: {steps: 2, batch_size: 2}
"""


def test_a_failed_node_is_recorded_its_dependants_skipped_and_the_rest_runs(tmp_path):
    suite = tmp_path / "failing.yaml"
    suite.write_text(FAILING)
    out = tmp_path / "out"
    done, _ = ipt_bench_run(str(suite), "--out", str(out), "--no-report", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    plan = build_plan(load_suite(suite))
    run = json.loads((out / "run.json").read_text())
    by_kind = {n.kind + ("-baseline" if n.kind == "eval" and not n.deps else ""): n.key for n in plan}
    assert run["nodes"][by_kind["finetune"]] == "failed"
    assert run["nodes"][by_kind["eval"]] == "skipped"
    assert run["nodes"][by_kind["eval-baseline"]] == "done"
    record = json.loads((out / "nodes" / by_kind["finetune"] / "record.json").read_text())
    assert record["status"] == "failed" and "/nonexistent/training-images" in record["error"]
    assert "incomplete" in done.stdout


def test_a_fully_cached_rerun_keeps_an_up_to_date_report(quickstart, tmp_path):
    out, _, _ = quickstart
    report = tmp_path / "report"
    args = (str(QUICKSTART), "--profile", "smoke", "--out", str(out), "--report-dir", str(report))
    first, _ = ipt_bench_run(*args, cwd=out.parent)
    assert first.returncode == 0 and "report:" in first.stdout, first.stdout + first.stderr
    built = (report / "index.html").stat().st_mtime_ns
    again, _ = ipt_bench_run(*args, cwd=out.parent)
    assert again.returncode == 0 and "report up to date" in again.stdout, again.stdout + again.stderr
    assert (report / "index.html").stat().st_mtime_ns == built
    (report / "index.html").unlink()  # a missing report is rebuilt
    rebuilt, _ = ipt_bench_run(*args, cwd=out.parent)
    assert "report:" in rebuilt.stdout and (report / "index.html").is_file()
