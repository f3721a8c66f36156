"""Read, check and write 8-bit images as numpy arrays (uint8 HxWx3 RGB or HxW gray)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

from ipt_bench.core.atomic import atomic_write
from ipt_bench.core.errors import DatasetError, IptBenchError

_ALPHA_MODES = {"RGBA": "RGB", "LA": "L", "PA": "RGB"}
_HIGH_DEPTH_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_CONVERT_HINT = "convert it to 8-bit PNG first, e.g. `magick in.png -depth 8 out.png`"


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file fully into uint8: HxWx3 RGB, or HxW for 8-bit gray.

    Palette images become RGB and 1-bit images gray. An alpha channel (RGBA, LA, palette with
    transparency) is accepted only if it is fully opaque, and is then dropped; otherwise, and for
    16-bit or float images, truncated or unreadable files, a ``DatasetError`` names the file.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            if _has_high_bit_depth(im):
                raise DatasetError(
                    f"{path} has {im.mode} pixels with more than 8 bits per channel; "
                    "8-bit images are expected",
                    _CONVERT_HINT,
                )
            im.load()  # force the full decode so truncation is detected here, not later
            arr = _to_array(im, path)
    except DatasetError:
        raise
    except FileNotFoundError as exc:
        raise DatasetError(
            f"image file {path} does not exist", "check the dataset folder and file name"
        ) from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DatasetError(
            f"cannot decode image {path}: {exc}",
            "the file is truncated or corrupt; re-download or re-extract the dataset",
        ) from exc
    return arr


def to_rgb(img: np.ndarray) -> np.ndarray:
    """Return an HxWx3 image: gray (HxW or HxWx1) becomes three identical channels."""
    if img.ndim == 3 and img.shape[2] == 3:
        return img
    if img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 1):
        plane = img if img.ndim == 2 else img[..., 0]
        return np.repeat(plane[..., None], 3, axis=2)
    raise IptBenchError(
        f"to_rgb expects an HxW, HxWx1 or HxWx3 image, got shape {img.shape}", "drop alpha or extra channels"
    )


def write_png(path: str | os.PathLike[str], img: np.ndarray) -> Path:
    """Atomically write a uint8 HxW or HxWx3 image as PNG; returns the path."""
    if img.dtype != np.uint8 or not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
        raise IptBenchError(
            f"write_png expects a uint8 HxW or HxWx3 image, got {img.dtype} of shape {img.shape}",
            "clamp to [0, 255], round and cast to uint8; drop alpha or extra channels",
        )
    pil = Image.fromarray(np.ascontiguousarray(img))
    return atomic_write(path, lambda handle: pil.save(handle, format="PNG"))


def image_pixel_sha256(img: np.ndarray) -> str:
    """sha256 hex digest of the pixel bytes (C order); equal digests mean identical pixels."""
    return hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest()


def _has_high_bit_depth(im: Image.Image) -> bool:
    if im.mode in _HIGH_DEPTH_MODES:
        return True
    # Pillow silently truncates 16-bit RGB(A) PNG/TIFF to 8 bits; the raw decoder mode tells.
    for tile in im.tile:
        rawmode = tile.args if isinstance(tile.args, str) else (tile.args or ("",))[0]
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


def _to_array(im: Image.Image, path: Path) -> np.ndarray:
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode == "1":
        im = im.convert("L")
    if im.mode in _ALPHA_MODES:
        alpha = np.asarray(im.getchannel("A"))
        if alpha.min() != 255:
            raise DatasetError(
                f"{path} has transparent pixels ({im.mode}, min alpha {alpha.min()})",
                "flatten the image onto a background (opaque RGB or gray) before using it",
            )
        im = im.convert(_ALPHA_MODES[im.mode])
    if im.mode not in ("RGB", "L"):
        raise DatasetError(
            f"{path} has unsupported colour mode {im.mode}", "convert it to 8-bit RGB or gray PNG first"
        )
    return np.asarray(im, dtype=np.uint8).copy()
