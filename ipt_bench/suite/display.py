"""One live view of a whole run on a terminal; otherwise (piped to a log) one plain line when a
node starts and one when it ends."""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ipt_bench.suite.planner import Node, Plan
from ipt_bench.suite.store import ResultsStore

if TYPE_CHECKING:  # the cost model imports torch; a cached run's display must not
    from ipt_bench.suite.costs import PlanCost

STATUS_STYLE = {"done": "green", "cached": "cyan", "failed": "red", "skipped": "yellow", "running": "magenta"}


class RunDisplay:
    """Counts of done/running/failed/cached/skipped nodes and each running node's step and ETA."""

    def __init__(self, plan: Plan, store: ResultsStore, console: Console | None = None) -> None:
        self.plan = plan
        self.store = store
        self.console = console or Console()
        self.status: dict[str, str] = {}
        self._started: dict[str, float] = {}
        self._live: Live | None = None
        self._finished = 0

    def __enter__(self) -> RunDisplay:
        if self.console.is_terminal:
            self._live = Live(self, console=self.console, refresh_per_second=2, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def running(self, node: Node) -> None:
        """``node`` was handed to an executor."""
        self.status[node.key] = "running"
        self._started[node.key] = time.monotonic()
        if self._live is None:
            self._line(f"start   {node.key[:10]} {node.title}")

    def finished(self, node: Node, status: str, seconds: float = 0.0, error: str | None = None) -> None:
        """``node`` ended with ``status`` (done, cached, failed or skipped)."""
        self.status[node.key] = status
        self._finished += 1
        if self._live is None:
            line = f"[{self._finished}/{len(self.plan)}] {status:<7} {node.key[:10]} {node.title}"
            line += f" ({seconds:.1f} s)" if status == "done" else ""
            line += f": {error}" if error else ""
            self._line(line)
        elif error:
            self.console.print(Text(f"failed {node.title}: {error}", style="red"), soft_wrap=True)

    def _line(self, text: str) -> None:
        """One plain line, flushed at once (a pipe to a log file is block-buffered)."""
        self.console.print(Text(text), soft_wrap=True)
        self.console.file.flush()

    def counts(self) -> Counter:
        """How many nodes are in each status (``pending`` for those not started)."""
        counts = Counter(self.status.values())
        counts["pending"] = len(self.plan) - len(self.status)
        return counts

    def __rich__(self) -> Group:
        counts = self.counts()
        summary = Text(f"{self.plan.suite} ({self.plan.profile}): ")
        for name in ("done", "cached", "running", "failed", "skipped", "pending"):
            summary.append(f"{name} {counts[name]}  ", style=STATUS_STYLE.get(name, ""))
        table = Table(box=None, show_header=True, header_style="bold")
        for column in ("running node", "key", "step", "elapsed", "ETA"):
            table.add_column(column)
        for key, status in self.status.items():
            if status == "running":
                table.add_row(*self._running_row(self.plan.nodes[key]))
        return Group(summary, table)

    def _running_row(self, node: Node) -> tuple[str, ...]:
        progress: dict = {}
        with contextlib.suppress(OSError, ValueError):
            progress = json.loads(self.store.progress_path(node.key).read_text())
        step, total, eta = progress.get("step"), progress.get("total"), progress.get("eta")
        step_text = f"{step}/{total}" if total else str(step or "-")
        elapsed = time.monotonic() - self._started.get(node.key, time.monotonic())
        return node.title, node.key[:10], step_text, f"{elapsed:.0f} s", f"{eta:.0f} s" if eta else "-"


def plan_summary(plan: Plan, cached: set[str], cost: PlanCost, cores: int) -> Text:
    """The default ``--dry-run`` output: nodes by kind, how many are cached, the estimate."""
    from ipt_bench.suite.costs import CPU_FLOPS_PER_CORE, GPU_FLOPS, human_duration

    kinds = Counter(n.kind for n in plan)
    by_kind = ", ".join(f"{kinds[k]} {k}" for k in ("pretrain", "finetune", "eval") if kinds[k])
    todo = Counter(n.kind for n in plan if n.key not in cached)
    hours = cost.gpu_hours
    gpu = f"{hours:,.1f} GPU-hours" if hours >= 1 else f"{human_duration(hours * 3600)} on one GPU"
    steps = sum(int(n.spec.get("steps") or 0) for n in plan if n.kind != "eval" and n.key not in cached)
    lines = [
        f"{plan.suite}: {len(plan)} nodes ({by_kind}) under profile {plan.profile}",
        f"cached: {len(cached)}, to run: {len(plan) - len(cached)} "
        f"({todo['pretrain'] + todo['finetune']} trainings, {steps:,} steps; {todo['eval']} evaluations)",
        f"estimate: {human_duration(cost.cpu_seconds(cores))} on {cores} CPU core(s) at "
        f"{CPU_FLOPS_PER_CORE / 1e9:.0f} GFLOP/s each, {gpu} at {GPU_FLOPS / 1e12:.0f} TFLOP/s "
        "(from FLOP counts: ipt_bench/suite/costs.py)",
        "every node: add --table",
    ]
    return Text("\n".join(lines))


def plan_table(plan: Plan, store: ResultsStore, flops_per_s: float) -> Table:
    """The ``--dry-run --table`` table: node, kind, key prefix, cached or to run, estimated time
    at ``flops_per_s`` (the planner's rough seconds for evaluations without a FLOP count)."""
    from ipt_bench.suite.costs import human_duration, node_gflops

    table = Table(title=f"{plan.suite}: {len(plan)} nodes (profile {plan.profile})")
    for column in ("node", "kind", "key", "state", "estimate"):
        table.add_column(column, justify="right" if column == "estimate" else "left")
    total = 0.0
    for node in plan:
        done = store.is_done(node.key)
        gflop = node_gflops(node, plan)
        seconds = node.est_seconds if gflop is None else gflop * 1e9 / flops_per_s
        total += 0.0 if done else seconds
        state = Text("cached", style="cyan") if done else Text("to run", style="magenta")
        table.add_row(node.title, node.kind, node.key[:10], state, human_duration(seconds))
    table.caption = (
        f"total of the uncached nodes: {human_duration(total)} at {flops_per_s / 1e9:,.0f} GFLOP/s"
    )
    return table
