"""Content checksums of a node's stored files, and the check that decides a record is trustworthy.

A node's record lists every file it produced with its size and sha256. When the node is reused
(a rerun, ``--dry-run``, the report) the files are hashed again: a file of the right size whose
bytes changed (a flipped bit, an edit, a copy gone wrong) makes the node not done, so it runs
again instead of being served from the cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ipt_bench.core.hashing import sha256_file


def file_entries(node_dir: Path, relative_paths: list[str]) -> dict[str, Any]:
    """The record fields naming a node's files: ``files`` (sizes) and ``sha256`` (digests)."""
    return {
        "files": {rel: (node_dir / rel).stat().st_size for rel in relative_paths},
        "sha256": {rel: sha256_file(node_dir / rel) for rel in relative_paths},
    }


def record_damage(record: dict[str, Any], node_dir: Path) -> str | None:
    """Why a ``done`` record cannot be trusted (malformed, a file missing, resized or changed), or None."""
    files, digests = record.get("files"), record.get("sha256")
    if not isinstance(files, dict) or not files:
        return "its record lists no files"
    if not isinstance(digests, dict) or set(digests) != set(files):
        return "its record carries no checksum of every file"
    for rel, size in files.items():
        path = node_dir / rel
        if not isinstance(rel, str) or ".." in Path(rel).parts or not isinstance(size, int):
            return f"its record holds a malformed entry {rel!r}"
        if not path.is_file() or path.is_symlink():
            return f"{rel} is missing"
        if path.stat().st_size != size:
            return f"{rel} has {path.stat().st_size} bytes, its record says {size}"
        try:
            digest = sha256_file(path)
        except OSError as exc:
            return f"{rel} cannot be read ({exc.strerror or exc})"
        if digest != digests[rel]:
            recorded = str(digests[rel])[:12]
            return f"{rel} changed since it was written (sha256 {digest[:12]}..., recorded {recorded}...)"
    return None


def content_digest(records: dict[str, dict[str, Any] | None]) -> str:
    """One sha256 over what a report shows: each node's status and the checksums of its files.

    Equal digests mean the same rows and logs, whichever nodes ran in this invocation."""
    from ipt_bench.core.hashing import stable_hash

    summary = {
        key: None if record is None else [str(record.get("status")), _digests(record)]
        for key, record in sorted(records.items())
    }
    return stable_hash(summary)


def _digests(record: dict[str, Any]) -> dict[str, str]:
    digests = record.get("sha256")
    return {str(k): str(v) for k, v in digests.items()} if isinstance(digests, dict) else {}
