"""The bad-input corpus: one :class:`Case` per hostile or broken input.

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


CASES: tuple[Case, ...] = (
    # --- suite files --------------------------------------------------------------------------
    Case(
        "yaml-syntax",
        run_suite(),
        r"bad\.yaml.*(YAML|yaml|line)",
        {"bad.yaml": "name: tiny\nvariants: [a, b\n"},
    ),
    Case("unknown-key", run_suite(), r"colour", {"bad.yaml": SUITE + "colour: red\n"}),
    Case(
        "unknown-variant-close-match",
        run_suite(),
        r"ipt-tiny-scrach.*ipt-tiny-scratch",
        {"bad.yaml": suite_with("ipt-tiny-scratch", "ipt-tiny-scrach")},
    ),
    Case("wrong-type", run_suite(), r"seeds", {"bad.yaml": SUITE + "seeds: many\n"}),
    Case("zero-steps", run_suite(), r"steps", {"bad.yaml": SUITE + "profiles:\n  smoke: {steps: 0}\n"}),
    Case("negative-steps", run_suite(), r"steps", {"bad.yaml": SUITE + "profiles:\n  smoke: {steps: -5}\n"}),
    Case(
        "sigma-out-of-range",
        run_suite(),
        r"(noise level|sigma).*300",
        {"bad.yaml": suite_with("train_sigmas: [30]", "train_sigmas: [300]")},
    ),
    Case(
        "scale-not-2-3-4",
        run_suite(),
        r"scales",
        {"bad.yaml": SUITE + "  sr: {scales: [5], datasets: [embedded]}\n"},
    ),
    Case(
        "duplicate-variants",
        run_suite(),
        r"unique.*identity",
        {"bad.yaml": suite_with("[ipt-tiny-scratch, identity]", "[identity, identity]")},
    ),
    Case("empty-suite-file", run_suite(), r"bad\.yaml", {"bad.yaml": ""}),
    Case(
        "no-variants",
        run_suite(),
        r"variants",
        {"bad.yaml": suite_with("[ipt-tiny-scratch, identity]", "[]")},
    ),
    Case(
        "unknown-dataset-close-match",
        run_suite(),
        r"Set55.*Set5",
        {"bad.yaml": suite_with("datasets: [embedded]", "datasets: [Set55]")},
    ),
    Case(
        "html-in-suite-name",
        run_suite(),
        r"name",
        {"bad.yaml": suite_with("name: tiny", "name: '<script>alert(1)</script>'")},
    ),
    Case("extends-itself", run_suite(), r"extends itself", {"bad.yaml": "extends: bad.yaml\n" + SUITE}),
    Case(
        "extends-cycle",
        run_suite(),
        r"extends itself.*(a|b)\.yaml",
        {
            "bad.yaml": "extends: a.yaml\n" + SUITE,
            "a.yaml": "extends: b.yaml\n",
            "b.yaml": "extends: a.yaml\n",
        },
    ),
    Case("suite-file-missing", run_suite("nowhere.yaml"), r"nowhere\.yaml"),
    Case(
        "ray-address-not-answering",
        (*run_suite("good.yaml"), "--executor", "ray", "--address", "127.0.0.1:9"),
        r"[Rr]ay",
        {"good.yaml": SUITE},
    ),
    Case(
        "out-under-a-regular-file",
        ("run", "good.yaml", "--out", "afile/results", "--no-report"),
        r"afile",
        {"good.yaml": SUITE, "afile": "I am a file, not a folder\n"},
    ),
    # --- datasets and images ------------------------------------------------------------------
    Case(
        "missing-dataset",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "Set5", "--data-root", "empty"),
        r"Set5 not found.*download",
        {"empty/.keep": ""},
    ),
    Case(
        "dataset-missing-files",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "Set5", "--data-root", "data"),
        r"found 4 of 5.*woman.*allow-partial",
        set5(n=4),
    ),
    Case(
        "dataset-extra-files",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "Set5", "--data-root", "data"),
        r"expected 5.*zebra",
        set5(extra="zebra"),
    ),
    Case(
        "dataset-mismatched-files",
        ("data", "verify", "Set5", "--data-root", "data"),
        r"verification failed.*Set5",
        set5(),
    ),
    Case(
        "truncated-png",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "./imgs"),
        r"imgs/a\.png.*(truncated|decode)",
        {"imgs/a.png": truncated(png((64, 64)))},
    ),
    Case(
        "16-bit-png",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "./imgs"),
        r"a\.png.*8 bits",
        {"imgs/a.png": png(mode="I;16")},
    ),
    Case(
        "rgba-with-transparency",
        ("eval", "--task", "sr", "--model", "bicubic", "--dataset", "./imgs"),
        r"a\.png.*transparent.*flatten",
        {"imgs/a.png": png(mode="RGBA", alpha=0)},
    ),
    Case(
        "rainy-clean-size-mismatch",
        (
            "eval",
            "--task",
            "derain",
            "--model",
            "identity",
            "--dataset",
            "Rain100L",
            "--data-root",
            "data",
            "--allow-partial",
        ),
        r"rainy.*clean.*differ",
        {"data/Rain100L/rain/001.png": png((24, 24)), "data/Rain100L/norain/001.png": png((20, 24))},
    ),
    Case(
        "denoise-sigma-out-of-range",
        ("eval", "--task", "denoise", "--model", "identity", "--sigma", "500"),
        r"sigma 500.*range",
    ),
    # --- checkpoints --------------------------------------------------------------------------
    Case(
        "checkpoint-of-another-architecture",
        ("eval", "--task", "sr", "--checkpoint", "other.pt"),
        r"other\.pt",
        {"other.pt": state_dict_file()},
    ),
    Case(
        "checkpoint-with-pickled-object",
        ("eval", "--task", "sr", "--checkpoint", "evil/model.pt"),
        r"model\.pt",
        {"evil/model.pt": pickled_payload()},
        must_not_exist=(f"evil/{PICKLE_MARKER}",),
    ),
    Case(
        "truncated-checkpoint",
        ("eval", "--task", "sr", "--checkpoint", "cut.pt"),
        r"cut\.pt",
        {"cut.pt": truncated(state_dict_file())},
    ),
    Case(
        "train-init-pickled-object",
        (
            "train",
            "--variant",
            "ipt-tiny-scratch",
            "--stage",
            "finetune",
            "--task",
            "sr",
            "--init",
            "evil/model.pt",
            "--out",
            "trained",
            "--steps",
            "1",
        ),
        r"model\.pt",
        {"evil/model.pt": pickled_payload()},
        must_not_exist=(f"evil/{PICKLE_MARKER}",),
    ),
    # --- results, reports, output folders -------------------------------------------------------
    Case(
        "corrupt-parquet-in-results",
        ("report", "broken", "--out", "report"),
        r"rows\.parquet",
        {
            "broken/nodes/abc123/rows.parquet": "PAR1 this is not parquet",
            "broken/nodes/abc123/record.json": "{}",
        },
    ),
    Case(
        "parquet-out-under-a-regular-file",
        ("eval", "--task", "sr", "--model", "bicubic", "--parquet", "afile/rows.parquet"),
        r"afile",
        {"afile": "a file\n"},
    ),
    Case(
        "disk-full-while-writing",
        ("eval", "--task", "sr", "--model", "bicubic-rgb", "--save-images", "restored"),
        r"restored.*(too large|space)",
        max_file_bytes=2048,
    ),
    Case(
        "train-zero-steps",
        ("train", "--variant", "ipt-tiny-scratch", "--out", "trained", "--steps", "0"),
        r"steps",
    ),
    Case(
        "train-scale-not-2-3-4",
        (
            "train",
            "--variant",
            "ipt-tiny-scratch",
            "--stage",
            "finetune",
            "--task",
            "sr",
            "--scale",
            "5",
            "--out",
            "trained",
        ),
        r"scale",
    ),
    # --- command line ----------------------------------------------------------------------------
    Case("cli-extra-argument", ("variants", "list"), r"unexpected extra argument.*list"),
    Case("cli-unknown-option", ("eval", "--colour", "red"), r"No such option: --colour"),
    # --- hostile downloads ----------------------------------------------------------------------
    Case(
        "archive-path-traversal",
        ("data", "download", "Set5", "--dest", "downloads", "--url", "{url}/evil.tar"),
        r"evil\.tar|\.\./",
        {"served/evil.tar": tar_with("../../escaped.txt")},
        must_not_exist=("escaped.txt", "../escaped.txt"),
    ),
    Case(
        "archive-symlink",
        ("data", "download", "Set5", "--dest", "downloads", "--url", "{url}/link.tar"),
        r"link|symlink",
        {"served/link.tar": tar_with("Set5/HR/baby.png", symlink_to="/etc/passwd")},
    ),
    Case(
        "download-url-not-answering",
        ("data", "download", "Set5", "--dest", "downloads", "--url", "{url}/missing.tar"),
        r"missing\.tar",
    ),
)
