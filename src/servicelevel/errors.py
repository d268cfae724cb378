"""The exception tree of servicelevel.

ServiceLevelError            every error servicelevel raises on purpose
├── InputError               bad input the user can fix (a file, an option, a value)
│   ├── SourceFormatError    a file is not what its format says (names file, line, field)
│   └── ContractError        an SLA contract is invalid (all problems at once)
├── StoreError               the store cannot be opened or written
└── UnknownNameError         an unknown metric, format or model name (suggests the nearest)

Messages name the file, line, field and value, and say what to write instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ServiceLevelError(Exception):
    """Base of every error servicelevel raises on purpose."""


class InputError(ServiceLevelError):
    """Input the user can fix."""


class SourceFormatError(InputError):
    """A file is not what its format says."""

    def __init__(self, path: str, message: str, *, line: int | None = None,
                 field: str | None = None) -> None:
        where = path if line is None else f"{path}:{line}"
        what = f"{field}: " if field else ""
        super().__init__(f"{where}: {what}{message}")
        self.path = path
        self.line = line
        self.field = field


class ContractError(InputError):
    """An SLA contract is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class StoreError(ServiceLevelError):
    """The store cannot be opened or written."""


class UnknownNameError(ServiceLevelError, KeyError):
    """An unknown name was asked of a registry."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known_names = sorted(known)
        close = difflib.get_close_matches(name, known_names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        message = f"unknown {kind} {name!r}{hint} (known: {', '.join(known_names)})"
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.message = message

    def __str__(self) -> str:
        return self.message
