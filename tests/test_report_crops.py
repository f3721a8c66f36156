"""Crop comparisons in the HTML report, drawn from the crops the eval nodes of real smoke runs saved."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ipt_bench.cli.main import main
from ipt_bench.core.tasks import Task
from ipt_bench.data.catalog import resolve_dataset
from ipt_bench.data.images import read_image
from ipt_bench.data.pairs import make_test_pair
from ipt_bench.eval.baseline_bicubic import legacy_y_bicubic
from ipt_bench.eval.evaluate import evaluate, match_channels
from ipt_bench.eval.outputs import crop_paths, detail_window
from ipt_bench.report.collect import load_results
from ipt_bench.report.html import build_report
from tests.conftest import require_dataset

pytestmark = pytest.mark.slow

SUITE = """\
name: crops-{dataset_lower}
profile: smoke
variants: [{variants}]
tasks:
  sr: {{scales: [2], datasets: [{dataset}]}}
seeds: [0]
profiles:
  smoke: {{steps: 2, batch_size: 2, max_images: {images}}}
"""


def run_suite(folder: Path, dataset: str, variants: str, images: int, *extra: str) -> Path:
    """Run a tiny SR suite in this process (one torch thread per node) and return its results folder."""
    suite = folder / "suite.yaml"
    suite.write_text(
        SUITE.format(dataset=dataset, dataset_lower=dataset.lower(), variants=variants, images=images)
    )
    out = folder / "results"
    assert main(["run", str(suite), "--out", str(out), "--no-report", "--threads", "1", *extra]) == 0
    return out


def crop_captions(index: Path) -> list[str]:
    return re.findall(r"<figcaption>(sr_x2 on [^<]*)", index.read_text())


@pytest.fixture(scope="module")
def embedded_run(tmp_path_factory) -> Path:
    return run_suite(
        tmp_path_factory.mktemp("embedded"), "embedded", "ipt-tiny-scratch, cnn-tiny, bicubic", 3
    )


@pytest.fixture(scope="module")
def embedded_report(embedded_run, tmp_path_factory) -> Path:
    return build_report(embedded_run, tmp_path_factory.mktemp("report"))


def test_report_shows_crops_of_the_two_trained_variants(embedded_report):
    [caption] = crop_captions(embedded_report)
    assert caption.startswith("sr_x2 on embedded: ")
    assert {"cnn-tiny", "ipt-tiny-scratch"} <= set(caption.split()) and "bicubic" not in caption
    assert "the 3 images where their PSNR differs most" in caption
    assert "Crops saved by the evaluations" in caption
    figure = embedded_report.parent / "plots" / "crops_sr_x2_embedded.png"
    assert figure.is_file() and 'href="plots/crops_sr_x2_embedded.svg"' in embedded_report.read_text()


def _window(image: np.ndarray, target: np.ndarray) -> np.ndarray:
    top, left, size = detail_window(target)
    return image[top : top + size, left : left + size]


def test_saved_crops_are_what_each_eval_node_scored(embedded_run, tmp_path):
    """Every eval node saved, for every scored image, the ground truth's window of its target, of
    its input and of the very output it scored (networks: the full output re-saved by a direct
    evaluation of the same checkpoint; Y-only bicubic: the legacy Y plane)."""
    results = load_results(embedded_run)
    evals = [r for r in results.records if r["kind"] == "eval"]
    assert sorted(r["label"] for r in evals) == ["bicubic", "cnn-tiny", "ipt-tiny-scratch"]
    dataset = resolve_dataset("embedded", None)
    items = {item.name: item for item in dataset.items}
    task = Task("sr", scale=2)
    outputs = {}
    for record in evals:
        node = embedded_run / "nodes" / record["key"]
        images = list(results.rows[results.rows["cell_key"] == record["key"]]["image"])
        # networks score the profile's first 3 images; the cheap bicubic baseline every image
        assert len(images) == (3 if record["deps"] else len(dataset.items))
        full = tmp_path / record["key"]
        if record["deps"]:
            checkpoint = embedded_run / "nodes" / record["deps"][0] / "train"
            evaluate(
                task=task,
                dataset="embedded",
                checkpoint=checkpoint,
                task_idx=0,
                max_images=3,
                save_images=full,
            )
        for name in images:
            paths = crop_paths(node, name)
            assert {f"crops/{p.name}" for p in paths.values()} <= set(record["files"])
            pair = make_test_pair("embedded", items[name], task)
            saved = {panel: read_image(path) for panel, path in paths.items()}
            assert np.array_equal(saved["target"], _window(pair.target, pair.target))
            if record["label"] == "bicubic":
                expected = legacy_y_bicubic(pair.target, 2)[0].astype(np.uint8)
            else:
                expected = match_channels(read_image(full / f"{name}.png"), pair.target)
            assert np.array_equal(saved["output"], _window(expected, pair.target))
        outputs[record["label"]] = read_image(crop_paths(node, images[0])["output"])
    # the two networks really are different models, so the figure compares two distinct outputs
    assert not np.array_equal(outputs["cnn-tiny"], outputs["ipt-tiny-scratch"])


BLOCK_TORCH = """
import importlib.abc, sys
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this process")
        return None
