"""Checkpoint loading: a hand-written official-layout state dict loads strictly, mismatches are
named, pickled objects are refused without running, damaged files give a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ipt_bench.core.errors import CheckpointError
from ipt_bench.models.checkpoint import (
    OFFICIAL_CHECKPOINTS,
    build_ipt_from_state_dict,
    infer_ipt_config,
    load_ipt_checkpoint,
    load_state_dict_file,
)
from ipt_bench.models.ipt import IPT

# The official key list (shared/research/ipt.md §3.1) for a SMALL config: n_feats C = 8,
# patch_dim 3 -> token dim D = 72, patch_size 12 -> N = 16 tokens, FFN 4D = 288, one layer,
# one x2 head/tail, one task query. Written out by hand, not taken from our model.
C, D, N, H = 8, 72, 16, 288
OFFICIAL_SMALL_X2 = {
    "sub_mean.weight": (3, 3, 1, 1), "sub_mean.bias": (3,),
    "add_mean.weight": (3, 3, 1, 1), "add_mean.bias": (3,),
    "head.0.0.weight": (C, 3, 3, 3), "head.0.0.bias": (C,),
    "head.0.1.body.0.weight": (C, C, 5, 5), "head.0.1.body.0.bias": (C,),
    "head.0.1.body.2.weight": (C, C, 5, 5), "head.0.1.body.2.bias": (C,),
    "head.0.2.body.0.weight": (C, C, 5, 5), "head.0.2.body.0.bias": (C,),
    "head.0.2.body.2.weight": (C, C, 5, 5), "head.0.2.body.2.bias": (C,),
    "body.linear_encoding.weight": (D, D), "body.linear_encoding.bias": (D,),
    "body.mlp_head.0.weight": (H, D), "body.mlp_head.0.bias": (H,),
    "body.mlp_head.3.weight": (D, H), "body.mlp_head.3.bias": (D,),
    "body.query_embed.weight": (1, N * D),
    "body.encoder.layers.0.self_attn.in_proj_weight": (3 * D, D),
    "body.encoder.layers.0.self_attn.out_proj.weight": (D, D),
    "body.encoder.layers.0.linear1.weight": (H, D), "body.encoder.layers.0.linear1.bias": (H,),
    "body.encoder.layers.0.linear2.weight": (D, H), "body.encoder.layers.0.linear2.bias": (D,),
    "body.encoder.layers.0.norm1.weight": (D,), "body.encoder.layers.0.norm1.bias": (D,),
    "body.encoder.layers.0.norm2.weight": (D,), "body.encoder.layers.0.norm2.bias": (D,),
    "body.decoder.layers.0.self_attn.in_proj_weight": (3 * D, D),
    "body.decoder.layers.0.self_attn.out_proj.weight": (D, D),
    "body.decoder.layers.0.multihead_attn.in_proj_weight": (3 * D, D),
    "body.decoder.layers.0.multihead_attn.out_proj.weight": (D, D),
    "body.decoder.layers.0.linear1.weight": (H, D), "body.decoder.layers.0.linear1.bias": (H,),
    "body.decoder.layers.0.linear2.weight": (D, H), "body.decoder.layers.0.linear2.bias": (D,),
    "body.decoder.layers.0.norm1.weight": (D,), "body.decoder.layers.0.norm1.bias": (D,),
    "body.decoder.layers.0.norm2.weight": (D,), "body.decoder.layers.0.norm2.bias": (D,),
    "body.decoder.layers.0.norm3.weight": (D,), "body.decoder.layers.0.norm3.bias": (D,),
    "body.position_encoding.pe.weight": (N, D),
    "tail.0.0.0.weight": (4 * C, C, 3, 3), "tail.0.0.0.bias": (4 * C,),
    "tail.0.1.weight": (3, C, 3, 3), "tail.0.1.bias": (3,),
}  # fmt: skip
MEAN = torch.tensor([0.4488, 0.4371, 0.4040])


def _official_state_dict(with_position_ids: bool = True, out_proj_bias: bool = False) -> dict:
    gen = torch.Generator().manual_seed(0)
    sd = {k: torch.randn(shape, generator=gen) * 0.05 for k, shape in OFFICIAL_SMALL_X2.items()}
    eye = torch.eye(3).view(3, 3, 1, 1)
    sd.update(
        {
            "sub_mean.weight": eye,
            "add_mean.weight": eye,
            "sub_mean.bias": -255 * MEAN,
            "add_mean.bias": 255 * MEAN,
        }
    )
    if with_position_ids:
        sd["body.position_encoding.position_ids"] = torch.arange(N).unsqueeze(0)
    if out_proj_bias:  # what PyTorch 1.6-1.8 wrote even for bias=False attention
        for k in [k for k in sd if k.endswith("out_proj.weight")]:
            sd[k.replace("weight", "bias")] = torch.randn(D, generator=gen)
    return sd


def _save(tmp_path: Path, obj: object, name: str = "ckpt.pt") -> Path:
    path = tmp_path / name
    torch.save(obj, path)
    return path


@pytest.mark.parametrize("with_position_ids", [True, False])
def test_official_layout_loads_strictly(tmp_path: Path, with_position_ids: bool) -> None:
    sd = _official_state_dict(with_position_ids)
    model = load_ipt_checkpoint(_save(tmp_path, sd), num_heads=2)
    assert model.config["n_feats"] == C and model.patch_size == 12 and model.scales == [2]
    assert model.config["num_layers"] == 1 and model.config["rgb_range"] == 255
    loaded = model.state_dict()
    for key in OFFICIAL_SMALL_X2:
        torch.testing.assert_close(loaded[key], sd[key], rtol=0, atol=0)
    out = model.eval()(torch.rand(1, 3, 12, 12) * 255)
    assert out.shape == (1, 3, 24, 24) and torch.isfinite(out).all()


def test_out_proj_bias_from_older_pytorch_is_kept(tmp_path: Path) -> None:
    sd = _official_state_dict(out_proj_bias=True)
    assert infer_ipt_config(sd)["out_proj_bias"] is True
    model = load_ipt_checkpoint(_save(tmp_path, sd), num_heads=2)
    bias = model.body.decoder.layers[0].multihead_attn.out_proj.bias
    torch.testing.assert_close(bias, sd["body.decoder.layers.0.multihead_attn.out_proj.bias"])


def test_infer_config_of_a_multi_task_model() -> None:
    model = IPT(
        n_feats=8, patch_size=12, num_heads=2, num_layers=3, scale=[2, 3, 4, 1], num_queries=4, no_pos=True
    )
    config = infer_ipt_config(model.state_dict(), num_heads=2)
    assert config["scale"] == [2, 3, 4, 1]
    assert (config["num_layers"], config["num_queries"], config["patch_size"]) == (3, 4, 12)
    assert config["no_pos"] is True and config["no_mlp"] is False and config["no_norm"] is False
    rebuilt = build_ipt_from_state_dict(model.state_dict(), num_heads=2)
    x = torch.rand(1, 3, 12, 12) * 255
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.eval()(x, 2), model.eval()(x, 2))


def test_containers_and_prefixes_are_unwrapped(tmp_path: Path) -> None:
    sd = _official_state_dict()
    wrapped = {"model": {f"module.{k}": v for k, v in sd.items()}, "epoch": 3}
    loaded = load_state_dict_file(_save(tmp_path, wrapped))
    assert set(loaded) == set(sd)
    assert set(load_state_dict_file(_save(tmp_path, {"state_dict": sd}, "b.pt"))) == set(sd)


def test_missing_and_unexpected_keys_are_named(tmp_path: Path) -> None:
    sd = _official_state_dict()
    del sd["body.decoder.layers.0.norm3.bias"]
    sd["body.extra.weight"] = torch.zeros(2)
    with pytest.raises(CheckpointError) as err:
        load_ipt_checkpoint(_save(tmp_path, sd), num_heads=2)
    assert "body.decoder.layers.0.norm3.bias" in str(err.value) and "body.extra.weight" in str(err.value)


def test_shape_mismatch_is_named() -> None:
    sd = _official_state_dict()
    model = IPT(n_feats=C, patch_size=12, num_heads=2, num_layers=1, scale=[3])  # x3 tail: 9C channels
    from ipt_bench.models.checkpoint import load_strict

    with pytest.raises(
        CheckpointError, match=r"tail\.0\.0\.0\.weight \(32, 8, 3, 3\) vs model \(72, 8, 3, 3\)"
    ):
        load_strict(model, sd)


def test_wrong_head_count_is_refused(tmp_path: Path) -> None:
    sd = _official_state_dict()
    with pytest.raises(CheckpointError, match="num_heads"):
        load_ipt_checkpoint(_save(tmp_path, sd), num_heads=5)  # 72 is not divisible by 5


class _WritesAFile:
    """Unpickling this would create ``target``: the weights-only loader must never do it."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.write_text, (self.target, "pwned"))


