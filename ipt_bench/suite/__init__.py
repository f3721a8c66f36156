"""ipt_bench.suite"""
