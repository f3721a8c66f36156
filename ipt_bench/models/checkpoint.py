"""Safe checkpoint loading and IPT architecture inference from a state dict.

Files are read with ``torch.load(..., weights_only=True)`` only: a file holding pickled Python
objects is refused, never executed. The official IPT releases are raw state dicts.
"""

from __future__ import annotations

import math
import os
import pickle
import re
from pathlib import Path

import torch
from torch import Tensor

from ipt_bench.core.errors import CheckpointError
from ipt_bench.core.tasks import PAPER_PRETRAIN_TASKS, Task
from ipt_bench.models.ipt import IPT, RGB_MEAN
from ipt_bench.models.prebuild import build_checked, check_layer_indices, check_shapes_sane

#: Where the official weights are published (README of huawei-noah/Pretrained-IPT).
OFFICIAL_WEIGHTS_URL = "https://drive.google.com/drive/folders/1MVSdUX0YBExauG0fFz4ANiWTrq9xZEj7"

#: Official PyTorch checkpoint files -> the tasks of their heads, in head order. No checksums are
#: published; the sr3/sr4 names follow the sr2 pattern (not confirmed by an official source).
OFFICIAL_CHECKPOINTS: dict[str, tuple[Task, ...]] = {
    "IPT_sr2.pt": (Task("sr", 2),),
    "IPT_sr3.pt": (Task("sr", 3),),
    "IPT_sr4.pt": (Task("sr", 4),),
    "IPT_denoise30.pt": (Task("denoise", sigma=30.0),),
    "IPT_denoise50.pt": (Task("denoise", sigma=50.0),),
    "IPT_derain.pt": (Task("derain"),),
    "IPT_pretrain.pt": PAPER_PRETRAIN_TASKS,
}

_CONTAINER_KEYS = ("model", "state_dict", "model_state_dict", "params")
_PREFIXES = ("module.", "model.")
_SHOW = 5


