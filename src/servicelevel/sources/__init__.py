"""Source adapters: one per input format, in one registry."""

from __future__ import annotations

from servicelevel.registry import Registry
from servicelevel.sources.base import (
    Carry,
    ParseResult,
    QuarantinedLine,
    SourceChunk,
    SourceFormat,
)

# Each built-in module calls register_format() on import.
_FORMATS: Registry[SourceFormat] = Registry(
    "input format",
    [f"servicelevel.sources.{module}"
     for module in ("anonymous_bank", "servicenow_incidents", "mapped_csv", "asterisk_queue_log")],
)


def register_format(source_format: SourceFormat) -> SourceFormat:
    """Add a format to the registry (built-ins use this too)."""
    return _FORMATS.add(source_format.name, source_format)


def get_format(name: str) -> SourceFormat:
    return _FORMATS.get(name)


def formats() -> dict[str, SourceFormat]:
    return _FORMATS.all()


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
