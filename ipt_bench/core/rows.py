"""The result-row schema: one row per (evaluation, image), declared once here.

Every writer (the suite's eval nodes, ``ipt-bench eval --parquet/--json``, the synthetic results)
builds rows with :class:`ResultRow`, and every reader (collector, tables, plots, statistics)
takes column names from this module. Columns come in groups, in this order: identity, one float
column per scored metric, ``seconds``, the protocol (its preset name and every switch), the image
set, the run, the ablation factors, the node key. Adding a protocol switch or an ablation factor
is adding one :class:`Column` to its tuple below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ipt_bench.core.errors import IptBenchError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Column:
    """A row column: its name, pandas dtype (``object`` holds strings and None) and meaning."""

    name: str
    dtype: str
    doc: str
    #: Short label for table row names (ablation factors only).
    label: str = ""


IDENTITY_COLUMNS = (
    Column("suite", "object", "suite name ('' outside a suite)"),
    Column("variant", "object", "display label of the evaluated variant"),
    Column("task", "object", "task name, e.g. sr_x2, denoise_s30, derain"),
    Column("task_kind", "object", "sr, denoise or derain"),
    Column("dataset", "object", "test set name"),
    Column("scale", "int64", "SR scale (1 for denoise/derain)"),
    Column("sigma", "float64", "test noise sigma on the 0-255 scale (NaN when not denoising)"),
    Column("seed", "int64", "training seed of the evaluated model"),
    Column("image", "object", "image name within the test set"),
)
SECONDS = Column("seconds", "float64", "restoration + scoring time of the image")
#: How the row was scored and degraded. ``protocol`` names the preset the switches come from.
PROTOCOL_COLUMNS = (
    Column("protocol", "object", "preset@version the switches come from, then overridden switches"),
    Column("channel", "object", "y (BT.601 luma) or rgb"),
    Column("y_formula", "object", "bt601, bt601-f32 (BasicSR) or ipt (official IPT weights)"),
    Column("y_rounding", "object", "round (MATLAB uint8 rgb2ycbcr) or float"),
    Column("gray", "object", "gray targets: own (single channel) or replicate (to RGB)"),
    Column("crop_border", "int64", "pixels dropped from every side before scoring"),
    Column("ssim_variant", "object", "SSIM variant: valid or valid-downsample (MATLAB ssim_index.m)"),
    Column("lr_source", "object", "how the SR input was made"),
    Column("noise_mode", "object", "legacy-bgr, legacy-rgb or seeded ('' when not denoising)"),
    Column("noise_clip", "bool", "test noise clamped to [0, 255]"),
    Column("noise_round", "bool", "noisy input rounded to integers"),
    Column("input", "object", "what the row's input is (networks see it; the Input row scores it)"),
)
IMAGE_SET_COLUMNS = (
    Column("partial", "bool", "the test set had missing images (--allow-partial)"),
    Column("subset", "object", "'first N of M' when only some images were scored"),
    Column("verified", "object", "how the test files were checked before scoring ('manifest', skipped, '')"),
)
RUN_COLUMNS = (
    Column("profile", "object", "training profile"),
    Column("train_data", "object", "what the model was trained on ('' for untrained baselines)"),
)
#: Factors that tell apart results of one variant; tables name them in the row label when they vary.
ABLATION_COLUMNS = (
    Column("train_sigmas", "object", "noise levels the denoiser was fine-tuned on", label="train σ"),
    Column("contrastive_weight", "float64", "contrastive-loss weight λ of pre-training", label="λ"),
    Column("data_fraction", "float64", "share of the pre-training data used", label="data"),
)
KEY_COLUMNS = (Column("cell_key", "object", "key of the node (or run) that produced the row"),)

PROTOCOL_NAMES = tuple(c.name for c in PROTOCOL_COLUMNS)
ABLATION_NAMES = tuple(c.name for c in ABLATION_COLUMNS)
#: Default preset name until named presets exist for a row's switches.
CUSTOM_PROTOCOL = "custom"
#: Metrics scored when nothing else is asked (every suite and ``ipt-bench eval`` by default).
DEFAULT_METRICS = ("psnr", "ssim")


def fixed_columns() -> tuple[Column, ...]:
    """Every column except the metric columns, in schema order."""
    return (
        *IDENTITY_COLUMNS,
        SECONDS,
        *PROTOCOL_COLUMNS,
        *IMAGE_SET_COLUMNS,
        *RUN_COLUMNS,
        *ABLATION_COLUMNS,
        *KEY_COLUMNS,
    )


FIXED_NAMES = frozenset(c.name for c in fixed_columns())


def row_columns(metrics: Sequence[str]) -> list[str]:
    """Column names of rows scored with ``metrics``, in order."""
    names = [c.name for c in IDENTITY_COLUMNS]
    return [*names, *metrics, *(c.name for c in fixed_columns()[len(names) :])]


def row_dtypes(metrics: Sequence[str]) -> dict[str, str]:
    """``{column: dtype}`` of rows scored with ``metrics``."""
    dtypes = {c.name: c.dtype for c in fixed_columns()}
    return {name: dtypes.get(name, "float64") for name in row_columns(metrics)}


def metric_columns(columns: Sequence[str]) -> list[str]:
    """The metric columns among ``columns`` (every column the schema does not fix), in order."""
    return [c for c in columns if c not in FIXED_NAMES]


def cell_columns() -> list[str]:
    """Columns that identify a table cell: the task and dataset, the profile, the protocol, the
    image set and the ablation factors (not the suite, seed, image, metrics, time or key)."""
    identity = [c.name for c in IDENTITY_COLUMNS if c.name not in ("suite", "seed", "image")]
    groups = (RUN_COLUMNS, PROTOCOL_COLUMNS, IMAGE_SET_COLUMNS, ABLATION_COLUMNS)
    return [*identity, *(c.name for group in groups for c in group)]


@dataclass(frozen=True)
class ResultRow:
    """One scored image. ``metrics`` maps metric name -> value; ``protocol`` holds exactly the
    :data:`PROTOCOL_COLUMNS`."""

    variant: str
    task: str
    task_kind: str
    dataset: str
    scale: int
    sigma: float | None
    image: str
    metrics: Mapping[str, float]
    seconds: float
    protocol: Mapping[str, Any]
    partial: bool = False
    subset: str = ""
    verified: str = ""
    suite: str = ""
    seed: int = 0
    profile: str = ""
    train_data: str = ""
    ablation: Mapping[str, Any] = field(default_factory=dict)
    cell_key: str = ""

    def to_record(self) -> dict[str, Any]:
        """The row as ``{column: value}`` in schema order."""
        missing = [n for n in PROTOCOL_NAMES if n not in self.protocol]
        extra = [n for n in self.protocol if n not in PROTOCOL_NAMES]
        if missing or extra:
            raise IptBenchError(
                f"a result row's protocol has missing {missing} / undeclared {extra} fields",
                "declare every protocol switch in ipt_bench.core.rows.PROTOCOL_COLUMNS",
            )
        unknown = [n for n in self.ablation if n not in ABLATION_NAMES]
        if unknown:
            raise IptBenchError(
                f"undeclared ablation columns {unknown}",
                "declare them in ipt_bench.core.rows.ABLATION_COLUMNS",
            )
        values: dict[str, Any] = {
            "suite": self.suite,
            "variant": self.variant,
            "task": self.task,
            "task_kind": self.task_kind,
            "dataset": self.dataset,
            "scale": int(self.scale),
            "sigma": self.sigma,
            "seed": int(self.seed),
            "image": self.image,
            **{name: float(value) for name, value in self.metrics.items()},
            "seconds": float(self.seconds),
            **self.protocol,
            "partial": bool(self.partial),
            "subset": self.subset,
            "verified": self.verified,
            "profile": self.profile,
            "train_data": self.train_data,
            **{name: self.ablation.get(name) for name in ABLATION_NAMES},
            "cell_key": self.cell_key,
        }
        return {name: values[name] for name in row_columns(list(self.metrics))}


def rows_frame(rows: Sequence[ResultRow | Mapping[str, Any]], metrics: Sequence[str]) -> pd.DataFrame:
    """A DataFrame of ``rows`` with exactly the schema's columns and dtypes for ``metrics``."""
    import pandas as pd

    records = [r.to_record() if isinstance(r, ResultRow) else dict(r) for r in rows]
    columns = row_columns(metrics)
    for record in records:
        if list(record) != columns:
            raise IptBenchError(
                f"a result row has columns {list(record)}, the schema expects {columns}",
                "build rows with ipt_bench.core.rows.ResultRow",
            )
    frame = pd.DataFrame.from_records(records, columns=columns)
    return frame.astype(row_dtypes(metrics))
