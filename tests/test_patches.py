"""Training patches: degradations per task, one task per batch, reproducibility from (seed, step)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ipt_bench.core.errors import ConfigError, DatasetError
from ipt_bench.core.tasks import PAPER_PRETRAIN_TASKS, Task
from ipt_bench.data.images import write_png
from ipt_bench.data.patches import PatchSampler, image_paths, load_images, select_subset, step_loader
from ipt_bench.data.resize import imresize

P = 12


@pytest.fixture(scope="module")
def images() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=(60, 70, 3), dtype=np.uint8) for _ in range(3)]


def test_sr_patch_is_matlab_bicubic_of_the_hr_crop(images: list[np.ndarray]) -> None:
    sampler = PatchSampler(images, (Task("sr", 3),), P, 4, seed=1)
    batch = sampler.batch(0)
    assert batch.degraded.shape == (4, 3, P, P) and batch.clean.shape == (4, 3, 3 * P, 3 * P)
    for lr, hr in zip(batch.degraded, batch.clean, strict=True):
        hr_u8 = hr.numpy().transpose(1, 2, 0).astype(np.uint8)
        np.testing.assert_array_equal(lr.numpy().transpose(1, 2, 0), imresize(hr_u8, 1 / 3))


def test_clean_crops_come_from_the_images(images: list[np.ndarray]) -> None:
    sampler = PatchSampler(images, (Task("derain"),), P, 2, seed=5, augment=False)
    crop = sampler.batch(3).clean[0].numpy().transpose(1, 2, 0).astype(np.uint8)
    found = any(
        np.array_equal(img[y : y + P, x : x + P], crop)
        for img in images
        for y in range(img.shape[0] - P + 1)
        for x in range(img.shape[1] - P + 1)
    )
    assert found


def test_noise_has_the_task_sigma(images: list[np.ndarray]) -> None:
    flat = [np.full((200, 200, 3), 128, np.uint8)]
    sampler = PatchSampler(flat, (Task("denoise", sigma=30.0),), 64, 4, seed=2)
    batch = sampler.batch(0)
    residual = (batch.degraded - batch.clean).numpy()
    assert residual.std() == pytest.approx(30.0, rel=0.03) and abs(residual.mean()) < 1.0


def test_rain_only_brightens(images: list[np.ndarray]) -> None:
    sampler = PatchSampler(images, (Task("derain"),), 32, 2, seed=2)
    batch = sampler.batch(0)
    diff = (batch.degraded - batch.clean).numpy()
    assert (diff >= 0).all() and (diff > 0).mean() > 0.01


def test_batches_reproduce_from_seed_and_step_and_split_over_ranks(images: list[np.ndarray]) -> None:
    a = PatchSampler(images, PAPER_PRETRAIN_TASKS, P, 4, seed=7)
    b = PatchSampler(images, PAPER_PRETRAIN_TASKS, P, 4, seed=7)
    for step in (0, 5, 11):
        full = a.batch(step)
        again = b.batch(step)
        assert torch.equal(full.degraded, again.degraded) and full.task_idx == again.task_idx
        halves = [b.batch(step, rank=r, world_size=2) for r in range(2)]
        assert torch.equal(torch.cat([h.degraded for h in halves]), full.degraded)
        assert torch.equal(torch.cat([h.clean for h in halves]), full.clean)
    assert not torch.equal(
        a.batch(1).clean, PatchSampler(images, PAPER_PRETRAIN_TASKS, P, 4, seed=8).batch(1).clean
    )


def test_tasks_are_drawn_uniformly_one_per_batch(images: list[np.ndarray]) -> None:
    sampler = PatchSampler(images, PAPER_PRETRAIN_TASKS, P, 1, seed=0)
    counts = np.bincount([sampler.task_index(k) for k in range(3000)], minlength=6)
    assert counts.min() > 400 and counts.max() < 600


def test_loader_matches_sampler_with_workers(images: list[np.ndarray]) -> None:
    sampler = PatchSampler(images, PAPER_PRETRAIN_TASKS, P, 2, seed=3)
    loaded = list(step_loader(sampler, 4, 8, num_workers=2))
    assert [b.task_idx for b in loaded] == [sampler.task_index(k) for k in range(4, 8)]
    assert all(
        torch.equal(b.degraded, sampler.batch(k).degraded) for b, k in zip(loaded, range(4, 8), strict=True)
    )


def test_subset_is_reproducible_and_sized() -> None:
    paths = [Path(f"img{i:02d}.png") for i in range(20)]
    half = select_subset(paths, 0, data_fraction=0.5)
    assert len(half) == 10 and half == select_subset(paths, 0, data_fraction=0.5) == sorted(half)
    assert half != select_subset(paths, 1, data_fraction=0.5)
    assert len(select_subset(paths, 0, max_images=3)) == 3
    with pytest.raises(ConfigError, match="data_fraction"):
        select_subset(paths, 0, data_fraction=0.0)


def test_folder_of_images_and_size_filter(tmp_path: Path) -> None:
    write_png(tmp_path / "big.png", np.zeros((40, 40, 3), np.uint8))
    write_png(tmp_path / "small.png", np.zeros((10, 10, 3), np.uint8))
    paths = image_paths(tmp_path)
    assert [p.name for p in paths] == ["big.png", "small.png"]
    assert len(load_images(paths, 24)) == 1
    with pytest.raises(DatasetError, match="at least 48x48"):
        load_images(paths, 48)
    with pytest.raises(DatasetError, match="no images"):
        image_paths(tmp_path / "nothing" if (tmp_path / "nothing").mkdir() is None else tmp_path)


def test_shared_head_draws_a_sigma_per_sample_and_keeps_head_zero() -> None:
    flat = [np.full((200, 200, 3), 128, np.uint8)]
    levels = (Task("denoise", sigma=5.0), Task("denoise", sigma=25.0), Task("denoise", sigma=45.0))
    sampler = PatchSampler(flat, levels, 48, 12, seed=3, shared_head=True)
    batch = sampler.batch(0)
    assert batch.task_idx == 0 and len(set(batch.sample_tasks)) > 1
    for task_id, noisy, clean in zip(batch.sample_tasks, batch.degraded, batch.clean, strict=True):
        # a flat 128 image never clips at these levels, so the residual std is the sample's sigma
        assert (noisy - clean).std().item() == pytest.approx(levels[task_id].sigma, rel=0.06)
    val = sampler.validation_batch(2, 2)
    assert val.task_idx == 0 and val.sample_tasks == (2, 2)


def test_shared_head_rejects_tasks_of_different_scales(images: list[np.ndarray]) -> None:
    with pytest.raises(ConfigError, match="cannot share one head"):
        PatchSampler(images, (Task("sr", 2), Task("denoise", sigma=30.0)), P, 2, seed=0, shared_head=True)
