"""``ipt-bench data list | verify | download``: the dataset catalog from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import typer

data_app = typer.Typer(help="List, verify and download the benchmark datasets.", no_args_is_help=True)

DATA_ROOT_HELP = "Folder holding the datasets (searched before $IPT_BENCH_DATA and the cache)."


@data_app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    data_root: Path | None = typer.Option(None, "--data-root", help=DATA_ROOT_HELP),
) -> None:
    """Show every dataset: its tasks, expected count and where it was found."""
    from ipt_bench.data.catalog import dataset_status, list_datasets

    rows = []
    for spec in list_datasets():
        status = dataset_status(spec.name, data_root)
        rows.append(
            {
                "name": spec.name,
                "kind": spec.kind,
                "tasks": list(spec.tasks),
                "expected": spec.n_expected,
                "found": status.n_found,
                "state": status.state,
                "where": str(status.where) if status.where else None,
                "detail": status.detail,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ipt-bench datasets")
    for column in ("name", "kind", "tasks", "count", "state", "where"):
        table.add_column(column)
    for row in rows:
        count = (
            f"{row['found']}/{row['expected']}"
            if row["state"] in ("found", "partial")
            else str(row["expected"])
        )
        where = row["where"] or row["detail"]
        table.add_row(row["name"], row["kind"], ",".join(row["tasks"]), count, row["state"], where)
    Console().print(table)


@data_app.command("verify")
def verify_command(
    name: str = typer.Argument(..., help="Dataset name, e.g. Set5."),
    data_root: Path | None = typer.Option(None, "--data-root", help=DATA_ROOT_HELP),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Accept an incomplete set."),
) -> None:
    """Check every file of a dataset against its sha256 manifest."""
    from rich.console import Console

    from ipt_bench.core.errors import DatasetError
    from ipt_bench.data.catalog import verify_dataset

    report = verify_dataset(name, data_root, allow_partial=allow_partial)
    console = Console(soft_wrap=True)
    for path, why in report.mismatched:
        console.print(f"[red]mismatch[/red] {path}: {why}")
    for rel in report.missing:
        console.print(f"[yellow]missing[/yellow] {rel}")
    for path in report.extra:
        console.print(f"[yellow]extra[/yellow] {path}")
    for problem in report.problems:
        console.print(f"[yellow]problem[/yellow] {problem}")
    if not report.passed:
        raise DatasetError(
            f"verification failed: {report.summary()}",
            f"re-download it (`ipt-bench data download {report.name}`) or pass --allow-partial",
        )
    console.print(f"[green]ok[/green] {report.summary()}")


@data_app.command("download")
def download_command(
    name: str = typer.Argument(..., help="Dataset name, e.g. Set5."),
    dest: Path | None = typer.Option(None, "--dest", help="Destination data root (default: the cache)."),
    url: str | None = typer.Option(None, "--url", help="Archive URL to use instead of the known one."),
    sha256: str | None = typer.Option(None, "--sha256", help="Expected sha256 of the archive."),
) -> None:
    """Download a dataset, check it, and place it where `resolve` finds it."""
    import sys

    from ipt_bench.data.download import download_dataset

    resolved = download_dataset(name, dest, url=url, sha256=sha256, progress=sys.stderr.isatty())
    typer.echo(f"{resolved.name}: {resolved.n_found} {resolved.spec.unit} at {resolved.root}")


def register(app: typer.Typer) -> None:
    """Register ``ipt-bench data ...`` on the root app."""
    app.add_typer(data_app, name="data")
