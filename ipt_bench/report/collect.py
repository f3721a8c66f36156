"""Read a results directory (suite.yaml, run.json, nodes/<key>/...) into plain pandas objects.

Only the on-disk layout is assumed, not the suite package, so reports can be rebuilt from any
copy of a results folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.integrity import record_damage
from ipt_bench.core.rows import DEFAULT_METRICS, fixed_columns, metric_columns, row_columns

#: Columns every stored row has (the schema's fixed columns; metric columns vary by suite).
ROW_COLUMNS = tuple(c.name for c in fixed_columns())
_RERUN_FIX = "delete it and re-run: the cell will be recomputed"


@dataclass
class Results:
    """Everything a report needs from one results directory."""

    root: Path
    rows: pd.DataFrame
    records: list[dict[str, Any]] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)
    suite_yaml: str = ""
    train_logs: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Node records whose status is not ``done``."""
        return [r for r in self.records if r.get("status") != "done"]


def load_results(results_dir: str | Path) -> Results:
    """Load ``results_dir``; raise :class:`IptBenchError` for a missing folder or corrupt files."""
    root = Path(results_dir)
    if not root.is_dir():
        raise IptBenchError(
            f"results directory {root} does not exist",
            "pass the folder written by `ipt-bench run` (it holds suite.yaml, run.json and nodes/)",
        )
    nodes = sorted(p for p in (root / "nodes").glob("*") if p.is_dir())
    labels = _planned_labels(root)
    if labels is not None:  # only the last run's plan: rows of another profile would mix in
        nodes = [node for node in nodes if node.name in labels]
    if not nodes and not (root / "run.json").exists():
        raise IptBenchError(
            f"{root} holds no run.json and no nodes/ folder, so it is not a results directory",
            "pass the folder written by `ipt-bench run`",
        )
    suite_path = root / "suite.yaml"
    records = {
        node.name: read_json(node / "record.json") for node in nodes if (node / "record.json").exists()
    }
    for node in nodes:
        _check_intact(node, records.get(node.name))
    frames = [read_rows(node / "rows.parquet") for node in nodes if (node / "rows.parquet").exists()]
    rows = pd.concat(frames, ignore_index=True) if frames else empty_rows()
    if labels and not rows.empty:  # display labels live in the plan, not in the node's rows
        pairs = zip(rows["cell_key"], rows["variant"], strict=True)
        rows["variant"] = pd.Series([labels.get(key) or old for key, old in pairs], dtype=object)
    return Results(
        root=root,
        rows=rows,
        records=list(records.values()),
        run=read_json(root / "run.json") if (root / "run.json").exists() else {},
        suite_yaml=_read_text(suite_path) if suite_path.exists() else "",
        train_logs={
            node.name: read_train_log(node / "train" / "log.jsonl")
            for node in nodes
            if (node / "train" / "log.jsonl").exists()
        },
    )


#: The file of an evaluation node that holds its per-image rows.
ROWS_FILE = "rows.parquet"


def _check_intact(node: Path, record: dict[str, Any] | None) -> None:
    """Refuse to publish rows whose node record says done but whose files no longer match it.

    Only the rows of evaluation nodes (the numbers a report shows) are checked; a missing or
    changed crop image only costs its figure, which the report notes (a rerun re-makes it)."""
    if record is None or record.get("status") != "done" or "sha256" not in record:
        return  # results written without checksums (synthetic or older folders) are shown as they are
    if record.get("kind", "eval") != "eval":
        return
    files, digests = record.get("files"), record.get("sha256")
    if isinstance(files, dict) and isinstance(digests, dict) and ROWS_FILE in files:
        record = {
            **record,
            "files": {ROWS_FILE: files[ROWS_FILE]},
            "sha256": {ROWS_FILE: digests.get(ROWS_FILE)},
        }
    damage = record_damage(record, node)
    if damage is not None:
        raise IptBenchError(
            f"results of node {node.name} in {node.parent.parent} cannot be trusted: {damage}",
            "run the same `ipt-bench run` again: it recomputes that node, then rebuild the report",
        )


def _planned_labels(root: Path) -> dict[str, str] | None:
    """``{node key: display label}`` of the plan of the last run into ``root`` (None without a
    readable plan.json)."""
    try:
        plan = json.loads((root / "plan.json").read_text(encoding="utf-8"))
        return {str(node["key"]): str(node.get("label") or "") for node in plan["nodes"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def empty_rows() -> pd.DataFrame:
    """A rows table with the schema's columns (default metrics) and no rows."""
    return pd.DataFrame({column: [] for column in row_columns(DEFAULT_METRICS)})


def read_rows(path: Path) -> pd.DataFrame:
    """Read one eval node's per-image rows and check they have every expected column."""
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for damaged files
        raise IptBenchError(f"cannot read per-image results {path}: {exc}", _RERUN_FIX) from exc
    missing = [c for c in ROW_COLUMNS if c not in frame.columns]
    if missing:
        raise IptBenchError(f"per-image results {path} lack columns {missing}", _RERUN_FIX)
    if not metric_columns(frame.columns):
        raise IptBenchError(f"per-image results {path} hold no metric column", _RERUN_FIX)
    return frame


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON object, naming the file when it is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IptBenchError(f"cannot read {path}: {exc}", _RERUN_FIX) from exc
    if not isinstance(data, dict):
        raise IptBenchError(f"{path} holds a JSON {type(data).__name__}, expected an object", _RERUN_FIX)
    return data


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IptBenchError(f"cannot read {path}: {exc}", _RERUN_FIX) from exc


def read_train_log(path: Path) -> pd.DataFrame:
    """Read a training log (one JSON object per line); a torn last line from a crash is ignored."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise IptBenchError(f"cannot read training log {path}: {exc}", _RERUN_FIX) from exc
    entries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if number == len(lines):
                break
            raise IptBenchError(f"line {number} of {path} is not JSON: {exc}", _RERUN_FIX) from exc
    return pd.DataFrame(entries)
