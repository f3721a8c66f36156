"""``ipt-bench run``'s engine: load a suite, plan it, run what is not done, record the run."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from ipt_bench.core.errors import ConfigError
from ipt_bench.core.interrupts import Terminated, exit_status
from ipt_bench.core.provenance import collect_provenance
from ipt_bench.suite.display import RunDisplay, plan_summary, plan_table
from ipt_bench.suite.executors import NodeExecutor, make_executor
from ipt_bench.suite.loader import check_suite_names, load_suite_with_origins
from ipt_bench.suite.planner import Plan, build_plan, plan_fingerprint
from ipt_bench.suite.profile_choice import choose_profile, gpu_count, refuse_paper_without_gpu
from ipt_bench.suite.schema import Suite
from ipt_bench.suite.store import ResultsStore
from ipt_bench.suite.work import RunOptions
from ipt_bench.train.tracking import check_trackers

_POLL_S = 0.5


@dataclass
class RunSummary:
    """How a run ended: each node's status, and whether every node is now done."""

    suite: str
    out: Path
    plan: Plan
    status: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False  # SIGINT/SIGTERM stopped the run; unfinished nodes resume on rerun
    exit_status: int = 0  # 130 after SIGINT, 143 after SIGTERM
    dry_run: bool = False
    profile_reason: str = ""  # why this profile (auto choice or explicit)

    @property
    def complete(self) -> bool:
        """True when every node is done (now or before)."""
        return all(self.status.get(n.key) in ("done", "cached") for n in self.plan)


def _check_training_data(plan: Plan, data_root: str | Path | None) -> None:
    """Refuse, in one line, a plan whose training data is missing (before anything runs)."""
    from ipt_bench.data.training_sets import check_training_data

    seen = set()
    for node in plan:
        if node.kind in ("pretrain", "finetune") and node.spec.get("data") not in seen:
            data = str(node.spec.get("data"))
            seen.add(data)
            stage = "pre-training" if node.kind == "pretrain" else "fine-tuning"
            check_training_data(data, data_root, role=f"{stage} (profile {plan.profile})")


def run_suite(
    suite_path: str | Path,
    *,
    profile: str | None = None,
    out: str | Path | None = None,
    dry_run: bool = False,
    force: str | None = None,
    executor: str = "local",
    jobs: int = 1,
    threads: int | None = None,
    address: str | None = None,
    data_root: str | Path | None = None,
    allow_partial: bool = False,
    console: Console | None = None,
    check_suite: Callable[[Suite], None] | None = None,
    show_table: bool = False,
    gpu_check: bool = True,
    track: tuple[str, ...] | None = None,
    slurm: dict[str, Any] | None = None,
) -> RunSummary:
    """Run (or with ``dry_run`` just show) a suite into ``out`` (default ``results/<suite>``).
    ``check_suite`` may reject the loaded suite (one-line error) before anything runs."""
    console = console or Console()
    suite, origins = load_suite_with_origins(suite_path)
    if check_suite is not None:
        check_suite(suite)
    store = ResultsStore(out or Path("results") / suite.name)
    choice = choose_profile(suite, profile, data_root)
    console.print(choice.line(), soft_wrap=True)
    plan = _plan(suite_path, suite, origins, store, choice.name, allow_partial)
    summary = RunSummary(suite=suite.name, out=store.root, plan=plan, dry_run=dry_run)
    summary.profile_reason = choice.reason
    threads = threads or default_threads()
    if dry_run:
        _check_training_data(plan, data_root)
        from ipt_bench.suite.costs import CPU_FLOPS_PER_CORE, GPU_FLOPS, plan_cost

        cached = {n.key for n in plan if store.is_done(n.key)}
        if show_table:
            rate = GPU_FLOPS if plan.profile == "paper" else CPU_FLOPS_PER_CORE * threads
            console.print(plan_table(plan, store, rate))
        console.print(plan_summary(plan, cached, plan_cost(plan, cached), threads), soft_wrap=True)
        summary.status = {n.key: "cached" if n.key in cached else "to run" for n in plan}
        return summary
    if threads < 1:
        raise ConfigError(f"--threads {threads} must be at least 1", "e.g. --threads 2, or leave it out")
    if plan.profile == "paper" and gpu_check and gpu_count() == 0:
        raise _paper_refusal(suite_path, suite, origins, store, plan, allow_partial, threads)
    _check_training_data(plan, data_root)
    options = RunOptions(  # absolute paths: cluster jobs may start in another folder
        out=str(store.root.resolve()),
        data_root=str(Path(data_root).resolve()) if data_root else None,
        threads=threads,
        track=check_trackers(tuple(suite.track if track is None else track)),
    )
    forced = forced_keys(plan, force)
    # the executor first: a cluster that does not answer must leave the results folder untouched
    pool = make_executor(
        executor, jobs=jobs, address=address, profile=plan.profile, slurm=slurm, log_dir=store.root / "slurm"
    )
    try:
        store.write_if_changed("suite.yaml", yaml.safe_dump(suite.model_dump(mode="json"), sort_keys=False))
        store.write_if_changed("plan.json", json.dumps(plan.to_json(), indent=1))
        started = dt.datetime.now(dt.timezone.utc)
        clock = time.perf_counter()
        with RunDisplay(plan, store, console) as display:
            try:
                _schedule(plan, store, pool, options, forced, display, summary)
            except KeyboardInterrupt as exc:  # a node saw the stop signal, or the wait here did
                summary.interrupted, summary.exit_status = True, exit_status(exc)
                if isinstance(exc, Terminated):  # only this process got it: pass it on to workers
                    pool.interrupt()
    finally:
        pool.close()
    summary.seconds = time.perf_counter() - clock
    _write_run(store, summary, started, executor, jobs, threads)
    return summary