sys.meta_path.insert(0, _NoTorch())
"""


def test_report_runs_where_torch_cannot_be_imported(embedded_run, tmp_path):
    """``ipt-bench report`` reads the results only: with every torch import failing (a
    sitecustomize on the path), it still writes the tables and the crop figure."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_TORCH)
    env = {"PYTHONPATH": f"{site}:{Path.cwd()}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    probe = "import torch"
    blocked = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert blocked.returncode != 0 and "torch is blocked" in blocked.stderr
    out = tmp_path / "report"
    command = [sys.executable, "-m", "ipt_bench", "report", str(embedded_run), "--out", str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert (out / "tables" / "sr.csv").is_file()
    assert len(crop_captions(out / "index.html")) == 1


def test_a_missing_crop_is_noted_and_the_report_still_builds(embedded_run, tmp_path):
    copy = Path(shutil.copytree(embedded_run, tmp_path / "results"))
    for crop in copy.glob("nodes/*/crops/*.output.png"):
        record = json.loads((crop.parent.parent / "record.json").read_text())
        if record["label"] == "cnn-tiny":
            crop.unlink()
    index = build_report(copy, tmp_path / "report")
    html = index.read_text()
    assert not crop_captions(index)
    assert "sr_x2 on embedded: crops skipped" in html and "saved no crops" in html
    assert not list((tmp_path / "report" / "plots").glob("crops_*"))


def test_research_only_datasets_get_crops_only_when_asked(tmp_path):
    root = require_dataset("Set5")
    results = run_suite(tmp_path, "Set5", "cnn-tiny, bicubic", 2, "--data-root", str(root))
    out = tmp_path / "report"
    assert main(["report", str(results), "--out", str(out), "--dataset-crops"]) == 0
    [caption] = crop_captions(out / "index.html")
    assert caption.startswith("sr_x2 on Set5: cnn-tiny vs bicubic, the 2 images")
    assert (out / "plots" / "crops_sr_x2_Set5.png").is_file()
    # the default report, even into the same folder, carries no crop of the research-only images
    index = build_report(results, out)
    assert not crop_captions(index)
    assert not list((out / "plots").glob("crops_*"))
    assert "No crops of Set5" in index.read_text()


def test_denoising_crops_show_the_noisy_input_the_evaluator_scored(tmp_path):
    """Identity's saved output crop is its saved input crop: the noisy image it was scored on."""
    task = Task("denoise", sigma=50.0)
    result = evaluate(task=task, dataset="embedded", model="identity", max_images=3, crops_dir=tmp_path)
    assert len(result.saved) == 9
    targets = set()
    for row in result.rows:
        crops = {panel: read_image(path) for panel, path in crop_paths(tmp_path, row["image"]).items()}
        targets.add(crops["target"].ndim)
        inputs = crops["input"][..., 0] if crops["target"].ndim == 2 else crops["input"]
        assert np.array_equal(inputs, crops["output"])
    assert targets == {2, 3}  # astronaut, brick, camera
