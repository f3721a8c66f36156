"""Image dimensions read from the file header alone, so memory can be checked before decoding."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from PIL import Image

from ipt_bench.core.errors import DatasetError


def header_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(width, height)`` of an image from its header, without decoding its pixels.

    Pillow's decompression-bomb limit is not applied here: the caller compares the size with
    the memory budget, which is the real limit, and refuses with the number of bytes it needs.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return im.size
    except Image.DecompressionBombError:
        limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # read the header of a huge image only to report its size
        try:
            with Image.open(path) as im:
                return im.size
        finally:
            Image.MAX_IMAGE_PIXELS = limit
    except FileNotFoundError as exc:
        raise DatasetError(
            f"image file {path} does not exist", "check the dataset folder and file name"
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DatasetError(
            f"cannot decode image {path}: {exc}",
            "the file is truncated or corrupt; re-download or re-extract the dataset",
        ) from exc
