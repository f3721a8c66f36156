"""ipt_bench.core"""
