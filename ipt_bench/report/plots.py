"""Report figures (matplotlib, Agg backend), each written as PNG and SVG.

Every function returns the written paths, or ``[]`` when its data is absent. Output is
byte-stable across reruns: fixed SVG hash salt and no date/software metadata.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import ndimage

from ipt_bench.core.atomic import atomic_path
from ipt_bench.metrics.registry import METRICS, get_metric, metric_label
from ipt_bench.report.tables import summarize

STYLE = {"svg.hashsalt": "ipt-bench", "svg.fonttype": "none", "figure.dpi": 100, "font.size": 9}
_NO_METADATA = {"svg": {"Date": None, "Creator": None}, "png": {"Software": None}}


def save_figure(figure: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` atomically, close the figure, return both paths."""
    paths = []
    with plt.rc_context(STYLE):
        for fmt in ("png", "svg"):
            target = Path(out_dir) / f"{stem}.{fmt}"
            with atomic_path(target) as tmp:
                figure.savefig(tmp, format=fmt, metadata=_NO_METADATA[fmt], bbox_inches="tight")
            paths.append(target)
    plt.close(figure)
    return paths


def family(variant: str) -> str:
    """The variant name without a trailing ``[param=...]`` override, to join ablation points into one line."""
    return re.sub(r"\[.*\]$", "", str(variant))


def plot_generalization(rows: pd.DataFrame, out_dir: Path, *, metric: str = "psnr") -> list[Path]:
    """Denoising ``metric`` vs test sigma, one line per variant; filled markers at training sigmas."""
    data = summarize(rows[rows["task_kind"] == "denoise"])
    if data.empty or data["sigma"].nunique() < 2:
        return []
    panels = sorted(data["dataset"].unique())
    with plt.rc_context(STYLE):
        # the legend sits right of the last panel: a sweep easily has nine lines
        figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels) + 3.6, 3.4), squeeze=False)
        for ax, dataset in zip(axes[0], panels, strict=True):
            for (variant, trained), line in data[data["dataset"] == dataset].groupby(
                ["variant", "train_sigmas"]
            ):
                line = line.sort_values("sigma")
                drawn = ax.errorbar(
                    line["sigma"],
                    line[metric],
                    yerr=line[f"{metric}_ci"].fillna(0),
                    marker="o",
                    mfc="white",
                    capsize=3,
                    label=f"{variant} (trained σ {trained or '-'})",
                )
                # "30", or "5+15+25" for one model trained on mixed levels (planner's label)
                seen = {float(s) for s in re.split(r"[,+]", str(trained)) if s.strip()}
                at_train = line[line["sigma"].isin(seen)]
                ax.plot(at_train["sigma"], at_train[metric], "o", color=drawn.lines[0].get_color(), zorder=5)
            ax.set(title=f"{dataset}: filled = trained σ", xlabel="test noise σ", ylabel=axis_label(metric))
        axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    return save_figure(figure, out_dir, "generalization" if metric == "psnr" else f"generalization_{metric}")


def axis_label(metric: str) -> str:
    """``PSNR (dB)``: the metric's registered label and unit."""
    unit = get_metric(metric).unit if metric in METRICS else ""
    return f"{metric_label(metric)} ({unit})" if unit else metric_label(metric)


def _sweep_plot(
    rows: pd.DataFrame, out_dir: Path, column: str, stem: str, xlabel: str, scale: float, metric: str
) -> list[Path]:
    data = summarize(rows).assign(family=lambda f: f["variant"].map(family))
    lines = [
        (key, group.sort_values(column))
        for key, group in data.groupby(["task", "dataset", "family"], sort=True)
        if group[column].nunique() >= 2
    ]
    if not lines:
        return []
    with plt.rc_context(STYLE):
        figure, ax = plt.subplots(figsize=(5, 3.4))
        for (task, dataset, name), group in lines:
            ax.errorbar(
                group[column] * scale,
                group[metric],
                yerr=group[f"{metric}_ci"].fillna(0),
                marker="o",
                capsize=3,
                label=f"{name} · {task} · {dataset}",
            )
        ax.set(xlabel=xlabel, ylabel=axis_label(metric))
        ax.legend(fontsize=7)
    return save_figure(figure, out_dir, stem if metric == "psnr" else f"{stem}_{metric}")


def plot_data_fraction(rows: pd.DataFrame, out_dir: Path, *, metric: str = "psnr") -> list[Path]:
    """``metric`` vs percentage of pre-training data, one line per variant family (IPT vs CNN)."""
    return _sweep_plot(
        rows, out_dir, "data_fraction", "data_fraction", "pre-training data (%)", 100.0, metric
    )


def plot_lambda(rows: pd.DataFrame, out_dir: Path, *, metric: str = "psnr") -> list[Path]:
    """``metric`` vs contrastive-loss weight λ with 95% CIs over seeds."""
    return _sweep_plot(rows, out_dir, "contrastive_weight", "lambda", "contrastive weight λ", 1.0, metric)


