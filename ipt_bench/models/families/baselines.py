"""The untrained baselines as families: MATLAB bicubic upsampling and the identity ("Input" row)."""

from __future__ import annotations

from ipt_bench.models.baselines import Bicubic, Identity
from ipt_bench.models.family import ModelFamily, register_family
from ipt_bench.models.registry import VariantSpec, register_variant

register_family(ModelFamily(name="bicubic", build=Bicubic, trainable=False, description="MATLAB bicubic"))
register_family(ModelFamily(name="identity", build=Identity, trainable=False, description="the input"))
register_variant(VariantSpec("bicubic", "bicubic", description="MATLAB bicubic upsampling of the LR"))
register_variant(VariantSpec("identity", "identity", description="the degraded input, unrestored"))
