"""ipt_bench.models"""
