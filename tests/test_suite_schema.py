"""Suite files: the shipped suites validate, and every error names file, line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipt_bench.core.errors import ConfigError
from ipt_bench.suite.loader import load_suite
from tests.conftest import REPO_ROOT

SHIPPED = sorted((REPO_ROOT / "suites").glob("*.yaml"))
VALID = """\
name: tiny
profile: smoke
variants:
  - ipt-tiny-scratch
  - bicubic
tasks:
  sr:
    scales: [2]
    datasets: [embedded]
metrics:
  channel: y
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text: str, fragment: str) -> int:
    """1-based line number of the first line containing ``fragment`` (computed independently)."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_the_required_suites_are_shipped():
    names = {p.stem for p in SHIPPED}
    required = {"quickstart", "generalization", "table1", "contrastive_lambda", "pretrain_data"}
    assert required | {"table2_denoise", "table3_derain"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_suites_validate(path):
    suite = load_suite(path)
    assert suite.name == path.stem
    assert suite.report is not None


def test_a_valid_suite_loads_with_defaults(tmp_path):
    suite = load_suite(write(tmp_path, "tiny.yaml", VALID))
    assert [v.name for v in suite.variants] == ["ipt-tiny-scratch", "bicubic"]
    assert suite.seeds == (0,)
    assert suite.metrics.protocol == ("matlab",) and suite.metrics.y_rounding is None
    assert [p.y_rounding for p in suite.metrics.protocols()] == ["round"]


def test_a_bad_enum_names_file_line_field_and_allowed_values(tmp_path):
    text = VALID.replace("channel: y", "channel: yuv")
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    message = str(info.value)
    assert f"{path}:{line_of(text, 'channel: yuv')}" in message
    assert "metrics.channel" in message and "'y'" in message and "'rgb'" in message and "yuv" in message


def test_an_unknown_field_is_rejected_at_its_line(tmp_path):
    text = VALID + "seedz: [1]\n"
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError, match=rf"bad.yaml:{line_of(text, 'seedz')}: seedz"):
        load_suite(path)


def test_an_unknown_variant_suggests_close_names(tmp_path):
    text = VALID.replace("ipt-tiny-scratch", "ipt-tiny-scrach")
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    assert f"bad.yaml:{line_of(text, 'ipt-tiny-scrach')}" in str(info.value)
    assert "ipt-tiny-scratch" in str(info.value)


def test_an_unknown_dataset_suggests_close_names(tmp_path):
    text = VALID.replace("[embedded]", "[Set-5]")
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_suite(path)
    assert f"bad.yaml:{line_of(text, 'Set-5')}" in str(info.value)
    assert "did you mean Set5" in str(info.value)


def test_yaml_syntax_and_duplicate_keys_name_the_line(tmp_path):
    broken = write(tmp_path, "broken.yaml", "name: x\nvariants: [a, b\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml:\d+"):
        load_suite(broken)
    text = VALID + "profile: cpu\n"
    dup = write(tmp_path, "dup.yaml", text)
    with pytest.raises(ConfigError, match=rf"line {len(text.splitlines())}: key 'profile' appears twice"):
        load_suite(dup)


def test_no_task_and_bad_sigma_are_rejected(tmp_path):
    with pytest.raises(ConfigError, match="at least one task"):
        load_suite(write(tmp_path, "a.yaml", "name: a\nvariants: [bicubic]\ntasks: {}\n"))
    text = "name: a\nvariants: [identity]\ntasks:\n  denoise:\n    train_sigmas: [30]\n"
    text += "    test_sigmas: [10, 300]\n    datasets: [embedded]\n"
    with pytest.raises(ConfigError, match=r"a.yaml:6: tasks.denoise.test_sigmas.*\(0, 100\]"):
        load_suite(write(tmp_path, "a.yaml", text))


def test_duplicate_variant_labels_need_a_label(tmp_path):
    text = VALID.replace("  - bicubic\n", "  - ipt-tiny-scratch\n")
    with pytest.raises(ConfigError, match="label"):
        load_suite(write(tmp_path, "dup.yaml", text))
    text = VALID.replace("  - bicubic\n", "  - {name: ipt-tiny-con, contrastive_weight: 0.5}\n")
    suite = load_suite(write(tmp_path, "ok.yaml", text))
    assert suite.variants[1].display == "ipt-tiny-con[contrastive_weight=0.5]"


def test_pretraining_overrides_on_a_scratch_variant_are_rejected(tmp_path):
    text = VALID.replace("  - bicubic\n", "  - {name: ipt-tiny-scratch, label: x, data_fraction: 0.5}\n")
    with pytest.raises(ConfigError, match=r"ok.yaml:5: variant ipt-tiny-scratch is not pre-trained: data_"):
        load_suite(write(tmp_path, "ok.yaml", text))


def test_extends_merges_and_the_child_wins(tmp_path):
    write(tmp_path, "base.yaml", VALID)
    child_text = "extends: base.yaml\nname: child\nmetrics:\n  y_rounding: float\nseeds: [1, 2]\n"
    suite = load_suite(write(tmp_path, "child.yaml", child_text))
    assert suite.name == "child"
    (protocol,) = suite.metrics.protocols()
    assert protocol.channel == "y" and protocol.y_rounding == "float"
    assert protocol.name == "matlab+y_rounding=float"
    assert suite.seeds == (1, 2)
    assert [v.name for v in suite.variants] == ["ipt-tiny-scratch", "bicubic"]


def test_an_error_in_a_base_file_points_into_the_base(tmp_path):
    base_text = VALID.replace("profile: smoke", "profile: gpu")
    base = write(tmp_path, "base.yaml", base_text)
    child = write(tmp_path, "child.yaml", "includes: [base.yaml]\nname: child\n")
    with pytest.raises(ConfigError, match=rf"{base}:{line_of(base_text, 'profile: gpu')}: profile"):
        load_suite(child)


def test_extends_cycles_and_self_reference_are_clear_errors(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(ConfigError, match=r"extends itself through a.yaml -> b.yaml -> a.yaml"):
        load_suite(tmp_path / "a.yaml")
    write(tmp_path, "self.yaml", "extends: self.yaml\nname: s\n")
    with pytest.raises(ConfigError, match="extends itself"):
        load_suite(tmp_path / "self.yaml")
    write(tmp_path, "missing.yaml", "extends: nowhere.yaml\nname: m\n")
    with pytest.raises(ConfigError, match=r"missing.yaml:1: base suite nowhere.yaml not found"):
        load_suite(tmp_path / "missing.yaml")
