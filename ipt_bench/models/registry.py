"""Named model variants of the benchmark: IPT sizes x pre-training/contrastive settings, plus the
CNN, bicubic and identity baselines.

A :class:`VariantSpec` is a frozen description; ``build_model(scales)`` makes a fresh network
with one head/tail per scale through its family (:mod:`ipt_bench.models.family`).
``with_overrides`` derives validated ablations (spec fields or architecture options such as
``num_layers``) whose name records the change. Variants are registered by the family files and
by other packages through the ``ipt_bench.variants`` entry-point group.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ipt_bench.core.errors import ConfigError
from ipt_bench.core.plugins import Registry
from ipt_bench.core.tasks import MAX_SIGMA
from ipt_bench.models.family import FAMILIES, get_family

if TYPE_CHECKING:
    from torch import nn

#: IPT sizes. ``paper`` is the official configuration (115.5 M parameters at x2).
SIZES: dict[str, dict[str, Any]] = {
    "paper": {"n_feats": 64, "patch_size": 48, "patch_dim": 3, "num_heads": 12, "num_layers": 12},
    # 256 tokens x 288 dims: the paper's token grid at a quarter of its width, 2+2 layers.
    "small": {"n_feats": 32, "patch_size": 48, "patch_dim": 3, "num_heads": 6, "num_layers": 2},
    # 64 tokens x 144 dims: trains a few hundred CPU steps (batch 8) in well under a minute.
    "tiny": {"n_feats": 16, "patch_size": 24, "patch_dim": 3, "num_heads": 4, "num_layers": 1},
}

#: Tile edge used to report per-tile cost of sizes (CNNs run whole images; the IPT tile is used).
TILE_OF_SIZE = {name: cfg["patch_size"] for name, cfg in SIZES.items()}

PAPER_CONTRASTIVE_WEIGHT = 0.1
_SPEC_FIELDS = ("family", "size", "pretrain", "contrastive_weight", "pretrain_noise_levels", "description")


@dataclass(frozen=True)
class VariantSpec:
    """One benchmark variant. ``arch`` holds architecture overrides of the size's configuration."""

    name: str
    family: str
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
        return get_family(self.family).model_kwargs(self.size, dict(self.arch), scales)

    def build_model(self, scales: list[int]) -> nn.Module:
        """A freshly initialised network with one head/tail per entry of ``scales``; trained
        families start as nearest-neighbour upsamplers (their family's ``init``), so the
        transformer and its convolutional control start from the same function."""
        return get_family(self.family).new_model(self.model_kwargs(scales))

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
    return set(get_family(family).arch_keys)


def _validate(spec: VariantSpec) -> None:
    where = f"variant {spec.name}"
    if spec.family not in FAMILIES:
        raise ConfigError(
            f"{where}: unknown family {spec.family!r}", f"use one of {', '.join(FAMILIES.names())}"
        )
    family = FAMILIES.get(spec.family)
    sizes = family.sizes
    if sizes and spec.size not in sizes:
        raise ConfigError(
            f"{where}: unknown {spec.family} size {spec.size!r}", f"use one of {', '.join(sizes)}"
        )
    cw = spec.contrastive_weight
    if not isinstance(cw, (int, float)) or not math.isfinite(cw) or cw < 0:
        raise ConfigError(f"{where}: contrastive_weight {cw!r} is invalid", "use a number >= 0 (paper: 0.1)")
    if cw > 0 and not family.tokens:
        raise ConfigError(
            f"{where}: a contrastive loss needs transformer tokens; {spec.family} has none",
            "set contrastive_weight=0",
        )
    if cw > 0 and not spec.pretrain:
        raise ConfigError(
            f"{where}: the contrastive loss belongs to multi-task pre-training, which is off",
            "set pretrain=True or contrastive_weight=0",
        )
    if spec.pretrain and not family.trainable:
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


VARIANTS: Registry[VariantSpec] = Registry(
    "model variant",
    package="ipt_bench.models.families",
    group="ipt_bench.variants",
    list_command="ipt-bench variants",
)


def register_variant(spec: VariantSpec) -> VariantSpec:
    """Add ``spec`` to the registry (family files and plug-ins call this at import)."""
    return VARIANTS.register(spec)


def get_variant(name: str) -> VariantSpec:
    """The registered variant ``name``; unknown names raise ConfigError with close matches."""
    return VARIANTS.get(name)


def list_variants(pattern: str = "*") -> list[VariantSpec]:
    """Registered variants whose name matches the shell-style ``pattern``, in registry order."""
    return [spec for name, spec in VARIANTS.entries().items() if fnmatch.fnmatchcase(name, pattern)]


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
    if not get_family(spec.family).trainable:
        return None
    return _model_cost(spec.family, spec.size, spec.arch, scale)


@functools.lru_cache(maxsize=32)
def _model_cost(family: str, size: str, arch: tuple[tuple[str, Any], ...], scale: int) -> VariantCost:
    # Built and run on the meta device: shapes only, no memory and no arithmetic.
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    spec = VariantSpec("cost", family, size, arch=arch)
    tile = int(
        spec.model_kwargs([scale]).get("patch_size", TILE_OF_SIZE.get(size, get_family(family).cost_tile))
    )
    with torch.device("meta"):
        model = spec.build_model([scale])
        x = torch.empty(1, 3, tile, tile)
    with FlopCounterMode(display=False) as counter:
        model(x, 0)
    params = sum(p.numel() for p in model.parameters())
    return VariantCost(params, counter.get_total_flops() / 1e9, tile, scale)
