"""Check a state dict against the architecture it will be loaded into *before* that architecture
is allocated: the model is first built on torch's ``meta`` device (shapes only, no memory), so a
small file naming layer 5000 or a 1-D head weight is refused in milliseconds, not after the
machine has run out of memory."""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ipt_bench.core.errors import CheckpointError, IptBenchError

_SHOW = 5


def check_layer_indices(state_dict: dict[str, Tensor], prefix: str, source: str) -> int:
    """The number of ``prefix<i>.`` layers; refuses gaps (e.g. only layer 5000 present)."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    indices = {int(m.group(1)) for k in state_dict if (m := pattern.match(k))}
    if not indices:
        raise CheckpointError(f"{source}: no {prefix}* keys", "this is not an IPT checkpoint")
    missing = sorted(set(range(max(indices) + 1)) - indices)
    if missing:
        raise CheckpointError(
            f"{source}: {prefix}{max(indices)} is present but {len(missing)} lower layers are missing "
            f"(first: {prefix}{missing[0]})",
            "the file is damaged or not an IPT checkpoint; use the original file",
        )
    return max(indices) + 1


def check_finite_weights(state_dict: dict[str, Tensor], source: str) -> None:
    """Refuse weights holding NaN or infinities (they would produce meaningless outputs)."""
    bad = [k for k, v in state_dict.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        more = f" (+{len(bad) - _SHOW} more)" if len(bad) > _SHOW else ""
        raise CheckpointError(
            f"{source} holds NaN or infinite weights in {', '.join(bad[:_SHOW])}{more}",
            "the training diverged or the file is damaged: use an earlier or the original checkpoint",
        )


def check_shapes_sane(config: dict[str, Any], source: str) -> None:
    """Refuse inferred sizes no network can have (zero features, non-finite ranges)."""
    for key in ("n_feats", "patch_size", "patch_dim", "num_layers", "num_queries", "n_colors"):
        value = config.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise CheckpointError(f"{source}: {key} would be {value}", "this is not a valid IPT checkpoint")
    rgb_range = config.get("rgb_range")
    if rgb_range is not None and not (
        isinstance(rgb_range, (int, float)) and math.isfinite(rgb_range) and rgb_range > 0
    ):
        raise CheckpointError(
            f"{source}: the mean-shift bias gives an RGB range of {rgb_range}", "the file is damaged"
        )


def build_checked(
    builder: Callable[..., torch.nn.Module],
    kwargs: dict[str, Any],
    state_dict: dict[str, Tensor],
    source: str,
) -> torch.nn.Module:
    """``builder(**kwargs)`` loaded strictly with ``state_dict``, after the keys and shapes were
    compared on a meta-device copy (and unknown keyword arguments refused)."""
    from ipt_bench.models.checkpoint import check_fits, load_strict

    name = getattr(builder, "__name__", "model")
    try:
        inspect.signature(builder).bind(**kwargs)
    except TypeError as exc:
        raise CheckpointError(
            f"{source}: the model description does not fit {name} ({exc})", "re-train or re-export the model"
        ) from None
    with torch.device("meta"):
        skeleton = _build(builder, kwargs, source)
    check_fits(skeleton, state_dict, source)
    model = _build(builder, kwargs, source)
    load_strict(model, state_dict, source)
    return model


def _build(builder: Callable[..., torch.nn.Module], kwargs: dict[str, Any], source: str) -> torch.nn.Module:
    try:
        return builder(**kwargs)
    except IptBenchError as exc:
        raise CheckpointError(f"{source}: {exc.problem}", exc.fix) from None
    except (TypeError, ValueError, AssertionError, RuntimeError) as exc:
        raise CheckpointError(
            f"{source}: its configuration cannot be built ({type(exc).__name__}: {exc})",
            "the file is damaged or was written by other code; use the original file",
        ) from None