def plot_training_curves(logs: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """Loss vs step for each training node, and validation PSNR where logged."""
    logs = {key: log for key, log in logs.items() if {"step", "loss"} <= set(log.columns) and not log.empty}
    if not logs:
        return []
    with plt.rc_context(STYLE):
        figure, (loss_ax, psnr_ax) = plt.subplots(1, 2, figsize=(9, 3.2))
        for key, log in sorted(logs.items()):
            loss_ax.plot(log["step"], log["loss"], label=key)
            if "val_psnr" in log.columns:
                val = log.dropna(subset=["val_psnr"])
                psnr_ax.plot(val["step"], val["val_psnr"], marker=".", label=key)
        loss_ax.set(xlabel="step", ylabel="training loss", yscale="log")
        psnr_ax.set(xlabel="step", ylabel="validation PSNR (dB)")
        loss_ax.legend(fontsize=7)
    return save_figure(figure, out_dir, "training_curves")


def plot_scatter(rows: pd.DataFrame, a: str, b: str, out_dir: Path, *, metric: str = "psnr") -> list[Path]:
    """Per-image scores of variant ``a`` (x) vs ``b`` (y) over all shared images, with the y = x line."""
    keys = ["task", "dataset", "image"]
    means = rows.groupby(["variant", *keys])[metric].mean()
    if a not in means.index.get_level_values(0) or b not in means.index.get_level_values(0):
        return []
    paired = pd.concat({"a": means.loc[a], "b": means.loc[b]}, axis=1).dropna()
    if paired.empty:
        return []
    with plt.rc_context(STYLE):
        figure, ax = plt.subplots(figsize=(4, 4))
        for task, group in paired.groupby(level="task"):
            ax.scatter(group["a"], group["b"], s=12, label=task)
        low, high = paired.to_numpy().min(), paired.to_numpy().max()
        ax.plot([low, high], [low, high], color="gray", lw=0.8)
        ax.set(
            xlabel=f"{a} {metric_label(metric)}",
            ylabel=f"{b} {metric_label(metric)}",
            title="per image (below line: first wins)",
        )
        ax.legend(fontsize=7)
    return save_figure(figure, out_dir, f"scatter_{_slug(a)}_vs_{_slug(b)}")


@dataclass
class CropCase:
    """One image for the visual comparison: named panels (input, outputs, ground truth), all HxW(x3) uint8."""

    name: str
    panels: dict[str, np.ndarray]


def largest_differences(rows: pd.DataFrame, a: str, b: str, k: int = 3, *, metric: str = "psnr") -> list[str]:
    """Names of the ``k`` images where ``a`` and ``b`` differ most (absolute per-image difference)."""
    means = rows.groupby(["variant", "image"])[metric].mean()
    if a not in means.index.get_level_values(0) or b not in means.index.get_level_values(0):
        return []
    diff = (means.loc[a] - means.loc[b]).dropna().abs().sort_values(ascending=False, kind="stable")
    return [str(name) for name in diff.index[:k]]


def crop_window(first: np.ndarray, second: np.ndarray, size: int) -> tuple[int, int]:
    """Top-left corner of the ``size`` x ``size`` window where two images differ most (a colour
    image against a gray one, such as a Y-only output, is compared on its channel mean)."""
    a, b = first.astype(float), second.astype(float)
    if a.ndim != b.ndim:
        a, b = (x.mean(axis=2) if x.ndim == 3 else x for x in (a, b))
    diff = np.abs(a - b)
    diff = diff.sum(axis=2) if diff.ndim == 3 else diff
    size = min(size, *diff.shape)
    energy = ndimage.uniform_filter(diff, size=size, mode="constant")
    half = size // 2
    valid = energy[half : diff.shape[0] - size + half + 1, half : diff.shape[1] - size + half + 1]
    top, left = np.unravel_index(np.argmax(valid), valid.shape)
    return int(top), int(left)


def plot_crops(cases: list[CropCase], out_dir: Path, *, size: int = 64, stem: str = "crops") -> list[Path]:
    """Grid of crops (one row per image) at the window where the first two non-input panels differ most."""
    cases = [case for case in cases if len(case.panels) >= 2]
    if not cases:
        return []
    columns = max(len(case.panels) for case in cases)
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(len(cases), columns, figsize=(2 * columns, 2 * len(cases)), squeeze=False)
        for row, case in zip(axes, cases, strict=True):
            images = list(case.panels.values())
            outputs = images[1:3] if len(images) >= 3 else images[:2]
            top, left = crop_window(outputs[0], outputs[1], size)
            for ax in row:
                ax.axis("off")
            for ax, (label, image) in zip(row, case.panels.items(), strict=False):
                crop = image[top : top + size, left : left + size]
                ax.imshow(
                    crop, cmap="gray" if crop.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest"
                )
                ax.set_title(f"{case.name}: {label}", fontsize=7)
    return save_figure(figure, out_dir, stem)


def _slug(text: str) -> str:
    """A file-name-safe form of ``text``; a shortened or rewritten one gets a hash of the original,
    so two long names sharing their first 60 characters never share a figure."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "x"
    if slug == str(text) and len(slug) <= 60:
        return slug
    return f"{slug[:60]}-{hashlib.sha256(str(text).encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"
