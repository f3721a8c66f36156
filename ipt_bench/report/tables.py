"""Paper-layout result tables: reported reference rows beside measured rows, with deltas.

Measured numbers are the mean over images per seed, then mean +/- 95% t-interval over seeds
(no interval for a single seed). Rows say where they come from (``reported (<table>)`` or
``measured``), the profile and the channel; the caption states the measurement protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ipt_bench.core.atomic import atomic_write_text
from ipt_bench.core.errors import IptBenchError
from ipt_bench.core.protocols import differing_switches, protocol_key
from ipt_bench.core.rows import ABLATION_COLUMNS, cell_columns, metric_columns
from ipt_bench.metrics.registry import metric_digits, metric_label
from ipt_bench.report.csv_safety import safe_csv
from ipt_bench.report.references import DEFAULT_BASELINE, reference_tables

CELL_COLUMNS = cell_columns()
# Factors that tell apart cells of one variant; shown in the row label when they vary.
ABLATION_FACTORS = {c.name: c.label for c in ABLATION_COLUMNS}
DATASET_ORDER = ("Set5", "Set14", "B100", "Urban100", "CBSD68", "BSD68", "Rain100L")
INDEX_NAMES = ["source", "method", "profile", "protocol", "channel"]
FULL_SET = "full"
MISSING = "–"
TITLES = {"sr": "Super-resolution", "denoise": "Color denoising", "derain": "Deraining"}


def mean_ci(values: np.ndarray | pd.Series, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the two-sided Student-t interval; half-width NaN for one value."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return float("nan"), float("nan")
    if data.size == 1:
        return float(data[0]), float("nan")
    sem = data.std(ddof=1) / np.sqrt(data.size)
    return float(data.mean()), float(stats.t.ppf(0.5 + confidence / 2, data.size - 1) * sem)


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: per-seed image means, then mean and 95% CI half-width over seeds, for
    every metric column of ``rows``."""
    metrics = metric_columns(rows.columns)
    if rows.empty:
        stats_columns = [f"{m}{suffix}" for m in metrics for suffix in ("", "_ci")]
        return pd.DataFrame(columns=[*CELL_COLUMNS, *stats_columns, "seconds"])
    means = {metric: (metric, "mean") for metric in metrics}
    per_seed = (
        rows.groupby([*CELL_COLUMNS, "seed"], dropna=False, sort=True)
        .agg(**means, seconds=("seconds", "sum"), n_images=("image", "nunique"))
        .reset_index()
    )
    records = []
    for key, group in per_seed.groupby(CELL_COLUMNS, dropna=False, sort=True):
        values = {}
        for metric in metrics:
            values[metric], values[f"{metric}_ci"] = mean_ci(group[metric])
        records.append(
            {
                **dict(zip(CELL_COLUMNS, key, strict=True)),
                **values,
                "seconds": float(group["seconds"].mean()),
                "n_seeds": int(group["seed"].nunique()),
                "n_images": int(group["n_images"].max()),
            }
        )
    return pd.DataFrame.from_records(records)


def setting_label(kind: str, scale: float, sigma: float) -> str:
    """Column group of a task: ``x2`` for SR, ``σ30`` for denoising, ``-`` for deraining."""
    if kind == "sr":
        return f"x{int(scale)}"
    if kind == "denoise":
        return f"σ{int(sigma)}" if np.isfinite(sigma) else "σ?"
    return "-"


