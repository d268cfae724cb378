"""Time helpers: durations as written by people, time zones, periods cut in local time."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from servicelevel.errors import InputError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0,
                 "w": 604800.0}


def parse_duration(text: str | float | int, *, option: str = "duration") -> float:
    """Seconds in a duration written like ``30m``, ``1800s``, ``1h`` or ``20`` (seconds)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    match = _DURATION.match(str(text))
    if not match:
        raise InputError(
            f"{option}: {text!r} is not a duration; write a number with a unit, like "
            "'20s', '30m', '1h' or '14d'"
        )
    number, unit = match.groups()
    return float(number) * _UNIT_SECONDS[unit or "s"]


def zone(name: str, *, option: str = "time zone") -> ZoneInfo:
    """The IANA zone ``name``, or an error that says how to write one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"{option}: {name!r} is not an IANA time zone; write one like 'UTC', "
            "'Europe/Paris' or 'America/New_York'"
        ) from None
