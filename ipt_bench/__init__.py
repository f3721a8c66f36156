"""ipt-bench: ablation benchmarks for the Image Processing Transformer (IPT)."""

__version__ = "0.1.0"
