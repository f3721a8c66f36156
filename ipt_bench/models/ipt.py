"""The Image Processing Transformer (Chen et al., CVPR 2021) in the official state-dict layout.

Structure, option names and parameter names follow the official PyTorch release
(``huawei-noah/Pretrained-IPT``, ``model/ipt.py``) so its checkpoints load strictly:
MeanShift -> head[task] (conv3x3 + 2 ResBlocks of 5x5 convs) -> transformer body + global
residual -> tail[task] (upsampler + conv3x3) -> MeanShift. Internally the transformer runs
batch-first and attention uses ``scaled_dot_product_attention``; numerics equal the
sequence-first ``nn.MultiheadAttention`` original within float tolerance. ``IPT()`` keeps the
official initialisation; :func:`identity_init_` re-initialises a network for training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ipt_bench.core.errors import ConfigError
from ipt_bench.models.blocks import (  # noqa: F401 -- RGB_MEAN re-exported for checkpoints
    RGB_MEAN,
    MeanShift,
    ResBlock,
    Upsampler,
    conv3x3,
    pass_through_init_,
    zero_,
)

SUPPORTED_SCALES = (1, 2, 3, 4, 8)


class Attention(nn.Module):
    """Multi-head attention with ``nn.MultiheadAttention``'s parameter names (packed q;k;v
    ``in_proj_weight`` without bias, ``out_proj``), computed batch-first with
    ``scaled_dot_product_attention`` (no materialised attention matrix)."""

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.0, out_proj_bias: bool = False) -> None:
        super().__init__()
        if dim % num_heads:
            raise ConfigError(
                f"token dimension {dim} is not divisible by num_heads={num_heads}",
                "pick num_heads dividing n_feats * patch_dim**2",
            )
        self.num_heads = num_heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.out_proj = nn.Linear(dim, dim, bias=out_proj_bias)
        nn.init.xavier_uniform_(self.in_proj_weight)
        if out_proj_bias:
            nn.init.zeros_(self.out_proj.bias)

    def forward(self, query: Tensor, key: Tensor, value: Tensor) -> Tensor:
        """Attend (B, Nq, D) queries over (B, Nk, D) keys/values; returns (B, Nq, D)."""
        dim = query.shape[-1]
        w = self.in_proj_weight
        # Share one matmul when inputs coincide (encoder: q = k = v; decoder: q = k or k = v).
        if query is key and key is value:
            q, k, v = F.linear(query, w).chunk(3, dim=-1)
        elif query is key:
            q, k = F.linear(query, w[: 2 * dim]).chunk(2, dim=-1)
            v = F.linear(value, w[2 * dim :])
        elif key is value:
            q = F.linear(query, w[:dim])
            k, v = F.linear(key, w[dim:]).chunk(2, dim=-1)
        else:
            q, k, v = F.linear(query, w[:dim]), F.linear(key, w[dim : 2 * dim]), F.linear(value, w[2 * dim :])
        batch, n_q = query.shape[:2]
        q, k, v = (t.unflatten(-1, (self.num_heads, -1)).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.out_proj(out.transpose(1, 2).reshape(batch, n_q, dim))


def _norm(dim: int, no_norm: bool) -> nn.Module:
    return nn.Identity() if no_norm else nn.LayerNorm(dim)


def _add(x: Tensor, pos: Tensor | None) -> Tensor:
    return x if pos is None else x + pos


class _FeedForwardMixin(nn.Module):
    """The layers' ``linear2(dropout(relu(linear1(x))))`` block, kept flat for the official keys."""

    linear1: nn.Linear
    linear2: nn.Linear
    dropout: nn.Dropout

    def _init_ffn(self, dim: int, hidden: int, dropout: float) -> None:
        self.linear1 = nn.Linear(dim, hidden)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(hidden, dim)

    def _ffn(self, x: Tensor) -> Tensor:
        return self.linear2(self.dropout(F.relu(self.linear1(x))))


