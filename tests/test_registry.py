"""Variant registry, baselines, timm entry points and the ``variants`` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from ipt_bench.core.errors import ConfigError
from ipt_bench.models import Bicubic, CNNSmall, Identity
from ipt_bench.models.ipt import IPT
from ipt_bench.models.registry import SIZES, VariantSpec, get_variant, list_variants, variant_cost
from tests.conftest import require_dataset


def test_registered_names_and_aliases() -> None:
    names = {spec.name for spec in list_variants()}
    for size in ("paper", "small", "tiny"):
        assert {f"ipt-{size}-con", f"ipt-{size}-nocon", f"ipt-{size}-scratch"} <= names
    assert {
        "ipt-paper",
        "ipt-con",
        "ipt-nocon",
        "ipt-scratch",
        "cnn-small",
        "cnn-tiny",
        "bicubic",
        "identity",
    } <= names
    paper = get_variant("ipt-paper")
    assert paper.pretrain and paper.contrastive_weight == 0.1 and paper.size == "paper"
    assert get_variant("ipt-scratch").pretrain is False and get_variant("ipt-nocon").contrastive_weight == 0
    assert [s.name for s in list_variants("ipt-tiny-*")] == [
        "ipt-tiny-con",
        "ipt-tiny-nocon",
        "ipt-tiny-scratch",
    ]


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(ConfigError, match="did you mean ipt-small-con"):
        get_variant("ipt-smal-con")


def test_overrides_are_validated_and_named() -> None:
    spec = get_variant("ipt-tiny-con").with_overrides(contrastive_weight=0.05, num_layers=2)
    assert spec.name == "ipt-tiny-con+contrastive_weight=0.05+num_layers=2"
    assert spec.contrastive_weight == 0.05
    assert spec.build_model([2]).config["num_layers"] == 2
    with pytest.raises(ConfigError, match="pre-training, which is off"):
        get_variant("ipt-tiny-scratch").with_overrides(contrastive_weight=0.1)
    with pytest.raises(ConfigError, match="contrastive_weight"):
        get_variant("ipt-tiny-con").with_overrides(contrastive_weight=-1.0)
    with pytest.raises(ConfigError, match="did you mean num_layers"):
        get_variant("ipt-tiny-con").with_overrides(num_layer=3)
    with pytest.raises(ConfigError, match="pretrain_noise_levels"):
        get_variant("ipt-tiny-con").with_overrides(pretrain_noise_levels=(0,))
    with pytest.raises(ConfigError, match="needs transformer tokens"):
        VariantSpec("x", "cnn", "small", pretrain=True, contrastive_weight=0.1)


def test_build_model_families() -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 3, 24, 24) * 255
    ipt = get_variant("ipt-tiny-con").build_model([2, 1])
    assert isinstance(ipt, IPT) and ipt.num_queries == 2 and ipt.patch_size == SIZES["tiny"]["patch_size"]
    out, tokens = ipt(x, 0, return_tokens=True)
    assert out.shape == (2, 3, 48, 48) and tokens.shape == (2, 64, 144)
    cnn = get_variant("cnn-tiny").build_model([3])
    assert isinstance(cnn, CNNSmall) and cnn(x).shape == (2, 3, 72, 72)
    assert cnn(x, return_tokens=True)[1] is None
    assert isinstance(get_variant("identity").build_model([1]), Identity)
    with pytest.raises(ConfigError, match="cannot upsample"):
        get_variant("identity").build_model([2])
    assert get_variant("identity").build_model([1])(x) is x


def test_paper_cost_matches_the_official_model() -> None:
    cost = variant_cost(get_variant("ipt-paper"))
    assert cost is not None and cost.params == 115_460_443 and cost.tile == 48
    # ~66.7 GFLOPs per 48x48 tile at x2, derived from the official code (ipt.md §2.3).
    assert cost.gflops_per_tile == pytest.approx(66.7, rel=0.01)
    assert variant_cost(get_variant("bicubic")) is None


@pytest.mark.parametrize("size", ["small", "tiny"])
def test_cnn_cost_is_close_to_ipt_cost(size: str) -> None:
    ipt, cnn = variant_cost(get_variant(f"ipt-{size}-scratch")), variant_cost(get_variant(f"cnn-{size}"))
    assert ipt is not None and cnn is not None and ipt.tile == cnn.tile
    assert abs(math.log(cnn.gflops_per_tile / ipt.gflops_per_tile)) < math.log(1.25)


def test_cnn_trains() -> None:
    torch.manual_seed(1)
    model = CNNSmall(n_feats=8, n_resblocks=1, scale=[1])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = torch.rand(4, 3, 16, 16) * 255
    first = None
    for _ in range(10):
        loss = (model(x) - x).abs().mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.75 * first


def test_bicubic_baseline_shapes_and_range() -> None:
    x = torch.rand(2, 3, 10, 13) * 255
    out = Bicubic([3])(x, 0)
    assert out.shape == (2, 3, 30, 39) and out.min() >= 0 and out.max() <= 255
    assert torch.equal(out, out.round())  # uint8 values on the 0-255 scale
    with pytest.raises(ConfigError, match="task index 1"):
        Bicubic([3])(x, 1)


def _y(img: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB uint8 image, MATLAB rgb2ycbcr convention, unrounded."""
    rgb = img.astype(np.float64)
    return 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255


