"""nox sessions: tests, lint, benchmarks and the paper reproductions.

Sessions reuse the current interpreter's environment (``venv_backend="none"``): the package and
its pinned torch are installed once by the README commands, not re-downloaded per session.
Each ``reproduce_*`` session runs one suite and writes its report under ``reports/<suite>/``:
``nox -s reproduce_table1 -- --profile smoke`` or ``-- --profile paper --checkpoints DIR``
(a folder with the official IPT weights, evaluated as variant ``ipt-official``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.default_venv_backend = "none"

ROOT = Path(__file__).resolve().parent


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite."""
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.run("ruff", "check", "ipt_bench", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "ipt_bench", "tests", "benchmarks", "noxfile.py")


def _reproduce(session: nox.Session, suite: str) -> None:
    """Run ``suites/<suite>.yaml`` with the session's arguments; report to ``reports/<suite>/``."""
    args = list(session.posargs)
    suite_file = ROOT / "suites" / f"{suite}.yaml"
    if "--checkpoints" in args:
        at = args.index("--checkpoints")
        checkpoints = Path(args[at + 1]).resolve()
        del args[at : at + 2]
        derived = Path(tempfile.mkdtemp(prefix=f"ipt-bench-{suite}-")) / f"{suite}.yaml"
        derived.write_text(f"extends: {suite_file}\nname: {suite}\ncheckpoints: {checkpoints}\n")
        suite_file = derived
    session.run(
        "ipt-bench", "run", str(suite_file),
        "--out", str(ROOT / "results" / suite),
        "--report-dir", str(ROOT / "reports" / suite),
        *args,
    )  # fmt: skip


@nox.session
def reproduce_table1(session: nox.Session) -> None:
    """Paper Table 1: SR x2/x3/x4 on Set5, Set14, B100, Urban100."""
    _reproduce(session, "table1")


@nox.session
def reproduce_table2(session: nox.Session) -> None:
    """Paper Table 2: colour denoising at sigma 30 and 50."""
    _reproduce(session, "table2_denoise")


@nox.session
def reproduce_table3(session: nox.Session) -> None:
    """Paper Table 3: deraining on Rain100L."""
    _reproduce(session, "table3_derain")


@nox.session
def reproduce_generalization(session: nox.Session) -> None:
    """The generalization study: denoisers tested at unseen noise levels."""
    _reproduce(session, "generalization")


@nox.session
def reproduce_contrastive(session: nox.Session) -> None:
    """The contrastive-loss weight (lambda) ablation."""
    _reproduce(session, "contrastive_lambda")


@nox.session
def reproduce_pretrain_data(session: nox.Session) -> None:
    """Pre-training data percentage: IPT vs CNN."""
    _reproduce(session, "pretrain_data")


@nox.session
def bench(session: nox.Session) -> None:
    """Run the performance benchmarks and regenerate benchmarks/README.md (sized for 15 min on
    2 cores; ``nox -s bench -- --quick`` checks the pipeline in a couple of minutes)."""
    session.run("python", "benchmarks/run_all.py", *session.posargs)
