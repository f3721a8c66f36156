"""Stop signals as exceptions: SIGINT is ``KeyboardInterrupt`` (exit 130), SIGTERM is
:class:`Terminated` (exit 143, the shell's 128 + 15), so every exit path that already handles
Ctrl-C also writes its records on a ``kill`` or a cluster's pre-emption."""

from __future__ import annotations

import signal
import threading
from types import FrameType

#: Process exit status after a stop signal: 128 + the signal number, as shells report it.
EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; handled like Ctrl-C, but the process exits 143."""

    signum = signal.SIGTERM


def interrupt_for(signum: int | None, message: str = "") -> KeyboardInterrupt:
    """The exception that stands for ``signum`` (SIGTERM: :class:`Terminated`)."""
    return Terminated(message) if signum == signal.SIGTERM else KeyboardInterrupt(message)


def exit_status(exc: BaseException | None) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return EXIT_STATUS[signal.SIGTERM] if isinstance(exc, Terminated) else EXIT_STATUS[signal.SIGINT]


def signal_name(exc: BaseException | None) -> str:
    """``SIGTERM`` or ``SIGINT`` for the exception :func:`interrupt_for` made."""
    return "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated("SIGTERM")


def raise_on_sigterm() -> signal.Handlers | object | None:
    """Make SIGTERM raise :class:`Terminated` in the main thread (Python's default is to die
    without running ``finally`` blocks); other threads cannot install handlers. Returns the
    previous handler (None outside the main thread)."""
    if threading.current_thread() is threading.main_thread():
        return signal.signal(signal.SIGTERM, _raise_terminated)
    return None


def settle_sigterm(previous: signal.Handlers | object | None, *, exiting: bool) -> None:
    """After a command: ignore SIGTERM when the process is about to exit (a late one would raise
    inside interpreter shutdown, e.g. in a weakref finalizer, and print a traceback), otherwise
    put back ``previous``."""
    if threading.current_thread() is not threading.main_thread():
        return
    if exiting:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    elif previous is not None:
        signal.signal(signal.SIGTERM, previous)
