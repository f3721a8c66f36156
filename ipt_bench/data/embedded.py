"""Embedded datasets that need no download: crops of images bundled in scikit-image's wheel.

Only CC0 / public-domain images are used (licences from the ``skimage.data`` docstrings).

- ``embedded``: a small colour + gray test set for SR, denoising and deraining; each image also
  gets a rainy version made by :func:`ipt_bench.data.rain.add_rain` with a fixed per-image seed.
- ``embedded-train``: a disjoint small training set.

On first use a set is written as PNG files under ``<cache_root>/<set>/`` in the ``standard``
layout (``HR/<name>.png``, ``rain/<name>.png``) with a ``MANIFEST.tsv`` written last. Later uses
check the recipe stamp and every file's decoded-pixel sha256 and rebuild on any difference.
"""

from __future__ import annotations

import csv
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ipt_bench.core.atomic import atomic_write_text
from ipt_bench.core.errors import DatasetError
from ipt_bench.core.hashing import sha256_file, stable_hash
from ipt_bench.core.tasks import TaskKind
from ipt_bench.data import rain
from ipt_bench.data.images import image_pixel_sha256, read_image, write_png

MANIFEST_NAME = "MANIFEST.tsv"
RECIPE_NAME = "RECIPE.txt"


@dataclass(frozen=True)
class EmbeddedImage:
    """One image: the ``skimage.data`` loader name, a crop ``(top, left, height, width)``, its licence."""

    name: str
    crop: tuple[int, int, int, int] | None
    licence: str


@dataclass(frozen=True)
class EmbeddedSet:
    """A named set of embedded images; ``rainy`` sets also store a rainy version of each image."""

    name: str
    images: tuple[EmbeddedImage, ...]
    tasks: tuple[TaskKind, ...]
    training: bool
    rainy: bool
    description: str


EMBEDDED_SETS: dict[str, EmbeddedSet] = {
    s.name: s
    for s in (
        EmbeddedSet(
            "embedded",
            (
                EmbeddedImage("astronaut", (16, 144, 256, 256), "public domain (NASA)"),
                EmbeddedImage("coffee", (40, 140, 256, 256), "CC0 (Rachel Michetti)"),
                EmbeddedImage("chelsea", (20, 80, 256, 256), "CC0 (Stefan van der Walt)"),
                EmbeddedImage("rocket", (100, 200, 256, 256), "public domain (SpaceX)"),
                EmbeddedImage("camera", (40, 140, 256, 256), "CC0 (Lav Varshney)"),
                EmbeddedImage("brick", (0, 0, 256, 256), "CC0 (CC0Textures)"),
                EmbeddedImage("text", (0, 96, 172, 256), "public domain"),
            ),
            ("sr", "denoise", "derain"),
            training=False,
            rainy=True,
            description="built-in test set: 4 colour + 3 gray crops of scikit-image sample images",
        ),
        EmbeddedSet(
            "embedded-train",
            (
                EmbeddedImage("grass", (0, 0, 384, 384), "CC0 (CC0Textures)"),
                EmbeddedImage("gravel", (0, 0, 384, 384), "CC0 (CC0Textures)"),
                EmbeddedImage("hubble_deep_field", (200, 300, 384, 384), "public domain (NASA)"),
                EmbeddedImage("retina", (500, 500, 384, 384), "CC0"),
                EmbeddedImage("cell", (100, 80, 384, 384), "CC0"),
            ),
            ("sr", "denoise", "derain"),
            training=True,
            rainy=False,
            description="built-in training set: 5 scikit-image sample crops, disjoint from `embedded`",
        ),
    )
}

_VERIFIED: set[Path] = set()


def rain_seed(image_name: str) -> int:
    """The fixed seed of an embedded image's synthetic rain (stable across runs and versions)."""
    return zlib.crc32(f"embedded-rain/{image_name}".encode())


