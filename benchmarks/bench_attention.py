"""Our IPT body vs the same body on ``nn.MultiheadAttention`` called as the official code does.

The reference swaps every attention module of a copy of our body for the official call
(sequence-first, ``need_weights=True``, so the averaged attention matrix is materialised), with
the same weights; both get the same input. Reports forward+backward time of each, their ratio
and the largest output difference. Run: ``python benchmarks/bench_attention.py [--quick]``.
"""

from __future__ import annotations

import copy

import torch
from common import best_time, quick_parser, write_result
from torch import Tensor, nn

from ipt_bench.models.ipt import Attention
from ipt_bench.models.registry import get_variant

GOAL = 1.3
MAX_ABS_DIFF = 1e-4


class OfficialAttention(nn.Module):
    """``nn.MultiheadAttention`` on (N, B, D) tensors with ``need_weights=True``, like the official
    ``model/ipt.py``; takes and returns batch-first tensors so it drops into our layers."""

    def __init__(self, ours: Attention) -> None:
        super().__init__()
        dim = ours.out_proj.in_features
        self.mha = nn.MultiheadAttention(
            dim, ours.num_heads, dropout=ours.dropout, bias=ours.out_proj.bias is not None
        )
        with torch.no_grad():
            self.mha.in_proj_weight.copy_(ours.in_proj_weight)
            self.mha.out_proj.weight.copy_(ours.out_proj.weight)
            if ours.out_proj.bias is not None:
                self.mha.in_proj_bias.zero_()
                self.mha.out_proj.bias.copy_(ours.out_proj.bias)

    def forward(self, query: Tensor, key: Tensor, value: Tensor) -> Tensor:
        q, k, v = (t.transpose(0, 1) for t in (query, key, value))
        return self.mha(q, k, v, need_weights=True)[0].transpose(0, 1)


def official_body(body: nn.Module) -> nn.Module:
    """A copy of ``body`` whose attention modules are :class:`OfficialAttention`."""
    ref = copy.deepcopy(body)
    for layer in [*ref.encoder.layers, *ref.decoder.layers]:
        for name in ("self_attn", "multihead_attn"):
            if hasattr(layer, name):
                setattr(layer, name, OfficialAttention(getattr(layer, name)))
    return ref


def fwd_bwd(body: nn.Module, x: Tensor) -> Tensor:
    """Forward and backward of the body (sum of its output); returns the output."""
    body.zero_grad(set_to_none=True)
    out = body(x)[0]
    out.sum().backward()
    return out


def measure(size_variant: str, batch: int, repeat: int) -> dict:
    """Time and output difference of our body vs the official-style body."""
    torch.manual_seed(0)
    model = get_variant(size_variant).build_model([2])
    ours = model.body
    ref = official_body(ours)
    n_feats = model.config["n_feats"]
    x = torch.randn(batch, n_feats, model.patch_size, model.patch_size)
    with torch.no_grad():
        diff = (ours(x)[0] - ref(x)[0]).abs().max().item()
    t_ours = best_time(lambda: fwd_bwd(ours, x), repeat)
    t_ref = best_time(lambda: fwd_bwd(ref, x), repeat)
    return {
        "variant": size_variant,
        "batch": batch,
        "tokens": ours.seq_length,
        "dim": ours.dim,
        "seconds_ours": t_ours,
        "seconds_official_mha": t_ref,
        "speedup": t_ref / t_ours,
        "max_abs_diff": diff,
    }


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    plan = [("ipt-tiny-con", 2, 1)] if args.quick else [("ipt-small-con", 8, 5), ("ipt-paper-con", 8, 2)]
    rows = [measure(*p) for p in plan]
    for row in rows:
        print(
            f"{row['variant']}: ours {row['seconds_ours']:.3f} s, MHA {row['seconds_official_mha']:.3f} s, "
            f"x{row['speedup']:.2f}, max diff {row['max_abs_diff']:.2e}"
        )
    write_result(
        "attention", {"goal_speedup": GOAL, "max_abs_diff_limit": MAX_ABS_DIFF, "results": rows}, args.quick
    )


if __name__ == "__main__":
    main()