class EncoderLayer(_FeedForwardMixin):
    """Pre-LN encoder layer: q = k = LN1(x) (+pos), v = LN1(x); then the FFN on LN2(x)."""

    def __init__(self, dim: int, num_heads: int, hidden: int, dropout: float, no_norm: bool, bias: bool):
        super().__init__()
        self.self_attn = Attention(dim, num_heads, dropout, bias)
        nn.init.kaiming_uniform_(self.self_attn.in_proj_weight, a=math.sqrt(5))  # as the official init
        self._init_ffn(dim, hidden, dropout)
        self.norm1, self.norm2 = _norm(dim, no_norm), _norm(dim, no_norm)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, src: Tensor, pos: Tensor | None = None) -> Tensor:
        src2 = self.norm1(src)
        qk = _add(src2, pos)
        src = src + self.dropout1(self.self_attn(qk, qk, src2))
        return src + self.dropout2(self._ffn(self.norm2(src)))


class DecoderLayer(_FeedForwardMixin):
    """Pre-LN decoder layer: self-attn (q = k = LN1(x) + task query, v = LN1(x)), cross-attn
    (query LN2(x) + task query, key memory (+pos), value memory), then the FFN on LN3(x)."""

    def __init__(self, dim: int, num_heads: int, hidden: int, dropout: float, no_norm: bool, bias: bool):
        super().__init__()
        self.self_attn = Attention(dim, num_heads, dropout, bias)
        self.multihead_attn = Attention(dim, num_heads, dropout, bias)
        self._init_ffn(dim, hidden, dropout)
        self.norm1, self.norm2, self.norm3 = (_norm(dim, no_norm) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))

    def forward(
        self, tgt: Tensor, memory: Tensor, pos: Tensor | None = None, query_pos: Tensor | None = None
    ) -> Tensor:
        tgt2 = self.norm1(tgt)
        qk = _add(tgt2, query_pos)
        tgt = tgt + self.dropout1(self.self_attn(qk, qk, tgt2))
        query = _add(self.norm2(tgt), query_pos)
        tgt = tgt + self.dropout2(self.multihead_attn(query, _add(memory, pos), memory))
        return tgt + self.dropout3(self._ffn(self.norm3(tgt)))


class LayerStack(nn.Module):
    """Holds ``layers`` (the official ``TransformerEncoder``/``TransformerDecoder`` key prefix)."""

    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)


