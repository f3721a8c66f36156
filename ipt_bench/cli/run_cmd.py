"""``ipt-bench run SUITE``: plan a suite, run what is not done yet, then build its report."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Register ``run`` on the root app."""
    app.command("run")(run)


def run(
    suite: Path = typer.Argument(..., help="Suite YAML file, e.g. suites/quickstart.yaml."),
    profile: str = typer.Option(
        None, "--profile", "-p", help="auto | smoke | cpu | paper (default: the suite's, usually auto)."
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Results folder (default results/<suite>)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan summary and estimate, then stop."),
    table: bool = typer.Option(False, "--table", help="With --dry-run: also list every node."),
    gpu_check: bool = typer.Option(
        True, "--gpu-check/--no-gpu-check", help="Refuse the paper profile on a machine without a GPU."
    ),
    force: str = typer.Option(None, "--force", help="Re-run nodes: 'all' or key prefixes, comma-separated."),
    executor: str = typer.Option("local", "--executor", help="local (worker processes), ray or slurm."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Local worker processes."),
    threads: int = typer.Option(
        None,
        "--threads",
        min=1,
        help="Torch threads per node (default: all cores, whatever --jobs; results depend on it).",
    ),
    address: str = typer.Option("auto", "--address", help="Ray cluster: auto or HOST:PORT."),
    slurm: list[str] = typer.Option(
        None, "--slurm", help="SLURM job setting KEY=VALUE, repeatable (e.g. partition=gpu timeout_min=600)."
    ),
    data_root: Path = typer.Option(None, "--data-root", help="Folder holding the benchmark datasets."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Accept incomplete test sets."),
    track: list[str] = typer.Option(
        None, "--track", help="Log training curves: tensorboard (default: the suite's `track:`)."
    ),
    report: bool = typer.Option(True, "--report/--no-report", help="Build the HTML report at the end."),
    report_dir: Path = typer.Option(None, "--report-dir", help="Report folder (default reports/<suite>)."),
) -> None:
    """Run a benchmark suite; finished nodes are reused, so an interrupted run just continues."""
    from rich.console import Console

    from ipt_bench.suite.engine import run_suite

    console = Console()
    summary = run_suite(
        suite,
        profile=profile,
        out=out,
        dry_run=dry_run,
        force=force,
        executor=executor,
        jobs=jobs,
        threads=threads,
        address=address,
        data_root=data_root,
        allow_partial=allow_partial,
        console=console,
        # before any node runs: a misspelt report kind would otherwise fail only at the end
        check_suite=_check_report_kind if report else None,
        show_table=table,
        track=tuple(track) if track else None,
        slurm=_slurm_settings(slurm) if executor == "slurm" else None,
        gpu_check=gpu_check,
    )
    if dry_run:
        return
    counts = {s: list(summary.status.values()).count(s) for s in ("done", "cached", "failed", "skipped")}
    console.print(
        f"{summary.suite}: {counts['done']} run, {counts['cached']} cached, {counts['failed']} failed, "
        f"{counts['skipped']} skipped in {summary.seconds:.1f} s -> {summary.out}"
    )
    if summary.interrupted:
        console.print(
            f"interrupted: finished nodes and training checkpoints are kept, run.json written in "
            f"{summary.out}; run the same command again to continue"
        )
        raise SystemExit(summary.exit_status)
    if report:
        _build_report(summary, report_dir or Path("reports") / summary.suite, console)
    if not summary.complete:
        console.print("incomplete: fix the failures above and run the same command again")
        # SystemExit, not typer.Exit: the root app runs with standalone_mode=False, which turns
        # typer.Exit into a return value that main() does not pass on
        raise SystemExit(1)


def _check_report_kind(suite) -> None:
    from ipt_bench.report.kinds import get_report_kind

    if suite.report is not None:
        get_report_kind(suite.report.kind)


def _slurm_settings(pairs: list[str] | None) -> dict:
    from ipt_bench.suite.slurm import parse_settings

    return parse_settings(pairs or [])


def _build_report(summary, report_dir: Path, console) -> None:
    """Build the report, unless the one in ``report_dir`` was built from exactly these results
    by this code (a fully cached rerun then rewrites nothing).

    Freshness is decided by content: the checksums of every node's files, not by which nodes
    ran in this invocation (a ``--force ... --no-report`` in between makes the report stale)."""
    import contextlib
    import json

    from ipt_bench.core.atomic import atomic_write_text
    from ipt_bench.core.integrity import content_digest
    from ipt_bench.suite.store import ResultsStore

    store = ResultsStore(summary.out)
    stamp_path = summary.out / "report-stamp.json"
    stamp = {
        "report_dir": str(report_dir.resolve()),
        "fingerprint": summary.plan.fingerprint,  # the suite, the options and this package's code
        "content": content_digest({node.key: store.read_record(node.key) for node in summary.plan}),
    }
    old_stamp = None
    with contextlib.suppress(OSError, ValueError):
        old_stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
    up_to_date = (
        stamp["fingerprint"] is not None and (report_dir / "index.html").is_file() and old_stamp == stamp
    )
    if up_to_date:
        console.print(f"report up to date: {report_dir}")
        return
    from ipt_bench.report.html import build_report

    build_report(summary.out, report_dir)
    atomic_write_text(stamp_path, json.dumps(stamp, indent=1))
    console.print(f"report: {report_dir}")
