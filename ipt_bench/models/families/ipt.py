"""The IPT family: official-layout transformer, its sizes and the registry's IPT variants."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ipt_bench.models.family import ModelFamily, register_family
from ipt_bench.models.ipt import IPT, identity_init_
from ipt_bench.models.registry import PAPER_CONTRASTIVE_WEIGHT, SIZES, VariantSpec, register_variant


def _scale_kwargs(scales: Sequence[int]) -> dict[str, Any]:
    return {"scale": list(scales), "num_queries": len(scales)}


register_family(
    ModelFamily(
        name="ipt",
        build=IPT,
        sizes=SIZES,
        extra_arch_keys=frozenset(
            {"dropout_rate", "no_norm", "no_mlp", "pos_every", "no_pos", "out_proj_bias"}
        ),
        init=identity_init_,
        scale_kwargs=_scale_kwargs,
        tokens=True,
        description="Image Processing Transformer (official state-dict layout)",
    )
)

_MODES = {
    "con": (True, PAPER_CONTRASTIVE_WEIGHT, "multi-task pre-training + contrastive loss (lambda 0.1)"),
    "nocon": (True, 0.0, "multi-task pre-training without the contrastive loss"),
    "scratch": (False, 0.0, "trained on the target task only, no pre-training"),
}
_variants: dict[str, VariantSpec] = {}
for _size in SIZES:
    for _mode, (_pretrain, _weight, _text) in _MODES.items():
        _spec = VariantSpec(
            f"ipt-{_size}-{_mode}", "ipt", _size, _pretrain, _weight, description=f"IPT {_size}: {_text}"
        )
        _variants[_spec.name] = register_variant(_spec)
for _alias, _target in {
    "ipt-paper": "ipt-paper-con",
    "ipt-con": "ipt-paper-con",
    "ipt-nocon": "ipt-paper-nocon",
    "ipt-scratch": "ipt-paper-scratch",
}.items():
    register_variant(dataclasses.replace(_variants[_target], name=_alias))
