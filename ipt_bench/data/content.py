"""What a dataset's files contain: content fingerprints of image folders and the manifest check
of named datasets, both on file sha256s cached by (path, size, mtime) so reruns stay fast.

- A folder of images given by path is identified by the names, sizes and sha256 of its images,
  so editing one image changes the plan's node keys and the affected nodes run again.
- A named dataset is checked against its manifest before scoring: a file whose bytes and
  decoded pixels both differ from the manifest is refused (``--no-verify`` skips the check
  deliberately, and every result row records that it was skipped).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from ipt_bench.core.atomic import atomic_write_text
from ipt_bench.core.errors import DatasetError
from ipt_bench.core.hashing import sha256_file, stable_hash
from ipt_bench.data.catalog import ResolvedDataset, _manifest_for, _manifest_keys, _scan, cache_dir

#: ``verified`` values recorded in every result row.
VERIFIED_MANIFEST = "manifest"
VERIFIED_SKIPPED = "skipped (--no-verify)"
VERIFIED_NO_MANIFEST = ""
_CACHE_NAME = "file-sha256.json"


class _HashCache:
    """sha256 of files keyed by absolute path, valid while size and mtime are unchanged."""

    def __init__(self) -> None:
        self.path = cache_dir() / _CACHE_NAME
        self.entries: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.entries = data if isinstance(data, dict) else {}
        self.changed = False

    def sha256(self, file: Path) -> str:
        stat = file.stat()
        key = os.fsdecode(os.path.abspath(file))
        cached = self.entries.get(key)
        if isinstance(cached, list) and cached[:2] == [stat.st_size, stat.st_mtime_ns]:
            return str(cached[2])
        digest = sha256_file(file)
        self.entries[key] = [stat.st_size, stat.st_mtime_ns, digest]
        self.changed = True
        return digest

    def pixels_checked(self, digest: str) -> str | None:
        """The pixel sha256 already decoded for file bytes ``digest``, if any."""
        value = self.entries.get(f"pixels:{digest}")
        return value if isinstance(value, str) else None

    def remember_pixels(self, digest: str, pixels: str) -> None:
        self.entries[f"pixels:{digest}"] = pixels
        self.changed = True

    def save(self) -> None:
        if self.changed:
            with contextlib.suppress(Exception):  # a cache that cannot be written only costs time
                atomic_write_text(self.path, json.dumps(self.entries))


def check_file_names(dataset: ResolvedDataset) -> None:
    """Refuse file names that are not valid UTF-8 (they cannot be shown, stored or exported)."""
    for item in dataset.items:
        for path in (item.clean_path, *item.degraded_paths.values()):
            try:
                os.fsdecode(path).encode("utf-8")
            except UnicodeEncodeError:
                shown = os.fsencode(path).decode("utf-8", "backslashreplace")
                raise DatasetError(
                    f"image file name {shown} is not valid UTF-8", "rename the file to a UTF-8 name"
                ) from None


def folder_fingerprint(dataset: ResolvedDataset) -> str:
    """sha256 over (name, size, sha256) of every file of ``dataset``'s items."""
    cache = _HashCache()
    files = sorted({p for item in dataset.items for p in (item.clean_path, *item.degraded_paths.values())})
    listing = [
        [
            os.fsencode(p.resolve().relative_to(dataset.root.resolve())).hex(),
            p.stat().st_size,
            cache.sha256(p),
        ]
        for p in files
    ]
    cache.save()
    return stable_hash(listing)


def verify_before_scoring(dataset: ResolvedDataset, *, skip: bool = False) -> str:
    """Check the files of a named dataset's items against its manifest; returns the row's
    ``verified`` value. Raises :class:`DatasetError` naming the first file that differs."""
    if skip:
        return VERIFIED_SKIPPED
    spec = dataset.spec
    if spec.embedded or spec.manifest is None or dataset.layout == "folder":
        return VERIFIED_NO_MANIFEST
    expected = _manifest_keys(_manifest_for(spec, dataset.root))
    if not expected:
        return VERIFIED_NO_MANIFEST
    by_path = {path: key for key, path in _scan(dataset.root, dataset.layout).files.items()}
    cache = _HashCache()
    try:
        for item in dataset.items:
            for path in (item.clean_path, *item.degraded_paths.values()):
                entry = expected.get(by_path.get(path, ("", "")))
                if entry is not None and not _matches(path, entry, cache):
                    raise DatasetError(
                        f"{spec.name}: {path} does not match the dataset's manifest (its bytes and its "
                        "decoded pixels differ), so scores on it would not be comparable",
                        f"re-download it (`ipt-bench data download {spec.name}`, check with `ipt-bench "
                        "data verify`), or pass --no-verify to score the files as they are (recorded in "
                        "every row)",
                    )
    finally:
        cache.save()
    return VERIFIED_MANIFEST


def _matches(path: Path, entry: Any, cache: _HashCache) -> bool:
    digest = cache.sha256(path)
    if digest == entry.sha256:
        return True
    pixels = cache.pixels_checked(digest)
    if pixels is None:
        from ipt_bench.data.images import image_pixel_sha256, read_image

        pixels = image_pixel_sha256(read_image(path))
        cache.remember_pixels(digest, pixels)
    return pixels == entry.pixel_sha256
