"""Embedded datasets: built from scikit-image's bundled images, cached, checked and repaired."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from ipt_bench.data.catalog import resolve_dataset, verify_dataset
from ipt_bench.data.embedded import EMBEDDED_SETS, materialize_embedded, rain_seed
from ipt_bench.data.rain import add_rain


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPT_BENCH_CACHE", str(tmp_path / "cache"))


def _load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_embedded_test_set_matches_skimage_crops(tmp_path: Path) -> None:
    resolved = resolve_dataset("embedded")
    assert resolved.root == tmp_path / "cache" / "embedded" / "embedded"
    names = [i.name for i in resolved.items]
    assert names == sorted(["astronaut", "coffee", "chelsea", "rocket", "camera", "brick", "text"])
    crops = {image.name: image.crop for image in EMBEDDED_SETS["embedded"].images}
    for item in resolved.items:
        top, left, height, width = crops[item.name]
        reference = getattr(skimage.data, item.name)()[top : top + height, left : left + width]
        clean = _load(item.clean_path)
        np.testing.assert_array_equal(clean, reference)
        assert max(clean.shape[:2]) <= 256
        rainy = _load(item.degraded_paths["rain"])
        assert rainy.shape == clean.shape and np.any(rainy != clean)
        np.testing.assert_array_equal(rainy, add_rain(clean, np.random.default_rng(rain_seed(item.name))))
    modes = {_load(i.clean_path).ndim for i in resolved.items}
    assert modes == {2, 3}  # colour and gray images


def test_training_set_is_disjoint_and_free() -> None:
    test_names = {i.name for i in EMBEDDED_SETS["embedded"].images}
    train = resolve_dataset("embedded-train")
    assert train.n_found == len(EMBEDDED_SETS["embedded-train"].images) >= 4
    assert not test_names & {i.name for i in train.items}
    assert all(not i.degraded_paths for i in train.items)
    for spec in EMBEDDED_SETS.values():
        for image in spec.images:
            assert "CC0" in image.licence or "public domain" in image.licence


def test_reuse_then_repair(tmp_path: Path) -> None:
    cache = tmp_path / "own"
    folder = materialize_embedded("embedded", cache)
    camera = folder / "HR" / "camera.png"
    first_mtime = camera.stat().st_mtime_ns
    assert materialize_embedded("embedded", cache, recheck=True) == folder
    assert camera.stat().st_mtime_ns == first_mtime  # intact files are not rewritten
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(camera)  # corrupt one image
    materialize_embedded("embedded", cache, recheck=True)
    np.testing.assert_array_equal(_load(camera), skimage.data.camera()[40:296, 140:396])


def test_verify_embedded_passes() -> None:
    report = verify_dataset("embedded")
    assert report.passed and len(report.ok) == 14
