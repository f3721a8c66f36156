"""Peak memory of a training step, planned before anything big is allocated.

The step is traced once on PyTorch's ``meta`` device (shapes only, no memory, no arithmetic):
the network's forward and the loss at the real batch and patch size, with a saved-tensor hook
summing every tensor autograd keeps for the backward pass, the contrastive loss's
``(batch x tokens)^2`` similarity matrices counted apart. The plan is

    peak <= LIBRARY_STATE + weights x (2 + Adam's 2 moments + 1 EMA copy if used)
            + NETWORK_SLACK x saved by the network + CONTRASTIVE_SLACK x saved by the loss

The slack factors cover the transients of the backward pass and the allocator. Measured peak
RSS growth of one real CPU step (one thread; tests/test_training_memory.py) against the tensors
saved: ipt-tiny-con batch 16 / 64: 255 / 759 MiB for 53 / 276 MiB saved (9 / 107 MiB by the
loss, whose masks and exp/log temporaries are as large as the matrix it keeps);
ipt-small-con / -scratch batch 8: 540 / 450 MiB for 430 / 394 MiB saved. A step that does
not fit the memory budget (``ipt_bench.models.memory``: 75% of what is available) is refused
with one line before the model or a batch is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ipt_bench.core.errors import ConfigError
from ipt_bench.models.memory import default_budget_bytes, format_size
from ipt_bench.models.registry import VariantSpec

#: Bytes per saved byte of the network (the tiny IPT's small maps set it: measured 2.0, plus margin).
NETWORK_SLACK = 2.5
#: Bytes per saved byte of the contrastive loss (measured 2.5).
CONTRASTIVE_SLACK = 3.0
#: What the first training step adds besides tensors (autograd engine, oneDNN/BLAS buffers;
#: measured about 125 MiB by the two tiny-IPT batches above).
LIBRARY_STATE = 128 * 2**20


@dataclass(frozen=True)
class StepMemory:
    """Planned bytes of one training step."""

    weights: int  # parameters, gradients, optimizer moments (and EMA copy)
    saved: int  # tensors kept for the backward pass
    contrastive: int  # of which the contrastive loss's similarity matrices

    @property
    def total(self) -> int:
        """The planned peak."""
        network = NETWORK_SLACK * (self.saved - self.contrastive)
        return LIBRARY_STATE + self.weights + int(network + CONTRASTIVE_SLACK * self.contrastive)


def plan_step_memory(
    variant: VariantSpec, scales: list[int], batch: int, patch: int, contrastive: bool, ema: bool
) -> StepMemory:
    """Trace one step of ``variant`` at ``batch`` x ``patch``^2 inputs on the meta device."""
    from ipt_bench.train.losses import patch_contrastive_loss, restoration_loss

    scale = max(scales)
    with torch.device("meta"):
        model = variant.build_model(scales)
        degraded = torch.empty(batch, 3, patch, patch)
        clean = torch.empty(batch, 3, patch * scale, patch * scale)
    saved = {"all": 0, "contrastive": 0}
    phase = ["network"]

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        size = tensor.numel() * tensor.element_size()
        saved["all"] += size
        if phase[0] == "contrastive":
            saved["contrastive"] += size
        return tensor

    wants_tokens = contrastive and variant.family == "ipt"
    task = scales.index(scale)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        result = model(degraded, task, return_tokens=True) if wants_tokens else model(degraded, task)
        output, tokens = result if wants_tokens else (result, None)
        restoration_loss(output, clean, None, 0.0)
        if tokens is not None:
            phase[0] = "contrastive"
            patch_contrastive_loss(tokens)
    parameters = sum(p.numel() * p.element_size() for p in model.parameters())
    copies = 4 + (1 if ema else 0)  # weights, gradients, Adam's exp_avg and exp_avg_sq (+ EMA)
    return StepMemory(parameters * copies, saved["all"], saved["contrastive"])


def check_step_fits(memory: StepMemory, batch: int, device: str, budget: int | None = None) -> None:
    """Refuse, with one line, a step whose planned peak exceeds the memory budget."""
    budget = default_budget_bytes(device) if budget is None else budget
    if memory.total <= budget:
        return
    fits = max(int(batch * budget / memory.total), 0)
    contrastive = (
        f", {format_size(CONTRASTIVE_SLACK * memory.contrastive)} of it the contrastive loss's "
        "similarity matrices"
        if memory.contrastive
        else ""
    )
    raise ConfigError(
        f"a training step at batch {batch} needs about {format_size(memory.total)} "
        f"({format_size(memory.weights)} weights and optimizer state{contrastive}) but the memory "
        f"budget on {device} is {format_size(budget)}",
        (f"use --batch-size {fits} or lower" if fits else "use a smaller variant")
        + ", the cpu profile, or a GPU with more memory",
    )


def check_training_step(plan: Any, world_size: int, device: str) -> None:
    """Refuse a training run (the runner's resolved plan) whose step cannot fit ``device``."""
    from ipt_bench.train.profiles import get_profile

    variant = plan.spec.variant_spec()
    scales = [t.tail_scale for t in plan.head_tasks]
    patch = get_profile(plan.spec.profile).patch_size or variant.model_kwargs(scales).get("patch_size", 48)
    batch = max(plan.batch_size // world_size, 1)
    memory = plan_step_memory(variant, scales, batch, patch, plan.contrastive_weight > 0, plan.ema)
    check_step_fits(memory, batch, device)
