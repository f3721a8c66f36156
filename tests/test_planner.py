"""Planner: DAG shape, shared pre-training, content keys, --force and --dry-run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ipt_bench.core.errors import ConfigError
from ipt_bench.suite.engine import forced_keys
from ipt_bench.suite.loader import load_suite
from ipt_bench.suite.planner import build_plan
from tests.conftest import REPO_ROOT

QUICKSTART = REPO_ROOT / "suites" / "quickstart.yaml"


def kinds(plan) -> dict[str, list]:
    out: dict[str, list] = {"pretrain": [], "finetune": [], "eval": []}
    for node in plan:
        out[node.kind].append(node)
    return out


def write_suite(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_quickstart_expands_to_the_expected_dag():
    suite = load_suite(QUICKSTART)
    plan = build_plan(suite, profile="smoke")
    nodes = kinds(plan)
    # one pre-training (only ipt-tiny-con pre-trains), shared by its two fine-tunes (sr_x2, denoise_s30)
    assert len(nodes["pretrain"]) == 1
    pre = nodes["pretrain"][0].key
    finetunes = nodes["finetune"]
    assert len(finetunes) == 4
    assert sorted(len(f.deps) for f in finetunes) == [0, 0, 1, 1]
    assert all(f.deps == (pre,) for f in finetunes if f.deps)
    # evals: 2 trained variants x (1 SR + 3 test sigmas) + bicubic x 1 SR + identity x 3 sigmas
    assert len(nodes["eval"]) == 2 * (1 + 3) + 1 + 3
    untrained = [e for e in nodes["eval"] if e.spec["model"] in ("bicubic", "identity")]
    assert len(untrained) == 4 and all(not e.deps for e in untrained)
    finetune_keys = {f.key for f in finetunes}
    assert all(e.deps[0] in finetune_keys for e in nodes["eval"] if e not in untrained)


def test_every_dependency_comes_first():
    plan = build_plan(load_suite(QUICKSTART), profile="smoke")
    seen: set[str] = set()
    for node in plan:
        assert set(node.deps) <= seen
        seen.add(node.key)


def test_keys_are_stable_and_change_only_downstream_of_a_change(tmp_path):
    text = QUICKSTART.read_text()
    first = build_plan(load_suite(QUICKSTART), profile="smoke")
    again = build_plan(load_suite(QUICKSTART), profile="smoke")
    assert list(first.nodes) == list(again.nodes)
    changed = build_plan(
        load_suite(write_suite(tmp_path, text.replace("    steps: 20", "    steps: 21"))), profile="smoke"
    )
    before, after = kinds(first), kinds(changed)
    assert before["pretrain"][0].key == after["pretrain"][0].key  # pre-training did not change
    assert not {f.key for f in before["finetune"]} & {f.key for f in after["finetune"]}
    untrained = lambda nodes: {e.key for e in nodes["eval"] if not e.deps}  # noqa: E731
    assert untrained(before) == untrained(after)
    assert not {e.key for e in before["eval"] if e.deps} & {e.key for e in after["eval"] if e.deps}
    assert set(build_plan(load_suite(QUICKSTART), profile="cpu").nodes).isdisjoint(first.nodes)


def test_resolved_training_specs_carry_the_profile_values():
    plan = build_plan(load_suite(QUICKSTART), profile="smoke")
    nodes = kinds(plan)
    assert nodes["pretrain"][0].spec["steps"] == 20 and nodes["pretrain"][0].spec["batch_size"] == 4
    cpu = kinds(build_plan(load_suite(QUICKSTART), profile="cpu"))
    assert cpu["finetune"][0].spec["steps"] == 200
    assert {tuple(f.spec["tasks"]) for f in nodes["finetune"]} == {("sr_x2",), ("denoise_s30",)}


def test_seeds_multiply_trained_nodes_but_not_baselines(tmp_path):
    text = QUICKSTART.read_text().replace("seeds: [0]", "seeds: [0, 1, 2]")
    one = kinds(build_plan(load_suite(QUICKSTART), profile="smoke"))
    three = kinds(build_plan(load_suite(write_suite(tmp_path, text)), profile="smoke"))
    assert len(three["pretrain"]) == 3 * len(one["pretrain"])
    assert len(three["finetune"]) == 3 * len(one["finetune"])
    baselines = [e for e in three["eval"] if not e.deps]
    assert len(baselines) == len([e for e in one["eval"] if not e.deps])
    assert {e.spec["seed"] for e in three["eval"] if e.deps} == {0, 1, 2}


def test_a_profile_can_run_fewer_seeds_than_the_suite(tmp_path):
    text = QUICKSTART.read_text().replace("seeds: [0]", "seeds: [0, 1, 2]")
    text = text.replace("  smoke:\n", "  smoke:\n    seeds: [1]\n")
    suite = load_suite(write_suite(tmp_path, text))
    smoke = kinds(build_plan(suite, profile="smoke"))
    cpu = kinds(build_plan(suite, profile="cpu"))
    assert len(cpu["finetune"]) == 3 * len(smoke["finetune"])
    assert {n.spec["seed"] for n in smoke["eval"]} == {1}
    assert {n.spec["seed"] for n in cpu["eval"] if n.deps} == {0, 1, 2}


def test_a_profile_can_narrow_test_levels_and_datasets(tmp_path):
    text = QUICKSTART.read_text().replace("datasets: [embedded]", "datasets: [embedded, Set5]", 1)
    text = text.replace("datasets: [embedded]", "datasets: [embedded, CBSD68]")
    narrowed = text.replace("  smoke:\n", "  smoke:\n    test_sigmas: [50]\n    datasets: [embedded]\n")
    suite = load_suite(write_suite(tmp_path, narrowed), check_names=False)
    full = kinds(build_plan(suite, profile="cpu"))["eval"]
    small = kinds(build_plan(suite, profile="smoke"))["eval"]
    assert {n.spec["dataset"] for n in full} == {"embedded", "Set5", "CBSD68"}
    assert {n.spec["dataset"] for n in small} == {"embedded"}
    assert {n.spec["task"] for n in small} == {"sr_x2", "denoise_s50"}
    assert {n.spec["task"] for n in full} == {"sr_x2", "denoise_s10", "denoise_s30", "denoise_s50"}


def test_a_profile_cannot_add_datasets(tmp_path):
    text = QUICKSTART.read_text().replace("  smoke:\n", "  smoke:\n    datasets: [Urban100]\n")
    with pytest.raises(ConfigError, match="narrow"):
        load_suite(write_suite(tmp_path, text))


def test_a_profile_with_repeated_seeds_is_refused(tmp_path):
    text = QUICKSTART.read_text().replace("  smoke:\n", "  smoke:\n    seeds: [1, 1]\n")
    with pytest.raises(ConfigError, match="seeds must be unique"):
        load_suite(write_suite(tmp_path, text))


def test_mixed_noise_training_and_matched_test_levels(tmp_path):
    text = """\
