"""The model-family registry: one :class:`ModelFamily` per network kind (IPT, CNN, baselines).

A family file in ``ipt_bench.models.families`` declares the builder, the named sizes, the
architecture options a variant may override, the training initialisation, and registers its
variants; other packages add families through the ``ipt_bench.families`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ipt_bench.core.plugins import Registry

if TYPE_CHECKING:
    from torch import nn


def _scale_only(scales: Sequence[int]) -> dict[str, Any]:
    return {"scale": list(scales)}


@dataclass(frozen=True)
class ModelFamily:
    """How to build the networks of one family."""

    name: str
    #: The network constructor; takes the size's options, arch overrides and the scale options.
    build: Callable[..., nn.Module]
    #: Named sizes -> constructor options (empty for parameter-free baselines).
    sizes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Constructor options a variant may override besides those of the sizes.
    extra_arch_keys: frozenset[str] = frozenset()
    #: In-place training initialisation of a freshly built network (returns it).
    init: Callable[[nn.Module], nn.Module] | None = None
    #: Constructor options for a list of task scales (one head/tail per scale).
    scale_kwargs: Callable[[Sequence[int]], dict[str, Any]] = _scale_only
    #: False for baselines that are evaluated directly (bicubic, identity).
    trainable: bool = True
    #: True when the network returns tokens a contrastive loss can use.
    tokens: bool = False
    #: Input tile edge used to report the per-tile cost when a size has no ``patch_size``.
    cost_tile: int = 48
    description: str = ""

    @property
    def arch_keys(self) -> frozenset[str]:
        """Every architecture option a variant of this family may override."""
        keys = {key for options in self.sizes.values() for key in options}
        return frozenset(keys | self.extra_arch_keys)

    def model_kwargs(self, size: str, arch: Mapping[str, Any], scales: Sequence[int]) -> dict[str, Any]:
        """Constructor options of a network of ``size`` with ``arch`` overrides for ``scales``."""
        return {**self.sizes.get(size, {}), **arch, **self.scale_kwargs(scales)}

    def new_model(self, kwargs: Mapping[str, Any], *, initialise: bool = True) -> nn.Module:
        """A network built from ``kwargs``, with the family's training init when ``initialise``."""
        model = self.build(**kwargs)
        return self.init(model) if initialise and self.init is not None else model


FAMILIES: Registry[ModelFamily] = Registry(
    "model family", package="ipt_bench.models.families", group="ipt_bench.families"
)


def register_family(family: ModelFamily) -> ModelFamily:
    """Add ``family`` to the registry (call at import of its family file)."""
    return FAMILIES.register(family)


def get_family(name: str) -> ModelFamily:
    """The registered family ``name`` (ConfigError naming close matches otherwise)."""
    return FAMILIES.get(name)
