"""The embedded store: one DuckDB file holding the canonical tables and the ingest books.

Canonical tables are created from their Arrow schemas (``servicelevel.model.tables``),
so the schema is written once. Next to them the store keeps its own books:

- ``ingest_ledger``: one row per read of a file: which bytes were read (offset, line,
  content hash) and what they gave. Re-reading the same bytes adds nothing.
- ``ingest_quarantine``: lines that could not be loaded, with file, line and reason.
- ``ingest_carry``: per tenant and format, the adapter's state between reads (calls still
  open at the end of a log).

Rows are upserted by each table's key; every load runs in one transaction.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from servicelevel.errors import StoreError
from servicelevel.model.tables import CANONICAL_TABLES, CanonicalTable

_BOOKS_DDL = """
CREATE TABLE IF NOT EXISTS ingest_ledger (
    load_id       VARCHAR NOT NULL,
    tenant        VARCHAR NOT NULL,
    format        VARCHAR NOT NULL,
    path          VARCHAR NOT NULL,
    offset_start  BIGINT NOT NULL,
    offset_end    BIGINT NOT NULL,
    line_end      BIGINT NOT NULL,
    head_sha256   VARCHAR NOT NULL,
    prefix_sha256 VARCHAR NOT NULL,
    tz            VARCHAR,
    rows_read     BIGINT NOT NULL,
    contacts      BIGINT NOT NULL,
    quarantined   BIGINT NOT NULL,
    excluded      BIGINT NOT NULL,
    read_at       TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS ingest_quarantine (
    load_id  VARCHAR NOT NULL,
    tenant   VARCHAR NOT NULL,
    format   VARCHAR NOT NULL,
    path     VARCHAR NOT NULL,
    line     BIGINT NOT NULL,
    field    VARCHAR,
    reason   VARCHAR NOT NULL,
    text     VARCHAR NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS ingest_carry (
    tenant  VARCHAR NOT NULL,
    format  VARCHAR NOT NULL,
    carry   VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant, format)
);
"""


@dataclass(frozen=True)
class UpsertCounts:
    """What writing a batch did: new keys, changed rows replaced, identical rows skipped."""

    inserted: int
    updated: int
    unchanged: int


def _column_types(table: CanonicalTable) -> dict[str, str]:
    """DuckDB's own spelling of each column's type, from the Arrow schema."""
    relation = duckdb.from_arrow(table.empty())
    return {name: str(type_) for name, type_ in zip(relation.columns, relation.types, strict=True)}


def _create_table_sql(table: CanonicalTable) -> str:
    types = _column_types(table)
    columns = ",\n    ".join(
        f'"{field.name}" {types[field.name]}{"" if field.nullable else " NOT NULL"}'
        for field in table.schema
    )
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" (\n    {columns}\n)'


def _scope(batch: pa.Table) -> tuple[tuple[Any, ...], ...]:
    """The batch's distinct (tenant, source) pairs (tenants, for tables without a source).

    A constant column is told by its minimum and maximum, without hashing its values.
    """
    names = [c for c in ("tenant", "source") if c in batch.column_names]
    bounds = [pc.min_max(batch.column(name)).as_py() for name in names]
    if all(b["min"] == b["max"] for b in bounds):
        return ((*(b["min"] for b in bounds),),)
    pairs = batch.group_by(names).aggregate([]).sort_by([(n, "ascending") for n in names])
    return tuple(zip(*(pairs.column(n).to_pylist() for n in names), strict=True))


@dataclass
class _TableLog:
    fresh: bool | None = None  # the store held no rows of the scope before the load
    hashes: npt.NDArray[np.uint64] = field(
        default_factory=lambda: np.empty(0, dtype=np.uint64))  # sorted

    def may_hold(self, hashes: npt.NDArray[np.uint64]) -> bool:
        """Whether a key of these hashes may have been written by the load."""
        if not len(self.hashes):
            return False
        at = np.searchsorted(self.hashes, hashes).clip(max=len(self.hashes) - 1)
        return bool(np.any(self.hashes[at] == hashes))

    def add(self, hashes: npt.NDArray[np.uint64]) -> None:
        """Note these (sorted) hashes; two sorted runs merge in linear time."""
        merged = np.concatenate([self.hashes, hashes])
        merged.sort(kind="stable")
        self.hashes = merged


@dataclass
class AppendLog:
    """What one load wrote, per table and scope (tenant and source), by key hash.

    It lets the batches of one load append without looking the store up again: a batch
    goes through the full merge only when the store held rows of its scope before the
    load, or when a key hash of it was already written by the load.
    """

    tables: dict[tuple[str, tuple[tuple[Any, ...], ...]], _TableLog] = field(
        default_factory=dict)

    def table(self, name: str, scope: tuple[tuple[Any, ...], ...]) -> _TableLog:
        return self.tables.setdefault((name, scope), _TableLog())


class Store:
    """A DuckDB file with the canonical tables. Open with ``Store.open(path)``."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: str) -> None:
        self.connection = connection
        self.path = path
        self._in_transaction = False

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False) -> Store:
        """Open (and create if needed) the store at ``path``; ``:memory:`` for tests."""
        location = str(path)
        if read_only and location != ":memory:" and not Path(location).exists():
            raise StoreError(
                f"{location}: no store here; load data first with 'slm ingest' or 'slm demo', "
                "or point --db / SLM_DB at an existing store"
            )
        try:
            connection = duckdb.connect(location, read_only=read_only)
        except duckdb.Error as error:
            raise StoreError(f"{location}: cannot open the store: {error}") from None
        connection.execute("SET TimeZone = 'UTC'")
        store = cls(connection, location)
        if not read_only:
            store._create_schema()
        return store

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _create_schema(self) -> None:
        for table in CANONICAL_TABLES.values():
            self.connection.execute(_create_table_sql(table))
        self.connection.execute(_BOOKS_DDL)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all."""
        if self._in_transaction:
            raise StoreError("transactions do not nest")
        self.connection.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        else:
            self.connection.execute("COMMIT")
        finally:
            self._in_transaction = False

    def upsert(self, table_name: str, rows: pa.Table,
               appended: AppendLog | None = None) -> UpsertCounts:
        """Write ``rows`` into a canonical table, replacing rows with the same key.

        ``appended``: the load's record of what it appended. When the store held no rows
        of the batch's tenant and source before the load, every batch of the load whose
        keys the load has not written yet is a plain append (pieces of one large read).
        """
        table = CANONICAL_TABLES[table_name]
        batch = table.conform(rows)
        if batch.num_rows == 0:
            return UpsertCounts(0, 0, 0)
        con = self.connection
        con.register("_batch_arrow", batch)
        try:
            scope = _scope(batch)
            # Within one scope the key columns that name it are constant: hash the rest.
            hashed = [k for k in table.key if k not in ("tenant", "source")] \
                if len(scope) == 1 else list(table.key)
            hashes = self._checked_key_hashes(table, hashed)
            log = appended.table(table_name, scope) if appended and len(scope) == 1 else None
            if log is not None and log.fresh is None:
                log.fresh = not self._holds_rows_like(table_name, scope)
            fresh = log.fresh if log is not None else not self._holds_rows_like(
                table_name, scope)
            if fresh and (log is None or not log.may_hold(hashes)):
                # Nothing of these keys yet: a plain append, the common first load.
                con.execute(f'INSERT INTO "{table_name}" SELECT * FROM _batch_arrow')
                present = same = 0
            else:
                present, same = self._merge(table)
            if log is not None and fresh:  # later batches append only on a fresh scope
                log.add(hashes)
        finally:
            con.unregister("_batch_arrow")
        return UpsertCounts(
            inserted=batch.num_rows - present, updated=present - same, unchanged=same
        )

    def _checked_key_hashes(
        self, table: CanonicalTable, hashed: list[str]
    ) -> npt.NDArray[np.uint64]:
        """The sorted 64-bit hashes of the ``hashed`` key columns of the batch (registered
        as ``_batch_arrow``); a batch that holds a key twice is refused.

        Only keys whose hash repeats are compared exactly, so the common case (no
        repeat) never groups the key strings.
        """
        columns = ", ".join(f'"{k}"' for k in hashed)
        hashes = self.connection.execute(
            f"SELECT hash({columns}) AS h FROM _batch_arrow").fetchnumpy()["h"]
        ordered = np.sort(np.asarray(hashes, dtype=np.uint64))
        repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        if repeated.size == 0:
            return ordered
        keys = ", ".join(f'"{k}"' for k in table.key)
        duplicates = self.connection.execute(
            f"SELECT {keys}, count(*) FROM _batch_arrow "
            f"WHERE hash({columns}) IN (SELECT unnest(?::UBIGINT[])) "
            "GROUP BY ALL HAVING count(*) > 1 LIMIT 1",
            [[int(h) for h in repeated]],
        ).fetchall()
        if duplicates:
            duplicate = duplicates[0]
            raise StoreError(
                f"{table.name}: the batch holds the key {duplicate[:-1]} "
                f"{duplicate[-1]} times; an adapter must emit each key once"
            )
        return ordered

    def _merge(self, table: CanonicalTable) -> tuple[int, int]:
        """Replace changed rows and add new ones; (keys present, rows identical)."""
        con = self.connection
        name = table.name
        key_match = " AND ".join(f'b."{k}" = t."{k}"' for k in table.key)
        same_values = " AND ".join(
            f'b."{f.name}" IS NOT DISTINCT FROM t."{f.name}"' for f in table.schema
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _batch AS "
            f"SELECT b.*, EXISTS (SELECT 1 FROM \"{name}\" t WHERE {key_match}) "
            f"AS _present, EXISTS (SELECT 1 FROM \"{name}\" t WHERE {key_match} "
            f"AND {same_values}) AS _same FROM _batch_arrow b"
        )
        present, same = con.execute(
            "SELECT count(*) FILTER (_present), count(*) FILTER (_same) FROM _batch"
        ).fetchone() or (0, 0)
        if present:
            con.execute(
                f'DELETE FROM "{name}" t USING _batch b '
                f"WHERE {key_match} AND b._present AND NOT b._same"
            )
        columns = ", ".join(f'"{f.name}"' for f in table.schema)
        con.execute(
            f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM _batch WHERE NOT _same'
        )
        con.execute("DROP TABLE _batch")
        return int(present), int(same)

    def _holds_rows_like(self, table_name: str, pairs: tuple[tuple[Any, ...], ...]) -> bool:
        """Whether the table already has rows of these tenants (and sources)."""
        table = CANONICAL_TABLES[table_name]
        scope = [c for c in ("tenant", "source") if c in table.schema.names]
        for pair in pairs:
            where = " AND ".join(f'"{c}" = ?' for c in scope)
            found = self.connection.execute(
                f'SELECT 1 FROM "{table_name}" WHERE {where} LIMIT 1', list(pair)
            ).fetchone()
            if found is not None:
                return True
        return False

    def table(self, table_name: str) -> pa.Table:
        """A canonical table's rows, in key order (for tests and small exports)."""
        table = CANONICAL_TABLES[table_name]
        order = ", ".join(f'"{k}"' for k in table.key)
        return self.connection.sql(
            f'SELECT * FROM "{table_name}" ORDER BY {order}'
        ).to_arrow_table()

    def count(self, table_name: str) -> int:
        row = self.connection.execute(f'SELECT count(*) FROM "{table_name}"').fetchone()
        return int(row[0]) if row else 0

    # -- the ingest books --------------------------------------------------------------

    def carry(self, tenant: str, format_name: str) -> dict[str, Any] | None:
        row = self.connection.execute(
            "SELECT carry FROM ingest_carry WHERE tenant = ? AND format = ?",
            [tenant, format_name],
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def save_carry(self, tenant: str, format_name: str, carry: dict[str, Any] | None) -> None:
        self.connection.execute(
            "DELETE FROM ingest_carry WHERE tenant = ? AND format = ?", [tenant, format_name]
        )
        if carry:
            self.connection.execute(
                "INSERT INTO ingest_carry (tenant, format, carry) VALUES (?, ?, ?)",
                [tenant, format_name, json.dumps(carry, separators=(",", ":"))],
            )
