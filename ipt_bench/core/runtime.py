"""Process settings for a training run: stop requests from SIGTERM/SIGINT, thread count and
deterministic algorithms, each restored when the run ends."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

import torch

from ipt_bench.core.interrupts import interrupt_for

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequest:
    """Turns the first SIGTERM/SIGINT into a flag the loop checks (main thread only; elsewhere
    signals keep their usual handlers), printing what ``announce`` says will happen; a second
    signal raises ``KeyboardInterrupt`` (``Terminated`` for SIGTERM) at once."""

    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None
        self.announce: Callable[[], str] | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise interrupt_for(signum, "second stop signal: stopped at once")
        self.requested, self.signum = True, signum
        if self.announce is not None:
            sys.stderr.write(self.announce() + "\n")
            sys.stderr.flush()

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


@contextmanager
def compute_settings(threads: int | None, deterministic: bool) -> Iterator[None]:
    """Use ``threads`` intra-op threads (if given) and deterministic algorithms (if asked)."""
    previous_threads = torch.get_num_threads()
    previous_det = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    if threads:
        torch.set_num_threads(threads)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(previous_threads)
        torch.use_deterministic_algorithms(previous_det, warn_only=previous_warn)
