"""What a stop request does in the middle of a training step.

The first SIGINT/SIGTERM says when training will stop: after the current step when that step
should end within :data:`FINISH_WITHIN_S`, otherwise the step is abandoned at the next module
boundary of the forward or backward pass (its weights and optimizer state are still those of the previous
step, so resuming from them is exact). A second signal stops at once.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from ipt_bench.core.runtime import StopRequest

#: A step expected to end within this many seconds is finished before stopping.
FINISH_WITHIN_S = 3.0


class StepAbandoned(Exception):
    """Raised inside the forward pass once a stop request abandons the current step."""


class StepGuard:
    """Times steps, announces stop requests and abandons a long step between modules."""

    def __init__(self, stop: StopRequest, model: torch.nn.Module, *, can_abandon: bool) -> None:
        self.stop = stop
        self.step = 0
        self.abandon = False
        self._began: float | None = None
        self._durations: list[float] = []
        stop.announce = self.announce
        if can_abandon:  # not under DDP: every rank must run the same collective calls
            for module in model.modules():
                module.register_forward_pre_hook(self._check)
                module.register_forward_hook(self._watch_backward)

    def begin(self, step: int) -> None:
        """Step ``step + 1`` starts now."""
        self.step, self._began = step, time.monotonic()

    def end(self) -> None:
        """The current step finished."""
        if self._began is not None:
            self._durations.append(time.monotonic() - self._began)
            del self._durations[:-10]
        self._began, self.abandon = None, False  # a step that ended anyway is kept

    def announce(self) -> str:
        """Decide how this stop request ends the run, and say so (one line)."""
        if self._began is None:
            return "stop requested: stopping before the next step; press Ctrl-C again to stop now"
        elapsed = time.monotonic() - self._began
        typical = sum(self._durations) / len(self._durations) if self._durations else None
        left = None if typical is None else max(typical - elapsed, 0.0)
        if left is not None and left <= FINISH_WITHIN_S:
            return (
                f"stop requested: stopping after step {self.step + 1} (about {left:.0f} s), then saving a "
                "checkpoint; press Ctrl-C again to stop now"
            )
        self.abandon = True
        length = "of unknown length" if left is None else f"about {left:.0f} s from its end"
        return (
            f"stop requested: abandoning step {self.step + 1} ({length}) at the next layer; "
            f"the state after step {self.step} is kept"
        )

    def _check(self, *args: object) -> None:
        if self.abandon and self.stop.requested:
            raise StepAbandoned

    def _watch_backward(self, module: torch.nn.Module, args: object, output: object) -> None:
        """Check again when the backward pass reaches this module's output (the optimizer has not
        stepped yet, so abandoning there still keeps the previous step's state)."""
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(self._check)


def kept_message(out: Path, steps_done: int | None) -> str:
    """What an interrupted training left in ``out`` and how to continue."""
    checkpoint = out / "checkpoints" / "last.pt"
    if steps_done:
        return f"checkpoint of step {steps_done} kept in {checkpoint}; run the same command again to resume"
    if checkpoint.is_file():
        return f"the last checkpoint is kept in {checkpoint}; run the same command again to resume"
    return "nothing kept: no training step had finished; run the same command again to start over"
