"""Options shared by several commands, and value parsers used across the CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from servicelevel.model.time import parse_duration

DEFAULT_DB = "servicelevel.duckdb"


def db_path(value: Path | None) -> Path:
    """The store file: ``--db``, else ``$SLM_DB``, else ``./servicelevel.duckdb``."""
    if value is not None:
        return value
    return Path(os.environ.get("SLM_DB", DEFAULT_DB))


DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="DuckDB store file [default: $SLM_DB or ./servicelevel.duckdb]."),
]
TenantOption = Annotated[
    str | None, typer.Option("--tenant", help="Client account (tenant) name.")
]
TzOption = Annotated[
    str | None, typer.Option("--tz", help="IANA time zone, e.g. Europe/Paris.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

__all__ = ["DbOption", "JsonOption", "TenantOption", "TzOption", "db_path", "parse_duration"]
