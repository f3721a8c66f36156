"""Visual crop comparisons (input / two outputs / ground truth) read from a results folder.

For each (task, dataset) two variants are compared: the two trained variants (fine-tuned or
official checkpoints) with the highest mean PSNR; where fewer than two are trained, the best
baselines (bicubic, identity) fill in. For the ``k`` images where their per-image PSNR differs
most, the crops their eval nodes saved (``nodes/<key>/crops``, the window of most detail in the
ground truth; :mod:`ipt_bench.eval.outputs`) are set side by side: nothing is re-run, so a
report needs neither torch nor the checkpoints.

Only datasets whose images may be published (the built-in scikit-image sets) get crops by
default; the benchmark test sets are research-only and are drawn only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.tasks import Task
from ipt_bench.data.catalog import get_spec
from ipt_bench.data.images import read_image
from ipt_bench.eval.outputs import CROP_SIZE, crop_paths
from ipt_bench.report import plots
from ipt_bench.report.collect import Results

K_IMAGES = 3
MAX_FIGURES = 12


@dataclass(frozen=True)
class CropFigure:
    """One drawn comparison: its caption and the written PNG/SVG paths."""

    caption: str
    paths: list[Path]


@dataclass
class CropReport:
    """The drawn figures, and one note per comparison that was left out and why."""

    figures: list[CropFigure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def publishable(dataset: str) -> bool:
    """True for the built-in datasets made of scikit-image's bundled (CC0 / public-domain) images."""
    try:
        return get_spec(dataset).embedded
    except IptBenchError:
        return False


def draw_crops(
    results: Results,
    plot_dir: Path,
    *,
    dataset_crops: bool = False,
    k: int = K_IMAGES,
) -> CropReport:
    """Draw one crop figure per (task, dataset) of ``results`` into ``plot_dir``.

    Research-only datasets are drawn only with ``dataset_crops``. A comparison whose saved crops
    are missing or unreadable is left out with a note; it never stops the report.
    """
    report = CropReport()
    rows = results.rows
    nodes = {r["key"]: r for r in results.records if _has_crops(r)}
    private: set[str] = set()
    over: list[str] = []
    for (task, dataset), group in rows.groupby(["task", "dataset"], sort=True):
        where = f"{task} on {dataset}"
        if not (dataset_crops or publishable(str(dataset))):
            private.add(str(dataset))
            continue
        if len(report.figures) >= MAX_FIGURES:
            over.append(where)
            continue
        chosen = choose_pair(group, nodes)
        if chosen is None:
            report.notes.append(f"{where}: fewer than two variants have an eval node with saved crops")
            continue
        try:
            figure = _draw(results, group, chosen, plot_dir, k)
        except (IptBenchError, OSError) as exc:
            report.notes.append(f"{where}: crops skipped, {_reason(exc)}")
            continue
        if figure is None:
            report.notes.append(f"{where}: {chosen[0][0]} and {chosen[1][0]} share no scored image")
        else:
            report.figures.append(figure)
    _remove_stale(plot_dir, {path for figure in report.figures for path in figure.paths})
    if over:
        report.notes.append(f"Not drawn (at most {MAX_FIGURES} crop figures): {', '.join(over)}.")
    if private:
        report.notes.append(
            f"No crops of {', '.join(sorted(private))}: the benchmark images are research-only; "
            "`ipt-bench report --dataset-crops` draws them in a report kept locally."
        )
    return report


def _remove_stale(plot_dir: Path, drawn: set[Path]) -> None:
    """Delete crop figures an earlier report left in ``plot_dir`` (e.g. of research-only images)."""
    for path in Path(plot_dir).glob("crops_*"):
        if path.suffix in (".png", ".svg") and path not in drawn:
            path.unlink()


