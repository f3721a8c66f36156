"""Protocol sensitivity: the same restored images scored under every preset and under every single
switch flipped away from a base preset, with the dB each choice moves the mean scores.

Each image is restored once per degradation (noise or LR switches change the input, so they get a
restoration of their own); every scoring switch re-scores the same outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ipt_bench.core.protocols import PRESETS, SWITCH_VALUES, Protocol, protocol_label, resolve_protocol
from ipt_bench.core.tasks import Task
from ipt_bench.eval.evaluate import evaluate_protocols

#: Switches that matter for each task kind (the rest cannot move its scores).
_RELEVANT = {
    "sr": ("channel", "y_formula", "y_rounding", "gray", "border", "lr_source", "ssim_variant"),
    "denoise": ("channel", "y_formula", "y_rounding", "gray", "noise_mode", "noise_clip", "noise_round"),
    "derain": ("channel", "y_formula", "y_rounding", "gray", "ssim_variant"),
}
#: The published reference point: official IPT weights, CBSD68 sigma 30, Y vs RGB (a re-run of
#: the official code; Pretrained-IPT issue 48).
PUBLISHED_POINT = "official IPT weights, CBSD68 σ30: 32.415 dB on Y vs 30.748 dB on RGB (-1.667 dB)"


@dataclass(frozen=True)
class SensitivityRow:
    """Mean scores of one protocol and their difference from the base preset's."""

    dataset: str
    variation: str
    protocol: str
    psnr: float
    ssim: float
    d_psnr: float
    d_ssim: float


def variations(base: str, kind: str) -> list[tuple[str, Protocol]]:
    """``(description, protocol)``: every preset, then every single switch of ``base`` flipped to
    each other value that can matter for task kind ``kind``."""
    found = [(f"preset {name}", resolve_protocol(name)) for name in PRESETS]
    origin = resolve_protocol(base)
    for switch in _RELEVANT[kind]:
        values = (*SWITCH_VALUES[switch], 0) if switch == "border" else SWITCH_VALUES[switch]
        for value in values:
            if value != getattr(origin, switch):
                found.append(
                    (f"{base}: {switch}={str(value).lower()}", origin.with_overrides({switch: value}))
                )
    return found


def sensitivity(
    *,
    task: Task,
    datasets: Sequence[str],
    base: str = "ipt",
    model: str | None = None,
    checkpoint: Path | None = None,
    data_root: Path | None = None,
    max_images: int | None = None,
) -> list[SensitivityRow]:
    """Score ``model`` (or ``checkpoint``) on each dataset under every variation of ``base``."""
    found = variations(base, task.kind)
    origin = resolve_protocol(base)
    protocols = (origin, *(p for _, p in found))
    rows = []
    for dataset in datasets:
        results = evaluate_protocols(
            task=task,
            dataset=dataset,
            protocols=protocols,
            model=model,
            checkpoint=checkpoint,
            task_idx=0 if checkpoint is not None else None,
            data_root=data_root,
            max_images=max_images,
        )
        reference = results[0]
        for (label, protocol), result in zip(found, results[1:], strict=True):
            rows.append(
                SensitivityRow(
                    dataset=dataset,
                    variation=label,
                    protocol=protocol_label(protocol),
                    psnr=result.psnr,
                    ssim=result.ssim,
                    d_psnr=result.psnr - reference.psnr,
                    d_ssim=result.ssim - reference.ssim,
                )
            )
    return rows


def sensitivity_markdown(rows: Sequence[SensitivityRow], title: str, base: str) -> str:
    """A Markdown table of ``rows`` under ``title``, with the published reference point."""
    lines = [
        f"**{title}** Δ = mean over images under the variation minus under `{base}`.",
        f"Published reference point: {PUBLISHED_POINT}.",
        "",
        "| dataset | variation | protocol | PSNR | Δ PSNR (dB) | SSIM | Δ SSIM |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.dataset} | {r.variation} | `{r.protocol}` | {r.psnr:.3f} | {r.d_psnr:+.4f} | "
            f"{r.ssim:.4f} | {r.d_ssim:+.4f} |"
        )
    return "\n".join(lines) + "\n"
