"""Process-group setup when launched by ``torchrun`` (env ``RANK``/``WORLD_SIZE``), and the two
collectives training needs: a differentiable all-gather of tokens and a mean of scalars."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """Where this process runs: ``rank`` of ``world_size`` on ``device``."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """Whether this process writes logs and checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether more than one process trains together."""
        return self.world_size > 1


@contextmanager
def distributed_context(device: str | None = None) -> Iterator[DistContext]:
    """Join the process group described by the torchrun environment (gloo on CPU, NCCL on GPU),
    or yield a single-process context; the group is torn down on exit if this call made it."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    if world_size <= 1:
        yield DistContext(device=torch.device("cuda" if use_cuda else "cpu"))
        return
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if use_cuda:
        torch.cuda.set_device(local_rank)
        target = torch.device("cuda", local_rank)
    else:
        target = torch.device("cpu")
    created = not dist.is_initialized()
    if created:
        dist.init_process_group("nccl" if use_cuda else "gloo", rank=rank, world_size=world_size)
    try:
        yield DistContext(rank=rank, world_size=world_size, device=target)
    finally:
        if created:
            dist.destroy_process_group()


def gather_tokens(tokens: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """The tokens of the global batch (rank order), with gradients flowing back to each rank's own."""
    if not ctx.distributed:
        return tokens
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(tokens), dim=0)


def mean_over_ranks(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """The element-wise mean of ``values`` over all ranks (a detached copy)."""
    values = values.detach().clone()
    if ctx.distributed:
        dist.all_reduce(values)
        values /= ctx.world_size
    return values