class LearnedPositionalEncoding(nn.Module):
    """One learned vector per token position; ``position_ids`` is a non-persistent buffer, and a
    checkpoint may carry it or not (the official module saved it)."""

    def __init__(self, seq_length: int, dim: int) -> None:
        super().__init__()
        self.pe = nn.Embedding(seq_length, dim)
        self.register_buffer("position_ids", torch.arange(seq_length).unsqueeze(0), persistent=False)

    def forward(self) -> Tensor:
        """The (1, N, D) position embedding."""
        return self.pe(self.position_ids)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: object, **kwargs: object) -> None:
        state_dict.pop(prefix + "position_ids", None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class VisionTransformer(nn.Module):
    """The IPT body: 3x3 feature patches as tokens, encoder, task-query decoder, fold back.

    Tokens are ``F.unfold`` columns (channel-major, then row, then column inside a patch; patches
    row-major), exactly as the official layout, so released weights apply unchanged.
    """

    def __init__(
        self,
        *,
        img_dim: int,
        patch_dim: int,
        n_feats: int,
        num_heads: int,
        num_layers: int,
        num_queries: int,
        dropout_rate: float,
        no_norm: bool,
        no_mlp: bool,
        pos_every: bool,
        no_pos: bool,
        out_proj_bias: bool,
    ) -> None:
        super().__init__()
        self.img_dim, self.patch_dim = img_dim, patch_dim
        self.dim = n_feats * patch_dim * patch_dim
        self.seq_length = (img_dim // patch_dim) ** 2
        self.no_mlp, self.pos_every, self.no_pos = no_mlp, pos_every, no_pos
        hidden = 4 * self.dim
        if not no_mlp:
            self.linear_encoding = nn.Linear(self.dim, self.dim)
            self.mlp_head = nn.Sequential(
                nn.Linear(self.dim, hidden),
                nn.Dropout(dropout_rate),
                nn.ReLU(),
                nn.Linear(hidden, self.dim),
                nn.Dropout(dropout_rate),
            )
            self.query_embed = nn.Embedding(num_queries, self.dim * self.seq_length)
        layer_args = (self.dim, num_heads, hidden, dropout_rate, no_norm, out_proj_bias)
        self.encoder = LayerStack([EncoderLayer(*layer_args) for _ in range(num_layers)])
        self.decoder = LayerStack([DecoderLayer(*layer_args) for _ in range(num_layers)])
        if not no_pos:
            self.position_encoding = LearnedPositionalEncoding(self.seq_length, self.dim)
        self.dropout_layer1 = nn.Dropout(dropout_rate)
        if no_norm:
            for module in self.modules():
                if isinstance(module, nn.Linear):
                    nn.init.normal_(module.weight, std=1 / module.weight.size(1))

    def forward(self, x: Tensor, query_idx: int = 0) -> tuple[Tensor, Tensor]:
        """(B, C, img_dim, img_dim) features -> (features, output tokens (B, N, D))."""
        tokens = F.unfold(x, self.patch_dim, stride=self.patch_dim).transpose(1, 2)
        query_pos = None
        if not self.no_mlp:
            tokens = self.dropout_layer1(self.linear_encoding(tokens)) + tokens
            query_pos = self.query_embed.weight[query_idx].view(1, self.seq_length, self.dim)
        pos = None if self.no_pos else self.position_encoding()
        if not self.pos_every and pos is not None:
            tokens, pos = tokens + pos, None
        for layer in self.encoder.layers:
            tokens = layer(tokens, pos)
        memory = tokens
        for layer in self.decoder.layers:
            tokens = layer(tokens, memory, pos, query_pos)
        if not self.no_mlp:
            tokens = self.mlp_head(tokens) + tokens
        out = F.fold(tokens.transpose(1, 2), self.img_dim, self.patch_dim, stride=self.patch_dim)
        return out, tokens


class IPT(nn.Module):
    """The IPT network. Images in and out are on the [0, ``rgb_range``] scale.

    One head and one tail per entry of ``scale`` (1 = denoise/derain); ``forward(x, task_idx)``
    uses head/tail ``task_idx`` and task-query row ``task_idx`` (row 0 when ``num_queries`` is 1,
    as the official code). Inputs must be ``patch_size`` x ``patch_size``; larger images go
    through :func:`ipt_bench.models.tiling.tiled_forward`.
    """

    def __init__(
        self,
        *,
        n_feats: int = 64,
        patch_size: int = 48,
        patch_dim: int = 3,
        num_heads: int = 12,
        num_layers: int = 12,
        num_queries: int = 1,
        dropout_rate: float = 0.0,
        no_norm: bool = False,
        no_mlp: bool = False,
        pos_every: bool = False,
        no_pos: bool = False,
        scale: Sequence[int] = (2,),
        rgb_range: float = 255,
        n_colors: int = 3,
        out_proj_bias: bool = False,
    ) -> None:
        super().__init__()
        _check_config(n_feats, patch_size, patch_dim, num_heads, num_layers, num_queries, scale, dropout_rate)
        self.scales = [int(s) for s in scale]
        self.patch_size, self.num_queries, self.rgb_range = patch_size, num_queries, rgb_range
        self.config = {
            "n_feats": n_feats, "patch_size": patch_size, "patch_dim": patch_dim, "num_heads": num_heads,
            "num_layers": num_layers, "num_queries": num_queries, "dropout_rate": dropout_rate,
            "no_norm": no_norm, "no_mlp": no_mlp, "pos_every": pos_every, "no_pos": no_pos,
            "scale": list(self.scales), "rgb_range": rgb_range, "n_colors": n_colors,
            "out_proj_bias": out_proj_bias,
        }  # fmt: skip
        self.sub_mean = MeanShift(rgb_range, sign=-1, n_colors=n_colors)
        self.add_mean = MeanShift(rgb_range, sign=1, n_colors=n_colors)
        self.head = nn.ModuleList(
            nn.Sequential(conv3x3(n_colors, n_feats), ResBlock(n_feats, 5), ResBlock(n_feats, 5))
            for _ in self.scales
        )
        self.body = VisionTransformer(
            img_dim=patch_size, patch_dim=patch_dim, n_feats=n_feats, num_heads=num_heads,
            num_layers=num_layers, num_queries=num_queries, dropout_rate=dropout_rate, no_norm=no_norm,
            no_mlp=no_mlp, pos_every=pos_every, no_pos=no_pos, out_proj_bias=out_proj_bias,
        )  # fmt: skip
        self.tail = nn.ModuleList(
            nn.Sequential(Upsampler(s, n_feats), conv3x3(n_feats, n_colors)) for s in self.scales
        )

    def forward(
        self, x: Tensor, task_idx: int = 0, *, return_tokens: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Restore a (B, n_colors, patch_size, patch_size) batch with head/tail ``task_idx``.

        Returns the output (B, n_colors, patch_size*s, patch_size*s), or ``(output, tokens)``
        with the body's output tokens (B, N, D) when ``return_tokens`` is set.
        """
        self._check_input(x, task_idx)
        feats = self.head[task_idx](self.sub_mean(x))
        res, tokens = self.body(feats, 0 if self.num_queries == 1 else task_idx)
        out = self.add_mean(self.tail[task_idx](res + feats))
        return (out, tokens) if return_tokens else out

    def _check_input(self, x: Tensor, task_idx: int) -> None:
        if not 0 <= task_idx < len(self.scales):
            raise ConfigError(
                f"task index {task_idx} is out of range: this IPT has {len(self.scales)} head(s)",
                f"use a task index in 0..{len(self.scales) - 1}",
            )
        if x.ndim != 4 or x.shape[-2:] != (self.patch_size, self.patch_size):
            raise ConfigError(
                f"IPT takes (B, C, {self.patch_size}, {self.patch_size}) inputs, got {tuple(x.shape)}",
                "run larger images through ipt_bench.models.tiling.tiled_forward",
            )


def _check_config(
    n_feats: int,
    patch_size: int,
    patch_dim: int,
    num_heads: int,
    num_layers: int,
    num_queries: int,
    scale: Sequence[int],
    dropout_rate: float,
) -> None:
    if min(n_feats, patch_size, patch_dim, num_heads, num_layers, num_queries) < 1:
        raise ConfigError("IPT sizes must be positive integers", "check n_feats, patch_size, num_layers ...")
    if patch_size % patch_dim:
        raise ConfigError(
            f"patch_size {patch_size} is not a multiple of patch_dim {patch_dim}",
            "choose patch_size = k * patch_dim (the official 48 = 16 * 3)",
        )
    if not scale or any(int(s) not in SUPPORTED_SCALES for s in scale):
        raise ConfigError(f"IPT scales {list(scale)} are invalid", f"use entries from {SUPPORTED_SCALES}")
    if num_queries not in (1, len(scale)):
        raise ConfigError(
            f"num_queries={num_queries} does not match the {len(scale)} task head(s)",
            "use num_queries 1 (shared task query) or one per scale entry",
        )
    if not 0.0 <= dropout_rate < 1.0:
        raise ConfigError(f"dropout_rate {dropout_rate} is outside [0, 1)", "use e.g. 0.0")


@torch.no_grad()
def identity_init_(model: IPT) -> IPT:
    """Re-initialise ``model`` in place so that, untrained, it returns its input upsampled by
    nearest neighbour (the input itself at scale 1), up to the learned position embedding.

    Training starts from a restorer that already passes the image through and learns the
    correction, instead of learning the pass-through itself (the forward and the parameter
    layout are unchanged, so loaded checkpoints are unaffected):

    - the last projection of every residual branch is zero (attention ``out_proj``, FFN
      ``linear2``, ``mlp_head``'s last linear, each head ResBlock's second conv; "ReZero"/Fixup
      style), and so is ``linear_encoding``: the body returns its input features (+ position);
    - each head's first conv copies the RGB input into feature channels 0-2 (Dirac), the other
      channels keep their random initialisation;
    - each upsampling conv copies channel c into the sub-pixel group of output channel c, and the
      last tail conv reads channels 0-2 with gain 1/2, undoing the doubling by the body's global
      residual (``tail(body(f) + f)`` with ``body(f) = f``).

    Returns ``model``.
    """
    body = model.body
    for layer in [*body.encoder.layers, *body.decoder.layers]:
        branches = [layer.self_attn.out_proj, layer.linear2]
        if isinstance(layer, DecoderLayer):
            branches.append(layer.multihead_attn.out_proj)
        for module in branches:
            zero_(module)
    if not body.no_mlp:
        zero_(body.linear_encoding)
        zero_(body.mlp_head[3])
    for head in model.head:
        for block in head[1:]:
            zero_(block.body[2])
    pairs = ((head[0], tail) for head, tail in zip(model.head, model.tail, strict=True))
    pass_through_init_(pairs, model.config["n_colors"], tail_gain=0.5)
    return model
