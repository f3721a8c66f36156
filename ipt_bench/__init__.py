"""ipt-bench: ablation benchmarks for the Image Processing Transformer (IPT)."""

from ipt_bench.core.threads import use_passive_waiting

__version__ = "0.1.0"

use_passive_waiting()  # before anything imports torch: see ipt_bench.core.threads
