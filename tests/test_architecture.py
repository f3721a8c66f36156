"""The package's shape: data flows one way through the layers, and modules stay small."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ipt_bench"
LAYERS = ("core", "metrics", "data", "models", "train", "eval", "suite", "report", "cli")
IMPORT = re.compile(r"^\s*(?:from|import) ipt_bench\.(\w+)", re.MULTILINE)
MAX_LINES = 410


def test_no_module_imports_from_a_higher_layer():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = path.relative_to(PACKAGE).parts[0]
        if layer not in LAYERS:
            continue
        for other in IMPORT.findall(path.read_text(encoding="utf-8")):
            if other in LAYERS and LAYERS.index(other) > LAYERS.index(layer):
                upward.append(f"{path.relative_to(PACKAGE)} imports ipt_bench.{other}")
    assert upward == []


def test_no_module_is_over_about_400_lines():
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
