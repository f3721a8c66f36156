"""Content hashes: sha256 of files (streamed) and a stable hash of plain specs (canonical JSON)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import PurePath
from typing import Any

_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks (constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj: Any) -> str:
    """``obj`` as canonical JSON: sorted keys, no whitespace, paths as POSIX strings.

    Supports dicts (string keys), lists, tuples (as lists), str, int, float, bool, None,
    paths and dataclass instances (as dicts of their fields). Other types raise ``TypeError``;
    NaN and infinities raise ``ValueError`` (they have no JSON form).
    """
    return json.dumps(_plain(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def stable_hash(obj: Any) -> str:
    """Hex sha256 of :func:`canonical_json` of ``obj``: equal specs give equal hashes across runs."""
    return sha256_bytes(canonical_json(obj).encode("utf-8"))


def _plain(obj: Any) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, PurePath):
        return obj.as_posix()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"stable_hash needs string dict keys, got {key!r} ({type(key).__name__})")
            out[key] = _plain(value)
        return out
    if isinstance(obj, (list, tuple)):
        return [_plain(item) for item in obj]
    raise TypeError(f"stable_hash cannot hash a {type(obj).__name__}: {obj!r}")
