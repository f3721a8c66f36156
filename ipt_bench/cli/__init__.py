"""ipt_bench.cli"""
