"""Full-image test pairs (degraded input, clean target) for each task, per the community protocol.

- SR: the clean image is mod-cropped to a multiple of the scale; the input is MATLAB bicubic
  ``imresize`` of the RGB uint8 image by ``1/scale``, rounded to uint8 (what networks see).
- Denoising: Gaussian noise on the clean image (``legacy`` = KAIR/SwinIR bit-for-bit, or
  ``seeded``), float, unclipped and unrounded unless the protocol says so.
- Deraining: the dataset's own rainy image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ipt_bench.core.errors import DatasetError
from ipt_bench.core.tasks import Task
from ipt_bench.data.catalog import DatasetItem
from ipt_bench.data.images import read_image, to_rgb
from ipt_bench.data.noise import NoiseProtocol, add_gaussian_noise
from ipt_bench.data.resize import imresize, mod_crop

LR_SOURCE_SR = "matlab-bicubic"
LR_SOURCE_DATASET = "dataset"


@dataclass(frozen=True)
class TestPair:
    """One evaluation image: ``degraded`` is float32 HxWx3 in [0, 1]; ``target`` is the uint8
    clean image (HxWx3, or HxW for gray sets, which are scored on their single channel)."""

    name: str
    degraded: np.ndarray
    target: np.ndarray


def lr_source(task: Task, sr_source: str = LR_SOURCE_SR) -> str:
    """How the degraded input of ``task`` is made (recorded in every result row)."""
    return {"sr": sr_source, "denoise": "synthetic_gaussian", "derain": "dataset_rainy"}[task.kind]


def input_description(task: Task, noise: NoiseProtocol | None, sr_source: str = LR_SOURCE_SR) -> str:
    """What the networks (and the Input row) receive, in words, for the ``input`` row column."""
    if task.kind == "sr":
        made = "MATLAB bicubic of the RGB uint8 HR" if sr_source == LR_SOURCE_SR else "dataset LR file"
        return f"LR uint8 ({made}, x{task.scale})"
    if task.kind == "denoise":
        return f"noisy float ({(noise or NoiseProtocol()).describe()})"
    return "rainy uint8 (dataset)"


def make_test_pair(
    dataset_name: str,
    item: DatasetItem,
    task: Task,
    noise: NoiseProtocol | None = None,
    sr_source: str = LR_SOURCE_SR,
) -> TestPair:
    """Build the (degraded, clean) pair of one dataset item for ``task``."""
    clean = read_image(item.clean_path)
    if task.kind == "sr":
        target = mod_crop(clean, task.scale)
        if min(target.shape[:2]) < task.scale:
            raise DatasetError(f"{item.clean_path} is smaller than the scale {task.scale}", "remove it")
        if sr_source == LR_SOURCE_DATASET:
            return TestPair(item.name, _unit(_dataset_lr(dataset_name, item, task.scale, target)), target)
        low = imresize(to_rgb(target), 1.0 / task.scale)
        return TestPair(item.name, _unit(low), target)
    if task.kind == "denoise":
        protocol = noise or NoiseProtocol()
        noisy = add_gaussian_noise(
            clean,
            float(task.sigma),
            mode=protocol.mode,
            seed=protocol.seed,
            key=f"{dataset_name}/{item.name}",
            clip=protocol.clip,
            round_=protocol.round_,
        )
        return TestPair(item.name, to_rgb(noisy).astype(np.float32), clean)
    rainy_path = item.degraded_paths.get("rain")
    if rainy_path is None:
        raise DatasetError(
            f"{dataset_name} item {item.name} has no rainy image",
            "use a deraining dataset such as Rain100L or embedded",
        )
    rainy = read_image(rainy_path)
    if rainy.shape != clean.shape:
        raise DatasetError(
            f"{dataset_name} pair {item.name}: rainy {rainy.shape} and clean {clean.shape} differ in size",
            "replace the pair with an aligned one",
        )
    return TestPair(item.name, _unit(to_rgb(rainy)), clean)


def _dataset_lr(dataset_name: str, item: DatasetItem, scale: int, target: np.ndarray) -> np.ndarray:
    path = item.degraded_paths.get(f"x{scale}")
    if path is None:
        raise DatasetError(
            f"{dataset_name} item {item.name} has no LR_bicubic/X{scale} file",
            "use lr_source matlab-bicubic (the default) or add the dataset's LR files",
        )
    low = to_rgb(read_image(path))
    want = (target.shape[0] // scale, target.shape[1] // scale)
    if low.shape[:2] != want:
        raise DatasetError(
            f"{path} is {low.shape[1]}x{low.shape[0]}, expected {want[1]}x{want[0]}", "replace it"
        )
    return low


def _unit(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) / np.float32(255.0)
