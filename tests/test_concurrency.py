"""Two different suites sharing a pre-training node, run at once on one ``--out``: the shared node
is trained once, every node finishes, every result file reads back.

Two runs of the *same* suite on one folder: tests/test_run_resume.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ipt_bench.suite.loader import load_suite
from ipt_bench.suite.planner import build_plan

pytestmark = pytest.mark.slow

SUITE_A = """\
name: share-a
profile: smoke
variants: [ipt-tiny-con]
tasks:
  sr: {scales: [2], datasets: [embedded]}
profiles:
  smoke: {steps: 4, pretrain_steps: 6, batch_size: 2}
"""
SUITE_B = SUITE_A.replace("share-a", "share-b").replace(
    "sr: {scales: [2], datasets: [embedded]}", "denoise: {train_sigmas: [30], datasets: [embedded]}"
)


def test_two_suites_sharing_pretraining_train_it_once(tmp_path: Path) -> None:
    suites = []
    for name, text in (("a.yaml", SUITE_A), ("b.yaml", SUITE_B)):
        (tmp_path / name).write_text(text)
        suites.append(tmp_path / name)
    plans = [build_plan(load_suite(s)) for s in suites]
    shared = {n.key for n in plans[0] if n.kind == "pretrain"} & {
        n.key for n in plans[1] if n.kind == "pretrain"
    }
    assert len(shared) == 1, "the two suites should share their pre-training node"
    (pretrain_key,) = shared

    out = tmp_path / "results"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ipt_bench", "run", str(s), "--out", str(out), "--no-report"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for s in suites
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs

    lines = [line.split() for stdout, _ in outputs for line in stdout.splitlines() if line.startswith("[")]
    trained = [words[2] for words in lines if len(words) > 2 and words[1] == "done"]
    assert trained.count(pretrain_key[:10]) == 1, "the shared pre-training ran more than once"
    for plan in plans:
        for node in plan:
            record = json.loads((out / "nodes" / node.key / "record.json").read_text())
            assert record["status"] == "done", node.key
            rows = out / "nodes" / node.key / "rows.parquet"
            if node.kind == "eval":
                assert len(pd.read_parquet(rows)) > 0
    log = out / "nodes" / pretrain_key / "train" / "log.jsonl"
    steps = [json.loads(line).get("step") for line in log.read_text().splitlines() if line.strip()]
    steps = [s for s in steps if s is not None]
    assert len(steps) == len(set(steps)), "a pre-training step was logged twice"
