"""Our IPT body vs the same body on ``nn.MultiheadAttention`` called as the official code does.

The reference swaps every attention module of a copy of our body for the official call
(sequence-first, ``need_weights=True``, so the averaged attention matrix is materialised), with
the same weights; both get the same input. All weights are first re-drawn at random (a fresh
IPT may start with zeroed output projections, which would make the comparison vacuous).
Reports forward+backward time of each (interleaved, best of the repeats), their ratio, the
largest output difference and one profiled forward+backward of each after a warm-up call
(where the time goes). Run: ``python benchmarks/bench_attention.py [--quick]``.
"""

from __future__ import annotations

import copy

import torch
from common import best_times_interleaved, profile_ops, quick_parser, write_result
from torch import Tensor, nn

from ipt_bench.models.ipt import Attention
from ipt_bench.models.registry import get_variant

GOAL = 1.3
MAX_ABS_DIFF = 1e-4
#: (variant, batch, timed repeats). The paper body (12 + 12 layers) runs at batch 2: each call
#: is seconds, and the per-layer work is the same as at batch 8, 4x smaller.
FULL_PLAN = (("ipt-small-con", 8, 3), ("ipt-paper-con", 2, 3))


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


@torch.no_grad()
def randomise_(module: nn.Module, seed: int = 0) -> None:
    """Re-draw every parameter: matrices Xavier-uniform, LayerNorm gains 1, other vectors N(0, 0.02^2)."""
    generator = torch.Generator().manual_seed(seed)
    for name, p in module.named_parameters():
        if p.ndim >= 2:
            bound = (6.0 / (p.shape[0] + p[0].numel())) ** 0.5
            p.uniform_(-bound, bound, generator=generator)
        elif ".norm" in name and name.endswith(".weight"):
            p.fill_(1.0)
        else:
            p.normal_(0.0, 0.02, generator=generator)


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
    randomise_(ours)
    ref = official_body(ours)
    n_feats = model.config["n_feats"]
    x = torch.randn(batch, n_feats, model.patch_size, model.patch_size)
    with torch.no_grad():
        out = ours(x)[0]
        diff = (out - ref(x)[0]).abs().max().item()
    calls = {"ours": lambda: fwd_bwd(ours, x), "ref": lambda: fwd_bwd(ref, x)}
    for fn in calls.values():  # warm-up: a first call also allocates and sets up kernels
        fn()
    profiles = {name: profile_ops(fn, top=8) for name, fn in calls.items()}
    seconds = best_times_interleaved(calls, repeat, warmup=0)
    row = {
        "variant": size_variant,
        "batch": batch,
        "tokens": ours.seq_length,
        "dim": ours.dim,
        "layers": len(ours.encoder.layers) + len(ours.decoder.layers),
        "seconds_ours": seconds["ours"],
        "seconds_official_mha": seconds["ref"],
        "speedup": seconds["ref"] / seconds["ours"],
        "max_abs_diff": diff,
        "output_abs_max": out.abs().max().item(),
        "profile_ours": profiles["ours"],
        "profile_official_mha": profiles["ref"],
    }
    return row


def main() -> None:
    args = quick_parser(__doc__).parse_args()
    plan = (("ipt-tiny-con", 2, 1),) if args.quick else FULL_PLAN
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
