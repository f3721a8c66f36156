"""Limits on what a download may fetch and expand to: http(s) URLs only, an archive's declared
expanded size checked against a cap and the free disk space before extraction, and every
library or disk error while reading or extracting an archive turned into one clear error."""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import urllib.parse
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from ipt_bench.core.errors import DatasetError

#: The most an archive may expand to (the EDSR benchmark.tar expands to about 0.3 GiB).
MAX_EXPANDED_BYTES = 64 << 30
_SCHEMES = ("http", "https")


def check_url(url: str) -> None:
    """Refuse URLs other than http(s) (``file://`` would read local files, ``ftp://`` is unchecked)."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in _SCHEMES:
        raise DatasetError(
            f"download URL {url} uses {scheme or 'no'} scheme; only http and https are fetched",
            "give an http(s) URL, or copy local files yourself and pass --data-root",
        )


def expanded_size(archive: Path) -> int:
    """The total size the members of a zip or tar archive declare."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            return sum(info.file_size for info in zf.infolist())
    with tarfile.open(archive) as tf:
        return sum(member.size for member in tf.getmembers() if member.isfile())


def check_expanded_size(archive: Path, size: int, target: Path | None) -> None:
    """Refuse an archive expanding beyond the cap or the free space where it would be extracted."""
    free = None
    if target is not None:
        with contextlib.suppress(OSError):
            free = shutil.disk_usage(target).free
    limit = MAX_EXPANDED_BYTES if free is None else min(MAX_EXPANDED_BYTES, free)
    if size > limit:
        gib = size / (1 << 30)
        why = "the free disk space" if free is not None and free < MAX_EXPANDED_BYTES else "the limit"
        raise DatasetError(
            f"archive {archive.name} would expand to {gib:.1f} GiB, more than {why} "
            f"({limit / (1 << 30):.1f} GiB); nothing was extracted",
            "check the URL (a dataset archive is far smaller), or free disk space and retry",
        )


@contextlib.contextmanager
def archive_errors(archive: Path) -> Iterator[None]:
    """Turn zipfile/tarfile/zlib errors and disk errors (ENOSPC, EFBIG) into a :class:`DatasetError`."""
    try:
        yield
    except (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, EOFError, zlib.error) as exc:
        raise DatasetError(
            f"cannot read archive {archive.name}: it is damaged or truncated ({type(exc).__name__}: {exc})",
            "download it again; nothing was placed in the destination",
        ) from None
    except OSError as exc:
        raise DatasetError(
            f"extracting {archive.name} failed: {exc.strerror or exc} ({os.fsdecode(exc.filename or '')}); "
            "nothing was placed in the destination",
            "free disk space (or pick another --dest) and run the download again",
        ) from None