def test_pickled_objects_are_refused_and_not_executed(tmp_path: Path) -> None:
    target = tmp_path / "executed.txt"
    path = _save(tmp_path, {"weight": torch.zeros(2), "payload": _WritesAFile(target)})
    with pytest.raises(CheckpointError, match=r"refused to load .*pickled Python objects") as err:
        load_state_dict_file(path)
    assert "torch.save(model.state_dict())" in str(err.value)
    assert not target.exists()


@pytest.mark.parametrize("legacy", [False, True])
def test_truncated_file_gives_a_clear_error(tmp_path: Path, legacy: bool) -> None:
    path = tmp_path / "full.pt"
    torch.save(_official_state_dict(), path, _use_new_zipfile_serialization=not legacy)
    data = path.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_state_dict_file(cut)


def test_missing_file_and_non_state_dict(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_state_dict_file(tmp_path / "nope.pt")
    with pytest.raises(CheckpointError, match="no state dict"):
        load_state_dict_file(_save(tmp_path, [torch.zeros(1)]))


def test_official_checkpoint_table() -> None:
    assert [t.name for t in OFFICIAL_CHECKPOINTS["IPT_pretrain.pt"]] == [
        "sr_x2", "sr_x3", "sr_x4", "derain", "denoise_s30", "denoise_s50",
    ]  # fmt: skip
    assert OFFICIAL_CHECKPOINTS["IPT_sr3.pt"][0].scale == 3
    assert OFFICIAL_CHECKPOINTS["IPT_denoise50.pt"][0].sigma == 50
