"""Bounds and conversions that make any YAML text a plain suite value or one clear error.

- size: a suite file is at most :data:`MAX_SUITE_BYTES`; after alias expansion at most
  :data:`MAX_VALUES` values and :data:`MAX_DEPTH` levels (an alias bomb or a recursive alias
  is refused, not expanded);
- merge keys: ``<<: *base`` (and ``<<: [*a, *b]``) merge mappings as YAML 1.1 specifies, keys
  written beside them winning;
- scalars: timestamps and dates are kept as the text written (``name: 2021-02-30`` is a name,
  not a date error); unknown or Python tags are refused; mapping keys must be text.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ipt_bench.core.errors import ConfigError

MAX_SUITE_BYTES = 1 << 20
MAX_VALUES = 100_000
MAX_DEPTH = 64
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_PLAIN_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_FIX = "write plain keys and values (see suites/quickstart.yaml)"


def check_file(path: Path) -> None:
    """Refuse, before reading it, a suite path that is not a regular file or is over
    :data:`MAX_SUITE_BYTES` (a missing file is left to the reader to report)."""
    try:
        info = path.stat()
    except OSError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"suite file {path} is not a regular file", "pass a .yaml file")
    if info.st_size > MAX_SUITE_BYTES:
        raise ConfigError(
            f"suite file {path} has {info.st_size} bytes, more than the {MAX_SUITE_BYTES} allowed",
            "a suite lists variants, tasks and datasets; split generated content into smaller files",
        )


@dataclass
class ExpansionGuard:
    """Counts values as aliases are expanded and tracks the nodes being expanded (recursion)."""

    where: str
    values: int = 0
    active: set[int] = field(default_factory=set)

    def enter(self, node: yaml.Node, depth: int) -> None:
        """Account for one more value at ``depth``; refuse bombs, recursion and deep nesting."""
        line = node.start_mark.line + 1
        self.values += 1
        if self.values > MAX_VALUES:
            raise ConfigError(
                f"{self.where}:{line}: the suite expands to more than {MAX_VALUES} values (aliases repeated "
                "inside aliases?)",
                "write the values out instead of nesting aliases",
            )
        if depth > MAX_DEPTH:
            raise ConfigError(f"{self.where}:{line}: values nested more than {MAX_DEPTH} deep", _FIX)
        if id(node) in self.active:
            raise ConfigError(f"{self.where}:{line}: an alias refers to a value that contains it", _FIX)
        self.active.add(id(node))

    def leave(self, node: yaml.Node) -> None:
        """``node`` and everything inside it is converted."""
        self.active.discard(id(node))


def mapping_pairs(
    node: yaml.MappingNode, where: str, merging: frozenset[int] = frozenset()
) -> list[tuple[yaml.Node, yaml.Node]]:
    """The key/value node pairs of ``node`` with ``<<`` merge keys resolved (own keys win)."""
    if id(node) in merging:
        raise ConfigError(f"{where}:{node.start_mark.line + 1}: '<<' merges a mapping into itself", _FIX)
    own, merged = [], []
    for key_node, value_node in node.value:
        if key_node.tag != _MERGE_TAG:
            own.append((key_node, value_node))
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise ConfigError(
                    f"{where}:{source.start_mark.line + 1}: '<<' merges mappings only", "e.g. <<: *base"
                )
            merged.extend(mapping_pairs(source, where, merging | {id(node)}))
    own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
    first = {}
    for key_node, value_node in merged:  # the first merged mapping wins among merged ones
        if isinstance(key_node, yaml.ScalarNode) and key_node.value not in own_keys:
            first.setdefault(key_node.value, (key_node, value_node))
    return own + list(first.values())


def scalar(node: yaml.Node, where: str) -> Any:
    """A scalar node as a plain value; timestamps stay text, unknown tags are refused."""
    line = node.start_mark.line + 1
    if node.tag == _TIMESTAMP_TAG:
        return str(node.value)
    try:
        value = yaml.SafeLoader(" ").construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}:{line}: cannot read this value ({problem})", _FIX) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise ConfigError(f"{where}:{line}: cannot read this value ({exc})", _FIX) from None
    if not isinstance(value, (str, int, float, bool, type(None))):
        raise ConfigError(
            f"{where}:{line}: a {type(value).__name__} value ({node.tag}) is not allowed here", _FIX
        )
    return value


def check_collection_tag(node: yaml.Node, where: str) -> None:
    """Refuse a list or mapping carrying a tag (``!!python/...``, ``!foo``, ``!!set``)."""
    if node.tag not in _PLAIN_COLLECTION_TAGS:
        raise ConfigError(
            f"{where}:{node.start_mark.line + 1}: cannot read this value (tag {node.tag} is not allowed)",
            _FIX,
        )


def key(node: yaml.Node, where: str) -> str:
    """A mapping key: must be a scalar written as text (quote numbers, dates and yes/no)."""
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(f"{where}:{line}: a key must be a name, not a list or mapping", _FIX)
    value = scalar(node, where)
    if not isinstance(value, str):
        raise ConfigError(
            f"{where}:{line}: key {node.value!r} is read as a {type(value).__name__}, keys must be names",
            f"quote it ('{node.value}') or use a name",
        )
    return value