name: mixed
variants: [ipt-tiny-scratch]
tasks:
  denoise:
    train_sigmas: [30, [10, 50]]
    datasets: [embedded]
"""
    nodes = kinds(build_plan(load_suite(write_suite(tmp_path, text)), profile="smoke"))
    assert sorted(tuple(f.spec["tasks"]) for f in nodes["finetune"]) == [
        ("denoise_s10", "denoise_s50"),
        ("denoise_s30",),
    ]
    # without test_sigmas each model is tested at its own training levels
    assert sorted((e.spec["train_sigmas"], e.spec["task"]) for e in nodes["eval"]) == [
        ("10+50", "denoise_s10"),
        ("10+50", "denoise_s50"),
        ("30", "denoise_s30"),
    ]


def test_overrides_reach_the_training_spec_and_rows(tmp_path):
    text = """\
name: lam
variants:
  - {name: ipt-tiny-con, label: l05, contrastive_weight: 0.5, data_fraction: 0.4}
  - ipt-tiny-con
tasks:
  sr: {scales: [2], datasets: [embedded]}
"""
    nodes = kinds(build_plan(load_suite(write_suite(tmp_path, text)), profile="smoke"))
    assert len(nodes["pretrain"]) == 2
    weights = sorted((p.spec["contrastive_weight"], p.spec["data_fraction"]) for p in nodes["pretrain"])
    assert weights[1] == (0.5, 0.4) and weights[0][1] == 1.0
    l05 = next(e for e in nodes["eval"] if e.label == "l05")
    assert l05.spec["contrastive_weight"] == 0.5 and l05.spec["data_fraction"] == 0.4


def test_force_takes_prefixes_and_pulls_in_dependants():
    plan = build_plan(load_suite(QUICKSTART), profile="smoke")
    pre = kinds(plan)["pretrain"][0]
    forced = forced_keys(plan, pre.key[:8])
    assert pre.key in forced and forced == {pre.key} | plan.dependants(pre.key)
    assert len(forced) == 1 + 2 + (1 + 3)  # itself, two fine-tunes, their evals (sr_x2; sigma 10/30/50)
    assert forced_keys(plan, "all") == set(plan.nodes)
    with pytest.raises(ConfigError, match="no node key starts with"):
        forced_keys(plan, "zzzz")


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "ipt_bench", "run", str(QUICKSTART), "--profile", "smoke", "--out", str(out)]
    done = subprocess.run(
        [*cmd, "--dry-run", "--table"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    plan = build_plan(load_suite(QUICKSTART), profile="smoke")
    for node in plan:
        assert node.key[:10] in done.stdout
    assert done.stdout.count("to run") == len(plan) + 1  # each row, and the summary's count
    assert not out.exists()


def test_plan_json_round_trips(tmp_path):
    plan = build_plan(load_suite(QUICKSTART), profile="smoke")
    data = json.loads(json.dumps(plan.to_json()))
    assert [n["key"] for n in data["nodes"]] == list(plan.nodes)
