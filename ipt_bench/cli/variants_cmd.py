"""``ipt-bench variants [--json]``: the registered model variants with their size and cost."""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    """Add the ``variants`` command to the root app."""
    app.command("variants")(variants_command)


def variants_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    pattern: str = typer.Option("*", "--pattern", "-p", help="Only names matching a glob (ipt-tiny-*)."),
    scale: int = typer.Option(2, "--scale", help="Tail scale used for parameter and FLOP counts."),
) -> None:
    """List the model variants: spec, parameters and GFLOPs per tile (x2 tail by default)."""
    import dataclasses

    from ipt_bench.models.registry import list_variants, variant_cost

    rows = []
    for spec in list_variants(pattern):
        cost = variant_cost(spec, scale)
        rows.append(
            {
                "name": spec.name,
                "spec": dataclasses.asdict(spec),
                "params": cost.params if cost else 0,
                "gflops_per_tile": round(cost.gflops_per_tile, 4) if cost else 0.0,
                "tile": cost.tile if cost else None,
                "scale": scale,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"ipt-bench model variants (costs with a x{scale} tail)")
    table.add_column("name", no_wrap=True)
    for column in ("size", "pretrain", "lambda", "params M", "GFLOPs", "tile"):
        table.add_column(column, no_wrap=True, justify="right")
    for row in rows:
        spec = row["spec"]
        table.add_row(
            row["name"],
            spec["size"] if spec["family"] in ("ipt", "cnn") else "-",
            "yes" if spec["pretrain"] else "no",
            f"{spec['contrastive_weight']:g}",
            f"{row['params'] / 1e6:.3f}",
            f"{row['gflops_per_tile']:.3f}",
            str(row["tile"] or "-"),
        )
    Console().print(table)
