"""nox sessions: tests, lint, benchmarks and the paper reproductions.

Sessions reuse the current interpreter's environment (``venv_backend="none"``): the package and
its pinned torch are installed once by the README commands, not re-downloaded per session.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.default_venv_backend = "none"


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite."""
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.run("ruff", "check", "ipt_bench", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "ipt_bench", "tests", "benchmarks", "noxfile.py")
