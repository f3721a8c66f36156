"""The typed spine: one row schema for every writer, metrics selected by name (a third metric
end to end), inline variants, labels out of node keys, and plug-ins through entry points."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ipt_bench.cli.main import main
from ipt_bench.core.rows import DEFAULT_METRICS, FIXED_NAMES, PROTOCOL_NAMES, row_columns, row_dtypes
from ipt_bench.report.collect import ROW_COLUMNS, empty_rows, load_results
from ipt_bench.report.synthetic import synthetic_rows
from ipt_bench.report.tables import CELL_COLUMNS
from ipt_bench.suite.loader import load_suite
from ipt_bench.suite.planner import build_plan

SUITE = """\
name: spine
profile: smoke
variants: [bicubic, identity]
tasks:
  sr: {scales: [2], datasets: [embedded]}
  denoise: {train_sigmas: [30], datasets: [embedded]}
metrics: {names: [psnr, ssim, gmsd]}
profiles:
  smoke: {max_images: 2}
report: {name: spine, kind: generalization}
"""


def _schema_of(frame: pd.DataFrame, metrics: tuple[str, ...]) -> None:
    """Columns in order and dtypes (text columns read back from parquet as pandas strings)."""
    assert list(frame.columns) == row_columns(metrics)
    text = {"object", "str", "string"}
    dtypes = {c: "object" if str(t) in text else str(t) for c, t in frame.dtypes.items()}
    assert dtypes == row_dtypes(metrics)


@pytest.fixture(scope="module")
def spine_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spine")
    (folder / "suite.yaml").write_text(SUITE)
    out, report = folder / "results", folder / "report"
    args = ["run", str(folder / "suite.yaml"), "--out", str(out), "--report-dir", str(report)]
    assert main([*args, "--threads", "1"]) == 0
    return folder


def test_every_writer_writes_the_schema(spine_run, tmp_path, capsys):
    """Eval nodes, ``ipt-bench eval --parquet`` and the synthetic results all write exactly the
    schema's columns and dtypes; the collector and the tables take their columns from it."""
    metrics = ("psnr", "ssim", "gmsd")
    for rows in sorted((spine_run / "results" / "nodes").glob("*/rows.parquet")):
        _schema_of(pd.read_parquet(rows), metrics)
    parquet = tmp_path / "eval.parquet"
    args = ["eval", "--task", "sr", "--model", "bicubic", "--max-images", "1", "--parquet", str(parquet)]
    assert main([*args, "--metric", "gmsd", "--metric", "psnr", "--json"]) == 0
    _schema_of(pd.read_parquet(parquet), ("gmsd", "psnr"))
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["metrics"] == ["gmsd", "psnr"] and "ssim" not in summary
    assert set(summary["images"][0]) == {"name", "gmsd", "psnr"}
    _schema_of(synthetic_rows(n_images=1, seeds=(0,)), DEFAULT_METRICS)
    assert list(empty_rows().columns) == row_columns(DEFAULT_METRICS)
    assert set(ROW_COLUMNS) == FIXED_NAMES and set(PROTOCOL_NAMES) <= set(CELL_COLUMNS)


def test_a_third_metric_selected_by_the_suite_reaches_rows_tables_and_report(spine_run):
    rows = load_results(spine_run / "results").rows
    assert rows["gmsd"].notna().all() and (rows["gmsd"] >= 0).all()
    assert set(rows["protocol"]) == {"matlab@1"}
    # identity (the noisy input) has a worse, i.e. higher, GMSD at sigma 30 than bicubic at x2
    means = rows.groupby("task_kind")["gmsd"].mean()
    assert means["denoise"] > means["sr"] > 0
    for kind in ("sr", "denoise"):
        table = pd.read_csv(spine_run / "report" / "tables" / f"{kind}.csv")
        measured = table[table["source"] == "measured"]
        assert set(measured["metric"]) == {"psnr", "gmsd"}
    assert "GMSD" in (spine_run / "report" / "tables" / "sr.md").read_text()


def test_metrics_command_lists_the_registered_metrics(capsys):
    assert main(["metrics", "--json"]) == 0
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert {"psnr", "ssim", "gmsd"} <= set(listed)
    assert listed["psnr"]["default"] and not listed["gmsd"]["higher_is_better"]