def choose_pair(group: pd.DataFrame, nodes: dict[str, dict[str, Any]]) -> list[tuple[str, dict]] | None:
    """The two ``(variant, eval record)`` to compare in one (task, dataset) group, or None.

    Trained variants come first, then baselines, each by mean PSNR (highest first); a variant's
    record is its eval node of the lowest seed.
    """
    ranked = []
    for variant, rows in group.groupby("variant", sort=True):
        records = [nodes[key] for key in rows["cell_key"].unique() if key in nodes]
        if not records:
            continue
        record = min(records, key=lambda r: (r["spec"].get("seed", 0), r["key"]))
        trained = bool(record.get("deps") or record["spec"].get("checkpoint"))
        ranked.append((not trained, -float(rows["psnr"].mean()), str(variant), record))
    ranked.sort(key=lambda entry: entry[:3])
    return [(variant, record) for _, _, variant, record in ranked[:2]] if len(ranked) >= 2 else None


def _has_crops(record: dict[str, Any]) -> bool:
    """A finished eval node whose record lists saved crop files."""
    files = record.get("files") or {}
    return (
        record.get("kind") == "eval"
        and record.get("status") == "done"
        and "key" in record
        and isinstance(record.get("spec"), dict)
        and any(str(name).startswith("crops/") for name in files)
    )


def _draw(
    results: Results,
    group: pd.DataFrame,
    chosen: list[tuple[str, dict]],
    plot_dir: Path,
    k: int,
) -> CropFigure | None:
    (a, record_a), (b, record_b) = chosen
    task, dataset = str(group["task"].iloc[0]), str(group["dataset"].iloc[0])
    names = plots.largest_differences(group, a, b, k)
    if not names:
        return None
    cases: list[plots.CropCase] = []
    for name in names:
        first = saved_crops(results.root, record_a, name)
        second = saved_crops(results.root, record_b, name)
        panels = {
            "input": first["input"],
            _label(a, first, _stored_psnr(group, record_a, name)): first["output"],
            _label(b, second, _stored_psnr(group, record_b, name)): second["output"],
            "ground truth": first["target"],
        }
        cases.append(plots.CropCase(name, panels))
    size = max(max(image.shape[:2]) for case in cases for image in case.panels.values())
    stem = f"crops_{plots._slug(task)}_{plots._slug(dataset)}"
    paths = plots.plot_crops(cases, plot_dir, size=size, stem=stem)
    kind = Task.parse(task)
    shown = f"input (×{kind.scale} by pixel repetition)" if kind.kind == "sr" else "input"
    caption = (
        f"{task} on {dataset}: {a} vs {b}, the {len(cases)} images where their PSNR differs most "
        f"({shown} | {a} | {b} | ground truth; the {CROP_SIZE} px window of most detail in the "
        "ground truth). Crops saved by the evaluations; PSNR of the whole image as scored."
    )
    return CropFigure(caption, paths)


def saved_crops(results_dir: Path, record: dict[str, Any], image: str) -> dict[str, np.ndarray]:
    """``{input, output, target}`` crops of ``image`` saved by the eval node of ``record``."""
    node_dir = Path(results_dir) / "nodes" / str(record["key"])
    paths = crop_paths(node_dir, image)
    absent = [path.name for path in paths.values() if not path.is_file()]
    if absent:
        raise IptBenchError(
            f"eval node {record['key']} saved no crops {', '.join(absent)}",
            "re-run the node (ipt-bench run ... --force KEY) to save them",
        )
    return {panel: read_image(path) for panel, path in paths.items()}


def _label(variant: str, crops: dict[str, np.ndarray], value: float | None) -> str:
    """Panel title: variant, ``(Y)`` for a Y-only output of a colour image, and its PSNR."""
    plane = " (Y)" if crops["output"].ndim < crops["target"].ndim else ""
    score = f" {value:.2f} dB" if value is not None else ""
    return f"{variant}{plane}{score}"


def _stored_psnr(group: pd.DataFrame, record: dict, image: str) -> float | None:
    """The scored PSNR of one image of one eval node (None if the rows lack it)."""
    stored = group[(group["cell_key"] == record["key"]) & (group["image"] == image)]["psnr"]
    return float(stored.iloc[0]) if len(stored) else None


def _reason(exc: Exception) -> str:
    return exc.one_line() if isinstance(exc, IptBenchError) else f"{type(exc).__name__}: {exc}"
