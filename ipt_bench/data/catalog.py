"""Named datasets resolved on disk: find a dataset under the data roots, pair its images, check
them against its manifest, and report its status.

The registry of named datasets is :mod:`ipt_bench.data.datasets`, the folder layouts
:mod:`ipt_bench.data.layouts`; their public names are re-exported here. The embedded sets are
built from scikit-image's bundled images on first use (see ``embedded``). Any folder of images is
also a dataset (kind ``train``) when given by path.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from ipt_bench.core.errors import DatasetError
from ipt_bench.core.hashing import sha256_file
from ipt_bench.data import embedded
from ipt_bench.data.datasets import (  # noqa: F401 -- re-exported: the catalog's public names
    _LIST_LIMIT,
    ALL_TASKS,
    ENV_CACHE,
    ENV_DATA,
    IMAGE_SUFFIXES,
    MANIFEST_COLUMNS,
    ColorMode,
    DatasetItem,
    DatasetKind,
    DatasetSpec,
    ResolvedDataset,
    cache_dir,
    candidate_roots,
    default_download_root,
    get_spec,
    list_datasets,
    register_dataset,
    unregister_dataset,
)
from ipt_bench.data.images import image_pixel_sha256, read_image
from ipt_bench.data.layouts import (  # noqa: F401 -- re-exported
    _child,
    _is_image,
    _pair,
    _scan,
    classify,
    locate_in_root,
    normalise_item_name,
)


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
    return {n.lower() for spec in list_datasets() for n in spec.folder_names}


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
