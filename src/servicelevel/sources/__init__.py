"""Source adapters: one per input format, in one registry."""

from __future__ import annotations

from servicelevel.errors import UnknownNameError
from servicelevel.sources.base import (
    Carry,
    ParseResult,
    QuarantinedLine,
    SourceChunk,
    SourceFormat,
)

_FORMATS: dict[str, SourceFormat] = {}


def register_format(source_format: SourceFormat) -> SourceFormat:
    """Add a format to the registry (built-ins use this too)."""
    if source_format.name in _FORMATS:
        raise ValueError(f"format {source_format.name!r} is already registered")
    _FORMATS[source_format.name] = source_format
    return source_format


def get_format(name: str) -> SourceFormat:
    _load_builtins()
    try:
        return _FORMATS[name]
    except KeyError:
        raise UnknownNameError("input format", name, _FORMATS) from None


def formats() -> dict[str, SourceFormat]:
    _load_builtins()
    return dict(_FORMATS)


_BUILTINS_LOADED = False


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    import importlib

    for module in _BUILTIN_MODULES:
        importlib.import_module(f"servicelevel.sources.{module}")


# Each module calls register_format() on import.
_BUILTIN_MODULES: tuple[str, ...] = (
    "anonymous_bank",
    "servicenow_incidents",
    "mapped_csv",
    "asterisk_queue_log",
)

__all__ = [
    "Carry",
    "ParseResult",
    "QuarantinedLine",
    "SourceChunk",
    "SourceFormat",
    "formats",
    "get_format",
    "register_format",
]
