"""Training patches for the paper's corruption tasks, drawn reproducibly from (seed, step).

Each batch comes from one task chosen at random (the task index selects the network's head,
tail and task query). With ``shared_head`` all tasks feed head 0 and every *sample* draws its own
task: one denoiser trained on a mixed set of noise levels. Every random draw of batch ``k`` is
derived from ``(seed, k)`` (and the sample's position in the *global* batch), so resuming at
step ``k``, using any number of DataLoader workers, or splitting the global batch over DDP ranks
all reproduce batch ``k`` exactly. Clean images are decoded once and kept in memory (the
training sets are small).

Degradations (clean crops are uint8 RGB):
- SR x s: HR crop of ``P * s`` pixels, LR = MATLAB bicubic ``imresize`` to ``P`` (uint8).
- Gaussian noise: ``clip(clean + N(0, sigma^2), 0, 255)`` as float, not rounded (like the
  MindSpore pre-training code).
- Rain: synthetic rain streaks from :mod:`ipt_bench.data.rain`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ipt_bench.core.errors import ConfigError, DatasetError
from ipt_bench.core.tasks import Task
from ipt_bench.data.images import read_image, to_rgb
from ipt_bench.data.rain import add_rain
from ipt_bench.data.resize import imresize

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
# Stream tags keep the task draw, the training samples and the validation samples independent.
_TASK_STREAM, _SAMPLE_STREAM, _VAL_STREAM, _SUBSET_STREAM = 1, 2, 3, 4


@dataclass(frozen=True)
class PatchBatch:
    """One batch of one task: ``degraded`` (B, 3, P, P) and ``clean`` (B, 3, P*s, P*s), float32
    on the [0, 255] scale; ``sample_ids`` are the positions in the global batch; ``sample_tasks``
    the sampler task each sample was made for (all ``task_idx`` unless the head is shared)."""

    task_idx: int
    degraded: torch.Tensor
    clean: torch.Tensor
    sample_ids: torch.Tensor
    sample_tasks: tuple[int, ...] = ()


def image_paths(data: str | Path, data_root: str | Path | None = None) -> list[Path]:
    """Sorted clean-image paths of a named dataset (via the catalog) or of a folder of images."""
    folder = Path(data)
    if folder.is_dir():
        paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise DatasetError(
                f"training folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})",
                "point --data at a folder of clean training images",
            )
        return paths
    from ipt_bench.data.catalog import resolve_dataset
    from ipt_bench.data.training_sets import is_named_training_set, locate_training_set

    if is_named_training_set(str(data)):
        return image_paths(locate_training_set(str(data), data_root), data_root)
    resolved = resolve_dataset(str(data), data_root)
    return sorted(Path(item.clean_path) for item in resolved.items)


def select_subset(
    paths: Sequence[Path], seed: int, *, data_fraction: float = 1.0, max_images: int | None = None
) -> list[Path]:
    """A reproducible subset: the first ``ceil(fraction * n)`` (at most ``max_images``) paths of a
    permutation seeded by ``seed``, returned in sorted order."""
    if not 0.0 < data_fraction <= 1.0:
        raise ConfigError(f"data_fraction {data_fraction} is out of range", "use a value in (0, 1]")
    if max_images is not None and max_images < 1:
        raise ConfigError(f"max_images {max_images} must be at least 1", "drop it or give a positive count")
    count = max(1, math.ceil(data_fraction * len(paths)))
    if max_images is not None:
        count = min(count, max_images)
    order = np.random.default_rng([seed, _SUBSET_STREAM]).permutation(len(paths))
    return sorted(paths[i] for i in order[:count])


def load_images(paths: Sequence[Path], min_size: int) -> list[np.ndarray]:
    """Decode each image once as uint8 RGB; images smaller than ``min_size`` on a side are dropped."""
    images = [to_rgb(read_image(p)) for p in paths]
    kept = [img for img in images if min(img.shape[:2]) >= min_size]
    if not kept:
        raise DatasetError(
            f"none of the {len(paths)} training images is at least {min_size}x{min_size} pixels",
            "use larger training images or a model with a smaller patch size",
        )
    return kept


class PatchSampler:
    """Batch ``step`` of the training stream as a pure function of ``(seed, step)``.

    ``rank``/``world_size`` select this process's share of the global batch (DDP).
    """

    def __init__(
        self,
        images: Sequence[np.ndarray],
        tasks: Sequence[Task],
        patch_size: int,
        batch_size: int,
        seed: int,
        *,
        augment: bool = True,
        shared_head: bool = False,
    ) -> None:
        if not tasks:
            raise ConfigError("no training task was given", "give at least one task, e.g. sr_x2")
        if batch_size < 1:
            raise ConfigError(f"batch size {batch_size} must be at least 1", "use e.g. --batch-size 8")
        self.images = list(images)
        self.tasks = tuple(tasks)
        self.patch_size = int(patch_size)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.augment = augment
        self.shared_head = shared_head
        if shared_head and len({t.tail_scale for t in self.tasks}) > 1:
            raise ConfigError(
                f"tasks {', '.join(t.name for t in self.tasks)} cannot share one head: their scales differ",
                "mix only tasks of one scale, e.g. several denoising levels",
            )

    def task_index(self, step: int) -> int:
        """The task of batch ``step`` (uniform over the tasks; 0, the shared head, with ``shared_head``)."""
        if self.shared_head:
            return 0
        rng = np.random.default_rng([self.seed, _TASK_STREAM, step])
        return int(rng.integers(len(self.tasks)))

    def batch(self, step: int, *, rank: int = 0, world_size: int = 1) -> PatchBatch:
        """This rank's share of global batch ``step``."""
        if self.batch_size % world_size:
            raise ConfigError(
                f"global batch {self.batch_size} does not split evenly over {world_size} processes",
                "use a batch size that is a multiple of the number of processes",
            )
        local = self.batch_size // world_size
        task_idx = self.task_index(step)
        ids = range(rank * local, (rank + 1) * local)
        samples = [self._sample(task_idx, [self.seed, _SAMPLE_STREAM, step, i]) for i in ids]
        return _stack(task_idx, samples, list(ids))

    def validation_batch(self, task_idx: int, count: int) -> PatchBatch:
        """A fixed set of ``count`` patches of task ``task_idx``, drawn from a stream training never
        uses (for a shared head: the patches of that task, to be run through head 0)."""
        keys = [[self.seed, _VAL_STREAM, task_idx, i] for i in range(count)]
        samples = [self._sample(task_idx, key, fixed_task=True) for key in keys]
        return _stack(0 if self.shared_head else task_idx, samples, list(range(count)))

    def _sample(
        self, task_idx: int, key: list[int], *, fixed_task: bool = False
    ) -> tuple[int, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(key)
        if self.shared_head and not fixed_task:
            task_idx = int(rng.integers(len(self.tasks)))
        task = self.tasks[task_idx]
        crop = self.patch_size * task.tail_scale
        image = self.images[int(rng.integers(len(self.images)))]
        top = int(rng.integers(image.shape[0] - crop + 1))
        left = int(rng.integers(image.shape[1] - crop + 1))
        clean = image[top : top + crop, left : left + crop]
        if self.augment:
            clean = np.rot90(clean, k=int(rng.integers(4)))
            if rng.integers(2):
                clean = clean[:, ::-1]
        clean = np.ascontiguousarray(clean)
        return task_idx, degrade(clean, task, self.patch_size, rng), clean.astype(np.float32)


def degrade(clean: np.ndarray, task: Task, patch_size: int, rng: np.random.Generator) -> np.ndarray:
    """The network input for ``task`` made from a uint8 clean crop, float32 on [0, 255]."""
    if task.kind == "sr":
        return imresize(clean, output_shape=(patch_size, patch_size)).astype(np.float32)
    if task.kind == "denoise":
        noisy = clean.astype(np.float64) + rng.normal(0.0, float(task.sigma), clean.shape)
        return np.clip(noisy, 0.0, 255.0).astype(np.float32)
    return add_rain(clean, rng).astype(np.float32)


def _stack(task_idx: int, samples: list[tuple[int, np.ndarray, np.ndarray]], ids: list[int]) -> PatchBatch:
    degraded = torch.from_numpy(np.stack([d for _, d, _ in samples]).transpose(0, 3, 1, 2).copy())
    clean = torch.from_numpy(np.stack([c for _, _, c in samples]).transpose(0, 3, 1, 2).copy())
    tasks = tuple(t for t, _, _ in samples)
    return PatchBatch(task_idx, degraded, clean, torch.tensor(ids, dtype=torch.long), tasks)


class StepDataset(torch.utils.data.Dataset):
    """Map-style view of a sampler for a DataLoader: item ``step`` is this rank's batch ``step``.

    Use with ``batch_size=None`` and a sampler over the steps still to run; the result does not
    depend on the number of workers.
    """

    def __init__(self, sampler: PatchSampler, rank: int = 0, world_size: int = 1) -> None:
        self.sampler = sampler
        self.rank = rank
        self.world_size = world_size

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, step: int) -> PatchBatch:
        return self.sampler.batch(step, rank=self.rank, world_size=self.world_size)


def step_loader(
    sampler: PatchSampler,
    start: int,
    stop: int,
    *,
    rank: int = 0,
    world_size: int = 1,
    num_workers: int = 0,
) -> torch.utils.data.DataLoader:
    """A DataLoader yielding this rank's batches ``start .. stop - 1`` in order."""
    generator = torch.Generator().manual_seed(sampler.seed)
    return torch.utils.data.DataLoader(
        StepDataset(sampler, rank, world_size),
        batch_size=None,
        sampler=range(start, stop),
        num_workers=num_workers,
        generator=generator,
        worker_init_fn=_seed_worker,
        collate_fn=_identity,
        persistent_workers=False,
    )


def _identity(batch: PatchBatch) -> PatchBatch:
    return batch


def _seed_worker(worker_id: int) -> None:
    # Batches draw from their own (seed, step) generators; this only pins any stray global draw.
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    import random

    random.seed(seed)
