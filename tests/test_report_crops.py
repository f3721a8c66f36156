"""Crop comparisons in the HTML report, regenerated from the models of real smoke runs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from ipt_bench.cli.main import main
from ipt_bench.core.errors import ConfigError
from ipt_bench.core.tasks import Task
from ipt_bench.eval.evaluate import evaluate
from ipt_bench.eval.samples import restore_images
from ipt_bench.metrics.color import rgb_to_y
from ipt_bench.metrics.protocol import MetricProtocol, score
from ipt_bench.metrics.quality import crop_border, psnr
from ipt_bench.report.collect import load_results
from ipt_bench.report.crops import restore_node
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
    gap = float(re.search(r"PSNR within (\S+) dB", caption).group(1))
    assert gap <= 1e-6
    figure = embedded_report.parent / "plots" / "crops_sr_x2_embedded.png"
    assert figure.is_file() and 'href="plots/crops_sr_x2_embedded.svg"' in embedded_report.read_text()


def test_regenerated_outputs_are_what_each_eval_node_scored(embedded_run):
    """Every eval node (fine-tuned networks and the Y-only bicubic baseline) is re-run on every image
    it scored; PSNR recomputed here from the returned pixels equals the stored row."""
    results = load_results(embedded_run)
    evals = [r for r in results.records if r["kind"] == "eval"]
    assert sorted(r["spec"]["variant"] for r in evals) == ["bicubic", "cnn-tiny", "ipt-tiny-scratch"]
    outputs = {}
    for record in evals:
        stored = results.rows[results.rows["cell_key"] == record["key"]].set_index("image")["psnr"]
        restored = restore_node(results.root, record, list(stored.index), threads=1)
        assert [r.name for r in restored] == list(stored.index)
        for image in restored:
            assert image.input.shape[:2] == image.output.shape[:2] == image.target.shape[:2]
            if record["spec"]["model"] == "bicubic":
                target_y = crop_border(rgb_to_y(image.target, rounded=True), 2)
                value = psnr(crop_border(image.output.astype(np.float64), 2), target_y)
            else:
                value, _ = score(image.output, image.target, MetricProtocol("y", "round", border=2))
            assert value == pytest.approx(stored[image.name], abs=1e-6)
            assert image.psnr == pytest.approx(value, abs=1e-12)
        outputs[record["spec"]["variant"]] = restored
    # the two networks really are different models, so the figure compares two distinct outputs
    assert not np.array_equal(outputs["cnn-tiny"][0].output, outputs["ipt-tiny-scratch"][0].output)


def test_a_missing_checkpoint_is_noted_and_the_report_still_builds(embedded_run, tmp_path):
    copy = Path(shutil.copytree(embedded_run, tmp_path / "results"))
    trained = {json.loads((p / "model.json").read_text())["family"]: p for p in copy.glob("nodes/*/train")}
    weights = trained["cnn"] / "model.pt"
    weights.unlink()
    index = build_report(copy, tmp_path / "report")
    html = index.read_text()
    assert not crop_captions(index)
    assert "sr_x2 on embedded: crops skipped" in html and "does not exist" in html
    assert not list((tmp_path / "report" / "plots").glob("crops_*"))


def test_research_only_datasets_get_crops_only_when_asked(tmp_path):
    root = require_dataset("Set5")
    results = run_suite(tmp_path, "Set5", "cnn-tiny, bicubic", 2, "--data-root", str(root))
    out = tmp_path / "report"
    assert main(["report", str(results), "--out", str(out), "--dataset-crops", "--data-root", str(root)]) == 0
    [caption] = crop_captions(out / "index.html")
    assert caption.startswith("sr_x2 on Set5: cnn-tiny vs bicubic, the 2 images")
    assert float(re.search(r"PSNR within (\S+) dB", caption).group(1)) <= 1e-6
    assert (out / "plots" / "crops_sr_x2_Set5.png").is_file()
    # the default report, even into the same folder, carries no crop of the research-only images
    index = build_report(results, out)
    assert not crop_captions(index)
    assert not list((out / "plots").glob("crops_*"))
    assert "No crops of Set5" in index.read_text()


def test_denoising_inputs_are_the_noisy_images_the_evaluator_scored():
    """The same seeded noise per image: identity's regenerated PSNR is the evaluator's, colour and gray."""
    task = Task("denoise", sigma=50.0)
    direct = evaluate(task=task, dataset="embedded", model="identity", max_images=3)
    names = [row["image"] for row in direct.rows]
    restored = restore_images(names, task=task, dataset="embedded", model="identity")
    assert {image.target.ndim for image in restored} == {2, 3}  # astronaut, brick, camera
    for row, image in zip(direct.rows, restored, strict=True):
        assert image.psnr == pytest.approx(row["psnr"], abs=1e-12)
        assert np.array_equal(image.input[..., 0] if image.target.ndim == 2 else image.input, image.output)


def test_restoring_without_a_model_or_checkpoint_is_a_config_error():
    with pytest.raises(ConfigError, match="needs a model name or a checkpoint"):
        restore_images(["astronaut"], task=Task("sr", 2), dataset="embedded")
