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
    profile: str | None = typer.Option(
        None, "--profile", help="smoke (default: seconds, for trying things), cpu or paper."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the model init and of every batch."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Global batch (default: profile's)."),
    lr: float | None = typer.Option(None, "--lr", help="Learning rate (default: the profile's)."),
    data_fraction: float = typer.Option(1.0, "--data-fraction", help="Use this fraction of the images."),
    max_images: int | None = typer.Option(None, "--max-images", help="Use at most this many images."),
    workers: int = typer.Option(0, "--workers", help="DataLoader worker processes."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from checkpoints/last.pt."),
    track: str | None = typer.Option(
        None, "--track", help="tensorboard: also log curves to OUT/tensorboard."
    ),
) -> None:
    """Pre-train or fine-tune a variant; writes OUT/model.pt for `ipt-bench eval --checkpoint`."""
    from ipt_bench.cli.option_checks import refuse_inapplicable
    from ipt_bench.train.runner import TrainSpec, run_training

    refuse_inapplicable(task, scale=scale, sigma=sigma)
    show = int(os.environ.get("RANK", "0")) == 0
    if show:  # `run` takes a suite's profile, `train` defaults to smoke: say which one is used
        source = "--profile" if profile else "the default of `train`; --profile cpu or paper trains for real"
        typer.echo(f"profile: {profile or 'smoke'} ({source})", err=True)
    spec = TrainSpec(
        variant=variant,
        stage=_stage(stage),
        tasks=_tasks(stage, task, scale, sigma),
        profile=profile or "smoke",
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
    from ipt_bench.core.interrupts import EXIT_STATUS, exit_status
    from ipt_bench.train.stopping import kept_message

    tensorboard = None
    if track and show:
        from ipt_bench.train.tracking import TensorBoardLog, check_trackers

        check_trackers((track,))
        tensorboard = TensorBoardLog(out / "tensorboard")
    try:
        with _ProgressBar(enabled=show, also=tensorboard) as report:
            result = run_training(spec, out, resume=resume, data_root=data_root, progress=report)
    except KeyboardInterrupt as exc:  # a second stop signal: stopped mid-step
        typer.echo(f"interrupted at once; {kept_message(out, None)}", err=True)
        raise SystemExit(exit_status(exc)) from None
    finally:
        if tensorboard is not None:
            tensorboard.close()
    if not show:
        return
    if result.interrupted:
        typer.echo(f"interrupted at step {result.steps}; {kept_message(out, result.steps)}", err=True)
        raise SystemExit(EXIT_STATUS.get(result.stop_signal, 130))
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

    def __init__(self, enabled: bool, also=None) -> None:
        self.enabled = enabled
        self.also = also  # another progress callback (a tracker)
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
            TextColumn("{task.fields[status]}"),
            TimeRemainingColumn(),
        )
        self._bar.__enter__()
        # until the first step ends there is no rate or loss to show
        self._task = self._bar.add_task("train", total=None, status="setting up (data, model)")
        return self.update

    def update(self, step: int, total: int, row: dict) -> None:
        """Advance the bar to ``step`` of ``total``."""
        import time

        if self.also is not None:
            self.also(step, total, row)
        now = time.monotonic()
        if self._first is None:
            self._first = (step, now)
        first_step, first_time = self._first
        rate = (step - first_step) / (now - first_time) if now > first_time else 0.0
        status = f"{rate:.2f} steps/s  loss {row.get('loss', float('nan')):.4g}"
        self._bar.update(self._task, completed=step, total=total, status=status)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
