"""Dataset folder layouts: find a dataset's folder under a root, classify its files and pair
degraded with clean images.

Accepted layouts, for a dataset folder ``F``:

- ``standard``: ``F/HR/*.png`` with optional ``F/LR_bicubic/X<s>/<name>x<s>.png``; for rain sets
  ``F/rain/<n>.png`` + ``F/norain/<n>.png``.
- ``edsr-benchmark``: the same below ``<root>/benchmark/F``.
- ``prenet``: ``F/rainy/rain-<n>.png`` + ``F/norain-<n>.png``; ``prenet-flat``: both side by side.
- ``flat``: images directly in ``F``.

Item names are normalised so packagings match: ``img001`` -> ``img_001``, ``rain-001`` -> ``001``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ipt_bench.data.datasets import (
    _LR_DIR,
    _RAIN_NAME,
    _URBAN_NAME,
    IMAGE_SUFFIXES,
    DatasetItem,
    DatasetSpec,
)


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
