"""Report kinds: which tables (task kind, metrics, reference tables, baseline of the Δ column)
and which figures a report shows. A suite's ``report.kind`` picks one; results without a suite
report block get ``generic``. Other packages add kinds through the ``ipt_bench.report_kinds``
entry-point group.
"""

from __future__ import annotations

from dataclasses import dataclass

from ipt_bench.core.plugins import Registry
from ipt_bench.report.references import DEFAULT_BASELINE, DEFAULT_TABLES

#: Every figure the HTML report can draw (``ipt_bench.report.figures``), in page order.
ALL_FIGURES = ("generalization", "data_fraction", "lambda", "scatter", "training_curves", "crops")


@dataclass(frozen=True)
class TableSpec:
    """One paper-layout table: measured rows of ``task_kind`` scored with ``metrics`` (plus any
    other metric the rows hold), beside ``reference_tables``, Δ against ``baseline``
    (reference table, method)."""

    task_kind: str
    metrics: tuple[str, ...]
    reference_tables: tuple[str, ...]
    baseline: tuple[str, str]


def paper_tables(psnr_only: tuple[str, ...] = ("sr", "denoise")) -> tuple[TableSpec, ...]:
    """The three task tables of the paper: PSNR for SR and denoising, PSNR and SSIM for deraining."""
    return tuple(
        TableSpec(
            kind,
            ("psnr",) if kind in psnr_only else ("psnr", "ssim"),
            DEFAULT_TABLES[kind],
            DEFAULT_BASELINE[kind],
        )
        for kind in ("sr", "denoise", "derain")
    )


@dataclass(frozen=True)
class ReportKind:
    """A report's content: its tables (each drawn when the results hold its task kind) and its
    figures (names from :data:`ALL_FIGURES`, each drawn when its data exist)."""

    name: str
    tables: tuple[TableSpec, ...]
    figures: tuple[str, ...]
    description: str = ""


REPORT_KINDS: Registry[ReportKind] = Registry("report kind", package=None, group="ipt_bench.report_kinds")


def register_report_kind(kind: ReportKind) -> ReportKind:
    """Add ``kind`` to the registry."""
    return REPORT_KINDS.register(kind)


def get_report_kind(name: str) -> ReportKind:
    """The report kind ``name`` (ConfigError naming the known ones otherwise)."""
    return REPORT_KINDS.get(name)


_COMMON = ("scatter", "training_curves", "crops")
for _kind in (
    ReportKind("generic", paper_tables(), ALL_FIGURES, "every table and figure the results allow"),
    ReportKind("table1", paper_tables(), _COMMON, "Table 1: super-resolution"),
    ReportKind("table2", paper_tables(), _COMMON, "Table 2: colour denoising"),
    ReportKind("table3", paper_tables(), _COMMON, "Table 3: deraining"),
    ReportKind(
        "generalization", paper_tables(), ("generalization", *_COMMON), "denoising at unseen noise levels"
    ),
    ReportKind("contrastive", paper_tables(), ("lambda", *_COMMON), "the contrastive-loss weight λ"),
    ReportKind("pretrain_data", paper_tables(), ("data_fraction", *_COMMON), "share of pre-training data"),
):
    register_report_kind(_kind)
