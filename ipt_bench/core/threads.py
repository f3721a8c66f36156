"""OpenMP settings that keep a run from collapsing on a shared machine.

torch's CPU kernels run on an OpenMP thread pool. With the default (active) wait policy an idle
worker spins on its core for a while before sleeping; when another process also wants that
core, every parallel region then waits for a thread that is spinning or descheduled, and a run
beside a CPU-bound neighbour slowed down 33x in one measurement. Passive waiting yields the core
at once. It changes only when threads sleep, never how work is split, so results stay
bit-identical for a given thread count (``--threads``).

The settings are read when the OpenMP runtime loads, i.e. on the first ``import torch``: this
module is applied from ``ipt_bench/__init__.py``, and a value the user already set wins.
"""

from __future__ import annotations

import os
import sys

#: Environment for the OpenMP runtimes torch may use (GNU libgomp, Intel/LLVM libiomp5).
PASSIVE_WAIT = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0"}


def use_passive_waiting() -> bool:
    """Set :data:`PASSIVE_WAIT` where unset; False when torch was imported first (then the
    runtime has already read its settings and only the environment of child processes changes)."""
    for name, value in PASSIVE_WAIT.items():
        os.environ.setdefault(name, value)
    return "torch" not in sys.modules
