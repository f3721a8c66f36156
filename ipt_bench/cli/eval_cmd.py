"""``ipt-bench eval``: score one model on one dataset for one task."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path

import typer


class TaskKind(str, Enum):
    sr = "sr"
    denoise = "denoise"
    derain = "derain"


class Channel(str, Enum):
    y = "y"
    rgb = "rgb"


class YRounding(str, Enum):
    round = "round"
    float = "float"


class NoiseMode(str, Enum):
    legacy = "legacy"
    seeded = "seeded"


class Tiling(str, Enum):
    blend = "blend"
    official = "official"


def register(app: typer.Typer) -> None:
    """Register ``ipt-bench eval``."""
    app.command("eval")(eval_command)


def eval_command(
    task: TaskKind = typer.Option(..., help="sr, denoise or derain."),
    dataset: str = typer.Option("embedded", help="Dataset name (see `ipt-bench data list`)."),
    model: str | None = typer.Option(
        None, help="Variant name, or bicubic (legacy Y baseline), bicubic-rgb, identity."
    ),
    checkpoint: Path | None = typer.Option(
        None, help="Model file (official IPT or ours) or training folder."
    ),
    scale: int = typer.Option(2, help="SR scale (2, 3 or 4)."),
    sigma: float | None = typer.Option(None, help="Noise sigma on the 0-255 scale (denoise)."),
    task_idx: int | None = typer.Option(None, help="Head to use in a multi-task checkpoint."),
    channel: Channel = typer.Option(Channel.y, help="Score on BT.601 Y or on RGB."),
    y_rounding: YRounding = typer.Option(
        YRounding.round, help="Round Y like MATLAB rgb2ycbcr, or keep float."
    ),
    noise_mode: NoiseMode = typer.Option(NoiseMode.legacy, help="legacy (KAIR protocol) or seeded noise."),
    seed: int = typer.Option(0, help="Seed for seeded noise and untrained network weights."),
    tiling: Tiling = typer.Option(
        Tiling.blend, help="Tiled inference: fast blend or the official stride-12."
    ),
    tile_batch: str = typer.Option(
        "auto", help="Tiles per forward pass: auto (sized from the memory budget, at most 16) or N."
    ),
    memory_budget: str | None = typer.Option(
        None, help="Memory one image may use, e.g. 2GiB or 512MiB (default: 75% of what is available)."
    ),
    data_root: Path | None = typer.Option(None, help="Folder holding the datasets."),
    allow_partial: bool = typer.Option(False, help="Accept a dataset with missing images (recorded)."),
    max_images: int | None = typer.Option(None, min=1, help="Score only the first N images (recorded)."),
    save_images: Path | None = typer.Option(None, help="Write restored images here."),
    parquet: Path | None = typer.Option(None, help="Write per-image rows to this parquet file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Score a model on a dataset: mean PSNR/SSIM of per-image scores under a recorded protocol."""
    from ipt_bench.core.errors import ConfigError
    from ipt_bench.data.tasks import Task
    from ipt_bench.eval.evaluate import evaluate
    from ipt_bench.eval.restorers import check_tile_batch
    from ipt_bench.models.memory import parse_memory_size

    budget = None if memory_budget is None else parse_memory_size(memory_budget)
    if task is TaskKind.denoise and sigma is None:
        raise ConfigError("--task denoise needs --sigma", "e.g. --sigma 30")
    the_task = Task(
        task.value,
        scale=scale if task is TaskKind.sr else 1,
        sigma=sigma if task is TaskKind.denoise else None,
    )
    result = evaluate(
        task=the_task,
        dataset=dataset,
        model=model,
        checkpoint=checkpoint,
        task_idx=task_idx,
        channel=channel.value,
        y_rounding=y_rounding.value,
        data_root=data_root,
        allow_partial=allow_partial,
        noise_mode=noise_mode.value,
        seed=seed,
        tiling=tiling.value,
        tile_batch=check_tile_batch(tile_batch),
        memory_budget=budget,
        save_images=save_images,
        max_images=max_images,
    )
    if parquet is not None:
        _write_rows(result, parquet)
    if as_json:
        sys.stdout.write(json.dumps(result.summary()) + "\n")
        return
    _print_table(result)


def _write_rows(result, path: Path) -> None:
    import pandas as pd

    from ipt_bench.core.atomic import atomic_path

    frame = pd.DataFrame(
        [
            {
                "model": result.model,
                "task": result.task.name,
                "dataset": result.dataset,
                "scale": result.task.scale,
                "sigma": result.task.sigma,
                **row,
                **result.protocol,
            }
            for row in result.rows
        ]
    )
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def _print_table(result) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Text, not a markup string: rich would take "[y channel, ...]" for a style tag and drop it
    protocol = ", ".join(
        f"{key} {value}" for key, value in result.protocol.items() if value not in (None, "")
    )
    table = Table(title=Text(f"{result.model} on {result.dataset}, {result.task.name}"))
    table.add_column("image")
    table.add_column("PSNR (dB)", justify="right")
    table.add_column("SSIM", justify="right")
    for row in result.rows:
        table.add_row(row["image"], f"{row['psnr']:.2f}", f"{row['ssim']:.4f}")
    table.add_row("[bold]mean[/bold]", f"[bold]{result.psnr:.2f}[/bold]", f"[bold]{result.ssim:.4f}[/bold]")
    console = Console()
    console.print(table)
    console.print(Text(f"protocol: {protocol}"), soft_wrap=True)
