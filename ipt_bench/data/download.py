"""Download a dataset: fetch, check the sha256, extract safely, verify, then move into place.

Everything happens in a temporary folder inside the destination root; the dataset appears
there (by rename) only once it is complete and verified, so an interrupted or refused download
never leaves a half-extracted dataset. Archives with absolute paths, ``..``, links or device
files are refused as a whole before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ipt_bench.core.errors import DatasetError
from ipt_bench.data.archive_limits import archive_errors, check_expanded_size, check_url, expanded_size
from ipt_bench.data.catalog import (
    ResolvedDataset,
    default_download_root,
    get_spec,
    load_manifest,
    locate_in_root,
    resolve_dataset,
    verify_dataset,
)

EDSR_BENCHMARK_URL = "https://cv.snu.ac.kr/research/EDSR/benchmark.tar"
FFDNET_RAW = "https://raw.githubusercontent.com/cszn/FFDNet/master/testsets"
_CHUNK = 1 << 20
_TIMEOUT_S = 60


@dataclass(frozen=True)
class DownloadSource:
    """Where a dataset can be fetched. An archive ``url``, or ``file_base`` + the manifest's file
    names (one request per image). ``verify_files`` checks every file against the manifest after
    extraction when the archive's sha256 is not known."""

    url: str | None = None
    sha256: str | None = None
    file_base: str | None = None
    verify_files: bool = True
    note: str = ""


KNOWN_SOURCES: dict[str, DownloadSource] = {
    "Set5": DownloadSource(EDSR_BENCHMARK_URL, note="EDSR benchmark.tar (Set5, Set14, B100, Urban100)"),
    "Set14": DownloadSource(EDSR_BENCHMARK_URL, note="EDSR benchmark.tar (Set5, Set14, B100, Urban100)"),
    # The staged B100 was decoded from the BSDS JPEGs, never compared with EDSR's PNGs: counts only.
    "B100": DownloadSource(EDSR_BENCHMARK_URL, verify_files=False, note="EDSR benchmark.tar"),
    "Urban100": DownloadSource(EDSR_BENCHMARK_URL, note="EDSR benchmark.tar"),
    "CBSD68": DownloadSource(file_base=f"{FFDNET_RAW}/CBSD68", note="cszn/FFDNet testsets (raw files)"),
    "BSD68": DownloadSource(file_base=f"{FFDNET_RAW}/BSD68", note="cszn/FFDNet testsets (raw files)"),
}

MANUAL_SOURCES: dict[str, str] = {
    "Rain100L": "the PReNet mirrors listed in csdwren/PReNet datasets/readme.txt "
    "(Rain100L/rainy/rain-XXX.png + Rain100L/norain-XXX.png)",
    "T91": "http://mmlab.ie.cuhk.edu.hk/projects/SRCNN.html (T91 images, as <dest>/T91/HR/*.png)",
}


def download_dataset(
    name: str,
    dest_root: str | os.PathLike[str] | None = None,
    *,
    url: str | None = None,
    sha256: str | None = None,
    progress: bool = False,
) -> ResolvedDataset:
    """Fetch dataset ``name`` into ``dest_root`` (default ``<cache>/data``) and return it resolved.

    ``url``/``sha256`` override the known source. If the dataset is already complete in
    ``dest_root`` nothing is downloaded.
    """
    spec = get_spec(name)
    if spec.embedded:
        raise DatasetError(f"{spec.name} is built in and needs no download", f"just use `{spec.name}`")
    dest = Path(dest_root).expanduser() if dest_root is not None else default_download_root()
    if locate_in_root(spec, dest) is not None:
        return resolve_dataset(spec.name, dest, only_root=True)
    source = _source(spec.name, url, sha256)
    created = not dest.exists()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(
            f"cannot use {dest} as the download folder: {exc.strerror or exc}",
            "pass --dest a folder you can write to (not a file)",
        ) from None
    try:
        with tempfile.TemporaryDirectory(prefix=f".download-{spec.name}-", dir=dest) as work:
            staging = _fetch_into(spec.name, source, Path(work), progress)
            _check_staged(spec.name, staging, source)
            _move_into_place(staging, dest)
    except BaseException:
        if created and not any(dest.iterdir()):
            dest.rmdir()
        raise
    return resolve_dataset(spec.name, dest, only_root=True)


def _source(name: str, url: str | None, sha256: str | None) -> DownloadSource:
    if url is not None:
        return DownloadSource(url, sha256.lower() if sha256 else None)
    known = KNOWN_SOURCES.get(name)
    if known is None:
        where = MANUAL_SOURCES.get(name, "its authors' page")
        raise DatasetError(
            f"{name} has no direct download URL",
            f"download it by hand from {where}, then pass --data-root (or --url URL for an archive)",
        )
    return DownloadSource(known.url, sha256 or known.sha256, known.file_base, known.verify_files, known.note)


