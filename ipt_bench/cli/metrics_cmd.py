"""``ipt-bench metrics [--json]``: the registered metrics (built-in and from installed plug-ins)."""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    """Add the ``metrics`` command to the root app."""
    app.command("metrics")(metrics_command)


def metrics_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the metrics suites (``metrics: {names: [...]}``) and ``eval --metric`` can select."""
    from ipt_bench.metrics.registry import DEFAULT_METRICS, METRICS

    rows = [
        {
            "name": m.name,
            "label": m.label,
            "unit": m.unit,
            "higher_is_better": m.higher_is_better,
            "default": m.name in DEFAULT_METRICS,
            "description": m.description,
        }
        for m in METRICS
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ipt-bench metrics")
    for column in ("name", "better", "default", "description"):
        table.add_column(column)
    for row in rows:
        better = "higher" if row["higher_is_better"] else "lower"
        table.add_row(row["name"], better, "yes" if row["default"] else "", row["description"])
    Console().print(table)
