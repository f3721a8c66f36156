"""``ipt-bench train``: pre-train or fine-tune one variant (DDP when launched by torchrun:
``torchrun --no-python --nproc_per_node=N ipt-bench train ...``)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ipt_bench.core.errors import ConfigError

STAGES = ("pretrain", "finetune")
TASK_KINDS = ("sr", "denoise", "derain")


def register(app: typer.Typer) -> None:
    """Register ``train`` on the root app."""
    app.command("train")(train)


def train(
    variant: str = typer.Option(..., "--variant", help="Registered variant, e.g. ipt-tiny-con."),
    stage: str = typer.Option("pretrain", "--stage", help="pretrain (multi-task) or finetune (one task)."),
    task: str | None = typer.Option(None, "--task", help="Fine-tuning task: sr, denoise or derain."),
    scale: int | None = typer.Option(None, "--scale", help="SR scale (2, 3 or 4; default 2) for --task sr."),
    sigma: float | None = typer.Option(None, "--sigma", help="Noise level (0-255 scale) for --task denoise."),
    steps: int | None = typer.Option(None, "--steps", help="Optimizer steps (default: the profile's)."),
    out: Path = typer.Option(..., "--out", help="Output folder (checkpoints, log.jsonl, model.pt)."),
    init: str | None = typer.Option(None, "--init", help="Pre-trained output folder or .pt to fine-tune."),
    data: str = typer.Option("embedded-train", "--data", help="Training set name or a folder of images."),
    data_root: Path | None = typer.Option(None, "--data-root", help="Where named datasets live."),
    profile: str = typer.Option("smoke", "--profile", help="smoke, cpu or paper."),
    seed: int = typer.Option(0, "--seed", help="Seed of the model init and of every batch."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Global batch (default: profile's)."),
    lr: float | None = typer.Option(None, "--lr", help="Learning rate (default: the profile's)."),
    data_fraction: float = typer.Option(1.0, "--data-fraction", help="Use this fraction of the images."),
    max_images: int | None = typer.Option(None, "--max-images", help="Use at most this many images."),
    workers: int = typer.Option(0, "--workers", help="DataLoader worker processes."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from checkpoints/last.pt."),
) -> None:
    """Pre-train or fine-tune a variant; writes OUT/model.pt for `ipt-bench eval --checkpoint`."""
    from ipt_bench.cli.option_checks import refuse_inapplicable
    from ipt_bench.train.runner import TrainSpec, run_training

    refuse_inapplicable(task, scale=scale, sigma=sigma)
    spec = TrainSpec(
        variant=variant,
        stage=_stage(stage),
        tasks=_tasks(stage, task, scale, sigma),
        profile=profile,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        data=data,
        data_fraction=data_fraction,
        max_images=max_images,
        init=init,
        num_workers=workers,
    )
    show = int(os.environ.get("RANK", "0")) == 0
    with _ProgressBar(enabled=show) as report:
        result = run_training(spec, out, resume=resume, data_root=data_root, progress=report)
    if not show:
        return
    if result.interrupted:
        typer.echo(
            f"interrupted at step {result.steps}; checkpoint saved in {out}/checkpoints/last.pt", err=True
        )
        typer.echo("run the same command again to resume", err=True)
        raise typer.Exit(130)
    typer.echo(
        f"trained {result.steps} steps in {result.seconds:.1f} s, final loss {result.final_loss:.4g}: "
        f"{result.model_path}"
    )


def _stage(stage: str) -> str:
    if stage not in STAGES:
        raise ConfigError(f"unknown --stage {stage!r}", "use pretrain or finetune")
    return stage


def _tasks(stage: str, kind: str | None, scale: int | None, sigma: float | None) -> tuple:
    from ipt_bench.core.tasks import Task

    if kind is None:
        if stage == "finetune":
            raise ConfigError(
                "fine-tuning needs a task", "add --task sr --scale 2 (or denoise --sigma 30, derain)"
            )
        return ()
    if kind not in TASK_KINDS:
        raise ConfigError(f"unknown --task {kind!r}", f"use one of: {', '.join(TASK_KINDS)}")
    if kind == "sr":
        return (Task("sr", scale=scale or 2),)
    if kind == "denoise":
        return (Task("denoise", sigma=sigma),)
    return (Task("derain"),)


class _ProgressBar:
    """A rich progress bar (steps/s, loss, ETA) fed by run_training's progress callback."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar = None
        self._task = None
        self._first: tuple[int, float] | None = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("[bold]train"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.2f} steps/s"),
            TextColumn("loss {task.fields[loss]:.4g}"),
            TimeRemainingColumn(),
        )
        self._bar.__enter__()
        self._task = self._bar.add_task("train", total=None, rate=0.0, loss=float("nan"))
        return self.update

    def update(self, step: int, total: int, row: dict) -> None:
        """Advance the bar to ``step`` of ``total``."""
        import time

        now = time.monotonic()
        if self._first is None:
            self._first = (step, now)
        first_step, first_time = self._first
        rate = (step - first_step) / (now - first_time) if now > first_time else 0.0
        self._bar.update(
            self._task, completed=step, total=total, loss=row.get("loss", float("nan")), rate=rate
        )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
