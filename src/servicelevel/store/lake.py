"""The canonical tables as a Parquet lake, for engines that outgrow one file.

Layout, one folder per canonical table, Hive-style partitions::

    LAKE/contacts/tenant=acme/date=2024-03-01/data_0.parquet
    LAKE/agents/tenant=acme/data_0.parquet        (no timestamp: by tenant only)
    LAKE/_servicelevel_lake                       (marks the folder as a lake)

``date`` is the UTC date of the timestamp that places a row in a period (a contact's
arrival, a survey's response, …). Partition values are read back as text, so a tenant
named ``007`` stays ``007``. Readers return exactly the canonical columns, in order.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from servicelevel.errors import StoreError
from servicelevel.metrics.engine import PERIOD_COLUMN
from servicelevel.model.tables import CANONICAL_TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

MARKER = "_servicelevel_lake"
DATE_PARTITION = "date"


@dataclass(frozen=True)
class ExportedTable:
    """What the export wrote for one table."""

    table: str
    rows: int
    files: int


def partition_columns(table: str) -> tuple[str, ...]:
    return ("tenant", DATE_PARTITION) if table in PERIOD_COLUMN else ("tenant",)


def export_lake(db: Path, to: Path) -> list[ExportedTable]:
    """Write every canonical table of the store ``db`` as Parquet under ``to``.

    ``to`` must be empty, absent, or a lake written before (its tables are replaced).
    Each table is written beside its final place and then moved in, so a failed export
    never leaves a half-written table behind.
    """
    from servicelevel.store.catalog import Store

    if to.exists() and any(to.iterdir()) and not (to / MARKER).exists():
        raise StoreError(f"--to {to}: the folder holds other files; name an empty folder "
                         "or a lake written by 'slm export-lake'")
    to.mkdir(parents=True, exist_ok=True)
    (to / MARKER).write_text("servicelevel Parquet lake, partitioned by tenant and date\n",
                             encoding="utf-8")
    written = []
    with Store.open(db, read_only=True) as store:
        for name in CANONICAL_TABLES:
            rows = store.count(name)
            final = to / name
            staging = to / f".{name}.writing"
            shutil.rmtree(staging, ignore_errors=True)
            if rows:
                extra = (f', CAST("{PERIOD_COLUMN[name]}" AS DATE) AS "{DATE_PARTITION}"'
                         if name in PERIOD_COLUMN else "")
                partitions = ", ".join(f'"{c}"' for c in partition_columns(name))
                store.connection.execute(
                    f'COPY (SELECT *{extra} FROM "{name}") TO {_literal(staging)} '
                    f"(FORMAT parquet, PARTITION_BY ({partitions}))"
                )
            else:
                staging.mkdir()
            shutil.rmtree(final, ignore_errors=True)
            staging.rename(final)
            written.append(ExportedTable(name, rows, len(list(final.rglob("*.parquet")))))
    return written


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _files(lake: Path, table: str) -> bool:
    if not (lake / MARKER).exists():
        raise StoreError(f"{lake}: not a lake (no {MARKER} file); write one with "
                         "'slm export-lake --db STORE --to DIR'")
    folder = lake / table
    return folder.is_dir() and next(folder.rglob("*.parquet"), None) is not None


def duckdb_lake_sql(lake: Path, table: str) -> str | None:
    """A DuckDB query giving ``table`` of the lake with its canonical columns; None if empty."""
    schema = CANONICAL_TABLES[table].schema
    if not _files(lake, table):
        return None
    pattern = _literal(lake / table / "**" / "*.parquet")
    names = ", ".join(f'"{name}"' for name in schema.names)
    return (f"SELECT {names} FROM read_parquet({pattern}, hive_partitioning = true, "
            f"hive_types_autocast = false)")


def spark_lake_frame(session: SparkSession, lake: Path, table: str) -> DataFrame:
    """``table`` of the lake as a Spark DataFrame with its canonical columns."""
    canonical = CANONICAL_TABLES[table]
    if not _files(lake, table):
        return session.createDataFrame(canonical.empty())
    folder = str((lake / table).resolve())
    frame = session.read.option("basePath", folder).parquet(folder)
    return frame.select(*canonical.schema.names)
