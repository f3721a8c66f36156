"""What an evaluation keeps of its outputs besides the scores: small PNG crops (input, output,
ground truth) of every image, for the report's visual comparisons.

The crop window depends on the ground truth alone (the ``CROP_SIZE`` square with the most
gradient energy), so every model evaluated on an image saves the same window and the report can
set them side by side without re-running anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from ipt_bench.data.images import write_png
from ipt_bench.data.pairs import TestPair

CROP_SIZE = 64
CROPS_DIR = "crops"
PANELS = ("input", "output", "target")


def detail_window(target: np.ndarray, size: int = CROP_SIZE) -> tuple[int, int, int]:
    """``(top, left, size)`` of the ``size`` x ``size`` window of ``target`` with the largest
    summed gradient magnitude (ties: the first in row-major order); smaller images give all."""
    plane = target.astype(np.float64)
    plane = plane.mean(axis=2) if plane.ndim == 3 else plane
    size = min(size, *plane.shape)
    energy = np.hypot(ndimage.sobel(plane, axis=0), ndimage.sobel(plane, axis=1))
    summed = ndimage.uniform_filter(energy, size=size, mode="constant")
    half = size // 2
    valid = summed[half : plane.shape[0] - size + half + 1, half : plane.shape[1] - size + half + 1]
    top, left = np.unravel_index(np.argmax(valid), valid.shape)
    return int(top), int(left), size


def crop_paths(node_dir: Path, image: str) -> dict[str, Path]:
    """``{panel: path}`` of the saved crops of ``image`` under an eval node's folder."""
    return {panel: Path(node_dir) / CROPS_DIR / f"{image}.{panel}.png" for panel in PANELS}


def save_crops(node_dir: Path, pair: TestPair, output: np.ndarray) -> list[str]:
    """Write the input / output / target crops of one scored image; return their paths relative
    to ``node_dir``. The input of an SR pair is enlarged by pixel repetition first."""
    top, left, size = detail_window(pair.target)
    panels = {"input": input_panel(pair), "output": output, "target": pair.target}
    written = []
    for panel, path in crop_paths(node_dir, pair.name).items():
        write_png(path, np.ascontiguousarray(panels[panel][top : top + size, left : left + size]))
        written.append(path.relative_to(node_dir).as_posix())
    return written


def input_panel(pair: TestPair) -> np.ndarray:
    """The degraded input as uint8, enlarged by pixel repetition to the ground truth's size."""
    image = np.clip(np.rint(pair.degraded.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
    height, width = pair.target.shape[:2]
    factor = height // image.shape[0]
    if factor > 1:
        image = image.repeat(factor, axis=0).repeat(factor, axis=1)
    return image[:height, :width]