def _fetch_into(name: str, source: DownloadSource, work: Path, progress: bool) -> Path:
    """Download and extract into ``work``; return the folder that holds the dataset folder."""
    extracted = work / "extracted"
    if source.file_base is not None:
        spec = get_spec(name)
        for entry in load_manifest(spec.manifest) if spec.manifest is not None else []:
            file_name = PurePosixPath(entry.path).name
            target = extracted / spec.name / "HR" / file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            fetch(f"{source.file_base}/{file_name}", target, progress=progress)
        return extracted
    assert source.url is not None
    archive = work / "archive"
    digest = fetch(source.url, archive, progress=progress)
    if source.sha256 and digest != source.sha256:
        raise DatasetError(
            f"checksum mismatch for {source.url}: got sha256 {digest}, expected {source.sha256}",
            "the file is corrupt or was changed upstream; retry, or pass the right --sha256",
        )
    extract_archive(archive, extracted)
    if locate_in_root(get_spec(name), extracted) is None:
        # The archive holds the dataset's contents without its top folder: wrap them in one.
        wrapped = work / "wrapped"
        wrapped.mkdir()
        extracted.rename(wrapped / get_spec(name).name)
        return wrapped
    return extracted


def _check_staged(name: str, staging: Path, source: DownloadSource) -> None:
    resolve_dataset(name, staging, only_root=True)
    if source.sha256 or not source.verify_files:
        return
    report = verify_dataset(name, staging, only_root=True)
    if not report.passed:
        bad = [f"{path.name} ({why})" for path, why in report.mismatched] + report.missing
        raise DatasetError(
            f"downloaded {name} does not match its manifest: {report.summary()}; first problems: "
            f"{', '.join(bad[:5] + report.problems[:5])}",
            "the source may have changed; download it by hand and check it with `ipt-bench data verify`",
        )


def _move_into_place(staging: Path, dest: Path) -> None:
    entries = sorted(staging.iterdir())
    clashes = [str(dest / e.name) for e in entries if (dest / e.name).exists()]
    if clashes:
        raise DatasetError(
            f"cannot place the download: {', '.join(clashes)} already exist(s)",
            "move those folders away or choose another --dest",
        )
    for entry in entries:
        os.replace(entry, dest / entry.name)


def fetch(url: str, target: Path, *, progress: bool = False) -> str:
    """Stream ``url`` (http or https only) into ``target``; return the hex sha256 of the bytes received."""
    check_url(url)
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, open(target, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with _progress_bar(progress, url, total) as advance:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    advance(len(chunk))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DatasetError(
            f"downloading {url} failed: {reason}",
            "check the URL and your network connection, or download the files by hand and pass --data-root",
        ) from exc
    return digest.hexdigest()


@contextlib.contextmanager
def _progress_bar(enabled: bool, url: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n_bytes)``: drives a rich progress bar when enabled, else does nothing."""
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    with Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn()) as bar:
        task = bar.add_task(PurePosixPath(url).name or url, total=total)
        yield lambda n: bar.advance(task, n)


# --- safe extraction -------------------------------------------------------------------------


def _unsafe_name(name: str) -> str | None:
    """Why an archive member name is unsafe, or None."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "'..' in path"
    return None


def check_archive(archive: Path, target: Path | None = None) -> None:
    """Refuse (DatasetError) an archive with any unsafe member, or one that would expand to more
    than :data:`~ipt_bench.data.archive_limits.MAX_EXPANDED_BYTES` or the free space of
    ``target``'s disk; writes nothing."""
    with archive_errors(archive):
        _check_members(archive)
        check_expanded_size(archive, expanded_size(archive), target)


def _check_members(archive: Path) -> None:
    bad = []
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                file_type = stat.S_IFMT(info.external_attr >> 16)  # 0: no Unix type recorded
                why = _unsafe_name(info.filename)
                if why is None and file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
                    why = "symlink" if file_type == stat.S_IFLNK else "special file"
                if why:
                    bad.append(f"{info.filename} ({why})")
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                why = _unsafe_name(member.name)
                if why is None and not (member.isfile() or member.isdir()):
                    why = "symlink" if member.issym() else "hard link" if member.islnk() else "special file"
                if why:
                    bad.append(f"{member.name} ({why})")
    else:
        raise DatasetError(f"{archive} is neither a zip nor a tar archive", "check the URL (--url)")
    if bad:
        raise DatasetError(
            f"refusing unsafe archive {archive.name}: {', '.join(bad[:5])}"
            + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""),
            "use the dataset's official archive; nothing was extracted",
        )


def extract_archive(archive: Path, target: Path) -> None:
    """Check ``archive`` with :func:`check_archive`, then extract it into the new folder ``target``."""
    check_archive(archive, target.parent)
    target.mkdir(parents=True)
    with archive_errors(archive):
        _extract(archive, target)


def _extract(archive: Path, target: Path) -> None:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                out = target / info.filename.replace("\\", "/")
                if info.is_dir():
                    out.mkdir(parents=True, exist_ok=True)
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(target, filter="data")
