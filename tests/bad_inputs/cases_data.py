"""Datasets, images and downloads: odd file names, images too large for the memory budget
(refused from their header), datasets that differ from their manifest, hostile URLs and archives."""

from __future__ import annotations

import io
import os
import struct
import tarfile
import zipfile
from pathlib import Path

from bad_inputs.makers import Case, png, set5

EVAL_SR = ("eval", "--task", "sr", "--model", "bicubic")


def _non_utf8_name(path: Path) -> None:
    """A valid PNG whose file name holds the byte 0xff (not UTF-8) in ``path``'s folder."""
    png()(path)
    os.rename(path, os.path.join(os.fsencode(path.parent), b"caf\xff.png"))


def _constant_png(size: tuple[int, int], mode: str = "L"):
    def make(path: Path) -> None:
        from PIL import Image

        Image.new(mode, size, 128).save(path, format="PNG", compress_level=1)

    return make


def _zip_with(members: dict[str, bytes]):
    def make(path: Path) -> None:
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)

    return make


def _zip_declaring_huge_members(path: Path) -> None:
    """A small zip whose central directory claims 20 members of almost 4 GiB each (80 GiB)."""
    _zip_with({f"Set5/HR/img{i:02d}.png": b"tiny" for i in range(20)})(path)
    data = bytearray(path.read_bytes())
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        struct.pack_into("<I", data, start + 24, 0xFFFFFFF0)  # uncompressed size
        start += 4
    path.write_bytes(bytes(data))


def _truncated_tar_gz(path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        payload = os.urandom(64 * 1024)
        info = tarfile.TarInfo("Set5/HR/baby.png")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])


def _zeros_tar_gz(n_bytes: int):
    def make(path: Path) -> None:
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo("Set5/HR/baby.png")
            info.size = n_bytes
            tar.addfile(info, io.BytesIO(bytes(n_bytes)))

    return make


def _download(url: str, *extra: str) -> tuple[str, ...]:
    return ("data", "download", "Set5", "--dest", "downloads", "--url", url, *extra)


CASES: tuple[Case, ...] = (
    Case(
        "non-utf8-image-name-with-parquet",
        (*EVAL_SR, "--dataset", "./imgs", "--parquet", "rows.parquet"),
        r"caf\\xff\.png is not valid UTF-8",
        {"imgs/a.png": _non_utf8_name},
    ),
    Case(
        "image-too-large-for-the-budget",
        (*EVAL_SR, "--dataset", "./imgs", "--memory-budget", "64MiB"),
        r"4000x4000.*needs .* but the memory budget is 64\.0 MiB",
        {"imgs/big.png": _constant_png((4000, 4000))},
    ),
    Case(
        "image-beyond-pillow-bomb-limit",
        (*EVAL_SR, "--dataset", "./imgs", "--memory-budget", "512MiB"),
        r"9000x20000.*needs .* but the memory budget is 0\.50 GiB",
        {"imgs/big.png": _constant_png((20000, 9000))},
    ),
    Case(
        "image-smaller-than-scale",
        (*EVAL_SR, "--scale", "4", "--dataset", "./imgs"),
        r"smaller than the scale 4",
        {"imgs/a.png": png((3, 3))},
    ),
    Case(
        "text-file-named-png", (*EVAL_SR, "--dataset", "./imgs"), r"a\.png", {"imgs/a.png": "not an image\n"}
    ),
    Case(
        "folder-without-images",
        (*EVAL_SR, "--dataset", "./imgs"),
        r"holds no images",
        {"imgs/readme.txt": "x\n"},
    ),
    Case("dataset-path-is-a-file", (*EVAL_SR, "--dataset", "./a.png"), r"does not exist", {"a.png": png()}),
    Case(
        "named-dataset-modified-on-disk",
        (*EVAL_SR, "--dataset", "Set5", "--data-root", "data"),
        r"Set5: .*baby\.png does not match the dataset's manifest.*--no-verify",
        set5(),
    ),
    Case(
        "denoise-sigma-zero",
        ("eval", "--task", "denoise", "--model", "identity", "--sigma", "0"),
        r"sigma 0",
    ),
    Case("max-images-zero", (*EVAL_SR, "--max-images", "0"), r"max-images"),
    Case("memory-budget-garbage", (*EVAL_SR, "--memory-budget", "lots"), r"lots"),
    Case(
        "tile-batch-zero",
        ("eval", "--task", "sr", "--model", "ipt-tiny-scratch", "--tile-batch", "0"),
        r"tile batch",
    ),
    Case("data-verify-unknown-dataset", ("data", "verify", "Set55"), r"Set55"),
    # --- downloads -------------------------------------------------------------------------------
    Case("download-file-url", _download("file:///etc/passwd"), r"only http and https"),
    Case("download-ftp-url", _download("ftp://127.0.0.1/set5.tar"), r"only http and https"),
    Case(
        "download-destination-is-a-file",
        ("data", "download", "Set5", "--dest", "afile", "--url", "{url}/set5.zip"),
        r"afile",
        {"afile": "a file\n", "served/set5.zip": _zip_with({"Set5/HR/baby.png": b"x"})},
    ),
    Case(
        "download-not-an-archive",
        _download("{url}/set5.tar"),
        r"neither a zip nor a tar",
        {"served/set5.tar": "<html>moved</html>\n"},
    ),
    Case(
        "download-zip-traversal",
        _download("{url}/evil.zip"),
        r"\.\./",
        {"served/evil.zip": _zip_with({"../../escaped-zip.txt": b"owned"})},
        must_not_exist=("escaped-zip.txt", "../escaped-zip.txt"),
    ),
    Case(
        "download-zip-absolute-member",
        _download("{url}/abs.zip"),
        r"absolute path",
        {"served/abs.zip": _zip_with({"/tmp/ipt-bench-abs.txt": b"owned"})},
    ),
    Case(
        "download-archive-expands-too-far",
        _download("{url}/bomb.zip"),
        r"would expand to 80\.0 GiB",
        {"served/bomb.zip": _zip_declaring_huge_members},
    ),
    Case(
        "download-truncated-tar-gz",
        _download("{url}/cut.tar.gz"),
        r"cut\.tar\.gz|archive",
        {"served/cut.tar.gz": _truncated_tar_gz},
    ),
    Case(
        "download-checksum-mismatch",
        _download("{url}/set5.zip", "--sha256", "00" * 32),
        r"checksum mismatch",
        {"served/set5.zip": _zip_with({"Set5/HR/baby.png": b"x"})},
    ),
    Case(
        "download-disk-full-while-extracting",
        _download("{url}/zeros.tar.gz"),
        r"extracting .*(too large|space)",
        {"served/zeros.tar.gz": _zeros_tar_gz(4 << 20)},
        max_file_bytes=1 << 20,
        isolated=True,
    ),
)
