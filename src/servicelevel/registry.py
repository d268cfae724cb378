"""One small registry class for every kind of pluggable entry: metrics, input formats, …

Built-in entries live in modules that register themselves on import, exactly as an
extension would; the registry imports those modules the first time it is asked.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Generic, TypeVar

from servicelevel.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind by name."""

    def __init__(self, kind: str, builtin_modules: Sequence[str]) -> None:
        self.kind = kind  # for messages: "metric", "input format"
        self._builtin_modules = tuple(builtin_modules)
        self._entries: dict[str, T] = {}
        self._builtins_loaded = False

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        self._load_builtins()
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._entries) from None

    def all(self) -> dict[str, T]:
        self._load_builtins()
        return dict(self._entries)

    def _load_builtins(self) -> None:
        if self._builtins_loaded:
            return
        self._builtins_loaded = True
        for module in self._builtin_modules:
            importlib.import_module(module)
