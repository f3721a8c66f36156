"""Published reference numbers (IPT paper tables, baselines, re-runs of official checkpoints).

The numbers live in the package data file ``references.csv``, one value per row with its source,
a verification status, the protocol it was measured under (a preset name, optionally with
overridden switches: ``ipt``, ``kair``, ``ipt+channel=rgb``) and the image set (``full``, or what
subset), so report tables never contain hand-typed numbers and compare only like with like.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.protocols import PRESETS

REFERENCE_COLUMNS = (
    "table",
    "method",
    "task",
    "dataset",
    "scale",
    "sigma",
    "metric",
    "value",
    "channel",
    "protocol",
    "image_set",
    "contrastive_weight",
    "data_fraction",
    "source",
    "status",
    "note",
)
KEY_COLUMNS = (
    "table",
    "method",
    "task",
    "dataset",
    "metric",
    "channel",
    "contrastive_weight",
    "data_fraction",
)
STATUSES = ("verified", "consistent", "unconfirmed")

# Which reference table sits beside measured rows of each task kind, and whose numbers deltas use.
DEFAULT_TABLES = {
    "sr": ("table1_sr", "bicubic_sr"),
    "denoise": ("table2_denoise", "dpir", "reproduction"),
    "derain": ("table3_derain", "reproduction"),
}
DEFAULT_BASELINE = {
    "sr": ("table1_sr", "IPT"),
    "denoise": ("table2_denoise", "IPT"),
    "derain": ("table3_derain", "IPT"),
}


def load_references() -> pd.DataFrame:
    """All reference numbers as a DataFrame with :data:`REFERENCE_COLUMNS` (``value`` NaN = N/A)."""
    with resources.files("ipt_bench.report").joinpath("references.csv").open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, keep_default_na=False, na_values={"value": [""], "sigma": [""]})
    missing = [c for c in REFERENCE_COLUMNS if c not in frame.columns]
    if missing:
        raise IptBenchError(
            f"ipt_bench/report/references.csv lacks columns {missing}",
            "restore the file from the repository (pip install -e . or git checkout it)",
        )
    for column in ("value", "sigma", "contrastive_weight", "data_fraction"):
        frame[column] = pd.to_numeric(frame[column].replace("", float("nan")), errors="raise").astype(float)
    frame["scale"] = frame["scale"].astype(int)
    frame["task_kind"] = frame["task"].str.replace(r"_.*$", "", regex=True)
    unknown = sorted({p for p in frame["protocol"] if p.partition("+")[0] not in PRESETS})
    if unknown:
        raise IptBenchError(
            f"references.csv names unknown protocol presets {unknown}", f"use one of {', '.join(PRESETS)}"
        )
    return frame[[*REFERENCE_COLUMNS, "task_kind"]]


def reference_tables(kind: str) -> tuple[str, ...]:
    """The reference tables shown beside measured rows of task kind ``kind`` (sr|denoise|derain)."""
    if kind not in DEFAULT_TABLES:
        raise IptBenchError(
            f"unknown task kind {kind!r} for reference tables", f"use one of {sorted(DEFAULT_TABLES)}"
        )
    return DEFAULT_TABLES[kind]
