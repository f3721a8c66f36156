"""ipt_bench.metrics"""
