"""Named registries that fill themselves from a package's modules and from Python entry points.

Built-in entries live one per module in a package (``ipt_bench.metrics.library``,
``ipt_bench.models.families``, ...): importing the module registers them, so adding one is adding a
file. Third-party packages register through the entry-point group named by the registry (e.g.
``ipt_bench.metrics``); an entry point may name a module (imported for its registrations) or an
object (registered as is, or each item of a list of them). Registries load lazily on first use,
in every process, so spawned and Ray workers see the same entries as the parent.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import pkgutil
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

from ipt_bench.core.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries by name. ``package`` holds the built-in modules, ``group`` is the entry-point group."""

    def __init__(self, what: str, *, package: str | None, group: str, list_command: str = "") -> None:
        self.what = what
        self.package = package
        self.group = group
        self.list_command = list_command
        self._entries: dict[str, T] = {}
        self._loaded = False
        self._lock = threading.RLock()

    def register(self, entry: T, *, name: str | None = None) -> T:
        """Add ``entry`` under ``name`` (default: its ``name`` attribute); returns it (decorator use)."""
        key = name or str(getattr(entry, "name"))  # noqa: B009 -- entries are any object with a name
        with self._lock:
            if key in self._entries and self._entries[key] is not entry:
                raise ConfigError(
                    f"two {self.what}s are registered as {key!r}", "rename one of them (names must be unique)"
                )
            self._entries[key] = entry
        return entry

    def get(self, name: str) -> T:
        """The entry ``name``; an unknown name raises ConfigError with close matches."""
        entries = self.entries()
        if name in entries:
            return entries[name]
        close = difflib.get_close_matches(name, list(entries), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        listing = (
            f"run `{self.list_command}` to list them" if self.list_command else f"known: {', '.join(entries)}"
        )
        raise ConfigError(f"unknown {self.what} {name!r}", hint + listing)

    def entries(self) -> dict[str, T]:
        """Every entry by name (built-ins first, in module order, then entry points)."""
        self._load()
        return dict(self._entries)

    def names(self) -> list[str]:
        """The registered names."""
        return list(self.entries())

    def __iter__(self) -> Iterator[T]:
        return iter(self.entries().values())

    def __contains__(self, name: object) -> bool:
        return name in self.entries()

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            self._loaded = True  # before importing: a module registering itself calls back in here
            if self.package is not None:
                package = importlib.import_module(self.package)
                # the package's FIRST modules load first (registry order), the others by name
                first = list(getattr(package, "FIRST", ()))
                found = sorted(info.name for info in pkgutil.iter_modules(package.__path__))
                for name in [*first, *(n for n in found if n not in first)]:
                    importlib.import_module(f"{self.package}.{name}")
            for entry_point in importlib.metadata.entry_points(group=self.group):
                self._add_plugin(entry_point)

    def _add_plugin(self, entry_point: importlib.metadata.EntryPoint) -> None:
        try:
            loaded = entry_point.load()
        except Exception as exc:
            raise ConfigError(
                f"the {self.what} plugin {entry_point.name!r} ({entry_point.value}) failed to load: "
                f"{type(exc).__name__}: {exc}",
                "fix or uninstall the package that declares it",
            ) from exc
        if hasattr(loaded, "__path__") or type(loaded).__name__ == "module":
            return  # a module: importing it registered its entries
        for item in loaded if isinstance(loaded, (list, tuple)) else [loaded]:
            self.register(item)