def _plan(
    suite_path: str | Path,
    suite: Suite,
    origins: dict,
    store: ResultsStore,
    profile: str,
    allow_partial: bool,
) -> Plan:
    """The plan, reused from ``plan.json`` when its fingerprint matches (no torch import then)."""
    fingerprint = plan_fingerprint(suite, profile, allow_partial)
    if fingerprint is not None:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            cached = Plan.from_json(json.loads((store.root / "plan.json").read_text(encoding="utf-8")))
            if cached.fingerprint == fingerprint:
                return cached
    check_suite_names(suite, suite_path, origins)
    plan = build_plan(suite, profile=profile, allow_partial=allow_partial)
    plan.fingerprint = fingerprint
    return plan


def _paper_refusal(
    suite_path: str | Path,
    suite: Suite,
    origins: dict,
    store: ResultsStore,
    plan: Plan,
    allow_partial: bool,
    threads: int,
) -> ConfigError:
    """The refusal of a paper run without a GPU, with both estimates."""
    from ipt_bench.suite.costs import GPU_FLOPS, human_duration, plan_cost

    cpu_plan = _plan(suite_path, suite, origins, store, "cpu", allow_partial)
    cpu_estimate = human_duration(plan_cost(cpu_plan).cpu_seconds(threads))
    return refuse_paper_without_gpu(plan_cost(plan).gpu_hours, GPU_FLOPS / 1e12, cpu_estimate)


def forced_keys(plan: Plan, force: str | None) -> set[str]:
    """Nodes ``--force`` names (``all`` or key prefixes, comma-separated) plus their dependants."""
    if not force:
        return set()
    if force == "all":
        return set(plan.nodes)
    chosen: set[str] = set()
    for prefix in (p.strip() for p in force.split(",") if p.strip()):
        matches = [key for key in plan.nodes if key.startswith(prefix)]
        if not matches:
            raise ConfigError(
                f"--force {prefix}: no node key starts with it",
                "copy a key prefix from `ipt-bench run SUITE --dry-run`, or use --force all",
            )
        chosen.update(matches)
    for key in list(chosen):
        chosen |= plan.dependants(key)
    return chosen


def _schedule(
    plan: Plan,
    store: ResultsStore,
    pool: NodeExecutor,
    options: RunOptions,
    forced: set[str],
    display: RunDisplay,
    summary: RunSummary,
) -> None:
    status = summary.status
    waiting = []
    for node in plan:
        done, damage = (False, None) if node.key in forced else store.check(node.key)
        if done:
            status[node.key] = "cached"
            display.finished(node, "cached")
        else:
            if damage:
                display.console.print(f"re-running {node.title} ({node.key[:10]}): {damage}", soft_wrap=True)
            waiting.append(node)
    running: dict[cf.Future, str] = {}
    while waiting or running:
        for node in list(waiting):
            if len(running) >= pool.capacity:
                break
            dep_states = [status.get(d) for d in node.deps]
            if any(s in ("failed", "skipped") for s in dep_states):
                waiting.remove(node)
                status[node.key] = "skipped"
                display.finished(node, "skipped", error="an input node failed")
            elif all(s in ("done", "cached") for s in dep_states):
                waiting.remove(node)
                display.running(node)
                running[pool.submit(node.to_json(), options, node.key in forced)] = node.key
        if not running:
            continue
        finished, _ = cf.wait(running, timeout=_POLL_S, return_when=cf.FIRST_COMPLETED)
        for future in finished:
            node = plan.nodes[running.pop(future)]
            result = _result_of(future)
            status[node.key] = result["status"]
            if result["error"]:
                summary.errors[node.key] = result["error"]
            display.finished(node, result["status"], result["seconds"], result["error"])


def _result_of(future: cf.Future) -> dict[str, Any]:
    try:
        return future.result()
    except Exception as exc:  # the worker process or Ray task itself died
        return {"status": "failed", "seconds": 0.0, "error": f"{type(exc).__name__}: {exc}"}


def default_threads() -> int:
    """Torch threads per node when ``--threads`` is not given: every core of this machine, however
    many ``--jobs`` share them (see :class:`~ipt_bench.suite.work.RunOptions`)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _write_run(
    store: ResultsStore, summary: RunSummary, started: dt.datetime, executor: str, jobs: int, threads: int
) -> None:
    counts: dict[str, int] = {}
    for value in summary.status.values():
        counts[value] = counts.get(value, 0) + 1
    run = {
        "suite": summary.suite,
        "profile": summary.plan.profile,
        "profile_reason": summary.profile_reason,
        "executor": executor,
        "jobs": jobs,
        "threads": threads,
        "started": started.isoformat(),
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(),
        "seconds": summary.seconds,
        "complete": summary.complete,
        "interrupted": summary.interrupted,
        "counts": counts,
        "nodes": summary.status,
        "errors": summary.errors,
        **collect_provenance(device=False),  # each node record names the device it ran on
    }
    store.write_if_changed("run.json", json.dumps(run, indent=1, sort_keys=True))
