"""Load YAML into plain Python objects while remembering the source line of every value.

PyYAML's ``safe_load`` drops positions; composing the node tree ourselves keeps each node's
``start_mark`` so a validation error can point at ``file:line``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ipt_bench.core.errors import ConfigError
from ipt_bench.suite import yaml_safety

Location = tuple[str | int, ...]


@dataclass
class LinedDocument:
    """A parsed YAML document: ``data`` plus ``lines`` mapping a key path to its 1-based line."""

    path: Path
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, loc: Location) -> int | None:
        """The line of ``loc`` or of its nearest recorded ancestor."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None


def load_lined_yaml(path: Path) -> LinedDocument:
    """Parse ``path`` (one YAML document) keeping line numbers; a syntax error names file and line."""
    yaml_safety.check_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read suite file {path}: {exc.strerror or exc}",
            "check the path (e.g. suites/quickstart.yaml)",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"suite file {path} is not UTF-8 text ({exc.reason})", "save it as UTF-8") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML ({problem})", "fix the YAML syntax at that line") from exc
    except RecursionError:
        raise ConfigError(f"{path}: values nested too deeply", "flatten the suite file") from None
    doc = LinedDocument(path=path, data={})
    if root is not None:
        doc.data = _convert(root, (), doc.lines, yaml_safety.ExpansionGuard(str(path)), 0)
    return doc


def _convert(
    node: yaml.Node, loc: Location, lines: dict[Location, int], guard: yaml_safety.ExpansionGuard, depth: int
) -> Any:
    lines[loc] = node.start_mark.line + 1
    guard.enter(node, depth)
    if not isinstance(node, yaml.ScalarNode):
        yaml_safety.check_collection_tag(node, guard.where)
    try:
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in yaml_safety.mapping_pairs(node, guard.where):
                key = yaml_safety.key(key_node, guard.where)
                if key in out:
                    raise ConfigError(
                        f"line {key_node.start_mark.line + 1}: key {key!r} appears twice",
                        "keep one of the two entries",
                    )
                out[key] = _convert(value_node, (*loc, key), lines, guard, depth + 1)
                lines[(*loc, key)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [_convert(item, (*loc, i), lines, guard, depth + 1) for i, item in enumerate(node.value)]
        return yaml_safety.scalar(node, guard.where)
    finally:
        guard.leave(node)
