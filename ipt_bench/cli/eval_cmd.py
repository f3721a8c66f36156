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
    legacy_bgr = "legacy-bgr"
    legacy_rgb = "legacy-rgb"
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
    scale: int | None = typer.Option(None, help="SR scale (2, 3 or 4; default 2)."),
    sigma: float | None = typer.Option(None, help="Noise sigma on the 0-255 scale (denoise)."),
    task_idx: int | None = typer.Option(None, help="Head to use in a multi-task checkpoint."),
    protocol: str = typer.Option(
        "matlab", help="Protocol preset: ipt, matlab, basicsr, kair, restormer (`ipt-bench protocol --list`)."
    ),
    channel: Channel | None = typer.Option(None, help="Override: score on BT.601 Y or on RGB."),
    y_rounding: YRounding | None = typer.Option(
        None, help="Override: round Y like MATLAB rgb2ycbcr, or keep float."
    ),
    switch: list[str] = typer.Option(
        None, "--switch", help="Override any protocol switch, e.g. --switch gray=replicate (repeatable)."
    ),
    noise_mode: NoiseMode | None = typer.Option(
        None, help="Override: legacy-bgr (SwinIR), legacy-rgb (KAIR dncnn, Restormer) or seeded noise."
    ),
    noise_clip: bool | None = typer.Option(
        None, "--noise-clip/--no-noise-clip", help="Override: clamp test noise."
    ),
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
    metric: list[str] = typer.Option(
        None, "--metric", help="Metric to score (repeatable; default psnr and ssim; see `ipt-bench metrics`)."
    ),
    save_images: Path | None = typer.Option(None, help="Write restored images here."),
    parquet: Path | None = typer.Option(None, help="Write per-image rows to this parquet file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    no_verify: bool = typer.Option(
        False,
        "--no-verify",
        help="Score a named dataset without checking it against its manifest (recorded).",
    ),
) -> None:
    """Score a model on a dataset: means of per-image metrics under a recorded protocol."""
    from ipt_bench.cli.option_checks import refuse_inapplicable
    from ipt_bench.core.errors import ConfigError
    from ipt_bench.core.protocols import resolve_protocol
    from ipt_bench.core.tasks import Task
    from ipt_bench.eval.evaluate import evaluate
    from ipt_bench.eval.restorers import check_tile_batch
    from ipt_bench.eval.spec import EvalSpec
    from ipt_bench.metrics.registry import DEFAULT_METRICS, check_metric_names
    from ipt_bench.models.memory import parse_memory_size

    metrics = check_metric_names(metric or DEFAULT_METRICS)

    budget = None if memory_budget is None else parse_memory_size(memory_budget)
    refuse_inapplicable(
        task.value, scale=scale, sigma=sigma, noise_mode=noise_mode.value if noise_mode else None
    )
    if task is TaskKind.denoise and sigma is None:
        raise ConfigError("--task denoise needs --sigma", "e.g. --sigma 30")
    the_task = Task(
        task.value,
        scale=(scale or 2) if task is TaskKind.sr else 1,
        sigma=sigma if task is TaskKind.denoise else None,
    )
    overrides = _parse_switches(switch or [])
    named = {
        "channel": channel.value if channel else None,
        "y_rounding": y_rounding.value if y_rounding else None,
        "noise_mode": noise_mode.value if noise_mode else None,
        "noise_clip": noise_clip,
    }
    overrides.update({k: v for k, v in named.items() if v is not None})
    spec = EvalSpec(
        task=the_task.name,
        dataset=dataset,
        model=model,
        checkpoint=str(checkpoint) if checkpoint is not None else None,
        protocols=(resolve_protocol(protocol, overrides),),
        metrics=metrics,
        noise_seed=seed,
        allow_partial=allow_partial,
        max_images=max_images,
        seed=seed,
    )
    result = evaluate(
        task=the_task,
        dataset=spec.dataset,
        model=spec.model,
        checkpoint=checkpoint,
        task_idx=task_idx,
        protocol=spec.protocols[0],
        data_root=data_root,
        allow_partial=spec.allow_partial,
        seed=spec.noise_seed,
        tiling=tiling.value,
        tile_batch=check_tile_batch(tile_batch),
        memory_budget=budget,
        save_images=save_images,
        max_images=spec.max_images,
        metrics=spec.metrics,
        no_verify=no_verify,
    )
    if parquet is not None:
        _write_rows(spec, result, parquet)
    if as_json:
        sys.stdout.write(json.dumps(result.summary()) + "\n")
        return
    _print_table(result)


def _parse_switches(items: list[str]) -> dict[str, str]:
    """``["gray=replicate", ...]`` as ``{switch: value}``; a malformed item is a ConfigError."""
    from ipt_bench.core.errors import ConfigError

    parsed = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise ConfigError(f"--switch {item!r} is not NAME=VALUE", "e.g. --switch gray=replicate")
        parsed[name.strip()] = value.strip()
    return parsed


def _write_rows(spec, result, path: Path) -> None:
    """Per-image rows in the result-row schema (``ipt_bench.core.rows``), variant = the model."""
    from ipt_bench.core.atomic import atomic_path
    from ipt_bench.core.rows import rows_frame
    from ipt_bench.eval.spec import result_rows

    frame = rows_frame(result_rows(spec, result, variant=result.model), spec.metrics)
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def _print_table(result) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ipt_bench.metrics.registry import get_metric

    # Text, not a markup string: rich would take "[y channel, ...]" for a style tag and drop it
    switches = ", ".join(
        f"{key} {value}"
        for key, value in result.protocol.items()
        if key != "protocol" and value not in (None, "")
    )
    protocol = f"{result.protocol.get('protocol', 'custom')} ({switches})"
    metrics = [get_metric(name) for name in result.metrics]
    table = Table(title=Text(f"{result.model} on {result.dataset}, {result.task.name}"))
    table.add_column("image")
    for metric in metrics:
        table.add_column(f"{metric.label} ({metric.unit})" if metric.unit else metric.label, justify="right")
    for row in result.rows:
        table.add_row(row["image"], *(f"{row[m.name]:.{m.digits}f}" for m in metrics))
    means = (f"[bold]{result.mean(m.name):.{m.digits}f}[/bold]" for m in metrics)
    table.add_row("[bold]mean[/bold]", *means)
    console = Console()
    console.print(table)
    console.print(Text(f"protocol: {protocol}"), soft_wrap=True)
