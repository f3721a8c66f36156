"""The dataset catalog's registry: what each named dataset is (kind, tasks, expected images,
layout hints, manifest) and which data roots are searched for it.

A dataset is looked for under several data roots, in order: the explicit ``data_root``
(``--data-root``), ``$IPT_BENCH_DATA``, then ``<cache>/data`` (``<cache>`` is
``$IPT_BENCH_CACHE`` or the user cache dir). How files are laid out is :mod:`layouts`; resolving,
manifests and verification are :mod:`catalog`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from ipt_bench.core.errors import DatasetError
from ipt_bench.core.tasks import TaskKind
from ipt_bench.data import embedded

DatasetKind = Literal["paired_sr", "clean", "rain", "train"]
ColorMode = Literal["rgb", "gray", "mixed"]

ENV_DATA = "IPT_BENCH_DATA"
ENV_CACHE = "IPT_BENCH_CACHE"
IMAGE_SUFFIXES = frozenset({".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff"})
MANIFEST_COLUMNS = ("dataset", "path", "sha256", "width", "height", "mode", "pixel_sha256")
ALL_TASKS: tuple[TaskKind, ...] = ("sr", "denoise", "derain")
_LIST_LIMIT = 10

_LR_DIR = re.compile(r"x(\d+)", re.IGNORECASE)
_URBAN_NAME = re.compile(r"img_?(\d+)", re.IGNORECASE)
_RAIN_NAME = re.compile(r"(no)?rain-(.+)", re.IGNORECASE)


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: its use, expected size and the manifest of its files.

    ``manifest`` is a TSV with :data:`MANIFEST_COLUMNS` whose paths start with the dataset
    folder; ``manifest_complete`` is False when it lists only part of the set (Rain100L).
    """

    name: str
    kind: DatasetKind
    tasks: tuple[TaskKind, ...]
    n_expected: int
    color: ColorMode
    description: str
    aliases: tuple[str, ...] = ()
    manifest: Traversable | None = None
    manifest_complete: bool = True
    embedded: bool = False

    @property
    def unit(self) -> str:
        """What one item is called in messages: ``pairs`` for rain sets, else ``images``."""
        return "pairs" if self.kind == "rain" else "images"

    @property
    def folder_names(self) -> tuple[str, ...]:
        """Folder names this dataset may be stored under."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class DatasetItem:
    """One image of a dataset: the clean image and its stored degraded versions.

    ``degraded_paths`` holds MATLAB LR files keyed ``x2``/``x3``/``x4`` for SR sets, and the rainy
    image keyed ``rain`` for deraining sets.
    """

    name: str
    clean_path: Path
    degraded_paths: dict[str, Path] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ResolvedDataset:
    """A dataset found on disk. ``root`` is the dataset's own folder; ``items`` are sorted by name."""

    name: str
    root: Path
    layout: str
    items: list[DatasetItem] = field(hash=False)
    n_expected: int
    spec: DatasetSpec

    @property
    def n_found(self) -> int:
        """How many items (images, or pairs for rain sets) were found."""
        return len(self.items)

    @property
    def partial(self) -> bool:
        """True when fewer items than expected were found (allowed only with ``allow_partial``)."""
        return self.n_found < self.n_expected


def _manifest(name: str) -> Traversable:
    return files("ipt_bench.data").joinpath("manifests", f"{name}.tsv")


def _builtin_specs() -> list[DatasetSpec]:
    specs = [
        DatasetSpec("Set5", "paired_sr", ("sr",), 5, "rgb", "Set5 SR test set (HR + MATLAB LR x2/x3/x4)"),
        DatasetSpec("Set14", "paired_sr", ("sr",), 14, "mixed", "Set14 SR test set (bridge.png is gray)"),
        DatasetSpec(
            "B100", "paired_sr", ("sr",), 100, "rgb", "BSD100 SR test set (BSDS300 test)", ("BSD100",)
        ),
        DatasetSpec("Urban100", "paired_sr", ("sr", "denoise"), 100, "rgb", "Urban100 SR / colour denoising"),
        DatasetSpec("BSD68", "clean", ("denoise",), 68, "gray", "BSD68 gray denoising test set"),
        DatasetSpec("CBSD68", "clean", ("denoise",), 68, "rgb", "CBSD68 colour denoising test set"),
        DatasetSpec(
            "Rain100L",
            "rain",
            ("derain",),
            100,
            "rgb",
            "Rain100L deraining test pairs (JORDER 100-pair split)",
            manifest_complete=False,
        ),
        DatasetSpec("T91", "train", ALL_TASKS, 91, "rgb", "T91 training images (Yang et al.)"),
    ]
    specs = [_with_manifest(spec) for spec in specs]
    for info in embedded.EMBEDDED_SETS.values():
        specs.append(
            DatasetSpec(
                info.name,
                "train" if info.training else "clean",
                info.tasks,
                len(info.images),
                "mixed",
                info.description,
                embedded=True,
            )
        )
    return specs


def _with_manifest(spec: DatasetSpec) -> DatasetSpec:
    return dataclasses.replace(spec, manifest=_manifest(spec.name))


_REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in _builtin_specs()}


def register_dataset(spec: DatasetSpec, *, replace: bool = False) -> None:
    """Add a dataset to the catalog (e.g. a private test set with its own manifest)."""
    if not replace and spec.name.lower() in {n.lower() for n in _REGISTRY}:
        raise DatasetError(
            f"dataset {spec.name} is already registered", "pick another name or pass replace=True"
        )
    _REGISTRY[spec.name] = spec


def unregister_dataset(name: str) -> None:
    """Remove a dataset added with :func:`register_dataset` (no-op if absent)."""
    _REGISTRY.pop(name, None)


def list_datasets() -> list[DatasetSpec]:
    """Every registered dataset, in registration order."""
    return list(_REGISTRY.values())


def get_spec(name: str) -> DatasetSpec:
    """The dataset registered as ``name`` (case-insensitive; aliases such as BSD100 accepted)."""
    wanted = name.lower()
    for spec in _REGISTRY.values():
        if wanted in (n.lower() for n in spec.folder_names):
            return spec
    raise DatasetError(
        f"unknown dataset {name!r}",
        f"use one of: {', '.join(_REGISTRY)}; or give the path of a folder of images",
    )


def cache_dir() -> Path:
    """``$IPT_BENCH_CACHE`` if set, else the user cache dir of ipt-bench."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("ipt-bench"))


def default_download_root() -> Path:
    """Where downloads go by default (the last data root searched): ``<cache>/data``."""
    return cache_dir() / "data"


def candidate_roots(data_root: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """The data roots searched, in order, each with the label of where it came from."""
    roots: list[tuple[str, Path]] = []
    if data_root is not None:
        roots.append(("--data-root", Path(data_root).expanduser()))
    env = os.environ.get(ENV_DATA)
    if env:
        roots.append((ENV_DATA, Path(env).expanduser()))
    roots.append(("cache", default_download_root()))
    return roots
