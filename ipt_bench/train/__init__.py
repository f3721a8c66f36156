"""ipt_bench.train"""