def test_bicubic_reproduces_the_published_set5_x2_psnr() -> None:
    from PIL import Image

    root = require_dataset("Set5/HR", "Set5/LR_bicubic/X2")
    psnrs = []
    for hr_path in sorted((root / "Set5" / "HR").glob("*.png")):
        hr = np.asarray(Image.open(hr_path).convert("RGB"))
        lr = np.asarray(Image.open(root / "Set5/LR_bicubic/X2" / f"{hr_path.stem}x2.png").convert("RGB"))
        x = torch.from_numpy(lr.transpose(2, 0, 1).copy())[None].float()
        sr = Bicubic([2])(x)[0].numpy().transpose(1, 2, 0).astype(np.uint8)
        h, w = sr.shape[:2]
        diff = (_y(sr) - _y(hr[:h, :w]))[2:-2, 2:-2]
        psnrs.append(10 * np.log10(255**2 / np.mean(diff**2)))
    assert np.mean(psnrs) == pytest.approx(33.66, abs=0.02)  # the commonly quoted bicubic value


PAPER_ENTRY_POINTS = {
    "ipt_paper_x2": [2],
    "ipt_paper_x3": [3],
    "ipt_paper_x4": [4],
    "ipt_paper_denoise": [1],
    "ipt_paper_derain": [1],
    "ipt_paper_pretrain": [2, 3, 4, 1, 1, 1],
}


def test_timm_entry_points() -> None:
    import timm

    for name, scales in PAPER_ENTRY_POINTS.items():
        with torch.device("meta"):
            model = timm.create_model(name)
        assert isinstance(model, IPT) and model.scales == scales and model.num_queries == len(scales)
        assert model.config["num_layers"] == 12
    tiny = timm.create_model("ipt_tiny", num_layers=2)
    assert tiny.config["num_layers"] == 2 and tiny.patch_size == 24
    assert timm.create_model("ipt_small", scale=[4]).scales == [4]
    with pytest.raises(Exception, match="timm hosts no IPT weights"):
        timm.create_model("ipt_tiny", pretrained=True)


def test_variants_command_json() -> None:
    from ipt_bench.cli.variants_cmd import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps "variants" a subcommand
    result = CliRunner().invoke(app, ["variants", "--json", "--pattern", "*-tiny*"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert set(rows) == {"ipt-tiny-con", "ipt-tiny-nocon", "ipt-tiny-scratch", "cnn-tiny"}
    tiny = IPT(**SIZES["tiny"], scale=[2])
    assert rows["ipt-tiny-con"]["params"] == sum(p.numel() for p in tiny.parameters())
    assert rows["ipt-tiny-con"]["spec"]["contrastive_weight"] == 0.1
    assert rows["cnn-tiny"]["gflops_per_tile"] > 0
    table = CliRunner().invoke(app, ["variants", "--pattern", "bicubic"])
    assert table.exit_code == 0 and "bicubic" in table.output
