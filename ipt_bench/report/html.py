"""Build a self-contained HTML report (inline CSS, embedded PNGs, no network, no JavaScript)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from ipt_bench.core.atomic import atomic_write_text
from ipt_bench.report import plots
from ipt_bench.report.collect import Results, load_results
from ipt_bench.report.crops import draw_crops
from ipt_bench.report.csv_safety import safe_csv
from ipt_bench.report.findings import MARK_LEGEND, finding_sentence, significance_mark
from ipt_bench.report.kinds import ReportKind, get_report_kind
from ipt_bench.report.references import load_references
from ipt_bench.report.stats import A_BETTER, B_BETTER, PairedComparison, pair_comparisons
from ipt_bench.report.tables import paper_table, summarize

SEED = 0


def build_report(
    results_dir: str | Path,
    out_dir: str | Path,
    *,
    title: str | None = None,
    dataset_crops: bool = False,
) -> Path:
    """Write ``out_dir/index.html`` plus tables, plots and per-image CSVs for ``results_dir``.

    The suite's ``report.kind`` (``generic`` without one) chooses the tables and figures. Only
    the results folder is read (crops are those the eval nodes saved): no torch, no checkpoints.
    Crops are drawn for the built-in scikit-image sets, and for the research-only benchmark sets
    too with ``dataset_crops``.
    """
    results = load_results(results_dir)
    kind = get_report_kind(report_kind_name(results.suite_yaml))
    out_dir = Path(out_dir)
    summary = summarize(results.rows)
    comparisons = pair_comparisons(results.rows, metric="psnr", seed=SEED)
    crops = draw_crops(results, out_dir / "plots", dataset_crops=dataset_crops)
    if "crops" not in kind.figures:
        crops.figures, crops.notes = [], []
    context = {
        "title": title or f"ipt-bench report: {results.run.get('suite') or results.root.name}",
        "run": results.run,
        "wall_time": _duration(results.run.get("seconds")),
        "node_time": _duration(sum(float(r.get("seconds") or 0.0) for r in results.records)),
        "counts": json.dumps(results.run.get("counts", {}), sort_keys=True),
        "n_rows": len(results.rows),
        "tables": _tables(summary, out_dir, kind),
        "findings": _findings(comparisons),
        "comparisons": _comparisons(comparisons),
        "mark_legend": MARK_LEGEND,
        "comparison_metric": "PSNR",
        "seed": SEED,
        "figures": _figures(results, out_dir / "plots", kind),
        "crops": [_embed(figure.caption, figure.paths, out_dir) for figure in crops.figures],
        "crop_notes": crops.notes,
        "failed": results.failed,
        "data_files": _data_files(results.rows, summary, out_dir / "data"),
        "suite_yaml": results.suite_yaml,
        "versions": sorted((str(k), str(v)) for k, v in (results.run.get("versions") or {}).items()),
        "results_name": results.root.name,
    }
    html = _environment().get_template("report.html.j2").render(**context)
    return atomic_write_text(out_dir / "index.html", html)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ipt_bench.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def report_kind_name(suite_yaml: str) -> str:
    """``report.kind`` of the stored suite YAML, or ``generic`` when it has none."""
    import yaml

    try:
        data = yaml.safe_load(suite_yaml) if suite_yaml else None
    except yaml.YAMLError:
        return "generic"
    report = data.get("report") if isinstance(data, dict) else None
    kind = report.get("kind") if isinstance(report, dict) else None
    return str(kind) if kind else "generic"


def _tables(summary: pd.DataFrame, out_dir: Path, kind: ReportKind) -> list[dict]:
    references = load_references()
    measured = [c for c in summary.columns if f"{c}_ci" in summary.columns]
    tables = []
    for spec in kind.tables:
        if summary.empty or not (summary["task_kind"] == spec.task_kind).any():
            continue
        extra = [m for m in measured if m not in ("psnr", "ssim") and m not in spec.metrics]
        table = paper_table(
            summary,
            references,
            spec.task_kind,
            metrics=(*spec.metrics, *extra),
            tables=spec.reference_tables,
            baseline=spec.baseline,
        )
        files = table.export(out_dir / "tables", spec.task_kind)
        tables.append(
            {
                "title": table.title,
                "caption": table.caption,
                "html": Markup(table.to_html()),  # pandas escapes every cell and label
                "files": {fmt: path.relative_to(out_dir).as_posix() for fmt, path in files.items()},
            }
        )
    return tables


def _findings(comparisons: list[PairedComparison]) -> list[dict]:
    """Sentences for the report's comparisons, significant ones first."""
    ordered = sorted(comparisons, key=lambda c: not c.significant)
    return [{"sentence": finding_sentence(c), "significant": c.significant} for c in ordered]


