"""Dataset catalog: layouts, counts, partial sets, manifests and hashing, on the real staged data."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ipt_bench.core.errors import DatasetError
from ipt_bench.core.hashing import canonical_json, sha256_file, stable_hash
from ipt_bench.data.catalog import normalise_item_name, resolve_dataset, verify_dataset
from tests.conftest import require_dataset


@pytest.fixture(autouse=True)
def _isolated_roots(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IPT_BENCH_DATA", raising=False)
    monkeypatch.setenv("IPT_BENCH_CACHE", str(tmp_path_factory.mktemp("cache")))


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _copy_tree(src: Path, dst: Path) -> None:
    for path in src.rglob("*"):
        if path.is_file():
            _link(path, dst / path.relative_to(src))


# --- hashing ---------------------------------------------------------------------------------


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # spans several read chunks
    (tmp_path / "blob").write_bytes(data)
    assert sha256_file(tmp_path / "blob") == hashlib.sha256(data).hexdigest()


@dataclasses.dataclass
class _Spec:
    name: str
    sizes: tuple[int, ...]
    path: Path


def test_stable_hash_is_canonical_json() -> None:
    assert canonical_json({"b": 1, "a": [1, 2.5, None, True]}) == '{"a":[1,2.5,null,true],"b":1}'
    assert stable_hash({"b": 1, "a": 2}) == hashlib.sha256(b'{"a":2,"b":1}').hexdigest()
    assert stable_hash({"a": 2, "b": 1}) == stable_hash({"b": 1, "a": 2})
    spec = _Spec("x", (1, 2), Path("a/b"))
    assert stable_hash(spec) == stable_hash({"name": "x", "sizes": [1, 2], "path": "a/b"})
    assert stable_hash(spec) != stable_hash(dataclasses.replace(spec, sizes=(2, 1)))
    with pytest.raises(TypeError):
        stable_hash({1, 2})
    with pytest.raises(ValueError):
        stable_hash(float("nan"))


# --- real staged data ------------------------------------------------------------------------


def test_staged_counts_and_keys() -> None:
    root = require_dataset("Set5", "Set14", "BSD68", "Urban100", "Rain100L")
    set5 = resolve_dataset("Set5", root)
    assert [i.name for i in set5.items] == ["baby", "bird", "butterfly", "head", "woman"]
    assert set(set5.items[0].degraded_paths) == {"x2", "x3", "x4"}
    assert set5.items[0].degraded_paths["x3"].name == "babyx3.png"
    assert (set5.layout, set5.partial) == ("standard", False)
    assert resolve_dataset("set14", root).n_found == 14
    assert resolve_dataset("BSD68", root).n_found == 68
    urban = resolve_dataset("Urban100", root)
    assert urban.n_found == 100 and urban.items[0].name == "img_001"
    with pytest.raises(
        DatasetError, match=r"Rain100L: found 10 of 100 pairs \(90 missing\).*--allow-partial"
    ):
        resolve_dataset("Rain100L", root)
    rain = resolve_dataset("Rain100L", root, allow_partial=True)
    assert (rain.n_found, rain.n_expected, rain.partial) == (10, 100, True)
    assert rain.items[0].degraded_paths["rain"] == root / "Rain100L" / "rain" / "001.png"


def test_verify_passes_on_staged_set5(data_root: Path) -> None:
    report = verify_dataset("Set5", data_root)
    assert report.passed, report.summary()
    assert len(report.ok) == 20 and not report.missing and not report.extra


def test_missing_image_is_named(tmp_path: Path, data_root: Path) -> None:
    for path in sorted((data_root / "Set5" / "HR").glob("*.png"))[:4]:
        _link(path, tmp_path / "Set5" / "HR" / path.name)
    with pytest.raises(DatasetError, match=r"Set5: found 4 of 5 images \(1 missing: woman\)"):
        resolve_dataset("Set5", tmp_path)
    assert resolve_dataset("Set5", tmp_path, allow_partial=True).partial


def test_extra_image_is_named(tmp_path: Path, data_root: Path) -> None:
    _copy_tree(data_root / "Set5", tmp_path / "Set5")
    _link(data_root / "Set14" / "HR" / "zebra.png", tmp_path / "Set5" / "HR" / "zebra.png")
    with pytest.raises(DatasetError, match=r"found 6 images but expected 5.*zebra\.png"):
        resolve_dataset("Set5", tmp_path)
    report = verify_dataset("Set5", tmp_path)
    assert not report.passed and [p.name for p in report.extra] == ["zebra.png"]


def test_truncated_png_is_reported(tmp_path: Path, data_root: Path) -> None:
    _copy_tree(data_root / "Set5", tmp_path / "Set5")
    victim = tmp_path / "Set5" / "HR" / "bird.png"
    data = victim.read_bytes()
    victim.unlink()  # it may be a hard link to the real data
    victim.write_bytes(data[: len(data) // 2])
    report = verify_dataset("Set5", tmp_path)
    assert not report.passed
    assert [(p.name, why.split(":")[0]) for p, why in report.mismatched] == [("bird.png", "unreadable")]


def test_reencoded_png_passes_by_pixels(tmp_path: Path, data_root: Path) -> None:
    _copy_tree(data_root / "Set5", tmp_path / "Set5")
    target = tmp_path / "Set5" / "HR" / "head.png"
    pixels = np.asarray(Image.open(target))
    target.unlink()
    Image.fromarray(pixels).save(target, compress_level=1)
    assert sha256_file(target) != sha256_file(data_root / "Set5" / "HR" / "head.png")
    report = verify_dataset("Set5", tmp_path)
    assert report.passed and [p.name for p in report.reencoded] == ["head.png"]


def test_edsr_benchmark_layout(tmp_path: Path, data_root: Path) -> None:
    _copy_tree(data_root / "Set5", tmp_path / "benchmark" / "Set5")
    resolved = resolve_dataset("Set5", tmp_path)
    assert resolved.layout == "edsr-benchmark" and resolved.n_found == 5
    assert resolved.items[1].degraded_paths["x4"] == tmp_path / "benchmark/Set5/LR_bicubic/X4/birdx4.png"
    assert verify_dataset("Set5", tmp_path).passed


def test_urban100_names_without_underscore(tmp_path: Path) -> None:
    root = require_dataset("Urban100")
    for number in (1, 2, 10):
        _link(
            root / f"Urban100/HR/img_{number:03d}.png",
            tmp_path / f"benchmark/Urban100/HR/img{number:03d}.png",
        )
    resolved = resolve_dataset("Urban100", tmp_path, allow_partial=True)
    assert [i.name for i in resolved.items] == ["img_001", "img_002", "img_010"]
    report = verify_dataset("Urban100", tmp_path, allow_partial=True)
    assert len(report.ok) == 3 and len(report.missing) == 97 and report.passed
    assert normalise_item_name("img7") == "img_007"


@pytest.mark.parametrize("layout", ["prenet", "prenet-flat"])
def test_prenet_rain_layouts(tmp_path: Path, layout: str) -> None:
    root = require_dataset("Rain100L")
    for number in range(1, 4):
        rainy = (
            f"Rain100L/rainy/rain-{number:03d}.png"
            if layout == "prenet"
            else f"Rain100L/rain-{number:03d}.png"
        )
        _link(root / f"Rain100L/rain/{number:03d}.png", tmp_path / rainy)
        _link(root / f"Rain100L/norain/{number:03d}.png", tmp_path / f"Rain100L/norain-{number:03d}.png")
    resolved = resolve_dataset("Rain100L", tmp_path, allow_partial=True)
    assert resolved.layout == layout and [i.name for i in resolved.items] == ["001", "002", "003"]
    assert resolved.items[2].degraded_paths["rain"].name == "rain-003.png"
    report = verify_dataset("Rain100L", tmp_path, allow_partial=True)
    assert len(report.ok) == 6 and report.passed


def test_unpaired_files_are_named(tmp_path: Path) -> None:
    root = require_dataset("Rain100L", "Set5")
    _link(root / "Rain100L/rain/001.png", tmp_path / "Rain100L/rain/001.png")
    _link(root / "Rain100L/rain/002.png", tmp_path / "Rain100L/rain/002.png")
    _link(root / "Rain100L/norain/001.png", tmp_path / "Rain100L/norain/001.png")
    with pytest.raises(DatasetError, match=r"rainy image .*rain/002\.png has no norain image"):
        resolve_dataset("Rain100L", tmp_path, allow_partial=True)
    _link(root / "Set5/LR_bicubic/X2/babyx2.png", tmp_path / "Set5/LR_bicubic/X2/babyx2.png")
    _link(root / "Set5/HR/bird.png", tmp_path / "Set5/HR/bird.png")
    with pytest.raises(DatasetError, match=r"LR image .*babyx2\.png has no HR image"):
        resolve_dataset("Set5", tmp_path, allow_partial=True)


def test_missing_dataset_lists_every_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPT_BENCH_DATA", str(tmp_path / "env"))
    (tmp_path / "env").mkdir()
    with pytest.raises(DatasetError) as info:
        resolve_dataset("B100", tmp_path / "explicit")
    message = str(info.value)
    for expected in (
        f"--data-root {tmp_path / 'explicit'} (does not exist)",
        f"IPT_BENCH_DATA {tmp_path / 'env'}",
        f"cache {os.environ['IPT_BENCH_CACHE']}",
        "BSD100/",
        "ipt-bench data download B100",
    ):
        assert expected in message


def test_data_root_is_searched_before_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = require_dataset("Set5")
    _copy_tree(root / "Set5", tmp_path / "mine" / "Set5")
    monkeypatch.setenv("IPT_BENCH_DATA", str(root))
    assert resolve_dataset("Set5", tmp_path / "mine").root == tmp_path / "mine" / "Set5"
    assert resolve_dataset("Set5").root == root / "Set5"


def test_folder_of_images_is_a_training_set(tmp_path: Path) -> None:
    for name in ("b", "a"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / f"{name}.png")
    (tmp_path / "notes.txt").write_text("ignored")
    resolved = resolve_dataset(str(tmp_path))
    assert resolved.spec.kind == "train" and [i.name for i in resolved.items] == ["a", "b"]
    with pytest.raises(DatasetError, match="unknown dataset 'Set6'"):
        resolve_dataset("Set6")
