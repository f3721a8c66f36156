"""Pre-training and fine-tuning runs: one loop, exact resume, DDP, divergence guard.

Outputs in ``out_dir``: ``checkpoints/last.pt`` (everything needed to resume bit-exactly),
``log.jsonl``, ``spec.json``, and once finished ``model.pt`` (plain state dict in the official
key layout) with ``model.json`` (family, variant, size, model kwargs, tasks in head order, ...).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel

from ipt_bench.core.atomic import atomic_path, atomic_write_text
from ipt_bench.core.errors import ConfigError, TrainingDiverged
from ipt_bench.core.runtime import StopRequest, compute_settings
from ipt_bench.core.tasks import Task, pretrain_tasks
from ipt_bench.data.patches import PatchSampler, image_paths, load_images, select_subset, step_loader
from ipt_bench.train.checkpoint import capture_rng_state, load_checkpoint, restore_rng_state, save_checkpoint
from ipt_bench.train.distributed import DistContext, distributed_context, gather_tokens, mean_over_ranks
from ipt_bench.train.logbook import TrainLog
from ipt_bench.train.losses import restoration_loss
from ipt_bench.train.memory_plan import check_training_step
from ipt_bench.train.profiles import get_profile
from ipt_bench.train.schedule import build_scheduler
from ipt_bench.train.spec import TrainSpec
from ipt_bench.train.spec_checks import check_train_spec
from ipt_bench.train.stopping import StepAbandoned, StepGuard
from ipt_bench.train.transfer import read_pretrained, transfer_pretrained
from ipt_bench.train.validation import validation_psnr

ProgressFn = Callable[[int, int, dict[str, Any]], None]
ADAM_BETAS = (0.9, 0.999)
GRAD_CLIP_NORM = 1.0


@dataclass(frozen=True)
class TrainResult:
    """A finished (or interrupted) run. ``model_path`` is None when the run was interrupted."""

    out_dir: Path
    model_path: Path | None
    steps: int
    seconds: float
    final_loss: float
    interrupted: bool = False
    stop_signal: int | None = None  # the signal that interrupted the run


@dataclass(frozen=True)
class _Plan:
    spec: TrainSpec
    tasks: tuple[Task, ...]
    steps: int
    batch_size: int
    lr: float
    contrastive_weight: float
    ema: bool
    checkpoint_every: int
    val_every: int

    @property
    def shared_head(self) -> bool:
        """A fine-tune of one head on several tasks (mixed noise levels)."""
        return self.spec.stage == "finetune" and len(self.tasks) > 1

    @property
    def head_tasks(self) -> tuple[Task, ...]:
        """One task per network head: the tasks themselves, or for a shared head the median noise
        level (it names the head and picks the pre-trained head that initialises it)."""
        if not self.shared_head:
            return self.tasks
        levels = sorted(self.tasks, key=lambda t: float(t.sigma or 0))
        return (levels[len(levels) // 2],)


def resolve_plan(spec: TrainSpec) -> _Plan:
    """Fill the spec's open fields from the profile and the variant, and validate them."""
    check_train_spec(spec)
    profile = get_profile(spec.profile)
    recipe = profile.recipe(spec.stage)
    variant = spec.variant_spec()
    if spec.stage == "pretrain":
        tasks = spec.tasks or pretrain_tasks(tuple(variant.pretrain_noise_levels))
    else:
        mixed_noise = len(spec.tasks) > 1 and all(t.kind == "denoise" for t in spec.tasks)
        if len(spec.tasks) != 1 and not mixed_noise:
            raise ConfigError(
                f"fine-tuning takes one task (or several denoising levels), got "
                f"{', '.join(t.name for t in spec.tasks) or 'none'}",
                "give one task, e.g. --task sr --scale 2, or only denoising tasks for a mixed-noise head",
            )
        tasks = tuple(dict.fromkeys(spec.tasks))
    steps = spec.steps if spec.steps is not None else recipe.steps
    batch = spec.batch_size or profile.batch_size
    if steps < 1 or batch < 1:
        raise ConfigError(f"steps ({steps}) and batch size ({batch}) must be positive", "e.g. --steps 100")
    weight = variant.contrastive_weight if spec.contrastive_weight is None else spec.contrastive_weight
    return _Plan(
        spec=spec,
        tasks=tuple(tasks),
        steps=steps,
        batch_size=batch,
        lr=spec.lr if spec.lr is not None else recipe.lr,
        contrastive_weight=float(weight) if spec.stage == "pretrain" else 0.0,
        ema=profile.ema if spec.ema is None else spec.ema,
        checkpoint_every=spec.checkpoint_every or profile.checkpoint_every,
        val_every=spec.val_every or profile.val_every,
    )


