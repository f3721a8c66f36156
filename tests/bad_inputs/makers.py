"""What the bad-input cases are made of: the :class:`Case` record and makers of hostile files.

Each case names the files to create in a fresh workspace (text, or a maker for binary files
built at run time), the ``ipt-bench`` argv, and a regex the single ``error: ...`` line must
match. ``{ws}`` in argv is the workspace, ``{url}`` the base URL of a local HTTP server that
serves the workspace's ``served/`` folder. Every workspace also holds a finished-looking
results folder ``results/`` and a valid checkpoint ``ckpt/model.pt`` that must stay untouched.
"""

from __future__ import annotations

import builtins
import io
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Maker = Callable[[Path], None]

SUITE = """\
name: tiny
profile: smoke
variants: [ipt-tiny-scratch, identity]
tasks:
  denoise: {train_sigmas: [30], datasets: [embedded]}
"""
SET5 = ("baby", "bird", "butterfly", "head", "woman")
PICKLE_MARKER = "PWNED"


@dataclass(frozen=True)
class Case:
    """One bad input: files to create, the command, and what its error line must say."""

    id: str
    argv: tuple[str, ...]
    error: str
    files: dict[str, str | Maker] = field(default_factory=dict)
    must_not_exist: tuple[str, ...] = ()
    max_file_bytes: int | None = None  # RLIMIT_FSIZE for the child (a full disk)
    #: run as a subprocess (resource limits, or libraries that leave state behind); the others
    #: run in the test process through ``ipt_bench.cli.main.main``, which is much faster
    isolated: bool = False


def suite_with(old: str, new: str) -> str:
    """The valid base suite with one substring replaced."""
    assert old in SUITE
    return SUITE.replace(old, new)


def run_suite(name: str = "bad.yaml") -> tuple[str, ...]:
    """``ipt-bench run`` on a suite file, aimed at the workspace's precious results folder."""
    return ("run", name, "--out", "results", "--no-report")


def png(size: tuple[int, int] = (24, 24), mode: str = "RGB", alpha: int = 255, seed: int = 0) -> Maker:
    """A maker of a small deterministic PNG (mode RGB, L, RGBA or I;16)."""

    def make(path: Path) -> None:
        import numpy as np
        from PIL import Image

        rng = np.random.default_rng(seed)
        h, w = size[1], size[0]
        if mode == "RGB":
            im = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        elif mode == "L":
            im = Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8))
        elif mode == "RGBA":
            pixels = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
            pixels[..., 3] = 255
            pixels[0, 0, 3] = alpha
            im = Image.fromarray(pixels)
        else:
            im = Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
        im.save(path, format="PNG")

    return make


def truncated(maker: Maker, keep: float = 0.5) -> Maker:
    """A maker of the file ``maker`` writes, cut to ``keep`` of its length."""

    def make(path: Path) -> None:
        maker(path)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])

    return make


def state_dict_file() -> Maker:
    """A maker of a tiny non-IPT state dict (a two-layer CNN)."""

    def make(path: Path) -> None:
        import torch

        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 3, 3))
        torch.save(net.state_dict(), path)

    return make


class _Payload:
    """Unpickling this would create the marker file; a safe loader must refuse it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.open, (str(self.marker), "w"))


def pickled_payload() -> Maker:
    """A maker of a checkpoint whose pickle would create ``PICKLE_MARKER`` beside it if executed."""

    def make(path: Path) -> None:
        import torch

        torch.save({"model": _Payload(path.parent / PICKLE_MARKER), "weight": torch.zeros(2)}, path)

    return make


def tar_with(member: str, *, symlink_to: str | None = None) -> Maker:
    """A maker of a tar archive holding one hostile member (a traversal path or a symlink)."""

    def make(path: Path) -> None:
        with tarfile.open(path, "w") as tar:
            info = tarfile.TarInfo(member)
            if symlink_to is not None:
                info.type = tarfile.SYMTYPE
                info.linkname = symlink_to
                tar.addfile(info)
            else:
                data = b"owned\n"
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

    return make


def set5(n: int = 5, extra: str | None = None) -> dict[str, str | Maker]:
    """A fake ``data/Set5`` with ``n`` small random images (not the real ones), plus ``extra``."""
    names = [*SET5[:n], *([extra] if extra else [])]
    return {f"data/Set5/HR/{name}.png": png(seed=i) for i, name in enumerate(names)}
