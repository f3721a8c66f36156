"""Downloads from a real local HTTP server: checksums, safe extraction, nothing half-placed."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ipt_bench.core.errors import DatasetError
from ipt_bench.data.catalog import DatasetSpec, register_dataset, unregister_dataset
from ipt_bench.data.download import check_archive, download_dataset

NAME = "FakeSR"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1, and its base URL."""
    folder = tmp_path / "served"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


FILES = {f"{NAME}/HR/im{i}.png": _png(i) for i in range(3)}


@pytest.fixture
def fake_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Register a 3-image SR dataset whose manifest lists FILES."""
    monkeypatch.delenv("IPT_BENCH_DATA", raising=False)
    monkeypatch.setenv("IPT_BENCH_CACHE", str(tmp_path / "cache"))
    manifest = tmp_path / "fake.tsv"
    with manifest.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["dataset", "path", "sha256", "width", "height", "mode", "pixel_sha256"])
        for path, data in FILES.items():
            pixels = np.asarray(Image.open(io.BytesIO(data)))
            writer.writerow(
                [
                    NAME,
                    path,
                    hashlib.sha256(data).hexdigest(),
                    16,
                    12,
                    "RGB",
                    hashlib.sha256(pixels).hexdigest(),
                ]
            )
    register_dataset(DatasetSpec(NAME, "paired_sr", ("sr",), 3, "rgb", "test set", manifest=manifest))
    yield
    unregister_dataset(NAME)


def _tar(target: Path, members: dict[str, bytes], special: tarfile.TarInfo | None = None) -> bytes:
    with tarfile.open(target, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if special is not None:
            tf.addfile(special)
    return target.read_bytes()


def _zip(target: Path, members: dict[str, bytes]) -> bytes:
    with zipfile.ZipFile(target, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return target.read_bytes()


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.mark.usefixtures("fake_dataset")
def test_good_tar_with_checksum(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, base = served
    data = _tar(folder / "fake.tar.gz", FILES)
    dest = tmp_path / "dest"
    resolved = download_dataset(
        NAME, dest, url=f"{base}/fake.tar.gz", sha256=hashlib.sha256(data).hexdigest()
    )
    assert [i.name for i in resolved.items] == ["im0", "im1", "im2"]
    assert _listing(dest) == [NAME, f"{NAME}/HR", *sorted(FILES)]
    assert (dest / f"{NAME}/HR/im1.png").read_bytes() == FILES[f"{NAME}/HR/im1.png"]
    # Already present: returns it without fetching (this URL would fail).
    assert download_dataset(NAME, dest, url=f"{base}/gone.tar").n_found == 3


@pytest.mark.usefixtures("fake_dataset")
def test_zip_without_top_folder_is_checked_against_manifest(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, base = served
    _zip(folder / "flat.zip", {name.removeprefix(f"{NAME}/"): data for name, data in FILES.items()})
    resolved = download_dataset(NAME, tmp_path / "dest", url=f"{base}/flat.zip")
    assert resolved.root == tmp_path / "dest" / NAME and resolved.n_found == 3


@pytest.mark.usefixtures("fake_dataset")
def test_manifest_mismatch_is_refused(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, base = served
    _zip(folder / "bad.zip", {**FILES, f"{NAME}/HR/im2.png": _png(99)})
    with pytest.raises(DatasetError, match=r"does not match its manifest.*im2\.png"):
        download_dataset(NAME, tmp_path / "dest", url=f"{base}/bad.zip")
    assert not (tmp_path / "dest").exists()


@pytest.mark.usefixtures("fake_dataset")
def test_bad_checksum_is_refused(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, base = served
    _tar(folder / "fake.tar.gz", FILES)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(DatasetError, match="checksum mismatch"):
        download_dataset(NAME, dest, url=f"{base}/fake.tar.gz", sha256="0" * 64)
    assert _listing(dest) == []


@pytest.mark.usefixtures("fake_dataset")
def test_wrong_count_is_refused(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, base = served
    _tar(folder / "short.tar.gz", dict(list(FILES.items())[:2]))
    with pytest.raises(DatasetError, match=r"found 2 of 3 images"):
        download_dataset(NAME, tmp_path / "dest", url=f"{base}/short.tar.gz")
    assert _listing(tmp_path / "dest") == []


def _symlink() -> tarfile.TarInfo:
    info = tarfile.TarInfo(f"{NAME}/HR/link.png")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return info


def _hardlink() -> tarfile.TarInfo:
    info = tarfile.TarInfo(f"{NAME}/HR/hard.png")
    info.type, info.linkname = tarfile.LNKTYPE, f"{NAME}/HR/im0.png"
    return info


def _device() -> tarfile.TarInfo:
    info = tarfile.TarInfo(f"{NAME}/HR/dev")
    info.type = tarfile.CHRTYPE
    return info


@pytest.mark.usefixtures("fake_dataset")
@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("traversal", "'..' in path"),
        ("absolute", "absolute path"),
        ("symlink", "symlink"),
        ("hardlink", "hard link"),
        ("device", "special file"),
        ("zip-traversal", "'..' in path"),
    ],
)
def test_hostile_archives_are_refused(served: tuple[Path, str], tmp_path: Path, kind: str, why: str) -> None:
    folder, base = served
    archive = folder / f"{kind}.archive"
    if kind == "traversal":
        _tar(archive, {**FILES, "../evil.png": b"x"})
    elif kind == "absolute":
        _tar(archive, {**FILES, str(tmp_path / "abs.png"): b"x"})
    elif kind == "zip-traversal":
        _zip(archive, {**FILES, f"{NAME}/../../evil.png": b"x"})
    else:
        _tar(archive, FILES, {"symlink": _symlink, "hardlink": _hardlink, "device": _device}[kind]())
    dest = tmp_path / "dest"
    with pytest.raises(DatasetError, match=rf"refusing unsafe archive.*\({why}\)"):
        download_dataset(NAME, dest, url=f"{base}/{archive.name}")
    assert not dest.exists()
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "abs.png").exists()


def test_check_archive_rejects_non_archives(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"not an archive")
    with pytest.raises(DatasetError, match="neither a zip nor a tar"):
        check_archive(tmp_path / "x.bin")


@pytest.mark.usefixtures("fake_dataset")
def test_http_error_is_clear(served: tuple[Path, str], tmp_path: Path) -> None:
    _, base = served
    with pytest.raises(DatasetError, match=r"downloading .*/missing\.tar failed"):
        download_dataset(NAME, tmp_path / "dest", url=f"{base}/missing.tar")
    assert not (tmp_path / "dest").exists()


def test_datasets_without_a_url_say_where_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"Rain100L has no direct download URL.*PReNet"):
        download_dataset("Rain100L", tmp_path)


def test_zip_symlink_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo(f"{NAME}/HR/link.png")
        info.external_attr = (0o120777) << 16  # S_IFLNK | rwx
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DatasetError, match=r"link\.png \(symlink\)"):
        check_archive(archive)
