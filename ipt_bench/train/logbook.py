"""The training log: one JSON object per line in ``log.jsonl``.

Rows are appended and flushed one at a time rather than rewritten through
:mod:`ipt_bench.core.atomic` (that would be quadratic in the run length); a torn last line from
a crash is dropped when the log is read. On resume the log is atomically rewritten to the rows
up to the checkpoint's step, so every step appears once.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ipt_bench.core.atomic import atomic_write_text


def read_log(path: Path) -> list[dict[str, Any]]:
    """The complete rows of a log (a torn last line is skipped)."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


class TrainLog:
    """Appends rows to ``path``; rows after ``keep_until`` from an earlier run are discarded first."""

    def __init__(self, path: Path, keep_until: int) -> None:
        self.path = path
        kept = [row for row in read_log(path) if row.get("step", 0) <= keep_until]
        atomic_write_text(path, "".join(_line(row) for row in kept))

    def write(self, row: dict[str, Any]) -> None:
        """Append one row."""
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(_line(row))
            handle.flush()


def _line(row: dict[str, Any]) -> str:
    return json.dumps({k: _finite_or_text(v) for k, v in row.items()}, sort_keys=False) + "\n"


def _finite_or_text(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
