"""Training data is part of a suite: named per stage and profile, found and verified before a run."""

from __future__ import annotations

import pytest

from ipt_bench.cli.main import main
from ipt_bench.core.errors import DatasetError
from ipt_bench.data.patches import image_paths, select_subset
from ipt_bench.data.training_sets import check_training_data, locate_training_set
from ipt_bench.eval.spec import EvalSpec
from ipt_bench.suite.loader import load_suite
from ipt_bench.suite.planner import build_plan
from tests.conftest import REPO_ROOT, require_dataset


def _isolate(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("IPT_BENCH_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_paper_dry_run_without_imagenet_or_div2k_exits_2_naming_the_set(monkeypatch, tmp_path, capsys):
    _isolate(monkeypatch, tmp_path)
    status = main(
        [
            "run",
            str(REPO_ROOT / "suites/table1.yaml"),
            "--profile",
            "paper",
            "--dry-run",
            "--out",
            str(tmp_path / "r"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert err[0].startswith("error: training set ") and "not found" in err[0]
    assert "(profile paper)" in err[0] and "-- fix: download it from" in err[0]
    assert any(name in err[0] for name in ("ImageNet", "DIV2K"))


def test_a_named_set_is_found_under_a_data_root(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    with pytest.raises(DatasetError, match="training set ImageNet for pre-training not found"):
        locate_training_set("ImageNet", tmp_path, role="pre-training")
    folder = tmp_path / "ImageNet" / "train" / "n01440764"
    folder.mkdir(parents=True)
    src = require_dataset("T91") / "T91" / "HR"
    for path in sorted(src.glob("*.png"))[:3]:
        (folder / path.name).write_bytes(path.read_bytes())
    assert locate_training_set("ImageNet", tmp_path) == tmp_path / "ImageNet" / "train"
    assert len(image_paths("ImageNet", tmp_path)) == 3
    check_training_data("ImageNet", tmp_path)


def test_cpu_profile_trains_on_t91_and_says_so_in_every_row():
    root = require_dataset("T91")
    check_training_data("T91", root)
    plan = build_plan(load_suite(REPO_ROOT / "suites/generalization.yaml"), profile="cpu")
    trains = [n for n in plan if n.kind in ("pretrain", "finetune")]
    assert trains and {n.spec["data"] for n in trains} == {"T91"}
    specs = [EvalSpec.from_json(n.spec) for n in plan if n.kind == "eval" and n.spec.get("trained")]
    assert specs and {s.train_data for s in specs} <= {"pretrain T91, finetune T91", "finetune T91"}
    smoke = build_plan(load_suite(REPO_ROOT / "suites/generalization.yaml"), profile="smoke")
    assert {n.spec["data"] for n in smoke if n.kind in ("pretrain", "finetune")} == {"embedded-train"}
    # the quickstart names the shipped crops itself: the README's first command needs no download
    quick = build_plan(load_suite(REPO_ROOT / "suites/quickstart.yaml"), profile="cpu")
    assert {n.spec["data"] for n in quick if n.kind in ("pretrain", "finetune")} == {"embedded-train"}


def test_data_fractions_act_on_the_real_set():
    paths = image_paths("T91", require_dataset("T91"))
    assert len(paths) == 91
    assert len(select_subset(paths, 0, data_fraction=0.2)) == 19