def _comparisons(comparisons: list[PairedComparison]) -> list[dict]:
    records = []
    for comparison in comparisons:
        record = dict(comparison.__dict__, mark=significance_mark(comparison))
        names = {A_BETTER: f"{record['a']} better", B_BETTER: f"{record['b']} better"}
        record["verdict_text"] = names.get(record["verdict"], record["verdict"])
        records.append(record)
    return records


def _primary_protocol(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the suite's first preset (evaluations write it first): figures draw one protocol,
    never a mean across protocols."""
    if rows.empty:
        return rows
    return rows[rows["protocol"] == rows["protocol"].iloc[0]]


def _figures(results: Results, plot_dir: Path, kind: ReportKind) -> list[dict]:
    rows = _primary_protocol(results.rows)
    wanted = set(kind.figures)
    drawn: list[tuple[str, list[Path]]] = []
    if not rows.empty:
        if "generalization" in wanted:
            caption = "Generalization: denoising PSNR vs test noise level"
            drawn.append((caption, plots.plot_generalization(rows, plot_dir)))
        if "data_fraction" in wanted:
            drawn.append(("PSNR vs share of pre-training data", plots.plot_data_fraction(rows, plot_dir)))
        if "lambda" in wanted:
            drawn.append(("PSNR vs contrastive-loss weight λ", plots.plot_lambda(rows, plot_dir)))
        variants = sorted(rows["variant"].astype(str).unique())
        if "scatter" in wanted and len(variants) >= 2:
            a, b = variants[:2]
            drawn.append((f"Per-image PSNR: {a} vs {b}", plots.plot_scatter(rows, a, b, plot_dir)))
    if "training_curves" in wanted:
        drawn.append(("Training curves", plots.plot_training_curves(results.train_logs, plot_dir)))
    return [_embed(caption, paths, plot_dir.parent) for caption, paths in drawn if paths]


def _embed(caption: str, paths: list[Path], out_dir: Path) -> dict:
    """A figure for the template: its PNG inlined as a data URI and its SVG linked relative to ``out_dir``."""
    png = next(p for p in paths if p.suffix == ".png")
    svg = next(p for p in paths if p.suffix == ".svg")
    encoded = base64.b64encode(png.read_bytes()).decode("ascii")
    return {
        "caption": caption,
        "data_uri": f"data:image/png;base64,{encoded}",
        "svg": svg.relative_to(out_dir).as_posix(),
    }


def _data_files(rows: pd.DataFrame, summary: pd.DataFrame, data_dir: Path) -> list[tuple[str, str]]:
    files = []
    if not rows.empty:
        for task, group in rows.groupby("task", sort=True):
            name = f"rows_{_slug(task)}.csv"
            atomic_write_text(data_dir / name, safe_csv(group))
            files.append((f"per-image rows, {task}", f"data/{name}"))
        atomic_write_text(data_dir / "summary.csv", safe_csv(summary))
        files.append(("per-cell summary (mean, 95% CI over seeds)", "data/summary.csv"))
    atomic_write_text(data_dir / "references.csv", safe_csv(load_references()))
    files.append(("reference numbers with sources and status", "data/references.csv"))
    return files


def _duration(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "unknown"
    minutes, secs = divmod(float(seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}h {minutes:02d}m {secs:04.1f}s ({float(seconds):.1f} s)"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "task"
