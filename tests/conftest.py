"""Shared fixtures: where the real benchmark data lies, and how its absence is handled.

Outside CI a missing dataset skips the test with a reason; with ``CI=true`` it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
#: ``IPT_BENCH_DATA`` as the session started: tests that isolate the catalog from the user's
#: settings unset the variable, and must still find the staged data through this fixture.
_SESSION_DATA_ENV = os.environ.get("IPT_BENCH_DATA")
_SESSION_DATA_ROOT = Path(_SESSION_DATA_ENV).resolve() if _SESSION_DATA_ENV else None


def shared_data_root() -> Path | None:
    """``IPT_BENCH_DATA`` (as set when the session started) if it is a folder, else
    ``../shared/data`` beside the checkout, if it exists."""
    candidates = [_SESSION_DATA_ROOT] if _SESSION_DATA_ROOT else []
    candidates.append(REPO_ROOT.parent / "shared" / "data")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def require_dataset(*relative_paths: str) -> Path:
    """Return the data root holding every given sub-folder, or skip (fail in CI) with a reason."""
    root = shared_data_root()
    missing = [p for p in relative_paths if root is None or not (root / p).exists()]
    if missing:
        reason = f"benchmark data {missing} not found (set IPT_BENCH_DATA or place ../shared/data)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert root is not None
    return root


@pytest.fixture
def data_root() -> Path:
    """The real benchmark data root (Set5, Set14, ...)."""
    return require_dataset("Set5", "Set14")
