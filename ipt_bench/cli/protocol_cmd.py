"""``ipt-bench protocol``: list the protocol presets, or measure how much each one and each
single switch moves a model's scores (the protocol-sensitivity table)."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``protocol`` command to the root app."""
    app.command("protocol")(protocol_command)


def protocol_command(
    list_presets: bool = typer.Option(False, "--list", help="List the presets and their switches."),
    model: str | None = typer.Option(None, help="Variant name, bicubic-rgb or identity."),
    checkpoint: Path | None = typer.Option(None, help="Model file or training folder."),
    task: str = typer.Option("sr_x2", help="Task name: sr_x2, sr_x3, sr_x4, denoise_s30, derain."),
    dataset: list[str] = typer.Option(None, "--dataset", help="Test set (repeatable; default Set5)."),
    base: str = typer.Option("ipt", help="Preset the differences are measured from."),
    data_root: Path | None = typer.Option(None, help="Folder holding the datasets."),
    max_images: int | None = typer.Option(None, min=1, help="Score only the first N images."),
    out: Path | None = typer.Option(None, help="Also write the Markdown table here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of Markdown."),
) -> None:
    """Presets (--list) or the sensitivity table: every preset and every single switch of --base."""
    from ipt_bench.core.protocols import PRESETS, get_preset

    if list_presets:
        rows = [
            {"name": n, "version": p.version, "source": p.source, **p.protocol.switches()}
            for n, p in PRESETS.items()
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    from ipt_bench.core.atomic import atomic_write_text
    from ipt_bench.core.errors import ConfigError
    from ipt_bench.core.tasks import Task
    from ipt_bench.eval.sensitivity import sensitivity, sensitivity_markdown

    get_preset(base)
    if (model is None) == (checkpoint is None):
        raise ConfigError("give exactly one of --model and --checkpoint", "e.g. --model bicubic-rgb")
    the_task = Task.parse(task)
    datasets = dataset or ["Set5"]
    rows = sensitivity(
        task=the_task,
        datasets=datasets,
        base=base,
        model=model,
        checkpoint=checkpoint,
        data_root=data_root,
        max_images=max_images,
    )
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    subset = f" (first {max_images} images of each)" if max_images else ""
    title = f"{model or checkpoint} on {', '.join(datasets)}{subset}, {the_task.name}."
    text = sensitivity_markdown(rows, title, base)
    if out is not None:
        atomic_write_text(out, text)
    typer.echo(text)
