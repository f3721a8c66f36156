"""Refuse network outputs holding NaN or infinities: quantising them would turn them into a score."""

from __future__ import annotations

from typing import Any

from ipt_bench.core.errors import IptBenchError

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

    One reduction (a sum is NaN or infinite as soon as one value is) instead of a mask the size
    of the output."""
    import torch

    if not bool(output.sum(dtype=torch.float64).isfinite()):  # float64: a sum of finite values stays finite
        raise NonFiniteOutput(model)