def load_clean(image: EmbeddedImage) -> np.ndarray:
    """The cropped uint8 image from scikit-image's bundled data (HxWx3 or HxW)."""
    import skimage.data

    full = np.asarray(getattr(skimage.data, image.name)(), dtype=np.uint8)
    if image.crop is None:
        return np.ascontiguousarray(full)
    top, left, height, width = image.crop
    if top + height > full.shape[0] or left + width > full.shape[1]:
        raise DatasetError(
            f"embedded image {image.name} {full.shape[:2]} is too small for crop {image.crop}",
            "install the scikit-image version listed in pyproject.toml",
        )
    return np.ascontiguousarray(full[top : top + height, left : left + width])


def make_rainy(image: EmbeddedImage, clean: np.ndarray) -> np.ndarray:
    """The rainy version of ``clean`` (seeded by the image name)."""
    return rain.add_rain(clean, np.random.default_rng(rain_seed(image.name)))


def recipe_hash(spec: EmbeddedSet) -> str:
    """Hash of everything that determines a set's pixels (images, crops, seeds, library versions)."""
    import skimage

    return stable_hash(
        {
            "set": spec,
            "skimage": skimage.__version__,
            "rain_code": sha256_file(rain.__file__) if spec.rainy else None,
        }
    )


def materialize_embedded(name: str, cache_root: Path, *, recheck: bool = False) -> Path:
    """Return ``<cache_root>/<name>``, building or repairing the set's PNG files first if needed.

    A folder already checked in this process is trusted unless ``recheck``.
    """
    spec = EMBEDDED_SETS.get(name)
    if spec is None:
        raise DatasetError(f"unknown embedded set {name!r}", f"use one of: {', '.join(EMBEDDED_SETS)}")
    folder = Path(cache_root) / name
    if folder in _VERIFIED and not recheck:
        return folder
    recipe = recipe_hash(spec)
    if not _is_intact(folder, recipe):
        _build(spec, folder, recipe)
        if not _is_intact(folder, recipe):
            raise DatasetError(
                f"embedded set {name} at {folder} does not read back as written",
                f"delete {folder} and check the disk, then run again",
            )
    _VERIFIED.add(folder)
    return folder


def _is_intact(folder: Path, recipe: str) -> bool:
    manifest, stamp = folder / MANIFEST_NAME, folder / RECIPE_NAME
    if not (manifest.is_file() and stamp.is_file()) or stamp.read_text().strip() != recipe:
        return False
    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        path = folder.parent / row["path"]
        try:
            if image_pixel_sha256(read_image(path)) != row["pixel_sha256"]:
                return False
        except (DatasetError, OSError):
            return False
    return bool(rows)


def _build(spec: EmbeddedSet, folder: Path, recipe: str) -> None:
    (folder / MANIFEST_NAME).unlink(missing_ok=True)
    rows = []
    for image in spec.images:
        clean = load_clean(image)
        outputs = {"HR": clean}
        if spec.rainy:
            outputs["rain"] = make_rainy(image, clean)
        for sub, pixels in outputs.items():
            path = folder / sub / f"{image.name}.png"
            write_png(path, pixels)
            rows.append(_manifest_row(spec.name, path, folder, pixels))
    wanted = {Path(r[1]).name for r in rows}
    for sub in ("HR", "rain"):
        for stale in (folder / sub).glob("*.png") if (folder / sub).is_dir() else ():
            if stale.name not in wanted:
                stale.unlink()
    atomic_write_text(folder / RECIPE_NAME, recipe + "\n")
    atomic_write_text(folder / MANIFEST_NAME, _tsv(rows))


def _manifest_row(set_name: str, path: Path, folder: Path, pixels: np.ndarray) -> list[str]:
    rel = path.relative_to(folder.parent).as_posix()
    mode = "RGB" if pixels.ndim == 3 else "L"
    height, width = pixels.shape[:2]
    return [set_name, rel, sha256_file(path), str(width), str(height), mode, image_pixel_sha256(pixels)]


def _tsv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["dataset", "path", "sha256", "width", "height", "mode", "pixel_sha256"])
    writer.writerows(rows)
    return buffer.getvalue()
