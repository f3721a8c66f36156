"""ipt_bench.report"""
