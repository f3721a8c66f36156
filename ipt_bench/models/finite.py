"""Refuse network outputs holding NaN or infinities: quantising them would turn them into a score."""

from __future__ import annotations

from typing import Any

from ipt_bench.core.errors import IptBenchError

_ROWS_PER_SLAB = 64
_FIX = (
    "the model's weights are broken (e.g. diverged training or a damaged file): retrain it or use "
    "another checkpoint; a PSNR computed from such an output would be meaningless"
)


class NonFiniteOutput(IptBenchError):
    """A network produced NaN or infinite values; ``model`` names it, ``image`` (once known) the input."""

    def __init__(self, model: str, image: str | None = None) -> None:
        self.model = model
        where = f" on image {image}" if image else ""
        super().__init__(f"model {model} produced NaN or infinite values{where}", _FIX)


def check_finite(output: Any, model: str) -> None:
    """Raise :class:`NonFiniteOutput` unless every value of the tensor ``output`` is finite.

    Checked in slabs of rows (views, no copy of the output) so the check adds only a small mask,
    not an output-sized one: restoring large images is planned to a tight memory bound."""
    import torch

    slabs = [output] if output.dim() < 2 else output.split(_ROWS_PER_SLAB, dim=-2)
    if not all(bool(torch.isfinite(slab).all()) for slab in slabs):
        raise NonFiniteOutput(model)
