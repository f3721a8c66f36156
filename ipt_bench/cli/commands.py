"""Attach every subcommand module to the root app (each module keeps its imports lazy)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Register all ``ipt-bench`` subcommands on ``app``."""
    from ipt_bench.cli import (
        data_cmd,
        eval_cmd,
        metrics_cmd,
        protocol_cmd,
        report_cmd,
        run_cmd,
        train_cmd,
        variants_cmd,
    )

    modules = (run_cmd, eval_cmd, train_cmd, report_cmd, variants_cmd, metrics_cmd, data_cmd, protocol_cmd)
    for module in modules:
        module.register(app)
