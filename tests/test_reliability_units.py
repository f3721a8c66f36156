"""Small guarantees behind the reliability promises: CSV cells are never formulas, YAML merge
keys work, a network's non-finite output is an error naming the model and the image."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from ipt_bench.cli.main import main
from ipt_bench.report.csv_safety import safe_csv
from ipt_bench.suite.loader import load_suite


def test_csv_text_cells_that_spreadsheets_would_run_are_escaped_numbers_are_not():
    frame = pd.DataFrame(
        {
            "variant": ['=HYPERLINK("http://x")', "+1", "-cmd", "@SUM(A1)", "plain", "a=b"],
            "psnr": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    back = pd.read_csv(io.StringIO(safe_csv(frame)))
    assert back["variant"].tolist() == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-cmd",
        "'@SUM(A1)",
        "plain",
        "a=b",
    ]
    assert back["psnr"].tolist() == frame["psnr"].tolist()  # numbers, negative ones included, stay numbers


def test_standard_yaml_merge_keys_are_supported_own_keys_winning(tmp_path: Path):
    suite = tmp_path / "merge.yaml"
    suite.write_text(
        "x-denoise: &denoise {train_sigmas: [30], datasets: [embedded]}\n"
        "x-more: &more {test_sigmas: [15]}\n"
        "name: merged\nvariants: [identity]\n"
        "tasks:\n  denoise:\n    <<: [*denoise, *more]\n    train_sigmas: [50]\n"
    )
    loaded = load_suite(suite, check_names=False)
    assert loaded.tasks.denoise.train_sigmas == (50.0,)
    assert loaded.tasks.denoise.test_sigmas == (15.0,)
    assert loaded.tasks.denoise.datasets == ("embedded",)


def test_a_network_output_with_infinities_is_an_error_naming_model_and_image(tmp_path, monkeypatch, capsys):
    """Finite but huge weights overflow to infinity in the output: refused, never quantised to a score."""
    import torch

    from ipt_bench.models.ipt import IPT

    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    state = IPT(n_feats=12, patch_size=16, patch_dim=2, num_heads=12, num_layers=1, scale=[2]).state_dict()
    state["tail.0.1.weight"].fill_(3e38)
    torch.save(state, tmp_path / "huge.pt")
    status = main(["eval", "--task", "sr", "--checkpoint", "huge.pt", "--max-images", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert "model huge produced NaN or infinite values on image" in err[0] and "of embedded" in err[0]


@pytest.mark.parametrize("batch", ["0", "-4"])
def test_a_zero_or_negative_batch_size_is_refused_not_replaced_by_the_default(
    tmp_path, monkeypatch, capsys, batch
):
    monkeypatch.chdir(tmp_path)
    status = main(
        ["train", "--variant", "ipt-tiny-scratch", "--out", "t", "--steps", "1", "--batch-size", batch]
    )
    assert status == 2 and f"--batch-size {batch} is out of range" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_two_long_dataset_paths_sharing_60_characters_get_different_figure_names():
    from ipt_bench.report.plots import _slug

    common = "/data/" + "a" * 70
    assert _slug(common + "/set-one") != _slug(common + "/set-two")
    assert _slug("sr_x2") == "sr_x2"  # short safe names stay as they are
