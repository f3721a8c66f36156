"""ipt_bench.data"""
