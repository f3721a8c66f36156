"""HTML report: self-contained page, escaped names, linked files, loader errors, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ipt_bench.cli.main import main
from ipt_bench.core.errors import IptBenchError
from ipt_bench.report.collect import load_results
from ipt_bench.report.html import build_report
from ipt_bench.report.synthetic import synthetic_rows, write_results_dir

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    rows = synthetic_rows({"ipt-small": 0.3, EVIL: 0.0}, seeds=(0, 1, 2, 3), n_images=3)
    results = write_results_dir(root / "results", rows, suite_yaml=f"name: demo\nvariants: ['{EVIL}']\n")
    failed = results / "nodes" / "eval-failed"
    failed.mkdir()
    (failed / "record.json").write_text(
        json.dumps(
            {
                "key": "eval-failed",
                "kind": "eval",
                "status": "failed",
                "error": "CUDA out of memory",
                "spec": {},
            }
        )
    )
    return build_report(results, root / "out", title="Demo <report>")


@pytest.mark.slow
def test_page_is_self_contained(report):
    html = report.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched from the network
    assert "<script" not in html  # no JavaScript, and YAML names are escaped
    assert "<link" not in html and "<style>" in html
    images = re.findall(r'<img src="([^"]+)"', html)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)


@pytest.mark.slow
def test_names_from_yaml_are_shown_as_text(report):
    html = report.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>Demo &lt;report&gt;</title>" in html


@pytest.mark.slow
def test_tables_statistics_spec_and_run_facts(report):
    html = report.read_text()
    for kind in ("Super-resolution", "Color denoising", "Deraining"):
        assert kind in html
    assert html.count("<table") >= 6
    assert "38.37" in html  # IPT's reported Set5 x2 beside the measured rows
    assert "ipt-small better" in html  # 0.3 dB offset over 3 images x 4 seeds is resolved
    # Findings open the report: the effect in words, over seeds, Holm-adjusted, before the tables.
    findings = html[html.index("<h2>Findings</h2>") : html.index("<h2>Results</h2>")]
    assert "ipt-small beats &lt;script&gt;" in findings and "3 images × 4 seeds" in findings
    assert "t-test on 4 per-seed means" in findings and "Holm-adjusted over" in findings
    assert "name: demo" in html and "cpu (2 cores)" in html and "0h 01m 00.0s" in html
    assert "CUDA out of memory" in html
    # node time: the eval nodes' per-image seconds plus one 1-second training node per variant
    rows = load_results(report.parent.parent / "results").rows
    expected = rows["seconds"].sum() + rows["variant"].nunique()
    assert f"({expected:.1f} s)</td>" in html


@pytest.mark.slow
def test_every_link_resolves(report):
    html = report.read_text()
    links = re.findall(r'href="([^"]+)"', html)
    assert any(link.startswith("data/rows_") for link in links)
    assert any(link.endswith(".tex") for link in links) and any(link.endswith(".svg") for link in links)
    for link in links:
        assert (report.parent / link).is_file(), link
    assert not list(report.parent.rglob(".*.tmp"))


def test_corrupt_parquet_names_file_and_fix(tmp_path):
    results = write_results_dir(tmp_path, synthetic_rows({"a": 0.0}, seeds=(0,), n_images=2), log_steps=2)
    victim = sorted(results.glob("nodes/*/rows.parquet"))[0]
    victim.write_bytes(b"not a parquet file")
    with pytest.raises(IptBenchError) as info:
        load_results(results)
    assert str(victim) in str(info.value) and "delete it and re-run" in str(info.value)


def test_missing_directory_is_a_user_error(tmp_path):
    with pytest.raises(IptBenchError, match="does not exist"):
        load_results(tmp_path / "nope")
    with pytest.raises(IptBenchError, match="not a results directory"):
        load_results(tmp_path)


def test_torn_last_log_line_is_ignored(tmp_path):
    results = write_results_dir(tmp_path, synthetic_rows({"a": 0.0}, seeds=(0,), n_images=2), log_steps=3)
    log = next(results.glob("nodes/*/train/log.jsonl"))
    log.write_text(log.read_text() + '{"step": 4, "lo')
    assert len(load_results(results).train_logs[log.parent.parent.name]) == 3


def test_only_the_last_runs_plan_is_reported(tmp_path):
    """A results folder that also holds nodes of an earlier run under another profile reports the
    nodes of the last plan only."""
    results = write_results_dir(tmp_path, synthetic_rows({"a": 0.0, "b": 0.5}, seeds=(0,), n_images=2))
    assert set(load_results(results).rows["variant"]) == {"a", "b"}
    kept = [
        p.name
        for p in (results / "nodes").iterdir()
        if json.loads((p / "record.json").read_text())["spec"]["variant"] == "a"
    ]
    (results / "plan.json").write_text(json.dumps({"nodes": [{"key": key} for key in kept]}))
    loaded = load_results(results)
    assert set(loaded.rows["variant"]) == {"a"}
    assert {r["key"] for r in loaded.records} == set(kept)


@pytest.mark.slow
def test_cli_report_command(tmp_path, capsys):
    results = write_results_dir(
        tmp_path / "res", synthetic_rows({"a": 0.0}, seeds=(0,), n_images=2), log_steps=2
    )
    assert main(["report", str(results), "--out", str(tmp_path / "out"), "--title", "T"]) == 0
    assert (tmp_path / "out" / "index.html").is_file()
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "error:" in capsys.readouterr().err
