"""Networks of the benchmark: IPT (official layout), baselines, checkpoints, tiling, variants.

Importing this package also registers the IPT entry points with timm.
"""

from ipt_bench.models import timm_models as _timm_models  # noqa: F401  (registers with timm)
from ipt_bench.models.baselines import Bicubic, CNNSmall, Identity
from ipt_bench.models.checkpoint import (
    OFFICIAL_CHECKPOINTS,
    build_ipt_from_state_dict,
    infer_ipt_config,
    load_ipt_checkpoint,
    load_state_dict_file,
)
from ipt_bench.models.ipt import IPT
from ipt_bench.models.registry import SIZES, VariantSpec, get_variant, list_variants
from ipt_bench.models.tiling import count_tiles, tiled_forward

__all__ = [
    "IPT",
    "OFFICIAL_CHECKPOINTS",
    "SIZES",
    "Bicubic",
    "CNNSmall",
    "Identity",
    "VariantSpec",
    "build_ipt_from_state_dict",
    "count_tiles",
    "get_variant",
    "infer_ipt_config",
    "list_variants",
    "load_ipt_checkpoint",
    "load_state_dict_file",
    "tiled_forward",
]