def test_an_unknown_metric_is_one_clear_error(tmp_path, capsys):
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE.replace("gmsd]", "gmsdd]"))
    assert main(["run", str(suite), "--dry-run", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "gmsdd" in err and "gmsd" in err and len(err.splitlines()) == 1


INLINE = """\
name: inline
profile: smoke
variants:
  - {name: ipt-tiny-l2, base: ipt-tiny-scratch, num_layers: 2}
  - {name: ipt-tiny-scratch, label: LABEL}
tasks:
  sr: {scales: [2], datasets: [embedded]}
"""


def test_inline_variants_and_labels_outside_node_keys(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(INLINE.replace("LABEL", "first"))
    plan = build_plan(load_suite(path), profile="smoke")
    finetunes = {tuple(n.spec["variant_overrides"]): n for n in plan if n.kind == "finetune"}
    assert set(finetunes) == {(("num_layers", 2),), ()}
    assert {n.label for n in plan if n.kind == "eval"} == {"ipt-tiny-l2", "first"}
    path.write_text(INLINE.replace("LABEL", "renamed"))
    relabelled = build_plan(load_suite(path), profile="smoke")
    assert set(relabelled.nodes) == set(plan.nodes)  # a new label re-runs nothing
    assert {n.label for n in relabelled if n.kind == "eval"} == {"ipt-tiny-l2", "renamed"}


def test_architecture_options_need_a_base(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    inline = "{name: ipt-tiny-l2, base: ipt-tiny-scratch, num_layers: 2}"
    path.write_text(INLINE.replace(inline, "{name: x, num_layers: 2}"))
    assert main(["run", str(path), "--dry-run", "--out", str(tmp_path / "r")]) == 2
    assert "num_layers" in capsys.readouterr().err


PLUGIN = """\
import dataclasses

import numpy as np
import torch
from torch import nn

from ipt_bench.metrics.registry import Metric, register_metric
from ipt_bench.models.family import ModelFamily, register_family
from ipt_bench.models.registry import VariantSpec, register_variant
from ipt_bench.suite.executors import EXECUTORS, ExecutorKind, InlineExecutor
from ipt_bench.train.profiles import get_profile, register_profile

register_metric(Metric("maxerr", lambda a, b: float(np.max(np.abs(a - b))), "MaxErr", False))


class Shift(nn.Module):
    def __init__(self, *, scale, bias=0.0):
        super().__init__()
        self.scales = list(scale)
        self.bias = nn.Parameter(torch.full((1,), float(bias)))

    def forward(self, x, task_idx=0, *, return_tokens=False):
        out = x + self.bias
        return (out, None) if return_tokens else out


register_family(ModelFamily("shift", Shift, sizes={"one": {"bias": 0.0}}))
register_variant(VariantSpec("shift-one", "shift", "one"))

register_profile(dataclasses.replace(get_profile("smoke"), name="plug-profile"))


class Counting(InlineExecutor):
    def submit(self, node_json, options, force):
        print("plug-executor ran", node_json["kind"])
        return super().submit(node_json, options, force)


EXECUTORS.register(ExecutorKind("plug-executor", lambda settings: Counting()))
"""
ENTRY_POINTS = """\
[ipt_bench.metrics]
maxerr = spine_plugin

[ipt_bench.families]
shift = spine_plugin

[ipt_bench.profiles]
plug-profile = spine_plugin

[ipt_bench.executors]
plug-executor = spine_plugin
"""
PROBE = """\
import json, sys
from ipt_bench.cli.main import main
from ipt_bench.models.registry import get_variant
model = get_variant("shift-one").build_model([1])
assert type(model).__name__ == "Shift", type(model)
args = ["eval", "--task", "denoise", "--sigma", "30", "--model", "shift-one", "--max-images", "1"]
sys.exit(main([*args, "--metric", "maxerr", "--metric", "psnr", "--json"]))
"""


def test_third_party_metric_family_and_variant_register_through_entry_points(tmp_path):
    """A package installed with entry points (here a ``*.dist-info`` folder on the path) adds a
    metric, a model family and its variant, seen by a fresh process."""
    (tmp_path / "spine_plugin.py").write_text(PLUGIN)
    info = tmp_path / "spine_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: spine-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    env = {"PYTHONPATH": f"{tmp_path}:{Path.cwd()}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    listing = subprocess.run(
        [sys.executable, "-m", "ipt_bench", "metrics", "--json"], env=env, capture_output=True, text=True
    )
    assert listing.returncode == 0, listing.stderr
    assert "maxerr" in {m["name"] for m in json.loads(listing.stdout)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["metrics"] == ["maxerr", "psnr"] and summary["maxerr"] > 30
    # a profile and an executor are one entry each: a suite runs under both
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE.replace("smoke: {max_images: 2}", "plug-profile: {max_images: 1}"))
    run = [sys.executable, "-m", "ipt_bench", "run", str(suite), "--out", str(tmp_path / "r"), "--no-report"]
    ran = subprocess.run(
        [*run, "--profile", "plug-profile", "--executor", "plug-executor", "--threads", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.count("plug-executor ran eval") == 2
    assert json.loads((tmp_path / "r" / "plan.json").read_text())["profile"] == "plug-profile"


def test_the_cnn_control_is_one_family_file():
    """Network, sizes, architecture keys, initialisation and variants of the CNN all come from
    ``ipt_bench/models/families/cnn.py``; a variant built through the registry starts as its
    family's nearest-neighbour upsampler."""
    import torch

    from ipt_bench.models.families import cnn
    from ipt_bench.models.family import get_family
    from ipt_bench.models.registry import get_variant, list_variants

    family = get_family("cnn")
    assert family.build is cnn.CNNSmall and family.sizes is cnn.CNN_SIZES
    assert family.init is cnn.CNNSmall.identity_init_
    assert family.arch_keys == {"n_feats", "n_resblocks", "res_scale"}
    assert {v.name for v in list_variants("cnn-*")} == {f"cnn-{size}" for size in cnn.CNN_SIZES}
    model = get_variant("cnn-tiny").build_model([2])
    x = torch.rand(1, 3, 8, 8) * 255
    assert torch.allclose(model(x), x.repeat_interleave(2, 2).repeat_interleave(2, 3), atol=1e-3)
