"""Where nodes run: in this process, in a pool of spawned worker processes, as Ray tasks, or as
SLURM jobs (:mod:`ipt_bench.suite.slurm`); each is one :class:`ExecutorKind` entry of
:data:`EXECUTORS` (another cluster scheduler is one more entry).

Every executor has ``submit(node_json, options, force) -> concurrent.futures.Future`` whose result
is :func:`ipt_bench.suite.work.execute_node`'s dict, and ``close()``; ``capacity`` is how many
nodes the scheduler keeps in flight.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import multiprocessing
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.plugins import Registry
from ipt_bench.suite.work import RunOptions, execute_node

_PR_SET_PDEATHSIG = 1


class NodeExecutor(Protocol):
    """What the scheduler needs from an executor."""

    capacity: int

    def submit(self, node_json: dict[str, Any], options: RunOptions, force: bool) -> cf.Future: ...

    def interrupt(self) -> None:
        """Pass a SIGTERM this process received on to running nodes (they checkpoint and stop)."""

    def close(self) -> None: ...


class InlineExecutor(NodeExecutor):
    """Runs each node at submission, in this process (``--jobs 1``; a kill stops everything)."""

    capacity = 1

    def submit(self, node_json: dict[str, Any], options: RunOptions, force: bool) -> cf.Future:
        """Run the node now; the returned future is already resolved."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(execute_node(node_json, options, force))
        except Exception as exc:  # a store/lock failure: report it as the node's failure
            future.set_exception(exc)
        return future

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor(NodeExecutor):
    """``jobs`` spawned worker processes that die with this process (Linux ``PR_SET_PDEATHSIG``)."""

    def __init__(self, jobs: int) -> None:
        self.capacity = jobs
        self._pool = cf.ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
        )

    def submit(self, node_json: dict[str, Any], options: RunOptions, force: bool) -> cf.Future:
        """Queue the node on the pool."""
        return self._pool.submit(execute_node, node_json, options, force)

    def interrupt(self) -> None:
        """Send SIGTERM to every worker process."""
        for process in list(getattr(self._pool, "_processes", {}).values()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)

    def close(self) -> None:
        """Wait for running nodes and stop the workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _init_worker() -> None:
    """Make a worker die when the run is killed (each node sets its own thread count)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # not Linux: orphaned workers finish their node, then exit
        pass


class RayExecutor(NodeExecutor):
    """Nodes as Ray tasks on the cluster at ``address``; they write to the same results folder,
    which must therefore be on a filesystem every Ray node sees."""

    capacity = 256

    def __init__(self, address: str, profile: str) -> None:
        from ipt_bench.train.profiles import get_profile

        resources = get_profile(profile).resources.ray()
        try:
            import ray
        except ImportError as exc:
            raise IptBenchError(
                "--executor ray needs the ray package, which is not installed",
                "pip install 'ipt-bench[ray]' or use --executor local",
            ) from exc
        if address != "auto":
            check_reachable(address)
        try:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR", configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise IptBenchError(
                f"cannot connect to the Ray cluster at {address}: {str(exc).splitlines()[0]}",
                "start one with `ray start --head` or pass --address HOST:PORT of a running head",
            ) from exc
        self._ray = ray
        self._task = ray.remote(execute_node).options(max_retries=0, **resources)

    def submit(self, node_json: dict[str, Any], options: RunOptions, force: bool) -> cf.Future:
        """Send the node to the cluster."""
        return self._task.remote(node_json, options, force).future()

    def close(self) -> None:
        """Disconnect from the cluster (the cluster keeps running)."""
        self._ray.shutdown()


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Raise a one-line error unless something accepts TCP connections at ``HOST:PORT``."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise IptBenchError(
            f"Ray address {address!r} is not HOST:PORT", "e.g. --address 127.0.0.1:6379 or auto"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise IptBenchError(
            f"the Ray head at {address} does not answer ({exc.strerror or exc})",
            "start it with `ray start --head --port PORT` or fix --address",
        ) from exc


@dataclass(frozen=True)
class ExecutorSettings:
    """What ``ipt-bench run`` passes to an executor factory."""

    jobs: int = 1
    address: str | None = None
    profile: str = "cpu"
    slurm: dict[str, Any] = field(default_factory=dict)
    log_dir: Path = Path("slurm-logs")


@dataclass(frozen=True)
class ExecutorKind:
    """A named way to run nodes: ``make(settings)`` returns a :class:`NodeExecutor`."""

    name: str
    make: Callable[[ExecutorSettings], NodeExecutor]
    description: str = ""


#: Executors by ``--executor`` name; other packages add theirs through the
#: ``ipt_bench.executors`` entry-point group.
EXECUTORS: Registry[ExecutorKind] = Registry("executor", package=None, group="ipt_bench.executors")


def _local(settings: ExecutorSettings) -> NodeExecutor:
    if settings.jobs < 1:
        raise IptBenchError(f"--jobs {settings.jobs} must be at least 1", "e.g. --jobs 2")
    return InlineExecutor() if settings.jobs == 1 else ProcessExecutor(settings.jobs)


def _slurm(settings: ExecutorSettings) -> NodeExecutor:
    from ipt_bench.suite.slurm import SlurmExecutor

    return SlurmExecutor(settings.profile, settings.slurm, settings.log_dir)


EXECUTORS.register(
    ExecutorKind("local", _local, "this process (--jobs 1) or --jobs spawned worker processes")
)
EXECUTORS.register(
    ExecutorKind(
        "ray", lambda s: RayExecutor(s.address or "auto", s.profile), "Ray tasks on the cluster at --address"
    )
)
EXECUTORS.register(ExecutorKind("slurm", _slurm, "SLURM jobs through submitit (--slurm KEY=VALUE settings)"))


def make_executor(
    kind: str,
    *,
    jobs: int,
    address: str | None,
    profile: str,
    slurm: dict[str, Any] | None = None,
    log_dir: Path | None = None,
) -> NodeExecutor:
    """The executor named by ``--executor`` (``slurm``: ``slurm`` settings, job logs in ``log_dir``)."""
    if kind not in EXECUTORS:
        raise IptBenchError(
            f"unknown executor {kind!r}", f"use --executor {' or --executor '.join(EXECUTORS.names())}"
        )
    settings = ExecutorSettings(
        jobs=jobs,
        address=address,
        profile=profile,
        slurm=dict(slurm or {}),
        log_dir=log_dir or Path("slurm-logs"),
    )
    return EXECUTORS.get(kind).make(settings)
