"""ipt_bench.eval"""
