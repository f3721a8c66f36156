"""Named datasets: what each is for, where it lies, how its files are laid out, and its manifest.

A dataset is looked for under several data roots, in order: the explicit ``data_root``
(``--data-root``), ``$IPT_BENCH_DATA``, then ``<cache>/data`` (``<cache>`` is
``$IPT_BENCH_CACHE`` or the user cache dir). Accepted layouts, for a dataset folder ``F``:

- ``standard``: ``F/HR/*.png`` with optional ``F/LR_bicubic/X<s>/<name>x<s>.png``; for rain sets
  ``F/rain/<n>.png`` + ``F/norain/<n>.png``.
- ``edsr-benchmark``: the same below ``<root>/benchmark/F``.
- ``prenet``: ``F/rainy/rain-<n>.png`` + ``F/norain-<n>.png``; ``prenet-flat``: both side by side.
- ``flat``: images directly in ``F``.

Item names are normalised so packagings match: ``img001`` -> ``img_001``, ``rain-001`` -> ``001``.
The embedded sets are built from scikit-image's bundled images on first use (see ``embedded``).
Any folder of images is also a dataset (kind ``train``) when given by path.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Literal

from ipt_bench.core.errors import DatasetError
from ipt_bench.core.hashing import sha256_file
from ipt_bench.core.tasks import TaskKind
from ipt_bench.data import embedded
from ipt_bench.data.images import image_pixel_sha256, read_image

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


@dataclass(frozen=True)
class ManifestEntry:
    """One manifest row: the file's path (relative to the data root) and its hashes."""

    path: str
    sha256: str
    width: int
    height: int
    mode: str
    pixel_sha256: str


