"""``ipt-bench report RESULTS_DIR``: build the self-contained HTML report of a results directory."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Register the ``report`` command on the root app."""
    app.command("report")(report)


def report(
    results_dir: Path = typer.Argument(..., help="Results directory written by `ipt-bench run`."),
    out: Path | None = typer.Option(
        None, "--out", help="Output folder (default: reports/<results dir name>/)."
    ),
    title: str | None = typer.Option(None, "--title", help="Page title (default: from the suite name)."),
    dataset_crops: bool = typer.Option(
        False,
        "--dataset-crops",
        help="Also draw crops of the research-only benchmark images (keep such a report local; "
        "by default only the built-in scikit-image sets get crops).",
    ),
) -> None:
    """Build index.html with tables, statistics, plots and crops, plus CSV/Markdown/LaTeX tables.

    Reads the results folder only: needs neither torch nor the models' checkpoints."""
    from rich.console import Console

    from ipt_bench.report.html import build_report

    target = out if out is not None else Path("reports") / results_dir.resolve().name
    index = build_report(results_dir, target, title=title, dataset_crops=dataset_crops)
    Console().print(f"report written: [bold]{index}[/bold]")