def load_state_dict_file(path: str | os.PathLike[str]) -> dict[str, Tensor]:
    """Read a state dict from ``path`` safely (``weights_only=True``), unwrapping ``{'model': ...}``
    / ``{'state_dict': ...}`` containers and a ``module.`` / ``model.`` key prefix."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist", "check the path (official: IPT_*.pt)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower() or "weights_only" in str(exc):
            raise CheckpointError(
                f"refused to load {path}: it contains pickled Python objects, which could run code; "
                "only plain tensors are accepted",
                "re-save the state dict with torch.save(model.state_dict())",
            ) from None
        raise _corrupt(path, exc) from None
    except Exception as exc:  # torch raises many types for damaged files (KeyError, EOFError, ...)
        raise _corrupt(path, exc) from None
    return _unwrap(obj, path)


def _corrupt(path: Path, exc: BaseException) -> CheckpointError:
    reason = f"{type(exc).__name__}: {str(exc).split('. ')[0]}"
    return CheckpointError(
        f"cannot read checkpoint {path}: the file is truncated or corrupt ({reason})",
        "download or copy the file again and compare its size/checksum with the source",
    )


def _unwrap(obj: object, path: Path) -> dict[str, Tensor]:
    for _ in range(3):  # e.g. {'model': {'state_dict': ...}}
        if isinstance(obj, dict) and not _is_state_dict(obj):
            inner = next((obj[k] for k in _CONTAINER_KEYS if isinstance(obj.get(k), dict)), None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, dict) or not _is_state_dict(obj):
        keys = list(obj)[:_SHOW] if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(
            f"{path} holds no state dict of tensors (found {keys})",
            "pass a file written with torch.save(model.state_dict()) or a training checkpoint",
        )
    for prefix in _PREFIXES:
        if all(k.startswith(prefix) for k in obj):
            obj = {k.removeprefix(prefix): v for k, v in obj.items()}
    return obj


def _is_state_dict(obj: dict) -> bool:
    return bool(obj) and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())


def infer_ipt_config(state_dict: dict[str, Tensor], num_heads: int = 12, pos_every: bool = False) -> dict:
    """IPT keyword arguments matching the shapes of an official-layout state dict.

    ``num_heads`` and ``pos_every`` leave no trace in the weights and are taken as given.
    Odd shapes (a 1-D head weight, zero features, a NaN mean bias, a gap in the layer indices)
    raise :class:`CheckpointError`, never a Python exception.
    """
    try:
        config = _infer(state_dict, num_heads, pos_every)
    except CheckpointError:
        raise
    except (ValueError, TypeError, IndexError, ZeroDivisionError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(
            f"the tensor shapes describe no IPT ({type(exc).__name__}: {exc})",
            "the file is damaged or not an official-layout IPT checkpoint",
        ) from None
    check_shapes_sane(config, "state dict")
    return config


def _infer(sd: dict[str, Tensor], num_heads: int, pos_every: bool) -> dict:
    _require(sd, "head.0.0.weight", "body.encoder.layers.0.self_attn.in_proj_weight")
    for key in ("head.0.0.weight", "body.encoder.layers.0.self_attn.in_proj_weight"):
        if sd[key].dim() < 2 or 0 in sd[key].shape:
            raise CheckpointError(f"{key} has shape {tuple(sd[key].shape)}", "this is not an IPT checkpoint")
    n_feats, n_colors = sd["head.0.0.weight"].shape[:2]
    dim = sd["body.encoder.layers.0.self_attn.in_proj_weight"].shape[1]
    patch_dim = math.isqrt(dim // n_feats)
    if patch_dim * patch_dim * n_feats != dim:
        raise CheckpointError(
            f"token dimension {dim} is not n_feats ({n_feats}) x patch_dim^2", "this is not an IPT checkpoint"
        )
    seq_length = None
    if "body.position_encoding.pe.weight" in sd:
        seq_length = sd["body.position_encoding.pe.weight"].shape[0]
    elif "body.query_embed.weight" in sd:
        seq_length = sd["body.query_embed.weight"].shape[1] // dim
    patch_size = 48 if seq_length is None else math.isqrt(seq_length) * patch_dim
    return {
        "n_feats": int(n_feats),
        "patch_size": int(patch_size),
        "patch_dim": int(patch_dim),
        "num_heads": int(num_heads),
        "num_layers": _count_layers(sd, "body.encoder.layers."),
        "num_queries": int(sd["body.query_embed.weight"].shape[0]) if "body.query_embed.weight" in sd else 1,
        "no_norm": "body.encoder.layers.0.norm1.weight" not in sd,
        "no_mlp": "body.linear_encoding.weight" not in sd,
        "pos_every": pos_every,
        "no_pos": "body.position_encoding.pe.weight" not in sd,
        "scale": _tail_scales(sd, int(n_feats)),
        "rgb_range": _rgb_range(sd),
        "n_colors": int(n_colors),
        "out_proj_bias": any(k.endswith("out_proj.bias") for k in sd),
    }


def _require(sd: dict[str, Tensor], *keys: str) -> None:
    missing = [k for k in keys if k not in sd]
    if missing:
        raise CheckpointError(
            f"state dict lacks {', '.join(missing)}; it is not in the official IPT layout "
            f"(first keys: {', '.join(list(sd)[:_SHOW])})",
            "load it with the model class that wrote it, or convert the key names",
        )


def _count_layers(sd: dict[str, Tensor], prefix: str) -> int:
    count = check_layer_indices(sd, prefix, "state dict")
    decoder = "body.decoder.layers."
    if any(k.startswith(decoder) for k in sd):
        check_layer_indices(sd, decoder, "state dict")
    return count


def _tail_scales(sd: dict[str, Tensor], n_feats: int) -> list[int]:
    tails = sorted({int(m.group(1)) for k in sd if (m := re.match(r"tail\.(\d+)\.", k))})
    if not tails:
        raise CheckpointError("state dict has no tail.* keys", "this is not an IPT checkpoint")
    scales = []
    for t in tails:
        convs = [k for k in sd if re.fullmatch(rf"tail\.{t}\.0\.\d+\.weight", k)]
        if not convs:
            scales.append(1)
        elif len(convs) == 1 and sd[convs[0]].shape[0] == 9 * n_feats:
            scales.append(3)
        elif all(sd[k].shape[0] == 4 * n_feats for k in convs):
            scales.append(2 ** len(convs))
        else:
            shapes = [tuple(sd[k].shape) for k in convs]
            raise CheckpointError(
                f"tail {t} has upsampler convs of shapes {shapes}, which match no x2/x3/x4 tail",
                "check that the file is an IPT checkpoint",
            )
    return scales


def _rgb_range(sd: dict[str, Tensor]) -> float:
    bias = sd.get("sub_mean.bias")
    if bias is None or bias.numel() == 0:
        return 255
    value = float(-bias.flatten()[0]) / RGB_MEAN[0]
    if not math.isfinite(value):
        raise CheckpointError(f"sub_mean.bias holds {value}", "the file is damaged; use the original file")
    return round(value) if abs(value - round(value)) < 1e-3 else value


def build_ipt_from_state_dict(
    state_dict: dict[str, Tensor], num_heads: int = 12, *, pos_every: bool = False, source: str = "state dict"
) -> IPT:
    """Build the IPT the state dict describes and load it strictly (clear error on any mismatch)."""
    try:
        config = infer_ipt_config(state_dict, num_heads=num_heads, pos_every=pos_every)
    except CheckpointError as exc:
        raise CheckpointError(f"{source}: {exc.problem}", exc.fix) from None
    return build_checked(IPT, config, state_dict, source)  # keys and shapes checked before allocating


def load_strict(model: torch.nn.Module, state_dict: dict[str, Tensor], source: str = "state dict") -> None:
    """``model.load_state_dict(state_dict)`` that names missing/unexpected keys and shape mismatches."""
    check_fits(model, state_dict, source)
    model.load_state_dict(state_dict, strict=True)


def check_fits(model: torch.nn.Module, state_dict: dict[str, Tensor], source: str = "state dict") -> None:
    """Raise :class:`CheckpointError` naming missing/unexpected keys and shape mismatches (works on a
    meta-device model too: only key names and shapes are compared)."""
    expected = model.state_dict()
    given = {k: v for k, v in state_dict.items() if not k.endswith("position_encoding.position_ids")}
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    mismatched = [
        f"{k} {tuple(given[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in given and given[k].shape != v.shape
    ]
    problems = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", mismatched)):
        if items:
            more = f" (+{len(items) - _SHOW} more)" if len(items) > _SHOW else ""
            problems.append(f"{len(items)} {label}: {', '.join(items[:_SHOW])}{more}")
    if problems:
        raise CheckpointError(
            f"{source} does not fit the {type(model).__name__} architecture: {'; '.join(problems)}",
            "use the checkpoint that matches this configuration (e.g. --num-heads, scale, num_queries), "
            "or load an official file with load_ipt_checkpoint, which infers the configuration",
        )


def load_ipt_checkpoint(path: str | os.PathLike[str], num_heads: int = 12, *, pos_every: bool = False) -> IPT:
    """Load an official-layout IPT checkpoint file into a freshly built, matching IPT."""
    state_dict = load_state_dict_file(path)
    return build_ipt_from_state_dict(state_dict, num_heads, pos_every=pos_every, source=str(path))
