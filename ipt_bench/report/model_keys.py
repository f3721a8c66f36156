"""What a compared model is: a variant plus its training setting, read from result rows.

Two models of one variant differ when they were fine-tuned on other noise levels or pre-trained
with another contrastive weight or data fraction; untrained baselines (identity, bicubic) have no
setting. Labels name only the settings that tell apart models of one variant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ipt_bench.core.errors import IptBenchError

# What identifies a trained model besides its seed; all null for untrained baselines (identity, bicubic).
MODEL_COLUMNS = ("variant", "train_sigmas", "contrastive_weight", "data_fraction")
SETTING_LABELS = {"train_sigmas": "train σ", "contrastive_weight": "λ", "data_fraction": "data"}
ModelKey = tuple  # (variant, train_sigmas, contrastive_weight, data_fraction), None for unset settings


def model_keys(rows: pd.DataFrame) -> pd.Series:
    """The model of each row as a tuple over MODEL_COLUMNS, with unset settings ("", NaN) as None."""
    # Plain lists: Series.map would turn None back into NaN in a float column.
    columns = [
        [str(v) for v in rows[c]] if c == "variant" else [_setting_value(v) for v in rows[c]]
        for c in MODEL_COLUMNS
    ]
    return pd.Series(list(zip(*columns, strict=True)), index=rows.index, dtype=object)


def is_trained(key: ModelKey) -> bool:
    """Whether a model has a training setting (untrained baselines such as identity have none)."""
    return any(value is not None for value in key[1:])


def model_labels(keys: Sequence[ModelKey]) -> dict[ModelKey, str]:
    """Readable labels: the variant plus the settings that tell apart models of one variant.

    ``ipt-tiny-con (train σ=30)``; an untrained baseline is just its variant name.
    """
    keys = list(dict.fromkeys(keys))
    varying = [
        position
        for position in range(1, len(MODEL_COLUMNS))
        if any(
            len({key[position] for key in keys if key[0] == variant}) > 1 for variant in {k[0] for k in keys}
        )
    ]
    labels = {}
    for key in keys:
        extras = [
            f"{SETTING_LABELS[MODEL_COLUMNS[p]]}={_format_setting(key[p])}"
            for p in varying
            if key[p] is not None
        ]
        labels[key] = f"{key[0]} ({', '.join(extras)})" if extras else str(key[0])
    return labels


def comparable(a: ModelKey, b: ModelKey) -> bool:
    """Models worth pairing: fine-tuned on the same noise levels, or one an untrained baseline.

    Contrastive weight and data fraction are what variants (and the lambda / data-fraction
    studies) differ in, so they may differ; a model trained at sigma 30 is not set against one
    trained at sigma 50 unless a question asks for it.
    """
    if a == b:
        return False
    return not is_trained(a) or not is_trained(b) or _same(a[1], b[1])


def select_models(keys: Sequence[ModelKey], selector: Mapping[str, object]) -> list[ModelKey]:
    """Models whose MODEL_COLUMNS match every ``column: value`` of ``selector`` (values as in the rows)."""
    unknown = sorted(set(selector) - set(MODEL_COLUMNS))
    if unknown:
        raise IptBenchError(
            f"model selector names unknown columns {unknown}", f"use only {', '.join(MODEL_COLUMNS)}"
        )
    wanted = {MODEL_COLUMNS.index(c): _setting_value(v) for c, v in selector.items()}
    return [k for k in dict.fromkeys(keys) if all(_same(k[p], v) for p, v in wanted.items())]


def _setting_value(value: object) -> object:
    """None for an unset setting ("", None, NaN), a float for numbers, else the text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return None if math.isnan(float(value)) else float(value)
    return str(value)


def _same(left: object, right: object) -> bool:
    """Equal settings, numbers compared as numbers (a selector's 30 matches the rows' "30")."""
    if left is None or right is None:
        return left is right
    try:
        return float(left) == float(right)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(left) == str(right)


def _format_setting(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