@dataclass
class PaperTable:
    """A rendered table: numeric ``values``/``ci``/``delta`` frames and a string ``display`` frame."""

    title: str
    caption: str
    values: pd.DataFrame
    ci: pd.DataFrame
    delta: pd.DataFrame
    display: pd.DataFrame

    def to_csv(self) -> str:
        """Numbers (value, CI half-width, delta) as long-format CSV."""
        long = pd.concat(
            {
                "value": self.values.stack(level=[0, 1, 2], future_stack=True),
                "ci95": self.ci.stack(level=[0, 1, 2], future_stack=True),
                "delta": self.delta.stack(level=[0, 1, 2], future_stack=True),
            },
            axis=1,
        ).dropna(subset=["value"])
        return safe_csv(long.reset_index())

    def to_markdown(self) -> str:
        """A GitHub-flavoured Markdown table with the caption above it."""
        # Hand-written: DataFrame.to_markdown needs the optional 'tabulate' package.
        frame = _flat(self.display)
        header = [*INDEX_NAMES, *frame.columns]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for index, row in frame.iterrows():
            cells = [*(str(i) for i in index), *row.astype(str)]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return f"**{self.title}.** {self.caption}\n\n" + "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        """A booktabs LaTeX table (``\\usepackage{booktabs}``) with the caption."""
        return self.display.to_latex(
            caption=f"{self.title}. {self.caption}",
            escape=True,
            multicolumn=True,
            multicolumn_format="c",
            multirow=False,
        )

    def to_html(self) -> str:
        """An HTML ``<table>`` (escaped cells, no caption: the page prints it)."""
        return self.display.to_html(classes="results", escape=True, na_rep=MISSING, border=0)

    def export(self, out_dir: Path, stem: str) -> dict[str, Path]:
        """Write ``stem.csv/.md/.tex/.html`` into ``out_dir`` atomically; return the paths by format."""
        renders = {"csv": self.to_csv, "md": self.to_markdown, "tex": self.to_latex, "html": self.to_html}
        return {
            fmt: atomic_write_text(Path(out_dir) / f"{stem}.{fmt}", render())
            for fmt, render in renders.items()
        }


def paper_table(
    summary: pd.DataFrame,
    references: pd.DataFrame,
    kind: str,
    *,
    metrics: tuple[str, ...] = ("psnr",),
    tables: tuple[str, ...] | None = None,
    baseline: tuple[str, str] | None = None,
    include_reference_columns: bool = True,
) -> PaperTable:
    """Rows = methods, columns = (setting, dataset, metric) like the paper, deltas vs ``baseline``.

    ``baseline`` is ``(reference table, method)``, e.g. ``("table1_sr", "IPT")``; a delta is only
    computed between like and like: the same protocol (preset and every switch) and full image
    sets on both sides. Otherwise the Δ cell says why not (``subset 5/14``, ``matlab@1 row vs
    ipt reference (y_formula, y_rounding differ)``).
    """
    tables = tables if tables is not None else reference_tables(kind)
    baseline = baseline if baseline is not None else DEFAULT_BASELINE[kind]
    measured = _measured_entries(summary[summary["task_kind"] == kind], metrics)
    reported = _reported_entries(references, kind, metrics, tables)
    if measured.empty and reported.empty:
        raise IptBenchError(
            f"no measured or reported numbers for task kind {kind!r}", "check the results rows"
        )
    if not include_reference_columns and not measured.empty:
        cols = set(zip(measured["setting"], measured["dataset"], strict=True))
        reported = reported[[c in cols for c in zip(reported["setting"], reported["dataset"], strict=True)]]
    entries = pd.concat([reported, measured], ignore_index=True)
    base = reported[(reported["table"] == baseline[0]) & (reported["method"] == baseline[1])]
    entries["delta"], entries["why"] = _like_with_like_deltas(entries, base)
    values, ci, delta = (_pivot(entries, field) for field in ("value", "ci", "delta"))
    why = _pivot(entries, "why", text=True)
    display = _display(values, ci, delta, _pivot(entries, "unconfirmed"), metrics, why)
    return PaperTable(
        title=f"{TITLES.get(kind, kind)}: {', '.join(metric_label(m) for m in metrics)}",
        caption=protocol_caption(summary[summary["task_kind"] == kind], baseline),
        values=values,
        ci=ci,
        delta=delta,
        display=display,
    )


def protocol_caption(summary: pd.DataFrame, baseline: tuple[str, str]) -> str:
    """State the measurement protocol of the measured rows and how to read the table."""
    parts = []
    if not summary.empty:

        def values(column: str) -> str:
            return "/".join(str(v) for v in sorted(summary[column].dropna().astype(str).unique())) or "n/a"

        parts.append(
            f"Measured: protocol {values('protocol')}, channel {values('channel')}, "
            f"Y {values('y_formula')} {values('y_rounding')}, gray {values('gray')}, "
            f"border crop {values('crop_border')} px, LR source {values('lr_source')}, "
            f"noise mode {values('noise_mode')}, profile {values('profile')}"
        )
        inputs = sorted(summary.loc[summary["variant"] == "identity", "input"].dropna().astype(str).unique())
        if inputs:
            parts.append(f"identity rows score the network input itself: {'; '.join(inputs)}")
        partial = sorted(summary.loc[summary["partial"].astype(bool), "dataset"].unique())
        parts.append(f"partial datasets: {', '.join(partial)}" if partial else "all datasets complete")
        subsets = sorted(
            f"{row.dataset} {row.subset}" for row in summary[summary["subset"].astype(bool)].itertuples()
        )
        if subsets:
            parts.append(f"image subsets scored: {', '.join(dict.fromkeys(subsets))}")
        parts.append("measured cells: mean over images per seed, then mean ± 95% t-interval over seeds")
    parts.append(
        f"Reported: published numbers from references.csv († = unconfirmed); "
        f"Δ = row minus {baseline[1]} ({baseline[0]}), only under the same protocol on full image "
        f"sets (otherwise the Δ cell says why)"
    )
    return "; ".join(parts) + "."


def _measured_entries(summary: pd.DataFrame, metrics: tuple[str, ...]) -> pd.DataFrame:
    if summary.empty:
        return pd.DataFrame()
    labels = _method_labels(summary)
    frames = []
    for metric in metrics:
        frames.append(
            pd.DataFrame(
                {
                    "source": "measured",
                    "method": labels,
                    "profile": summary["profile"].astype(str),
                    "protocol": summary["protocol"].astype(str),
                    "channel": summary["channel"].astype(str),
                    "image_set": [_image_set(row) for row in summary.itertuples()],
                    "table": "measured",
                    "setting": [
                        setting_label(k, s, g)
                        for k, s, g in zip(
                            summary["task_kind"], summary["scale"], summary["sigma"], strict=True
                        )
                    ],
                    "dataset": summary["dataset"].astype(str),
                    "metric": metric,
                    "value": summary[metric].astype(float),
                    "ci": summary[f"{metric}_ci"].astype(float),
                    "unconfirmed": 0.0,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _reported_entries(
    references: pd.DataFrame, kind: str, metrics: tuple[str, ...], tables: tuple[str, ...]
) -> pd.DataFrame:
    refs = references[
        (references["task_kind"] == kind)
        & references["table"].isin(tables)
        & references["metric"].isin(metrics)
    ]
    return pd.DataFrame(
        {
            "source": "reported (" + refs["table"] + ")",
            "method": refs["method"],
            "profile": "paper",
            "protocol": refs["protocol"],
            "channel": refs["channel"],
            "image_set": refs["image_set"],
            "table": refs["table"],
            "setting": [setting_label(kind, s, g) for s, g in zip(refs["scale"], refs["sigma"], strict=True)],
            "dataset": refs["dataset"],
            "metric": refs["metric"],
            "value": refs["value"],
            "ci": float("nan"),
            "unconfirmed": (refs["status"] == "unconfirmed").astype(float),
        }
    )


def _image_set(row) -> str:
    """``full``, ``subset 5/14`` (first N of M scored) or ``partial set (N images)``."""
    if row.subset:
        numbers = [int(t) for t in str(row.subset).split() if t.isdigit()]
        return f"subset {numbers[0]}/{numbers[1]}" if len(numbers) == 2 else f"subset ({row.subset})"
    if bool(row.partial):
        return f"partial set ({int(row.n_images)} images)"
    return FULL_SET


def _like_with_like_deltas(entries: pd.DataFrame, base: pd.DataFrame) -> tuple[list[float], list[str]]:
    """Per entry: value minus the baseline's under the same protocol on full image sets (NaN
    otherwise), and why there is no Δ where a baseline number exists ('' when there is one)."""
    by_cell: dict[tuple, list] = {}
    for ref in base.itertuples():
        by_cell.setdefault((ref.setting, ref.dataset, ref.metric), []).append(ref)
    deltas, reasons = [], []
    for entry in entries.itertuples():
        refs = by_cell.get((entry.setting, entry.dataset, entry.metric), [])
        key = protocol_key(entry.protocol)
        same = [r for r in refs if protocol_key(r.protocol) == key]
        delta, why = float("nan"), ""
        if same and entry.image_set == FULL_SET and same[0].image_set == FULL_SET:
            delta = float(entry.value - same[0].value)
        elif same:
            why = entry.image_set if entry.image_set != FULL_SET else f"reference on {same[0].image_set} set"
        elif refs:
            other = refs[0].protocol
            differ = ", ".join(differing_switches(key, other)[:3])
            why = f"{entry.protocol} row vs {other} reference ({differ} differ)"
        deltas.append(delta)
        reasons.append(why)
    return deltas, reasons


def _method_labels(summary: pd.DataFrame) -> list[str]:
    varying = [
        column
        for column in ABLATION_FACTORS
        if (summary.groupby("variant")[column].nunique(dropna=False) > 1).any()
    ]
    labels = []
    for _, row in summary.iterrows():
        extras = [f"{ABLATION_FACTORS[c]}={row[c]}" for c in varying]
        labels.append(f"{row['variant']} ({', '.join(extras)})" if extras else str(row["variant"]))
    return labels


def _sort_key(column: tuple[str, str, str]) -> tuple:
    setting, dataset, metric = column
    digits = "".join(ch for ch in setting if ch.isdigit())
    rank = DATASET_ORDER.index(dataset) if dataset in DATASET_ORDER else len(DATASET_ORDER)
    return (int(digits) if digits else 0, setting, rank, dataset, metric)


def _pivot(entries: pd.DataFrame, field: str, text: bool = False) -> pd.DataFrame:
    wide = entries.pivot_table(
        index=INDEX_NAMES,
        columns=["setting", "dataset", "metric"],
        values=field,
        aggfunc="first",
        dropna=False,
        sort=False,
    )
    order = list(dict.fromkeys(map(tuple, entries[INDEX_NAMES].to_numpy())))
    columns = sorted({tuple(c) for c in entries[["setting", "dataset", "metric"]].to_numpy()}, key=_sort_key)
    wide = wide.reindex(
        index=pd.MultiIndex.from_tuples(order, names=INDEX_NAMES),
        columns=pd.MultiIndex.from_tuples(columns, names=["setting", "dataset", "metric"]),
    )
    return wide.fillna("") if text else wide.astype(float)


def _display(
    values: pd.DataFrame,
    ci: pd.DataFrame,
    delta: pd.DataFrame,
    unconfirmed: pd.DataFrame,
    metrics: tuple[str, ...],
    why: pd.DataFrame,
) -> pd.DataFrame:
    columns = {}
    for setting, dataset, metric in values.columns:
        digits = metric_digits(metric)
        label = metric_label(metric)
        col = (setting, dataset, metric)
        text = []
        for value, half, flag in zip(values[col], ci[col], unconfirmed[col], strict=True):
            if not np.isfinite(value):
                text.append(MISSING)
                continue
            places = _places(value, digits)
            cell = f"{value:.{places}f}" + (f" ± {half:.{digits}f}" if np.isfinite(half) else "")
            text.append(cell + ("†" if flag == 1.0 else ""))
        columns[(setting, dataset, label)] = text
        columns[(setting, dataset, f"Δ {label}")] = [
            f"{d:+.{digits}f}" if np.isfinite(d) else (f"no Δ: {w}" if w else MISSING)
            for d, w in zip(delta[col], why[col], strict=True)
        ]
    frame = pd.DataFrame(columns, index=values.index)
    frame.columns.names = ["setting", "dataset", "metric"]
    return frame


def _places(value: float, digits: int) -> int:
    """Decimals to print: ``digits``, or up to two more when a published number has them (32.415)."""
    for places in range(digits, digits + 3):
        if abs(round(value, places) - value) < 1e-9:
            return places
    return digits


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    flat = frame.copy()
    flat.columns = [" ".join(part for part in col if part and part != "-") for col in frame.columns]
    return flat
