"""The IPT network: official parameter counts and key layout, attention numerics against
``nn.MultiheadAttention``, and the whole body against an independent sequence-first reference."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ipt_bench.core.errors import ConfigError
from ipt_bench.models.ipt import IPT, Attention

SMALL = {"n_feats": 8, "patch_size": 12, "patch_dim": 3, "num_heads": 2, "num_layers": 2}


def _meta_ipt(**kwargs) -> IPT:
    with torch.device("meta"):
        return IPT(**kwargs)


# Counts derived by instantiating the official model/ipt.py (shared/research/ipt.md §2.3).
@pytest.mark.parametrize(
    ("scale", "expected"), [([2], 115_460_443), ([3], 115_645_083), ([4], 115_608_155), ([1], 115_312_731)]
)
def test_paper_parameter_counts(scale: list[int], expected: int) -> None:
    model = _meta_ipt(scale=scale)
    assert sum(p.numel() for p in model.parameters()) == expected


def test_paper_state_dict_layout() -> None:
    sd = _meta_ipt(scale=[2]).state_dict()
    expected_shapes = {  # from the official key list (ipt.md §3.1)
        "sub_mean.weight": (3, 3, 1, 1),
        "add_mean.bias": (3,),
        "head.0.0.weight": (64, 3, 3, 3),
        "head.0.1.body.0.weight": (64, 64, 5, 5),
        "head.0.2.body.2.bias": (64,),
        "body.linear_encoding.weight": (576, 576),
        "body.mlp_head.0.weight": (2304, 576),
        "body.mlp_head.3.weight": (576, 2304),
        "body.query_embed.weight": (1, 147456),
        "body.encoder.layers.3.self_attn.in_proj_weight": (1728, 576),
        "body.encoder.layers.11.linear1.weight": (2304, 576),
        "body.encoder.layers.0.norm2.bias": (576,),
        "body.decoder.layers.0.multihead_attn.out_proj.weight": (576, 576),
        "body.decoder.layers.11.norm3.weight": (576,),
        "body.position_encoding.pe.weight": (256, 576),
        "tail.0.0.0.weight": (256, 64, 3, 3),
        "tail.0.1.weight": (3, 64, 3, 3),
    }
    for key, shape in expected_shapes.items():
        assert tuple(sd[key].shape) == shape, key
    # 315 official entries minus the (non-persistent) position_ids buffer; no attention biases.
    assert len(sd) == 314
    assert "body.position_encoding.position_ids" not in sd
    assert not [k for k in sd if "in_proj_bias" in k or "out_proj.bias" in k]
    assert len(_meta_ipt(scale=[4]).state_dict()) == 316
    assert tuple(_meta_ipt(scale=[3]).state_dict()["tail.0.0.0.weight"].shape) == (576, 64, 3, 3)
    assert not [k for k in _meta_ipt(scale=[1]).state_dict() if k.startswith("tail.0.0.")]


def _mha_pair(dim: int, heads: int, bias: bool) -> tuple[Attention, nn.MultiheadAttention]:
    ours = Attention(dim, heads, out_proj_bias=bias)
    ref = nn.MultiheadAttention(dim, heads, bias=bias)
    with torch.no_grad():
        if bias:
            ours.out_proj.bias.normal_()
            ref.in_proj_bias.zero_()
            ref.out_proj.bias.copy_(ours.out_proj.bias)
        ref.in_proj_weight.copy_(ours.in_proj_weight)
        ref.out_proj.weight.copy_(ours.out_proj.weight)
    return ours, ref


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("sharing", ["qkv", "qk", "kv", "none"])
def test_attention_matches_multihead_attention(bias: bool, sharing: str) -> None:
    torch.manual_seed(0)
    dim, heads, batch, n_q, n_k = 24, 4, 3, 10, 10 if sharing in ("qkv", "qk") else 7
    ours, ref = _mha_pair(dim, heads, bias)
    a = torch.randn(batch, n_q, dim, dtype=torch.float64, requires_grad=True)
    b = torch.randn(batch, n_k, dim, dtype=torch.float64, requires_grad=True)
    c = torch.randn(batch, n_k, dim, dtype=torch.float64, requires_grad=True)
    q, k, v = {"qkv": (a, a, a), "qk": (a, a, c), "kv": (a, b, b), "none": (a, b, c)}[sharing]
    ours.double()
    ref.double()
    out = ours(q, k, v)
    expected = ref(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), need_weights=False)[0].transpose(
        0, 1
    )
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)
    grad_out = torch.randn_like(out)
    ours_grads = torch.autograd.grad(out, [a, ours.in_proj_weight, ours.out_proj.weight], grad_out)
    ref_grads = torch.autograd.grad(expected, [a, ref.in_proj_weight, ref.out_proj.weight], grad_out)
    for g_ours, g_ref in zip(ours_grads, ref_grads, strict=True):
        torch.testing.assert_close(g_ours, g_ref, rtol=1e-9, atol=1e-9)


def _reference_body(body: nn.Module, x: torch.Tensor, query_idx: int) -> torch.Tensor:
    """The official VisionTransformer forward, written sequence-first with nn.MultiheadAttention's
    functional form, reading the weights of ``body`` (an independent computation path)."""
    p = body.patch_dim
    seq = F.unfold(x, p, stride=p).permute(2, 0, 1)  # (N, B, D)
    n, batch, dim = seq.shape

    def mha(attn: Attention, q, k, v):
        bias = attn.out_proj.bias
        return F.multi_head_attention_forward(
            q, k, v, dim, attn.num_heads, attn.in_proj_weight, None, None, None, False, 0.0,
            attn.out_proj.weight, bias, training=False, need_weights=False,
        )[0]  # fmt: skip

    def ffn(layer, t):
        return layer.linear2(torch.relu(layer.linear1(t)))

    query_pos = None
    if not body.no_mlp:
        seq = body.linear_encoding(seq) + seq
        query_pos = body.query_embed.weight[query_idx].view(n, 1, dim).repeat(1, batch, 1)
    pos = None if body.no_pos else body.position_encoding.pe.weight.unsqueeze(1)
    enc_pos = pos if body.pos_every else None
    if pos is not None and not body.pos_every:
        seq = seq + pos
    for layer in body.encoder.layers:
        s2 = layer.norm1(seq)
        qk = s2 if enc_pos is None else s2 + enc_pos
        seq = seq + mha(layer.self_attn, qk, qk, s2)
        seq = seq + ffn(layer, layer.norm2(seq))
    memory = seq
    for layer in body.decoder.layers:
        t2 = layer.norm1(seq)
        qk = t2 if query_pos is None else t2 + query_pos
        seq = seq + mha(layer.self_attn, qk, qk, t2)
        t2 = layer.norm2(seq)
        query = t2 if query_pos is None else t2 + query_pos
        key = memory if enc_pos is None else memory + enc_pos
        seq = seq + mha(layer.multihead_attn, query, key, memory)
        seq = seq + ffn(layer, layer.norm3(seq))
    if not body.no_mlp:
        seq = body.mlp_head(seq) + seq
    return F.fold(seq.permute(1, 2, 0), body.img_dim, p, stride=p)


@pytest.mark.parametrize(
    "flags",
    [{}, {"pos_every": True}, {"no_pos": True}, {"no_mlp": True}, {"no_norm": True}, {"out_proj_bias": True}],
    ids=lambda f: ",".join(f) or "default",
)
def test_body_matches_sequence_first_reference(flags: dict) -> None:
    torch.manual_seed(1)
    model = IPT(**SMALL, scale=[2, 1], num_queries=2, **flags).double().eval()
    feats = torch.randn(2, 8, 12, 12, dtype=torch.float64)
    with torch.no_grad():
        for task in (0, 1):
            out, tokens = model.body(feats, task)
            torch.testing.assert_close(out, _reference_body(model.body, feats, task), rtol=1e-9, atol=1e-9)
            assert tokens.shape == (2, 16, 72)


def test_flags_remove_the_official_parameters() -> None:
    keys = set(IPT(**SMALL, no_mlp=True, no_pos=True, no_norm=True).state_dict())
    assert not [k for k in keys if "linear_encoding" in k or "mlp_head" in k or "query_embed" in k]
    assert not [k for k in keys if "position_encoding" in k or "norm" in k]


def test_forward_shapes_tokens_and_task_selection() -> None:
    torch.manual_seed(2)
    model = IPT(**SMALL, scale=[2, 3, 4, 1], num_queries=4).eval()
    x = torch.rand(2, 3, 12, 12) * 255
    with torch.no_grad():
        for idx, s in enumerate([2, 3, 4, 1]):
            out, tokens = model(x, idx, return_tokens=True)
            assert out.shape == (2, 3, 12 * s, 12 * s)
            assert tokens.shape == (2, 16, 72)
        before0, before3 = model(x, 0), model(x, 3)
        model.body.query_embed.weight[3].add_(1.0)  # task 3's query row only
        torch.testing.assert_close(model(x, 0), before0)
        assert not torch.allclose(model(x, 3), before3)


def test_single_query_row_serves_every_task() -> None:
    model = IPT(**SMALL, scale=[1, 1], num_queries=1).eval()
    with torch.no_grad():
        model.head[1].load_state_dict(model.head[0].state_dict())
        model.tail[1].load_state_dict(model.tail[0].state_dict())
        x = torch.rand(1, 3, 12, 12) * 255
        torch.testing.assert_close(model(x, 1), model(x, 0))


def test_mean_shift_is_frozen_and_inverse() -> None:
    model = IPT(**SMALL, rgb_range=1.0)
    assert not model.sub_mean.weight.requires_grad and not model.add_mean.bias.requires_grad
    x = torch.rand(2, 3, 5, 5)
    torch.testing.assert_close(model.add_mean(model.sub_mean(x)), x)
    torch.testing.assert_close(
        model.sub_mean(torch.zeros(1, 3, 1, 1)).flatten(), -torch.tensor([0.4488, 0.4371, 0.4040])
    )


def test_bad_inputs_raise_config_errors() -> None:
    model = IPT(**SMALL)
    with pytest.raises(ConfigError, match="takes \\(B, C, 12, 12\\)"):
        model(torch.zeros(1, 3, 13, 12))
    with pytest.raises(ConfigError, match="task index 1"):
        model(torch.zeros(1, 3, 12, 12), 1)
    with pytest.raises(ConfigError, match="not a multiple"):
        IPT(**{**SMALL, "patch_size": 13})
    with pytest.raises(ConfigError, match="num_heads"):
        IPT(**{**SMALL, "num_heads": 5})
    with pytest.raises(ConfigError, match="num_queries"):
        IPT(**SMALL, scale=[2, 3], num_queries=3)


def test_training_step_reduces_the_loss() -> None:
    torch.manual_seed(3)
    model = IPT(**SMALL, scale=[1])
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    x = torch.rand(4, 3, 12, 12) * 255
    losses = []
    for _ in range(10):
        loss = (model(x) - x).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.75 * losses[0]
