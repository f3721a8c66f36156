"""``ipt-bench variants [--json]``: the registered model variants with their size and cost.

Counting parameters and FLOPs needs torch and a pass of every network on the meta device
(seconds); the rows are therefore cached under the ipt-bench cache folder, keyed by the model
code and the torch version, so later listings never import torch.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import importlib.metadata
import json
from pathlib import Path
from typing import Any

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
    rows = [row for row in variant_rows(scale) if fnmatch.fnmatchcase(row["name"], pattern)]
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


def variant_rows(scale: int) -> list[dict[str, Any]]:
    """Every registered variant (registry order) with its cost at ``scale``: from the cache when
    it was computed by this exact package source and torch version, else computed and cached."""
    from ipt_bench.data.catalog import cache_dir

    path = cache_dir() / f"variant_costs_x{scale}.json"
    key = _source_key(scale)
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            return cached["rows"]
    except (OSError, ValueError, AttributeError):
        pass
    rows = _compute_rows(scale)
    from ipt_bench.core.atomic import atomic_write_text
    from ipt_bench.core.errors import IptBenchError

    with contextlib.suppress(IptBenchError, OSError):  # an unwritable cache only costs speed
        atomic_write_text(path, json.dumps({"key": key, "rows": rows}))
    return rows


def _compute_rows(scale: int) -> list[dict[str, Any]]:
    import dataclasses

    from ipt_bench.models.registry import list_variants, variant_cost

    rows = []
    for spec in list_variants():
        cost = variant_cost(spec, scale)
        rows.append(
            {
                "name": spec.name,
                # through JSON, so a fresh row equals a cached one (tuples become lists)
                "spec": json.loads(json.dumps(dataclasses.asdict(spec))),
                "params": cost.params if cost else 0,
                "gflops_per_tile": round(cost.gflops_per_tile, 4) if cost else 0.0,
                "tile": cost.tile if cost else None,
                "scale": scale,
            }
        )
    return rows


def _source_key(scale: int) -> str:
    """Hash of the model code (``ipt_bench/models``: the registry and the networks, all the rows
    depend on), the torch version and the scale."""
    models = Path(__file__).resolve().parent.parent / "models"
    digest = hashlib.sha256(f"x{scale}\0".encode())
    try:
        digest.update(importlib.metadata.version("torch").encode())
    except importlib.metadata.PackageNotFoundError:
        digest.update(b"no torch")
    for path in sorted(models.rglob("*.py")):
        digest.update(path.relative_to(models).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
