"""Read a suite file: resolve ``extends``/``includes``, validate, and name file:line on any error."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ipt_bench.core.errors import ConfigError
from ipt_bench.suite.schema import UNTRAINED_VARIANTS, Suite
from ipt_bench.suite.yaml_lines import Location, load_lined_yaml

Origin = tuple[Path, int]
_BASE_KEYS = ("extends", "includes")


def load_suite(path: str | Path, *, check_names: bool = True) -> Suite:
    """Load and validate a suite file, with its bases merged in (the file's own keys win).

    ``check_names`` also checks variant and dataset names against the registry and the catalog
    (which imports torch and timm); without it only the file's own structure is validated.
    """
    suite, origins = load_suite_with_origins(path)
    if check_names:
        check_suite_names(suite, path, origins)
    return suite


def load_suite_with_origins(path: str | Path) -> tuple[Suite, dict[Location, Origin]]:
    """The validated suite and where each of its keys came from (file and line), read once, for
    a later :func:`check_suite_names` without parsing the YAML again."""
    path = Path(path)
    data, origins = _merged(path.resolve(), stack=())
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origins, path), _FIX) from None
    return suite, origins


def check_suite_names(suite: Suite, path: str | Path, origins: dict[Location, Origin] | None = None) -> None:
    """Check the suite's variant and dataset names; errors point at ``path``'s lines (``origins``
    from :func:`load_suite_with_origins`, or read again from ``path``)."""
    path = Path(path)
    if origins is None:
        _, origins = _merged(path.resolve(), stack=())
    _check_variants(suite, origins, path)
    _check_datasets(suite, origins, path)


_FIX = "edit the suite file at the line shown (see suites/quickstart.yaml for a complete example)"


def _merged(path: Path, stack: tuple[Path, ...]) -> tuple[dict, dict[Location, Origin]]:
    if path in stack:
        chain = " -> ".join(p.name for p in (*stack, path))
        raise ConfigError(
            f"suite {stack[0]} extends itself through {chain}", "remove the cyclic extends/includes"
        )
    doc = load_lined_yaml(path)
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{path}:1: a suite file must be a mapping of keys", "start with 'name: ...'")
    data: dict = {}
    origins: dict[Location, Origin] = {}
    for base in _bases(doc.data, path, doc.line_of):
        base_data, base_origins = _merged(base, (*stack, path))
        data = _deep_merge(data, base_data)
        origins.update(base_origins)
    # ``x-...`` keys hold YAML anchors for ``<<: *name`` merges and are not part of the suite
    own = {k: v for k, v in doc.data.items() if k not in _BASE_KEYS and not k.startswith("x-")}
    data = _deep_merge(data, own)
    origins.update({loc: (path, line) for loc, line in doc.lines.items()})
    return data, origins


def _bases(data: dict, path: Path, line_of: Callable[[Location], int | None]) -> list[Path]:
    names: list[Any] = []
    for key in _BASE_KEYS:
        value = data.get(key)
        names.extend(value if isinstance(value, list) else [] if value is None else [value])
    bases = []
    for name in names:
        if not isinstance(name, str):
            raise ConfigError(
                f"{path}:{line_of(('extends',))}: extends/includes take file names", "e.g. extends: base.yaml"
            )
        base = (path.parent / name).resolve()
        if not base.is_file():
            line = line_of(("extends",)) or line_of(("includes",))
            raise ConfigError(
                f"{path}:{line}: base suite {name} not found at {base}",
                "give a path relative to the suite file",
            )
        bases.append(base)
    return bases


def _deep_merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _where(origins: dict[Location, Origin], loc: Iterable[Any], fallback: Path) -> str:
    loc = tuple(loc)
    for end in range(len(loc), -1, -1):
        origin = origins.get(loc[:end])
        if origin is not None:
            return f"{origin[0]}:{origin[1]}"
    return str(fallback)


def _describe(exc: ValidationError, origins: dict[Location, Origin], path: Path) -> str:
    parts = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        field = ".".join(str(p) for p in loc) or "(top level)"
        got = "" if err["type"] == "missing" else f" (got {err.get('input')!r})"
        parts.append(f"{_where(origins, loc, path)}: {field}: {err['msg']}{got}")
    return f"invalid suite {path.name}: " + "; ".join(parts)


def _check_variants(suite: Suite, origins: dict[Location, Origin], path: Path) -> None:
    for i, entry in enumerate(suite.variants):
        if entry.registry_name in UNTRAINED_VARIANTS:
            continue
        from ipt_bench.models.registry import get_variant

        where = _where(origins, ("variants", i), path)
        try:
            spec = get_variant(entry.registry_name)
            if entry.overrides:
                spec.with_overrides(**entry.overrides)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc.problem}", exc.fix) from None
        if entry.size is not None:
            raise ConfigError(
                f"{where}: variant {entry.name}: a size override cannot be passed to the training runner",
                "use the registry variant of that size instead (see `ipt-bench variants`)",
            )
        pretrain_only = ("contrastive_weight", "pretrain_noise_levels", "data_fraction")
        unused = [f for f in pretrain_only if getattr(entry, f) is not None]
        if unused and not spec.pretrain:
            raise ConfigError(
                f"{where}: variant {entry.name} is not pre-trained: {', '.join(unused)} would have no effect",
                "drop those keys or use a pre-trained variant",
            )


def _check_datasets(suite: Suite, origins: dict[Location, Origin], path: Path) -> None:
    from ipt_bench.core.errors import DatasetError
    from ipt_bench.data.catalog import get_spec, list_datasets

    for kind in ("sr", "denoise", "derain"):
        block = getattr(suite.tasks, kind)
        for i, name in enumerate(block.datasets if block else ()):
            if "/" in name:  # a folder of images given by path is resolved at evaluation time
                continue
            try:
                get_spec(name)
            except DatasetError:
                known = [spec.name for spec in list_datasets()]
                close = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
                hint = f"did you mean {' or '.join(close)}? " if close else ""
                raise ConfigError(
                    f"{_where(origins, ('tasks', kind, 'datasets', i), path)}: unknown dataset {name!r}",
                    f"{hint}known datasets: {', '.join(known)}",
                ) from None
