"""Building small canonical tables in a real in-memory store, and computing metrics on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import pyarrow as pa

from servicelevel.metrics import KpiQuery, KpiRow, MetricRequest, PeriodSpec, compute
from servicelevel.metrics.engine import TableSource
from servicelevel.model.tables import CANONICAL_TABLES
from servicelevel.store import Store

TENANT = "acme"
SOURCE = "test"


def at(text: str) -> datetime:
    """A UTC instant written 'YYYY-MM-DD HH:MM[:SS]'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def later(start: datetime | None, seconds: float | None) -> datetime | None:
    if start is None or seconds is None:
        return None
    return start + timedelta(seconds=seconds)


def contact(contact_id: str, arrived: str, outcome: str = "answered", wait: float | None = 0.0,
            **columns: Any) -> dict[str, Any]:
    """A contacts row; ``answered_at`` defaults to arrival + wait for answered contacts."""
    arrived_at = at(arrived)
    row: dict[str, Any] = {
        "tenant": TENANT, "source": SOURCE, "contact_id": contact_id, "queue": "q1",
        "channel": "voice", "arrived_at": arrived_at, "outcome": outcome, "wait_s": wait,
    }
    if outcome == "answered":
        row["answered_at"] = later(arrived_at, wait)
    row.update(columns)
    return row


def row(table: str, **columns: Any) -> dict[str, Any]:
    """A row of any canonical table, with the test tenant (and source) filled in."""
    names = CANONICAL_TABLES[table].schema.names
    base: dict[str, Any] = {"tenant": TENANT}
    if "source" in names:
        base["source"] = SOURCE
    base.update(columns)
    return base


def add(store: Store, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Upsert rows (dicts; missing columns are null) into a canonical table."""
    canonical = CANONICAL_TABLES[name]
    columns = {f.name: [r.get(f.name) for r in rows] for f in canonical.schema}
    store.upsert(name, pa.table(columns, schema=canonical.schema))


def source_of(store: Store) -> TableSource:
    source: TableSource = ibis.duckdb.from_connection(store.connection).table
    return source


def store_with(**tables: Sequence[Mapping[str, Any]]) -> TableSource:
    """A fresh in-memory store holding these rows; its tables as the engine reads them."""
    store = Store.open(":memory:")
    for name, rows in tables.items():
        add(store, name, rows)
    return source_of(store)


def kpi(source: TableSource, metric: str, params: Mapping[str, Any] | None = None, *,
        period: str = "month", tz: str = "UTC", by: Sequence[str] = (),
        start: date | None = None, end: date | None = None) -> list[KpiRow]:
    query = KpiQuery(
        metrics=[MetricRequest.of(metric, params)], period=PeriodSpec.parse(period),
        tz=ZoneInfo(tz), by=by, start=start, end=end,
    )
    return compute(source, query)


def value(source: TableSource, metric: str, params: Mapping[str, Any] | None = None,
          **query: Any) -> float | None:
    """The metric's single value over everything (one period, no groups)."""
    rows = kpi(source, metric, params, **query)
    assert len(rows) == 1, [r.to_dict() for r in rows]
    return rows[0].value


def values(source: TableSource, metric: str, params: Mapping[str, Any] | None = None,
           **query: Any) -> dict[str, float | None]:
    """Value per period, keyed by the period's local ISO start."""
    return {r.period_start.isoformat(): r.value for r in kpi(source, metric, params, **query)}
