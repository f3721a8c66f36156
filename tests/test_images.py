"""Image reading/writing: real dataset files against the manifest, and every refused/converted mode."""

from __future__ import annotations

import csv
import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ipt_bench.core.errors import DatasetError, IptBenchError
from ipt_bench.data.images import image_pixel_sha256, read_image, to_rgb, write_png


def _save(path: Path, img: Image.Image, **kwargs: object) -> Path:
    img.save(path, **kwargs)
    return path


def _png_rgb16(height: int, width: int) -> bytes:
    """A hand-built 16-bit RGB PNG (Pillow cannot write one; it reads it silently as 8-bit)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = np.full((height, width, 3), 40000, dtype=">u2")
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.mark.data
def test_real_files_decode_to_the_manifest_pixels(data_root: Path) -> None:
    with open(data_root / "MANIFEST.tsv", newline="") as handle:
        rows = {row["path"]: row for row in csv.DictReader(handle, delimiter="\t")}
    for rel in [
        "Set5/HR/baby.png",
        "Set14/HR/bridge.png",
        "Set14/LR_bicubic/X3/bridgex3.png",
        "BSD68/HR/test001.png",
    ]:
        img = read_image(data_root / rel)
        row = rows[rel]
        assert img.dtype == np.uint8
        assert img.shape[:2] == (int(row["height"]), int(row["width"]))
        assert img.ndim == (2 if row["mode"] == "L" else 3)
        assert image_pixel_sha256(img) == row["pixel_sha256"], rel


def test_truncated_png_raises_dataset_error_naming_the_file(tmp_path: Path) -> None:
    good = _save(
        tmp_path / "good.png",
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)),
    )
    data = good.read_bytes()
    bad = tmp_path / "cut.png"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"cut\.png"):
        read_image(bad)
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    with pytest.raises(DatasetError, match=r"junk\.png"):
        read_image(tmp_path / "junk.png")
    with pytest.raises(DatasetError, match="does not exist"):
        read_image(tmp_path / "missing.png")


def test_16_bit_images_are_refused_with_a_conversion_hint(tmp_path: Path) -> None:
    gray16 = _save(tmp_path / "gray16.png", Image.fromarray(np.full((8, 8), 3000, dtype=np.uint16)))
    rgb16 = tmp_path / "rgb16.png"
    rgb16.write_bytes(_png_rgb16(6, 5))
    assert Image.open(rgb16).mode == "RGB"  # Pillow would hand back truncated 8-bit data
    for path in (gray16, rgb16):
        with pytest.raises(DatasetError, match="8-bit images are expected") as info:
            read_image(path)
        assert path.name in str(info.value) and "depth 8" in str(info.value)


def test_alpha_is_dropped_only_when_fully_opaque(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    opaque = np.dstack([rgb, np.full((9, 7), 255, np.uint8)])
    assert np.array_equal(read_image(_save(tmp_path / "opaque.png", Image.fromarray(opaque))), rgb)
    seethrough = opaque.copy()
    seethrough[0, 0, 3] = 254
    with pytest.raises(DatasetError, match="transparent"):
        read_image(_save(tmp_path / "alpha.png", Image.fromarray(seethrough)))
    la = Image.fromarray(np.dstack([rgb[..., 0], np.full((9, 7), 255, np.uint8)]), mode="LA")
    assert np.array_equal(read_image(_save(tmp_path / "la.png", la)), rgb[..., 0])
    la_seethrough = Image.fromarray(np.dstack([rgb[..., 0], np.zeros((9, 7), np.uint8)]), mode="LA")
    with pytest.raises(DatasetError, match="transparent"):
        read_image(_save(tmp_path / "la_alpha.png", la_seethrough))


def test_palette_and_bilevel_images_convert(tmp_path: Path) -> None:
    rgb = np.random.default_rng(2).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    palette = Image.fromarray(rgb).quantize(colors=16)
    expected = np.asarray(palette.convert("RGB"))
    assert np.array_equal(read_image(_save(tmp_path / "p.png", palette)), expected)
    with pytest.raises(DatasetError, match="transparent"):  # palette index of pixel (0, 0) made transparent
        read_image(_save(tmp_path / "pt.png", palette, transparency=int(np.asarray(palette)[0, 0])))
    bilevel = Image.fromarray(rgb[..., 0] > 127)
    assert (
        read_image(_save(tmp_path / "b.png", bilevel)).tolist()
        == np.where(rgb[..., 0] > 127, 255, 0).tolist()
    )


def test_write_png_round_trips_atomically(tmp_path: Path) -> None:
    for img in (
        np.random.default_rng(3).integers(0, 256, (11, 13, 3), dtype=np.uint8),
        np.random.default_rng(4).integers(0, 256, (11, 13), dtype=np.uint8),
    ):
        out = write_png(tmp_path / "sub" / "out.png", img)
        assert np.array_equal(read_image(out), img)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["out.png"]  # no temp files left
    with pytest.raises(IptBenchError, match="uint8"):
        write_png(tmp_path / "f.png", np.zeros((4, 4), dtype=np.float32))


def test_to_rgb_and_pixel_hash() -> None:
    gray = np.arange(6, dtype=np.uint8).reshape(2, 3)
    rgb = to_rgb(gray)
    assert rgb.shape == (2, 3, 3) and all(np.array_equal(rgb[..., c], gray) for c in range(3))
    assert to_rgb(rgb) is rgb
    with pytest.raises(IptBenchError, match="HxW"):
        to_rgb(np.zeros((2, 3, 4), np.uint8))
    assert image_pixel_sha256(gray) == hashlib.sha256(bytes(range(6))).hexdigest()
    assert (
        image_pixel_sha256(rgb[:, ::-1])
        == hashlib.sha256(np.ascontiguousarray(rgb[:, ::-1]).tobytes()).hexdigest()
    )
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, format="PNG")
    assert image_pixel_sha256(np.asarray(Image.open(buffer))) == image_pixel_sha256(gray)
