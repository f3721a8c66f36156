"""Results folders and output paths: stored rows whose bytes changed, malformed records, logs
that are not UTF-8, and outputs that are devices, pipes, links or folders (never replaced)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from bad_inputs.makers import Case

EVAL_PARQUET = ("eval", "--task", "sr", "--model", "bicubic", "--max-images", "1", "--parquet")
KEY = "fe" * 32


def results_folder(
    *, flip: bool = False, record: dict | None = None, log: bytes | None = None, suite: bytes | None = None
):
    """A maker of a results folder with one done eval node (``path`` is its ``run.json``)."""

    def make(path: Path) -> None:
        import pandas as pd

        from bad_inputs.makers import SUITE

        root = path.parent
        node = root / "nodes" / KEY
        node.mkdir(parents=True)
        from ipt_bench.report.collect import ROW_COLUMNS

        row = {column: "x" for column in ROW_COLUMNS} | {"psnr": 30.0, "ssim": 0.9, "seconds": 0.1}
        frame = pd.DataFrame([row])
        frame.to_parquet(node / "rows.parquet")
        data = (node / "rows.parquet").read_bytes()
        files = {"rows.parquet": len(data)}
        digests = {"rows.parquet": hashlib.sha256(data).hexdigest()}
        base = {"key": KEY, "kind": "eval", "status": "done", "files": files, "sha256": digests}
        (node / "record.json").write_text(json.dumps(record if record is not None else base))
        if flip:
            flipped = bytearray(data)
            flipped[len(flipped) // 2] ^= 0x01
            (node / "rows.parquet").write_bytes(bytes(flipped))
        if log is not None:
            (node / "train").mkdir()
            (node / "train" / "log.jsonl").write_bytes(log)
        (root / "suite.yaml").write_bytes(suite if suite is not None else SUITE.encode())
        path.write_text(json.dumps({"suite": "tiny", "nodes": {KEY: "done"}}))

    return make


def _symlink_to(target: str):
    def make(path: Path) -> None:
        path.with_name(target).write_text("precious\n")
        os.symlink(target, path)

    return make


def _fifo(path: Path) -> None:
    os.mkfifo(path)


CASES: tuple[Case, ...] = (
    Case(
        "report-rows-bit-flipped",
        ("report", "res", "--out", "rep"),
        r"cannot be trusted: rows\.parquet changed since it was written",
        {"res/run.json": results_folder(flip=True)},
    ),
    Case(
        "report-record-files-not-a-mapping",
        ("report", "res", "--out", "rep"),
        r"cannot be trusted: its record lists no files",
        {"res/run.json": results_folder(record={"status": "done", "files": ["rows.parquet"], "sha256": {}})},
    ),
    Case(
        "report-record-lists-no-files",
        ("report", "res", "--out", "rep"),
        r"its record lists no files",
        {"res/run.json": results_folder(record={"status": "done", "files": {}, "sha256": {}})},
    ),
    Case(
        "report-record-file-outside-node",
        ("report", "res", "--out", "rep"),
        r"malformed entry '\.\./\.\./run\.json'",
        {
            "res/run.json": results_folder(
                record={"status": "done", "files": {"../../run.json": 1}, "sha256": {"../../run.json": "0"}}
            )
        },
    ),
    Case(
        "report-log-not-utf8",
        ("report", "res", "--out", "rep"),
        r"cannot read training log .*log\.jsonl",
        {"res/run.json": results_folder(log=b'{"step": 1, "loss": 0.5}\n\xff\xfe\n')},
    ),
    Case(
        "report-suite-not-utf8",
        ("report", "res", "--out", "rep"),
        r"cannot read .*suite\.yaml",
        {"res/run.json": results_folder(suite=b"name: t\xe9\n")},
    ),
    Case(
        "report-record-is-a-list",
        ("report", "res", "--out", "rep"),
        r"record\.json holds a JSON list",
        {"res/nodes/ab/record.json": "[1]", "res/run.json": "{}"},
    ),
    Case("report-missing-folder", ("report", "nowhere", "--out", "rep"), r"nowhere does not exist"),
    Case(
        "report-out-under-a-file",
        ("report", "res", "--out", "afile/rep"),
        r"afile",
        {"afile": "x\n", "res/run.json": results_folder()},
    ),
    # --- outputs that are not regular files --------------------------------------------------
    Case(
        "parquet-to-dev-null",
        (*EVAL_PARQUET, "/dev/null"),
        r"refusing to write /dev/null: it is a character device",
    ),
    Case(
        "parquet-to-a-symlink",
        (*EVAL_PARQUET, "link.parquet"),
        r"link\.parquet: it is a symbolic link",
        {"link.parquet": _symlink_to("target.txt")},
    ),
    Case(
        "parquet-to-a-fifo",
        (*EVAL_PARQUET, "pipe.parquet"),
        r"pipe\.parquet: it is a named pipe",
        {"pipe.parquet": _fifo},
    ),
    Case(
        "parquet-to-a-folder",
        (*EVAL_PARQUET, "afolder"),
        r"afolder: it is a folder",
        {"afolder/keep.txt": "x\n"},
    ),
    Case(
        "train-out-is-a-file",
        ("train", "--variant", "ipt-tiny-scratch", "--out", "afile", "--steps", "1"),
        r"afile",
        {"afile": "x\n"},
    ),
    Case(
        "save-images-under-a-file",
        (
            "eval",
            "--task",
            "sr",
            "--model",
            "bicubic-rgb",
            "--max-images",
            "1",
            "--save-images",
            "afile/imgs",
        ),
        r"afile",
        {"afile": "x\n"},
    ),
)
