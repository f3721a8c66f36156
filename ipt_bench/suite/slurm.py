"""Nodes as SLURM jobs through submitit (``pip install 'ipt-bench[slurm]'``).

Each node becomes one job running :func:`ipt_bench.suite.work.execute_node`; the results folder
must be on a filesystem the compute nodes share (as with Ray). A job's resources come from the
run's profile (``Profile.resources``), overridden by ``--slurm KEY=VALUE`` (submitit's
parameter names, e.g. ``slurm_partition=gpu``, ``timeout_min=600``, ``gpus_per_node=2``;
``partition``, ``account`` and ``qos`` are accepted as short forms). Two keys are ours:
``max_jobs`` (jobs in flight, default 16) and ``cluster`` (``slurm``, or ``local`` to run the
jobs as local processes through submitit's own local executor, which needs no SLURM install).
A job stopped at its time limit gets SIGTERM: training checkpoints, and running the same
command again resumes it.
"""

from __future__ import annotations

import concurrent.futures as cf
from pathlib import Path
from typing import Any

from ipt_bench.core.errors import ConfigError
from ipt_bench.suite.executors import NodeExecutor
from ipt_bench.suite.work import RunOptions, execute_node
from ipt_bench.train.profiles import get_profile

_SHORT_FORMS = {"partition": "slurm_partition", "account": "slurm_account", "qos": "slurm_qos"}
DEFAULT_MAX_JOBS = 16


def parse_settings(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["partition=gpu", "timeout_min=60"]`` -> ``{"slurm_partition": "gpu", "timeout_min": 60}``."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--slurm {pair!r} is not KEY=VALUE", "e.g. --slurm partition=gpu")
        settings[_SHORT_FORMS.get(key, key)] = int(value) if value.isdigit() else value
    return settings


class SlurmExecutor(NodeExecutor):
    """Submits each node as a job and resolves a future when the job ends."""

    def __init__(self, profile: str, settings: dict[str, Any], log_dir: Path) -> None:
        try:
            import submitit
        except ImportError as exc:
            raise ConfigError(
                "--executor slurm needs the submitit package, which is not installed",
                "pip install 'ipt-bench[slurm]' or use --executor local",
            ) from exc
        settings = dict(settings)
        cluster = settings.pop("cluster", "slurm")
        self.capacity = int(settings.pop("max_jobs", DEFAULT_MAX_JOBS))
        if cluster not in ("slurm", "local"):
            raise ConfigError(
                f"--slurm cluster={cluster} is not slurm or local", "e.g. --slurm cluster=local"
            )
        try:
            self._executor = submitit.AutoExecutor(folder=log_dir / "%j", cluster=cluster)
            self._executor.update_parameters(**{**get_profile(profile).resources.slurm(), **settings})
        except (ValueError, RuntimeError) as exc:  # an unknown parameter, or no sbatch on PATH
            message = " ".join(str(exc).split())[:300]
            raise ConfigError(
                f"cannot set up the SLURM executor: {message}",
                "check the --slurm KEY=VALUE names (submitit's), or run on a SLURM login node",
            ) from exc
        self._waiters = cf.ThreadPoolExecutor(max_workers=self.capacity, thread_name_prefix="slurm-wait")
        self._jobs: list[Any] = []

    def submit(self, node_json: dict[str, Any], options: RunOptions, force: bool) -> cf.Future:
        """Queue the node as a job; the future resolves to its result dict when it ends."""
        job = self._executor.submit(execute_node, node_json, options, force)
        self._jobs.append(job)
        return self._waiters.submit(job.result)

    def interrupt(self) -> None:
        """Cancel the jobs still queued or running (SLURM sends them SIGTERM: they checkpoint)."""
        for job in self._jobs:
            if not job.done():
                job.cancel(check=False)

    def close(self) -> None:
        """Stop waiting (jobs already finished have written their records)."""
        self._waiters.shutdown(wait=False, cancel_futures=True)
