"""Visual crop comparisons (input / two outputs / ground truth) re-run from a results folder.

For each (task, dataset) two variants are compared: the two trained variants (fine-tuned or
official checkpoints) with the highest mean PSNR; where fewer than two are trained, the best
baselines (bicubic, identity) fill in. The ``k`` images where their per-image PSNR differs most
are restored again by the stored models, from each variant's eval node of the lowest seed, with
the evaluator's own data pipeline, so the crops show exactly what was scored; the caption gives
how far the regenerated PSNR lies from the stored one.

Only datasets whose images may be published (the built-in scikit-image sets) get crops by
default; the benchmark test sets are research-only and are drawn only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.tasks import Task
from ipt_bench.data.catalog import get_spec
from ipt_bench.report import plots
from ipt_bench.report.collect import Results
from ipt_bench.suite.store import ResultsStore

if TYPE_CHECKING:  # the eval layer imports torch: loaded only when a figure is drawn
    from ipt_bench.eval.samples import RestoredImage

K_IMAGES = 3
CROP_SIZE = 64
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
    data_root: Path | None = None,
    k: int = K_IMAGES,
) -> CropReport:
    """Draw one crop figure per (task, dataset) of ``results`` into ``plot_dir``.

    Research-only datasets are drawn only with ``dataset_crops``. A comparison whose model or
    data cannot be loaded is left out with a note; it never stops the report.
    """
    report = CropReport()
    rows = results.rows
    nodes = {r["key"]: r for r in results.records if _rerunnable(r)}
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
            report.notes.append(f"{where}: fewer than two variants have an eval node that can be re-run")
            continue
        try:
            figure = _draw(results, group, chosen, plot_dir, data_root, k)
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


def _rerunnable(record: dict[str, Any]) -> bool:
    """A finished eval node whose spec says what to re-run (a model, checkpoint or training input)."""
    spec = record.get("spec") or {}
    return (
        record.get("kind") == "eval"
        and record.get("status") == "done"
        and "key" in record
        and {"task", "dataset"} <= set(spec)
        and bool(record.get("deps") or spec.get("checkpoint") or spec.get("model"))
    )


def _draw(
    results: Results,
    group: pd.DataFrame,
    chosen: list[tuple[str, dict]],
    plot_dir: Path,
    data_root: Path | None,
    k: int,
) -> CropFigure | None:
    (a, record_a), (b, record_b) = chosen
    task, dataset = str(group["task"].iloc[0]), str(group["dataset"].iloc[0])
    names = plots.largest_differences(group, a, b, k)
    if not names:
        return None
    threads = results.run.get("threads")
    threads = threads if isinstance(threads, int) and threads > 0 else None
    first = restore_node(results.root, record_a, names, data_root=data_root, threads=threads)
    second = restore_node(results.root, record_b, names, data_root=data_root, threads=threads)
    cases: list[plots.CropCase] = []
    gaps: list[float] = []
    for one, two in zip(first, second, strict=True):
        cases.append(
            plots.CropCase(
                one.name,
                {
                    "input": one.input,
                    _label(a, one): one.output,
                    _label(b, two): two.output,
                    "ground truth": one.target,
                },
            )
        )
        gaps += _gap(group, record_a, one) + _gap(group, record_b, two)
    stem = f"crops_{plots._slug(task)}_{plots._slug(dataset)}"
    paths = plots.plot_crops(cases, plot_dir, size=CROP_SIZE, stem=stem)
    kind = Task.parse(task)
    shown = f"input (×{kind.scale} by pixel repetition)" if kind.kind == "sr" else "input"
    caption = (
        f"{task} on {dataset}: {a} vs {b}, the {len(cases)} images where their PSNR differs most "
        f"({shown} | {a} | {b} | ground truth; {CROP_SIZE} px window where the outputs differ most). "
        "Regenerated from the stored models"
        + (f": PSNR within {max(gaps):.1e} dB of the scored rows." if gaps else ".")
    )
    return CropFigure(caption, paths)


def restore_node(
    results_dir: Path,
    record: dict[str, Any],
    names: list[str],
    *,
    data_root: Path | None = None,
    threads: int | None = None,
) -> list[RestoredImage]:
    """Restore images ``names`` as the eval node of ``record`` (in ``results_dir``) scored them:
    its fine-tuned model (the dependency's training folder), official checkpoint or baseline."""
    from ipt_bench.eval.samples import restore_images

    spec = record["spec"]
    deps = record.get("deps") or []
    checkpoint = ResultsStore(results_dir).train_dir(deps[0]) if deps else spec.get("checkpoint")
    return restore_images(
        names,
        task=Task.parse(spec["task"]),
        dataset=spec["dataset"],
        model=None if checkpoint else spec.get("model"),
        checkpoint=Path(checkpoint) if checkpoint else None,
        task_idx=0 if deps else None,
        channel=spec.get("channel", "y"),
        y_rounding=spec.get("y_rounding", "round"),
        data_root=data_root,
        allow_partial=bool(spec.get("allow_partial", False)),
        seed=int(spec.get("noise_seed", 0)),
        device=_device(record),
        threads=threads,
    )


def _label(variant: str, image: RestoredImage) -> str:
    """Panel title: variant, ``(Y)`` for a Y-only output of a colour image, and its PSNR."""
    plane = " (Y)" if image.output.ndim < image.target.ndim else ""
    return f"{variant}{plane} {image.psnr:.2f} dB"


def _gap(group: pd.DataFrame, record: dict, restored: RestoredImage) -> list[float]:
    """``[|regenerated PSNR - stored PSNR|]`` of one image of one eval node (``[]`` if not stored)."""
    stored = group[(group["cell_key"] == record["key"]) & (group["image"] == restored.name)]["psnr"]
    return [abs(float(value) - restored.psnr) for value in stored]


def _device(record: dict) -> str:
    """``cuda`` when the node ran on a GPU and one is here (the closest match to its scores), else ``cpu``."""
    if not str(record.get("device", "")).startswith("cuda"):
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _reason(exc: Exception) -> str:
    return exc.one_line() if isinstance(exc, IptBenchError) else f"{type(exc).__name__}: {exc}"
