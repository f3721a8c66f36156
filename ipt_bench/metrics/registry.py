"""The metric registry: each full-reference metric is one :class:`Metric` entry.

Built-ins are the modules of ``ipt_bench.metrics.library`` (one file per metric); other packages
add metrics through the ``ipt_bench.metrics`` entry-point group. Scoring, result rows, tables and
plots are generic over the registered names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ipt_bench.core.errors import ConfigError
from ipt_bench.core.plugins import Registry
from ipt_bench.core.rows import DEFAULT_METRICS


@dataclass(frozen=True)
class Metric:
    """A full-reference metric of two float64 images on the 0-255 scale (HxW planes, or HxWxC
    when scored on RGB), computed after the protocol's channel choice and border crop."""

    name: str
    compute: Callable[[np.ndarray, np.ndarray], float]
    label: str
    higher_is_better: bool = True
    #: Decimals shown in tables.
    digits: int = 2
    unit: str = ""
    description: str = ""


METRICS: Registry[Metric] = Registry(
    "metric", package="ipt_bench.metrics.library", group="ipt_bench.metrics", list_command="ipt-bench metrics"
)


def register_metric(metric: Metric) -> Metric:
    """Add ``metric`` to the registry (call at import of the module that defines it)."""
    return METRICS.register(metric)


def get_metric(name: str) -> Metric:
    """The registered metric ``name`` (ConfigError naming close matches otherwise)."""
    return METRICS.get(name)


def check_metric_names(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple after checking each is registered and none repeats."""
    names = tuple(names)  # DEFAULT_METRICS (core.rows): scored when nothing else is asked
    if not names:
        raise ConfigError("no metric selected", f"name at least one, e.g. {', '.join(DEFAULT_METRICS)}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"metrics listed twice: {', '.join(repeated)}", "name each metric once")
    for name in names:
        get_metric(name)
    return names


def metric_label(name: str) -> str:
    """Display label of ``name`` (its registered label, or the name upper-cased if unknown here)."""
    return METRICS.entries()[name].label if name in METRICS else name.upper()


def metric_digits(name: str) -> int:
    """Table decimals of ``name`` (2 for metrics not registered in this process)."""
    return METRICS.entries()[name].digits if name in METRICS else 2
