"""Networks of the benchmark: IPT (official layout), baselines, checkpoints, tiling, variants.

Importing this package makes the IPT entry points available to timm
(``timm.create_model("ipt_paper_x2")``) without importing timm itself: they are registered at
once if timm is already loaded, otherwise right after timm's first import (timm takes seconds
to import, and most commands never need it).
"""

import importlib.abc
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

from ipt_bench.models.baselines import Bicubic, Identity
from ipt_bench.models.checkpoint import (
    OFFICIAL_CHECKPOINTS,
    build_ipt_from_state_dict,
    infer_ipt_config,
    load_ipt_checkpoint,
    load_state_dict_file,
)
from ipt_bench.models.families.cnn import CNNSmall
from ipt_bench.models.ipt import IPT
from ipt_bench.models.memory import available_memory_bytes, parse_memory_size, plan_tile_batch
from ipt_bench.models.registry import SIZES, VariantSpec, get_variant, list_variants
from ipt_bench.models.tiling import count_tiles, tiled_forward


def _register_with_timm() -> None:
    import ipt_bench.models.timm_models  # noqa: F401  (its @register_model decorators run on import)


class _RegisterAfterTimmImport(importlib.abc.MetaPathFinder):
    """Import hook: lets the normal finders load ``timm``, then registers the IPT entry points."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> ModuleSpec | None:
        if fullname != "timm":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("timm")
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_then_register(module: ModuleType) -> None:
            load(module)
            _register_with_timm()

        spec.loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


if "timm" in sys.modules:
    _register_with_timm()
elif not any(isinstance(f, _RegisterAfterTimmImport) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterTimmImport())

__all__ = [
    "IPT",
    "OFFICIAL_CHECKPOINTS",
    "SIZES",
    "Bicubic",
    "CNNSmall",
    "Identity",
    "VariantSpec",
    "available_memory_bytes",
    "build_ipt_from_state_dict",
    "count_tiles",
    "get_variant",
    "infer_ipt_config",
    "list_variants",
    "load_ipt_checkpoint",
    "load_state_dict_file",
    "parse_memory_size",
    "plan_tile_batch",
    "tiled_forward",
]
