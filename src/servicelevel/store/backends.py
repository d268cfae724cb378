"""Where the metric engine reads the canonical tables: the DuckDB store by default."""

from __future__ import annotations

from pathlib import Path

import ibis

from servicelevel.errors import InputError
from servicelevel.metrics.engine import TableSource
from servicelevel.store.catalog import Store

ENGINES = ("duckdb",)


def open_tables(engine: str, db: Path) -> TableSource:
    """A function giving each canonical table as an Ibis table on ``engine``."""
    if engine not in ENGINES:
        raise InputError(f"--engine: {engine!r} is not available; use one of {', '.join(ENGINES)}")
    store = Store.open(db, read_only=True)
    connection = ibis.duckdb.from_connection(store.connection)
    table_source: TableSource = connection.table
    return table_source
