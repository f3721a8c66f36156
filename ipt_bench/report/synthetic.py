"""A small synthetic results directory in the suite's on-disk layout (for tests and demos).

The numbers are random draws around fixed offsets, not measurements.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ipt_bench.core.atomic import atomic_path, atomic_write_text
from ipt_bench.core.protocols import resolve_protocol, row_switches
from ipt_bench.core.rows import DEFAULT_METRICS, ResultRow, rows_frame

SUITE_YAML = """name: synthetic
profile: smoke
variants: [ipt-small, cnn-small]
tasks: [sr_x2, denoise_s30, denoise_s50, derain]
"""


def synthetic_rows(
    variants: dict[str, float] | None = None,
    *,
    seeds: tuple[int, ...] = (0, 1),
    n_images: int = 5,
    rng_seed: int = 0,
) -> pd.DataFrame:
    """Per-image rows for each variant (name -> PSNR offset in dB) over SR, denoising and deraining."""
    variants = variants or {"ipt-small": 0.3, "cnn-small": 0.0}
    rng = np.random.default_rng(rng_seed)
    cells = [
        ("sr_x2", "sr", "Set5", 2, float("nan"), 33.0, 2, "30,50", 0.1, 1.0),
        ("denoise_s30", "denoise", "CBSD68", 1, 30.0, 30.0, 0, "30,50", 0.1, 1.0),
        ("denoise_s50", "denoise", "CBSD68", 1, 50.0, 27.5, 0, "30,50", 0.1, 1.0),
        ("denoise_s10", "denoise", "CBSD68", 1, 10.0, 35.0, 0, "30,50", 0.1, 1.0),
        ("derain", "derain", "Rain100L", 1, float("nan"), 36.0, 0, "", 0.1, 1.0),
    ]
    records = []
    image_effect = rng.normal(0.0, 1.0, size=n_images)  # image difficulty, shared by all variants
    for variant, offset in variants.items():
        for task, kind, dataset, scale, sigma, level, crop, train_sigmas, weight, fraction in cells:
            for seed in seeds:
                noise = rng.normal(0.0, 0.05, size=n_images)
                for index in range(n_images):
                    psnr = level + offset + image_effect[index] + noise[index]
                    records.append(
                        ResultRow(
                            suite="synthetic",
                            variant=variant,
                            task=task,
                            task_kind=kind,
                            dataset=dataset,
                            scale=scale,
                            sigma=sigma,
                            seed=seed,
                            image=f"img_{index:03d}",
                            metrics={"psnr": psnr, "ssim": min(0.99, 0.6 + psnr / 100)},
                            seconds=0.01 * (index + 1),
                            protocol=row_switches(
                                resolve_protocol("matlab", {"noise_mode": "seeded"}),
                                border=crop,
                                denoise=kind == "denoise",
                                lr_source="matlab-bicubic" if kind == "sr" else "",
                                input_text="synthetic",
                            ),
                            partial=dataset == "Rain100L",
                            profile="smoke",
                            ablation={
                                "train_sigmas": train_sigmas,
                                "contrastive_weight": weight,
                                "data_fraction": fraction,
                            },
                            cell_key=f"{variant}-{task}",
                        )
                    )
    return rows_frame(records, DEFAULT_METRICS)


def write_results_dir(
    root: Path, rows: pd.DataFrame, *, suite_yaml: str = SUITE_YAML, log_steps: int = 20
) -> Path:
    """Write ``rows`` as eval nodes (one per variant and task), a training node per variant, and run.json."""
    root = Path(root)
    for (variant, task), group in rows.groupby(["variant", "task"], sort=True):
        key = f"eval-{abs(hash((variant, task))) % 10**8:08d}"
        node = root / "nodes" / key
        with atomic_path(node / "rows.parquet") as tmp:
            group.to_parquet(tmp, index=False)
        record = {
            "key": key,
            "kind": "eval",
            "spec": {"variant": variant, "task": task},
            "status": "done",
            "error": None,
            "seconds": float(group["seconds"].sum()),
        }
        atomic_write_text(node / "record.json", json.dumps(record))
    for number, variant in enumerate(sorted(rows["variant"].unique())):
        node = root / "nodes" / f"pretrain-{number:02d}"
        lines = [
            json.dumps(
                {
                    "step": step,
                    "loss": 0.1 / (1 + step),
                    "lr": 1e-4,
                    "samples_per_s": 50.0,
                    **({"val_psnr": 25.0 + step / 10} if step % 5 == 0 else {}),
                }
            )
            for step in range(1, log_steps + 1)
        ]
        atomic_write_text(node / "train" / "log.jsonl", "\n".join(lines) + "\n")
        record = {
            "key": node.name,
            "kind": "pretrain",
            "spec": {"variant": variant},
            "status": "done",
            "error": None,
            "seconds": 1.0,
        }
        atomic_write_text(node / "record.json", json.dumps(record))
    atomic_write_text(root / "suite.yaml", suite_yaml)
    run = {
        "suite": "synthetic",
        "profile": "smoke",
        "started": "2026-01-01T00:00:00",
        "finished": "2026-01-01T00:01:00",
        "seconds": 60.0,
        "versions": {"python": "3.x", "torch": "2.x"},
        "git": "deadbeef",
        "device": "cpu (2 cores)",
        "counts": {"done": int(rows["cell_key"].nunique()), "failed": 0},
    }
    atomic_write_text(root / "run.json", json.dumps(run))
    return root
