"""Atomic file writes: write to a temporary sibling, fsync, then rename over the target.

A reader (or a crash at any instant) sees either the old complete file or the new complete
file, never a partial one. Only a regular file (or a missing path) is ever replaced: a symlink,
device, FIFO or folder at the target is refused, so ``--parquet /dev/null`` or a link planted in
a results folder cannot redirect or destroy anything.

While a write is in progress its temporary file is ``flock``-ed; a temporary file nobody holds
was left by a killed writer and is removed by the next write into the same folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from ipt_bench.core.errors import IptBenchError

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def check_writable_target(target: str | os.PathLike[str]) -> None:
    """Raise unless ``target`` is missing or a regular file (never follows a symlink)."""
    target = Path(target)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise IptBenchError(
            f"cannot write {target}: {exc.strerror or exc}", "choose an output path you can write to"
        ) from exc
    for test, kind in _KINDS:
        if test(mode):
            raise IptBenchError(
                f"refusing to write {target}: it is {kind}, not a regular file; nothing was replaced",
                "give the path of a regular file (or a new one), not a link, device, pipe or folder",
            )


def remove_stale_temporaries(folder: Path, name: str) -> None:
    """Delete ``.<name>.*.tmp`` files in ``folder`` that no live writer holds (a killed write's)."""
    with contextlib.suppress(OSError):
        for tmp in folder.glob(f".{name}.*.tmp"):
            with contextlib.suppress(OSError):
                fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while its writer lives
                    if stat.S_ISREG(os.fstat(fd).st_mode):
                        tmp.unlink()
                finally:
                    os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success it is fsynced and renamed onto it."""
    target = Path(target)
    check_writable_target(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target.parent, target.name)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise IptBenchError(
            f"cannot write {target}: {exc.strerror or exc}",
            "choose an output folder you can write to (e.g. --out DIR) and check free disk space",
        ) from exc
    fcntl.flock(fd, fcntl.LOCK_EX)  # held until the rename: marks the temporary file as live
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        check_writable_target(target)  # a link or device may have appeared meanwhile
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would have
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise IptBenchError(
            f"writing {target} failed: {exc.strerror or exc}; the previous version was left untouched",
            "free disk space or fix permissions, then run the command again",
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


def _umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(target: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(handle)`` on a temp file, then atomically move it to ``target``."""
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        write(handle)
    return Path(target)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Atomically replace ``target`` with ``data``."""
    return atomic_write(target, lambda handle: handle.write(data))


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Atomically replace ``target`` with UTF-8 ``text``."""
    return atomic_write_bytes(target, text.encode("utf-8"))


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
