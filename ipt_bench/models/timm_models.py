"""timm entry points: after ``import ipt_bench.models``, ``timm.create_model("ipt_paper_x2")`` works.

No weights are hosted for timm; ``pretrained=True`` points to the official files instead.
Extra keyword arguments override the IPT configuration (e.g. ``num_layers=4``).
"""

from __future__ import annotations

from typing import Any

from timm.models import register_model

from ipt_bench.core.errors import CheckpointError
from ipt_bench.core.tasks import PAPER_PRETRAIN_TASKS
from ipt_bench.models.checkpoint import OFFICIAL_WEIGHTS_URL
from ipt_bench.models.ipt import IPT
from ipt_bench.models.registry import SIZES

_TIMM_FACTORY_KEYS = ("pretrained_cfg", "pretrained_cfg_overlay", "cache_dir")


def _create(size: str, scales: list[int], pretrained: bool, kwargs: dict[str, Any]) -> IPT:
    if pretrained:
        raise CheckpointError(
            "timm hosts no IPT weights",
            f"download the official file from {OFFICIAL_WEIGHTS_URL} and use "
            "ipt_bench.models.load_ipt_checkpoint(path)",
        )
    for key in _TIMM_FACTORY_KEYS:
        kwargs.pop(key, None)
    config = {**SIZES[size], "scale": scales, "num_queries": len(scales), **kwargs}
    return IPT(**config)


@register_model
def ipt_paper_x2(pretrained: bool = False, **kwargs: Any) -> IPT:
    """The paper's IPT with a x2 super-resolution head/tail (layout of IPT_sr2.pt)."""
    return _create("paper", [2], pretrained, kwargs)


@register_model
def ipt_paper_x3(pretrained: bool = False, **kwargs: Any) -> IPT:
    """The paper's IPT for x3 super-resolution (layout of IPT_sr3.pt)."""
    return _create("paper", [3], pretrained, kwargs)


@register_model
def ipt_paper_x4(pretrained: bool = False, **kwargs: Any) -> IPT:
    """The paper's IPT for x4 super-resolution (layout of IPT_sr4.pt)."""
    return _create("paper", [4], pretrained, kwargs)


@register_model
def ipt_paper_denoise(pretrained: bool = False, **kwargs: Any) -> IPT:
    """The paper's IPT for denoising (layout of IPT_denoise30.pt / IPT_denoise50.pt)."""
    return _create("paper", [1], pretrained, kwargs)


@register_model
def ipt_paper_derain(pretrained: bool = False, **kwargs: Any) -> IPT:
    """The paper's IPT for deraining (layout of IPT_derain.pt)."""
    return _create("paper", [1], pretrained, kwargs)


@register_model
def ipt_paper_pretrain(pretrained: bool = False, **kwargs: Any) -> IPT:
    """The 6-task pre-training model (x2, x3, x4, derain, sigma 30, sigma 50; IPT_pretrain.pt)."""
    return _create("paper", [t.tail_scale for t in PAPER_PRETRAIN_TASKS], pretrained, kwargs)


@register_model
def ipt_small(pretrained: bool = False, **kwargs: Any) -> IPT:
    """The benchmark's small IPT (x2 unless ``scale=[...]`` is given)."""
    return _create("small", kwargs.pop("scale", [2]), pretrained, kwargs)


@register_model
def ipt_tiny(pretrained: bool = False, **kwargs: Any) -> IPT:
    """The benchmark's tiny IPT (x2 unless ``scale=[...]`` is given)."""
    return _create("tiny", kwargs.pop("scale", [2]), pretrained, kwargs)