def run_training(
    spec: TrainSpec,
    out_dir: str | Path,
    *,
    resume: bool = True,
    data_root: str | Path | None = None,
    progress: ProgressFn | None = None,
) -> TrainResult:
    """Train ``spec`` into ``out_dir`` (resuming from ``checkpoints/last.pt`` when ``resume``).

    Raises :class:`TrainingDiverged` on a NaN/inf loss (no ``model.pt`` is written). On SIGTERM or
    SIGINT the current step finishes (or, if it is long, is abandoned: see
    :mod:`ipt_bench.train.stopping`), a checkpoint is written and an interrupted result returned.
    """
    plan = resolve_plan(spec)
    out = Path(out_dir)
    with (
        distributed_context() as ctx,
        compute_settings(spec.threads, spec.deterministic),
        StopRequest() as stop,
    ):
        check_training_step(plan, ctx.world_size, str(ctx.device))  # before anything big is allocated
        return _Run(plan, out, ctx, data_root).train(resume, stop, progress)


def _ema(model: torch.nn.Module, decay: float) -> Any:
    """timm's EMA, imported here: timm loads torchvision (seconds), which planning never needs."""
    from timm.utils import ModelEmaV3

    return ModelEmaV3(model, decay=decay, use_warmup=True)


class _Run:
    """The state of one training process."""

    def __init__(self, plan: _Plan, out: Path, ctx: DistContext, data_root: str | Path | None) -> None:
        self.plan, self.out, self.ctx = plan, out, ctx
        spec = plan.spec
        self.variant = spec.variant_spec()
        self.scales = [t.tail_scale for t in plan.head_tasks]
        torch.manual_seed(spec.seed)
        self.model = self.variant.build_model(self.scales).to(ctx.device)
        self.transfer_note: dict[str, Any] = {}
        if spec.stage == "finetune" and spec.init:
            report = transfer_pretrained(self.model, plan.head_tasks[0], read_pretrained(spec.init))
            self.transfer_note = {"init": str(report.source), "init_task": report.matched_task}
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=plan.lr, betas=ADAM_BETAS)
        recipe = dataclasses.replace(get_profile(spec.profile).recipe(spec.stage), lr=plan.lr)
        self.scheduler = build_scheduler(self.optimizer, recipe, plan.steps)
        profile = get_profile(spec.profile)
        # Warm-up: the decay grows as 1 - (1 + step) ** -2/3 up to ema_decay, so short runs average
        # recent weights instead of staying near the initialisation.
        self.ema = _ema(self.model, profile.ema_decay) if plan.ema else None
        patch_size = profile.patch_size or int(getattr(self.model, "patch_size", 48))
        max_scale = max(t.tail_scale for t in plan.tasks)
        paths = select_subset(
            image_paths(spec.data, data_root),
            spec.seed,
            data_fraction=spec.data_fraction,
            max_images=spec.max_images,
        )
        images = load_images(paths, patch_size * max_scale)
        self.sampler = PatchSampler(
            images,
            plan.tasks,
            patch_size,
            plan.batch_size,
            spec.seed,
            augment=spec.augment,
            shared_head=plan.shared_head,
        )
        self.val_batches = {
            task.name: self.sampler.validation_batch(i, profile.val_patches)
            for i, task in enumerate(plan.tasks)
        }
        self.num_images = len(images)
        self.ckpt_path = out / "checkpoints" / "last.pt"
        self.last_good_step: int | None = None

    def train(self, resume: bool, stop: StopRequest, progress: ProgressFn | None) -> TrainResult:
        plan, ctx = self.plan, self.ctx
        start = self._resume() if resume and self.ckpt_path.is_file() else 0
        if ctx.is_main:
            atomic_write_text(self.out / "spec.json", json.dumps(self._spec_record(), indent=2))
            log = TrainLog(self.out / "log.jsonl", keep_until=start)
        net = self.model
        if ctx.distributed:
            net = DistributedDataParallel(self.model, find_unused_parameters=len(plan.head_tasks) > 1)
        began, loss = time.perf_counter(), math.nan
        step = start
        loader = step_loader(
            self.sampler, start, plan.steps, rank=ctx.rank, world_size=ctx.world_size,
            num_workers=plan.spec.num_workers,
        )  # fmt: skip
        tick = time.perf_counter()
        guard = StepGuard(stop, self.model, can_abandon=not ctx.distributed)
        for batch in loader:
            self.scheduler.step_update(step)
            guard.begin(step)
            try:
                values = self._step(net, batch, step, stop.requested)
            except StepAbandoned:  # weights and optimizer are still those after `step` steps
                if step > start:
                    self._save(step)
                elapsed = time.perf_counter() - began
                return TrainResult(self.out, None, step, elapsed, loss, True, stop.signum)
            guard.end()
            loss, l1, contrastive, stop_votes = (float(v) for v in values)
            self._check_finite(step, loss, l1, contrastive)
            step += 1
            row = {
                "step": step,
                "task": "+".join(plan.tasks[i].name for i in sorted(set(batch.sample_tasks))),
                "loss": loss,
                "l1": l1,
                "contrastive": contrastive,
                "lr": self.optimizer.param_groups[0]["lr"],
                "samples_per_s": plan.batch_size / max(time.perf_counter() - tick, 1e-9),
            }
            tick = time.perf_counter()
            if step % plan.val_every == 0 or step == plan.steps:
                row.update(self._validate())
            if ctx.is_main:
                log.write(row)
                if progress is not None:
                    progress(step, plan.steps, row)
            # Ranks agree through the all-reduced vote; a single process also sees a signal that
            # arrived during this step's logging.
            stopping = stop_votes > 0 or (not ctx.distributed and stop.requested)
            if stopping or step % plan.checkpoint_every == 0 or step == plan.steps:
                self._save(step)
            if stopping:
                elapsed = time.perf_counter() - began
                return TrainResult(self.out, None, step, elapsed, loss, True, stop.signum)
        model_path = self._write_model(step) if ctx.is_main else None
        return TrainResult(self.out, model_path, step, time.perf_counter() - began, loss)

    def _step(self, net: torch.nn.Module, batch: Any, step: int, stop_requested: bool) -> torch.Tensor:
        """One optimizer step; returns [loss, l1, contrastive, stop votes] averaged over ranks."""
        ctx, plan = self.ctx, self.plan
        self.model.train()
        x = batch.degraded.to(ctx.device)
        y = batch.clean.to(ctx.device)
        wants_tokens = plan.contrastive_weight > 0 and self.variant.family == "ipt"
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=ctx.device.type == "cuda"):
            result = net(x, batch.task_idx, return_tokens=True) if wants_tokens else net(x, batch.task_idx)
        output, tokens = result if wants_tokens else (result, None)
        if tokens is not None:
            tokens = gather_tokens(tokens.float(), ctx)
        terms = restoration_loss(output, y, tokens, plan.contrastive_weight)
        values = torch.stack([terms.total, terms.l1, terms.contrastive]).detach().float()
        flags = torch.tensor([float(stop_requested)], device=values.device)
        reduced = mean_over_ranks(torch.cat([values, flags]), ctx)
        if torch.isfinite(reduced[:3]).all():
            self.optimizer.zero_grad(set_to_none=True)
            terms.total.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP_NORM)
            self.optimizer.step()
            if self.ema is not None:
                self.ema.update(self.model, step=step + 1)
        return reduced.cpu()

    def _check_finite(self, step: int, loss: float, l1: float, contrastive: float) -> None:
        if math.isfinite(loss):
            return
        which, value = next(
            ((name, v) for name, v in (("L1", l1), ("contrastive", contrastive)) if not math.isfinite(v)),
            ("total", loss),
        )
        kept = (
            f"the last good checkpoint at step {self.last_good_step} is kept in {self.ckpt_path}"
            if self.last_good_step is not None
            else "no checkpoint had been written yet"
        )
        raise TrainingDiverged(
            f"training diverged at step {step + 1}: the {which} loss is {value}; "
            f"{kept}; no model.pt was written",
            f"lower the learning rate (now {self.plan.lr:g}, e.g. --lr {self.plan.lr / 10:g}) and resume, "
            "or check the training images",
        )

    def _validate(self) -> dict[str, Any]:
        model = self.ema.module if self.ema is not None else self.model
        scores = {name: validation_psnr(model, b, self.ctx.device) for name, b in self.val_batches.items()}
        return {"val_psnr": sum(scores.values()) / len(scores), "val_psnr_by_task": scores}

    def _resume(self) -> int:
        state = load_checkpoint(self.ckpt_path)
        saved = TrainSpec.from_json(state["spec"])
        if dataclasses.replace(saved, steps=None) != dataclasses.replace(self.plan.spec, steps=None):
            raise ConfigError(
                f"{self.ckpt_path} was written by a different training spec",
                "use a new --out folder, or --no-resume to start over in this one",
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        restore_rng_state(state["rng"])
        self.last_good_step = int(state["step"])
        return self.last_good_step

    def _save(self, step: int) -> None:
        if self.ctx.is_main:
            state = {
                "step": step,
                "spec": self.plan.spec.to_json(),
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "ema": self.ema.state_dict() if self.ema is not None else None,
                "rng": capture_rng_state(),
            }
            save_checkpoint(self.ckpt_path, state)
        self.last_good_step = step

    def _write_model(self, step: int) -> Path:
        final = self.ema.module if self.ema is not None else self.model
        path = self.out / "model.pt"
        weights = {k: v.detach().cpu() for k, v in final.state_dict().items()}
        with atomic_path(path) as tmp:
            torch.save(weights, tmp)
        meta = {
            "family": self.variant.family,
            "variant": self.plan.spec.variant,
            "variant_overrides": dict(self.plan.spec.variant_overrides),
            "size": self.variant.size,
            "model_kwargs": self.variant.model_kwargs(self.scales),
            "tasks": [t.name for t in self.plan.head_tasks],
            "train_tasks": [t.name for t in self.plan.tasks],
            "steps": step,
            "profile": self.plan.spec.profile,
            "stage": self.plan.spec.stage,
            "ema": self.ema is not None,
            **self.transfer_note,
        }
        atomic_write_text(self.out / "model.json", json.dumps(meta, indent=2))
        return path

    def _spec_record(self) -> dict[str, Any]:
        plan = self.plan
        resolved = {
            "tasks": [t.name for t in plan.tasks],
            "steps": plan.steps,
            "batch_size": plan.batch_size,
            "lr": plan.lr,
            "contrastive_weight": plan.contrastive_weight,
            "ema": plan.ema,
            "checkpoint_every": plan.checkpoint_every,
            "val_every": plan.val_every,
            "patch_size": self.sampler.patch_size,
            "num_images": self.num_images,
            "world_size": self.ctx.world_size,
        }
        return {"spec": plan.spec.to_json(), "resolved": resolved, **self.transfer_note}
