"""Named model variants of the benchmark: IPT sizes x pre-training/contrastive settings, plus the
CNN, bicubic and identity baselines.

A :class:`VariantSpec` is a frozen description; ``build_model(scales)`` makes a fresh network
with one head/tail per scale. ``with_overrides`` derives validated ablations (spec fields or
architecture options such as ``num_layers``) whose name records the change.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ipt_bench.core.errors import ConfigError
from ipt_bench.core.tasks import MAX_SIGMA

if TYPE_CHECKING:
    from torch import nn

Family = Literal["ipt", "cnn", "bicubic", "identity"]
FAMILIES = ("ipt", "cnn", "bicubic", "identity")

#: IPT sizes. ``paper`` is the official configuration (115.5 M parameters at x2).
SIZES: dict[str, dict[str, Any]] = {
    "paper": {"n_feats": 64, "patch_size": 48, "patch_dim": 3, "num_heads": 12, "num_layers": 12},
    # 256 tokens x 288 dims: the paper's token grid at a quarter of its width, 2+2 layers.
    "small": {"n_feats": 32, "patch_size": 48, "patch_dim": 3, "num_heads": 6, "num_layers": 2},
    # 64 tokens x 144 dims: trains a few hundred CPU steps (batch 8) in well under a minute.
    "tiny": {"n_feats": 16, "patch_size": 24, "patch_dim": 3, "num_heads": 4, "num_layers": 1},
}

#: EDSR-like CNN sizes, chosen to cost about as many FLOPs per tile as the IPT of the same size.
CNN_SIZES: dict[str, dict[str, Any]] = {
    "small": {"n_feats": 64, "n_resblocks": 8, "res_scale": 1.0},
    "tiny": {"n_feats": 32, "n_resblocks": 4, "res_scale": 1.0},
}

#: Tile edge used to report per-tile cost of sizes (CNNs run whole images; the IPT tile is used).
TILE_OF_SIZE = {name: cfg["patch_size"] for name, cfg in SIZES.items()}

PAPER_CONTRASTIVE_WEIGHT = 0.1
_SPEC_FIELDS = ("family", "size", "pretrain", "contrastive_weight", "pretrain_noise_levels", "description")


@dataclass(frozen=True)
class VariantSpec:
    """One benchmark variant. ``arch`` holds architecture overrides of the size's configuration."""

    name: str
    family: Family
    size: str = "paper"
    pretrain: bool = False
    contrastive_weight: float = 0.0
    pretrain_noise_levels: tuple[float, ...] = (30.0, 50.0)
    description: str = ""
    arch: tuple[tuple[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        _validate(self)

    def model_kwargs(self, scales: list[int]) -> dict[str, Any]:
        """Keyword arguments of the network class for these task scales."""
        if self.family == "ipt":
            return {**SIZES[self.size], **dict(self.arch), "scale": list(scales), "num_queries": len(scales)}
        if self.family == "cnn":
            return {**CNN_SIZES[self.size], **dict(self.arch), "scale": list(scales)}
        return {"scale": list(scales)}

    def build_model(self, scales: list[int]) -> nn.Module:
        """A freshly initialised network with one head/tail per entry of ``scales``; IPTs and CNNs
        start as nearest-neighbour upsamplers (:func:`ipt_bench.models.ipt.identity_init_`), so
        the transformer and its convolutional control start from the same function."""
        from ipt_bench.models.baselines import Bicubic, CNNSmall, Identity
        from ipt_bench.models.ipt import IPT, identity_init_

        builder = {"ipt": IPT, "cnn": CNNSmall, "bicubic": Bicubic, "identity": Identity}[self.family]
        model = builder(**self.model_kwargs(scales))
        if isinstance(model, IPT):
            return identity_init_(model)
        return model.identity_init_() if isinstance(model, CNNSmall) else model

    def with_overrides(self, **overrides: Any) -> VariantSpec:
        """A validated copy with spec fields or architecture options changed; the name gets a
        ``+key=value`` suffix per change (e.g. ``ipt-small-con+contrastive_weight=0.05``)."""
        spec_changes: dict[str, Any] = {}
        arch = dict(self.arch)
        allowed_arch = _arch_keys(self.family)
        for key, value in overrides.items():
            if key in _SPEC_FIELDS:
                spec_changes[key] = tuple(value) if key == "pretrain_noise_levels" else value
            elif key in allowed_arch:
                arch[key] = value
            else:
                close = difflib.get_close_matches(key, [*_SPEC_FIELDS, *allowed_arch], n=3)
                hint = f"did you mean {', '.join(close)}? " if close else ""
                raise ConfigError(
                    f"variant {self.name}: unknown override {key!r}",
                    f"{hint}allowed: {', '.join([*_SPEC_FIELDS, *sorted(allowed_arch)])}",
                )
        suffix = "".join(f"+{k}={_fmt(v)}" for k, v in sorted(overrides.items()) if k != "description")
        return dataclasses.replace(
            self, name=self.name + suffix, arch=tuple(sorted(arch.items())), **spec_changes
        )


def _fmt(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(_fmt(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _arch_keys(family: str) -> set[str]:
    if family == "ipt":
        return {*SIZES["paper"], "dropout_rate", "no_norm", "no_mlp", "pos_every", "no_pos", "out_proj_bias"}
    if family == "cnn":
        return set(CNN_SIZES["small"])
    return set()


def _validate(spec: VariantSpec) -> None:
    where = f"variant {spec.name}"
    if spec.family not in FAMILIES:
        raise ConfigError(f"{where}: unknown family {spec.family!r}", f"use one of {', '.join(FAMILIES)}")
    sizes = {"ipt": SIZES, "cnn": CNN_SIZES}.get(spec.family)
    if sizes is not None and spec.size not in sizes:
        raise ConfigError(
            f"{where}: unknown {spec.family} size {spec.size!r}", f"use one of {', '.join(sizes)}"
        )
    cw = spec.contrastive_weight
    if not isinstance(cw, (int, float)) or not math.isfinite(cw) or cw < 0:
        raise ConfigError(f"{where}: contrastive_weight {cw!r} is invalid", "use a number >= 0 (paper: 0.1)")
    if cw > 0 and spec.family != "ipt":
        raise ConfigError(
            f"{where}: a contrastive loss needs transformer tokens; {spec.family} has none",
            "set contrastive_weight=0",
        )
    if cw > 0 and not spec.pretrain:
        raise ConfigError(
            f"{where}: the contrastive loss belongs to multi-task pre-training, which is off",
            "set pretrain=True or contrastive_weight=0",
        )
    if spec.pretrain and spec.family not in ("ipt", "cnn"):
        raise ConfigError(f"{where}: {spec.family} has nothing to pre-train", "set pretrain=False")
    levels = spec.pretrain_noise_levels
    if not levels or any(not isinstance(s, (int, float)) or not 0 < s <= MAX_SIGMA for s in levels):
        raise ConfigError(
            f"{where}: pretrain_noise_levels {levels!r} are invalid",
            f"give one or more sigmas in (0, {MAX_SIGMA:g}], e.g. (30, 50)",
        )
    allowed = _arch_keys(spec.family)
    bad = [k for k, _ in spec.arch if k not in allowed]
    if bad:
        raise ConfigError(f"{where}: unknown architecture options {bad}", f"allowed: {sorted(allowed)}")


def _build_registry() -> dict[str, VariantSpec]:
    variants: dict[str, VariantSpec] = {}
    modes = {
        "con": (True, PAPER_CONTRASTIVE_WEIGHT, "multi-task pre-training + contrastive loss (lambda 0.1)"),
        "nocon": (True, 0.0, "multi-task pre-training without the contrastive loss"),
        "scratch": (False, 0.0, "trained on the target task only, no pre-training"),
    }
    for size in SIZES:
        for mode, (pretrain, weight, text) in modes.items():
            name = f"ipt-{size}-{mode}"
            text = f"IPT {size}: {text}"
            variants[name] = VariantSpec(name, "ipt", size, pretrain, weight, description=text)
    for alias, target in {
        "ipt-paper": "ipt-paper-con",
        "ipt-con": "ipt-paper-con",
        "ipt-nocon": "ipt-paper-nocon",
        "ipt-scratch": "ipt-paper-scratch",
    }.items():
        variants[alias] = dataclasses.replace(variants[target], name=alias)
    for size in ("small", "tiny"):
        name = f"cnn-{size}"
        text = f"EDSR-like CNN with about the per-tile cost of ipt-{size}, trained on the target task"
        variants[name] = VariantSpec(name, "cnn", size, description=text)
    variants["bicubic"] = VariantSpec("bicubic", "bicubic", description="MATLAB bicubic upsampling of the LR")
    variants["identity"] = VariantSpec("identity", "identity", description="the degraded input, unrestored")
    return variants


VARIANTS: dict[str, VariantSpec] = _build_registry()


def get_variant(name: str) -> VariantSpec:
    """The registered variant ``name``; unknown names raise ConfigError with close matches."""
    if name in VARIANTS:
        return VARIANTS[name]
    close = difflib.get_close_matches(name, list(VARIANTS), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise ConfigError(
        f"unknown model variant {name!r}", f"{hint}run `ipt-bench variants` to list the registered names"
    )


def list_variants(pattern: str = "*") -> list[VariantSpec]:
    """Registered variants whose name matches the shell-style ``pattern``, in registry order."""
    return [spec for name, spec in VARIANTS.items() if fnmatch.fnmatchcase(name, pattern)]


@dataclass(frozen=True)
class VariantCost:
    """Size and compute of a variant's network at one task scale, per ``tile`` x ``tile`` input."""

    params: int
    gflops_per_tile: float
    tile: int
    scale: int


def variant_cost(spec: VariantSpec, scale: int = 2) -> VariantCost | None:
    """Parameters and GFLOPs (2 x multiply-adds, ``FlopCounterMode``) of one tile forward with a
    single x``scale`` tail; None for the parameter-free baselines. Cached per architecture."""
    if spec.family not in ("ipt", "cnn"):
        return None
    return _model_cost(spec.family, spec.size, spec.arch, scale)


@functools.lru_cache(maxsize=32)
def _model_cost(family: str, size: str, arch: tuple[tuple[str, Any], ...], scale: int) -> VariantCost:
    # Built and run on the meta device: shapes only, no memory and no arithmetic.
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    spec = VariantSpec("cost", family, size, arch=arch)  # type: ignore[arg-type]
    tile = int(spec.model_kwargs([scale]).get("patch_size", TILE_OF_SIZE[size]))
    with torch.device("meta"):
        model = spec.build_model([scale])
        x = torch.empty(1, 3, tile, tile)
    with FlopCounterMode(display=False) as counter:
        model(x, 0)
    params = sum(p.numel() for p in model.parameters())
    return VariantCost(params, counter.get_total_flops() / 1e9, tile, scale)