@dataclass
class VerifyReport:
    """Result of checking a dataset's files against its manifest."""

    name: str
    root: Path
    layout: str
    n_expected: int
    n_found: int
    allow_partial: bool
    ok: list[Path] = field(default_factory=list)
    reencoded: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[Path] = field(default_factory=list)
    unlisted: list[Path] = field(default_factory=list)
    mismatched: list[tuple[Path, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """No mismatched, extra or unpaired files; nothing missing unless partial sets are allowed."""
        if self.mismatched or self.extra or self.problems:
            return False
        if self.n_found > self.n_expected:
            return False
        return self.allow_partial or (not self.missing and self.n_found == self.n_expected)

    def summary(self) -> str:
        """One line: counts of each outcome."""
        parts = [
            f"{self.name} ({self.layout} layout at {self.root}): {len(self.ok)} files match",
            f"{len(self.reencoded)} re-encoded with identical pixels",
            f"{len(self.mismatched)} mismatched",
            f"{len(self.missing)} missing",
            f"{len(self.extra)} extra",
            f"{self.n_found} of {self.n_expected} items",
        ]
        if self.unlisted:
            parts.append(f"{len(self.unlisted)} not in the (partial) manifest")
        return ", ".join(parts)


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


# --- layouts ---------------------------------------------------------------------------------


def _child(parent: Path, name: str) -> Path | None:
    """``parent/name`` matched case-insensitively, or None."""
    exact = parent / name
    if exact.exists():
        return exact
    if not parent.is_dir():
        return None
    lowered = name.lower()
    for entry in parent.iterdir():
        if entry.name.lower() == lowered:
            return entry
    return None


def _has_images(folder: Path) -> bool:
    return any(_is_image(p) for p in folder.iterdir())


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def locate_in_root(spec: DatasetSpec, root: Path) -> tuple[Path, str] | None:
    """The dataset folder under ``root`` and its layout (e.g. ``standard``), or None."""
    if not root.is_dir():
        return None
    benchmark = _child(root, "benchmark")
    for name in spec.folder_names:
        folder = _child(root, name)
        if folder is not None and folder.is_dir():
            if any(_child(folder, sub) for sub in ("HR", "norain", "rain")):
                return folder, "standard"
            if _child(folder, "rainy") is not None:
                return folder, "prenet"
            if _has_images(folder):
                return folder, "prenet-flat" if spec.kind == "rain" else "flat"
        if benchmark is not None:
            folder = _child(benchmark, name)
            if folder is not None and _child(folder, "HR") is not None:
                return folder, "edsr-benchmark"
    return None


def normalise_item_name(stem: str) -> str:
    """Canonical item name: Urban100 ``img001``/``img_001`` -> ``img_001``; others unchanged."""
    match = _URBAN_NAME.fullmatch(stem)
    return f"img_{int(match.group(1)):03d}" if match else stem


def classify(rel: PurePosixPath, layout: str) -> tuple[str, str] | None:
    """``(item name, role)`` of a file at ``rel`` (relative to the dataset folder), or None.

    Roles: ``clean``, ``x2``/``x3``/``x4`` (MATLAB LR), ``rain``.
    """
    parts = [p.lower() for p in rel.parts[:-1]]
    stem = rel.stem
    if layout in ("standard", "edsr-benchmark"):
        if parts in (["hr"], ["norain"]):
            return normalise_item_name(stem), "clean"
        if parts == ["rain"]:
            return normalise_item_name(stem), "rain"
        if len(parts) == 2 and parts[0] == "lr_bicubic" and (scale := _LR_DIR.fullmatch(parts[1])):
            suffix = f"x{scale.group(1)}"
            if stem.lower().endswith(suffix):
                return normalise_item_name(stem[: -len(suffix)]), suffix
        return None
    if layout == "flat":
        return (normalise_item_name(stem), "clean") if not parts else None
    if layout in ("prenet", "prenet-flat"):
        match = _RAIN_NAME.fullmatch(stem)
        if match is None:
            return None
        if match.group(1) and not parts:
            return match.group(2), "clean"
        if not match.group(1) and parts == (["rainy"] if layout == "prenet" else []):
            return match.group(2), "rain"
        return None
    raise ValueError(f"unknown layout {layout!r}")


@dataclass
class _Scan:
    files: dict[tuple[str, str], Path]
    duplicates: list[tuple[Path, Path]]
    unrecognised: list[Path]


def _scan(folder: Path, layout: str) -> _Scan:
    scan = _Scan({}, [], [])
    for path in sorted(folder.rglob("*")):
        if not _is_image(path):
            continue
        key = classify(PurePosixPath(path.relative_to(folder).as_posix()), layout)
        if key is None:
            scan.unrecognised.append(path)
        elif key in scan.files:
            scan.duplicates.append((scan.files[key], path))
        else:
            scan.files[key] = path
    return scan


def _pair(spec: DatasetSpec, scan: _Scan) -> tuple[list[DatasetItem], list[str]]:
    """Group files into items; return the items and a description of every unpaired file."""
    groups: dict[str, dict[str, Path]] = {}
    for (item, role), path in scan.files.items():
        groups.setdefault(item, {})[role] = path
    items, unpaired = [], []
    for name in sorted(groups):
        roles = groups[name]
        clean = roles.pop("clean", None)
        if clean is None:
            kind = "rainy image" if "rain" in roles else "LR image"
            partner = "norain" if "rain" in roles else "HR"
            unpaired += [f"{kind} {path} has no {partner} image" for path in roles.values()]
            continue
        if spec.kind == "rain" and "rain" not in roles:
            unpaired.append(f"clean image {clean} has no rainy image")
            continue
        items.append(DatasetItem(name, clean, dict(sorted(roles.items()))))
    unpaired += [f"{a} and {b} are the same image {a.stem!r}" for a, b in scan.duplicates]
    return items, unpaired


# --- manifests -------------------------------------------------------------------------------


def load_manifest(source: Traversable | Path) -> list[ManifestEntry]:
    """Read a manifest TSV (columns :data:`MANIFEST_COLUMNS`, extra columns ignored)."""
    with source.open("r", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    missing = [c for c in MANIFEST_COLUMNS if rows and c not in rows[0]]
    if missing:
        raise DatasetError(
            f"manifest {source} lacks columns {missing}", f"give it columns {MANIFEST_COLUMNS}"
        )
    return [
        ManifestEntry(r["path"], r["sha256"], int(r["width"]), int(r["height"]), r["mode"], r["pixel_sha256"])
        for r in rows
    ]


def _manifest_for(spec: DatasetSpec, folder: Path) -> list[ManifestEntry]:
    if spec.embedded:
        path = folder / embedded.MANIFEST_NAME
        return load_manifest(path) if path.is_file() else []
    return load_manifest(spec.manifest) if spec.manifest is not None else []


def _manifest_keys(entries: Iterable[ManifestEntry]) -> dict[tuple[str, str], ManifestEntry]:
    keyed = {}
    for entry in entries:
        rel = PurePosixPath(entry.path)
        key = classify(PurePosixPath(*rel.parts[1:]), "standard")
        if key is not None:
            keyed[key] = entry
    return keyed


# --- resolve and verify ----------------------------------------------------------------------


def _looks_like_path(name: str) -> bool:
    return any(sep in name for sep in ("/", os.sep)) or name.startswith((".", "~"))


def _folder_dataset(name: str) -> ResolvedDataset:
    path = Path(name).expanduser()
    if not path.is_dir():
        raise DatasetError(
            f"dataset folder {path} does not exist",
            "give an existing folder of images, or a dataset name (see `ipt-bench data list`)",
        )
    hr = _child(path, "HR")
    folder = hr if hr is not None and hr.is_dir() else path
    images = sorted(p for p in folder.iterdir() if _is_image(p))
    if not images:
        raise DatasetError(
            f"folder {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})",
            "point at a folder that contains image files",
        )
    items = [DatasetItem(p.stem, p) for p in images]
    spec = DatasetSpec(path.name, "train", ALL_TASKS, len(items), "mixed", f"images in {path}")
    return ResolvedDataset(path.name, path.resolve(), "folder", items, len(items), spec)


def _locate(
    spec: DatasetSpec, data_root: str | os.PathLike[str] | None, only_root: bool = False
) -> tuple[Path, str]:
    if spec.embedded:
        return embedded.materialize_embedded(spec.name, cache_dir() / "embedded"), "standard"
    roots = candidate_roots(data_root)
    if only_root:
        roots = roots[:1] if data_root is not None else []
    looked = []
    for label, root in roots:
        found = locate_in_root(spec, root)
        if found is not None:
            return found
        state = "" if root.is_dir() else " (does not exist)"
        looked.append(f"{label} {root}{state}")
    tried = ", ".join(f"{n}/" for n in spec.folder_names) + f", benchmark/{spec.name}/"
    raise DatasetError(
        f"dataset {spec.name} not found: looked for {tried} under {'; '.join(looked)}",
        f"run `ipt-bench data download {spec.name}`, or set {ENV_DATA} (or pass --data-root) to the "
        f"folder that holds {spec.name}/",
    )


def _short_list(things: Iterable[object]) -> str:
    things = [str(t) for t in things]
    head = ", ".join(things[:_LIST_LIMIT])
    return head + (f" and {len(things) - _LIST_LIMIT} more" if len(things) > _LIST_LIMIT else "")


def resolve_dataset(
    name: str,
    data_root: str | os.PathLike[str] | None = None,
    *,
    allow_partial: bool = False,
    only_root: bool = False,
) -> ResolvedDataset:
    """Find dataset ``name`` (or a folder of images given by path) and list its items.

    Raises :class:`DatasetError` when it is missing, has unpaired files, more items than
    expected, or fewer (unless ``allow_partial``; the result's ``partial`` is then True).
    ``only_root`` searches ``data_root`` alone (not ``$IPT_BENCH_DATA`` or the cache).
    """
    if _looks_like_path(name) or (name.lower() not in _all_names() and Path(name).is_dir()):
        return _folder_dataset(name)
    spec = get_spec(name)
    folder, layout = _locate(spec, data_root, only_root)
    items, unpaired = _pair(spec, _scan(folder, layout))
    if unpaired:
        raise DatasetError(
            f"{spec.name} in {folder}: {len(unpaired)} unpaired or duplicate files: {_short_list(unpaired)}",
            "remove or complete those files (re-download the dataset if unsure)",
        )
    _check_count(spec, folder, items, allow_partial)
    return ResolvedDataset(spec.name, folder, layout, items, spec.n_expected, spec)


def _all_names() -> set[str]:
    return {n.lower() for spec in _REGISTRY.values() for n in spec.folder_names}


def _check_count(spec: DatasetSpec, folder: Path, items: list[DatasetItem], allow_partial: bool) -> None:
    n_found = len(items)
    expected_names = {item for (item, role) in _manifest_keys(_manifest_for(spec, folder)) if role == "clean"}
    if n_found > spec.n_expected:
        unexpected = [i.clean_path for i in items if expected_names and i.name not in expected_names]
        raise DatasetError(
            f"{spec.name}: found {n_found} {spec.unit} but expected {spec.n_expected} in {folder}; "
            f"unexpected: {_short_list(unexpected or [i.clean_path for i in items])}",
            "remove the extra files, or point --data-root at a clean copy of the dataset",
        )
    if n_found == 0:
        raise DatasetError(
            f"{spec.name}: found no {spec.unit} in {folder}",
            f"run `ipt-bench data download {spec.name}` or fix the folder layout (see `ipt-bench data list`)",
        )
    if n_found < spec.n_expected and not allow_partial:
        missing = spec.n_expected - n_found
        names = sorted(expected_names - {i.name for i in items}) if spec.manifest_complete else []
        which = f": {_short_list(names)}" if names else ""
        raise DatasetError(
            f"{spec.name}: found {n_found} of {spec.n_expected} {spec.unit} ({missing} missing{which}) in "
            f"{folder}",
            "pass --allow-partial to evaluate on the partial set (recorded in every result row), or run "
            f"`ipt-bench data download {spec.name}`",
        )


def verify_dataset(
    name: str,
    data_root: str | os.PathLike[str] | None = None,
    *,
    allow_partial: bool = False,
    only_root: bool = False,
) -> VerifyReport:
    """Check every file of dataset ``name`` against its manifest.

    A file passes when its sha256 matches; when the bytes differ (another packaging or a
    lossless re-encode) it passes if its decoded pixels hash to the manifest's pixel sha256.
    Unreadable or truncated files are reported as mismatched.
    """
    spec = get_spec(name)
    folder, layout = _locate(spec, data_root, only_root)
    scan = _scan(folder, layout)
    items, unpaired = _pair(spec, scan)
    report = VerifyReport(spec.name, folder, layout, spec.n_expected, len(items), allow_partial)
    report.problems += unpaired
    report.problems += [f"unrecognised file {p}" for p in scan.unrecognised]
    expected = _manifest_keys(_manifest_for(spec, folder))
    for key, path in scan.files.items():
        entry = expected.get(key)
        if entry is None:
            (report.extra if spec.manifest_complete else report.unlisted).append(path)
        else:
            _check_file(path, entry, report)
    report.missing = sorted(e.path for key, e in expected.items() if key not in scan.files)
    return report


def _check_file(path: Path, entry: ManifestEntry, report: VerifyReport) -> None:
    if sha256_file(path) == entry.sha256:
        report.ok.append(path)
        return
    try:
        pixels = image_pixel_sha256(read_image(path))
    except DatasetError as exc:
        report.mismatched.append((path, f"unreadable: {exc.problem}"))
        return
    if pixels == entry.pixel_sha256:
        report.reencoded.append(path)
    else:
        report.mismatched.append((path, "bytes and decoded pixels differ from the manifest"))


# --- status (for `ipt-bench data list`) --------------------------------------------------------


@dataclass(frozen=True)
class DatasetStatus:
    """Where a dataset stands: ``found``, ``partial``, ``missing``, ``invalid`` or ``embedded``."""

    name: str
    state: str
    where: Path | None
    n_found: int
    detail: str = ""


def dataset_status(name: str, data_root: str | os.PathLike[str] | None = None) -> DatasetStatus:
    """Locate ``name`` without raising (embedded sets are not built by this)."""
    spec = get_spec(name)
    if spec.embedded:
        folder = cache_dir() / "embedded" / spec.name
        built = (folder / embedded.MANIFEST_NAME).is_file()
        return DatasetStatus(
            spec.name,
            "embedded",
            folder if built else None,
            spec.n_expected,
            "built" if built else "built on first use",
        )
    try:
        folder, layout = _locate(spec, data_root)
    except DatasetError as exc:
        return DatasetStatus(spec.name, "missing", None, 0, exc.problem)
    items, unpaired = _pair(spec, _scan(folder, layout))
    if unpaired or len(items) > spec.n_expected or not items:
        return DatasetStatus(spec.name, "invalid", folder, len(items), _short_list(unpaired) or "wrong count")
    state = "partial" if len(items) < spec.n_expected else "found"
    return DatasetStatus(spec.name, state, folder, len(items))
