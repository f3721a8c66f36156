"""The bad-input corpus: each case is a real ``ipt-bench`` command that must fail cleanly."""
