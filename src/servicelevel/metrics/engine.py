"""Compute metrics per period and group over any Ibis backend.

The engine filters a canonical table to the scope asked (tenant, dates, business hours),
adds the period key, groups by it and the asked dimensions, and aggregates every
metric's components in one query per table. Values are computed from the components
afterwards, so roll-ups stay exact. Periods in range with no data are reported with no
value (never 0 % or 100 %). That work is done column by column on the query's result:
``compute_table`` returns it as one Arrow table, ``compute`` as ``KpiRow`` objects.

A metric with a ``prepare`` function gets its own query: ``prepare`` builds its rows from
any canonical tables, each with its period instant in ``period_at``, and those rows then
go through the same scope, period key and aggregate path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from servicelevel.errors import InputError
from servicelevel.metrics.periods import (
    BusinessHours,
    LocalTime,
    PeriodSpec,
    Window,
    calendar_filter,
    local_midnight,
    period_start,
    periods_between,
    utc_offset_transitions,
)
from servicelevel.metrics.registry import PERIOD_AT, Kind, Metric, get_metric

#: Dimensions a result can be grouped by, per canonical table: name -> column.
GROUPS: dict[str, str] = {
    "tenant": "tenant",
    "queue": "queue",
    "channel": "channel",
    "team": "team",
    "agent": "agent_id",
    "service_type": "service_type",
    "priority": "priority",
}

#: The timestamp that places a row of each table in a period.
PERIOD_COLUMN: dict[str, str] = {
    "contacts": "arrived_at",
    "surveys": "responded_at",
    "qa_reviews": "reviewed_at",
    "agent_states": "started_at",
    "forecasts": "interval_start",
    "schedules": "started_at",
    "costs": "period_start",
}


@dataclass(frozen=True)
class MetricRequest:
    """A metric and the parameters it is asked with."""

    metric: Metric
    params: Mapping[str, Any]

    @classmethod
    def of(cls, key: str, params: Mapping[str, Any] | None = None) -> MetricRequest:
        metric = get_metric(key)
        return cls(metric, metric.resolve(params))


@dataclass(frozen=True)
class KpiQuery:
    """What to compute: metrics, period kind, zone, groups and scope."""

    metrics: Sequence[MetricRequest]
    period: PeriodSpec
    tz: ZoneInfo
    by: Sequence[str] = ()
    start: date | None = None  # first local day included
    end: date | None = None  # last local day included
    tenant: str | None = None
    calendar: BusinessHours | None = None
    filters: Mapping[str, Sequence[Any]] = field(default_factory=dict)  # group name -> values


@dataclass(frozen=True)
class KpiRow:
    """One metric's value for one period and group."""

    period_start: datetime  # aware, in the query's zone
    group: tuple[tuple[str, Any], ...]
    metric: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"period_start": self.period_start.isoformat()}
        row.update(dict(self.group))
        row["metric"] = self.metric
        row["value"] = self.value
        if self.numerator is not None or self.denominator is not None:
            row["numerator"] = self.numerator
            row["denominator"] = self.denominator
        return row


#: Gives the Ibis table of a canonical table name on the chosen backend.
TableSource = Callable[[str], ir.Table]


def compute(tables: TableSource, query: KpiQuery) -> list[KpiRow]:
    """Every requested metric per period and group, in period, group, metric order."""
    found = _compute(tables, query)
    starts = found.starts
    groups = found.groups
    keys = found.keys
    return list(map(
        KpiRow,
        [starts[i] for i in found.period.tolist()],
        [groups[i] for i in found.group.tolist()],
        [keys[i] for i in found.metric.tolist()],
        _optional(found.value, found.value_ok),
        _optional(found.numerator, found.numerator_ok),
        _optional(found.denominator, found.denominator_ok),
    ))


def compute_table(tables: TableSource, query: KpiQuery) -> pa.Table:
    """``compute``'s rows as one Arrow table, for large results: no Python object a row.

    Columns as ``KpiRow.to_dict()``: ``period_start`` (a timestamp in the query's zone),
    one column per group dimension asked, ``metric``, ``value``, ``numerator`` and
    ``denominator`` (null where ``KpiRow`` has None), in the same order as ``compute``.
    """
    found = _compute(tables, query)
    micros = pa.array(found.instants[found.period], pa.int64())
    zone = getattr(query.tz, "key", None) or "UTC"
    columns: dict[str, pa.Array] = {
        "period_start": micros.cast(pa.timestamp("us", tz=zone)),
    }
    group_index = pa.array(found.group, pa.int64())
    for position, name in enumerate(query.by):
        values = _group_values([group[position][1] for group in found.groups])
        columns[name] = values.take(group_index)
    columns["metric"] = pa.array(found.keys, pa.string()).take(pa.array(found.metric, pa.int64()))
    columns["value"] = pa.array(found.value, mask=~found.value_ok)
    columns["numerator"] = pa.array(found.numerator, mask=~found.numerator_ok)
    columns["denominator"] = pa.array(found.denominator, mask=~found.denominator_ok)
    return pa.table(columns)


def _group_values(values: list[Any]) -> pa.Array:
    """A dimension's values as one Arrow array; as text when tables disagree on its type."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def _optional(values: npt.NDArray[np.float64], ok: npt.NDArray[np.bool_]) -> list[float | None]:
    """Python floats, None where not ``ok``."""
    result: list[float | None] = pa.array(values, mask=~ok).to_pylist()
    return result


Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class _Rows:
    """Result rows column by column; periods, groups and metric keys stored once each.

    Row ``i`` is the period ``starts[period[i]]`` (UTC microseconds ``instants[...]``),
    the group ``groups[group[i]]``, the metric ``keys[metric[i]]`` and its figures
    (``value[i]`` where ``value_ok[i]``, else None; likewise numerator and denominator).
    """

    starts: list[datetime]
    instants: Ints
    groups: list[tuple[tuple[str, Any], ...]]
    keys: list[str]
    period: Ints
    group: Ints
    metric: Ints
    value: Floats
    value_ok: Flags
    numerator: Floats
    numerator_ok: Flags
    denominator: Floats
    denominator_ok: Flags

    def take(self, order: Ints) -> _Rows:
        return _Rows(self.starts, self.instants, self.groups, self.keys, self.period[order],
                     self.group[order], self.metric[order], self.value[order],
                     self.value_ok[order], self.numerator[order], self.numerator_ok[order],
                     self.denominator[order], self.denominator_ok[order])

    def sorted(self, requests: Sequence[MetricRequest]) -> _Rows:
        """Period (by instant: the two 02:30 of an autumn night are equal as wall-clock
        times), group, metric as asked; a stable sort."""
        order = {request.metric.key: i for i, request in enumerate(requests)}
        sortables = [_sortable(group) for group in self.groups]
        ranks = {key: rank for rank, key in enumerate(sorted(set(sortables)))}
        group_rank = np.array([ranks[key] for key in sortables], np.int64)
        metric_rank = np.array([order[key] for key in self.keys], np.int64)
        return self.take(np.lexsort((metric_rank[self.metric], group_rank[self.group],
                                     self.instants[self.period])))

    @staticmethod
    def concatenate(chunks: Sequence[_Rows]) -> _Rows:
        periods, groups, metrics = [], [], []
        starts: list[datetime] = []
        every_group: list[tuple[tuple[str, Any], ...]] = []
        keys: list[str] = []
        for chunk in chunks:
            periods.append(chunk.period + len(starts))
            groups.append(chunk.group + len(every_group))
            metrics.append(chunk.metric + len(keys))
            starts += chunk.starts
            every_group += chunk.groups
            keys += chunk.keys
        return _Rows(
            starts, np.concatenate([c.instants for c in chunks]), every_group, keys,
            np.concatenate(periods), np.concatenate(groups), np.concatenate(metrics),
            *(np.concatenate([getattr(c, name) for c in chunks]) for name in (
                "value", "value_ok", "numerator", "numerator_ok", "denominator",
                "denominator_ok")),
        )


def _compute(tables: TableSource, query: KpiQuery) -> _Rows:
    """The one path of ``compute`` and ``compute_table``."""
    for name in query.by:
        if name not in GROUPS:
            raise InputError(
                f"--by: {name!r} is not a dimension; use any of {', '.join(GROUPS)}"
            )
    chunks: list[_Rows] = []  # each in period, group, metric order
    by_table: dict[str, list[MetricRequest]] = {}
    for request in query.metrics:
        if request.metric.prepare is None:
            by_table.setdefault(request.metric.table, []).append(request)
    for table_name, requests in by_table.items():
        chunks.append(_compute_table(tables(table_name), PERIOD_COLUMN[table_name], requests,
                                     query))
    window = Window(query.period, query.tz, query.start, query.end, query.tenant)
    for request in query.metrics:
        if request.metric.prepare is not None:
            prepared = request.metric.prepare(tables, window, request.params)
            chunks.append(_compute_table(prepared, PERIOD_AT, [request], query))
    if len(chunks) == 1:
        return chunks[0]
    rows = _Rows.concatenate(chunks) if chunks else _Rows.concatenate([_no_rows()])
    if sum(1 for chunk in chunks if len(chunk.period)) > 1:
        rows = rows.sorted(query.metrics)
    return rows


def _no_rows() -> _Rows:
    ints, floats, flags = (np.zeros(0, np.int64), np.zeros(0, np.float64),
                           np.zeros(0, np.bool_))
    return _Rows([], ints, [], [], ints, ints, ints, floats, flags, floats, flags, floats, flags)


def _sortable(group: tuple[tuple[str, Any], ...]) -> tuple[tuple[int, str], ...]:
    return tuple((0, "") if v is None else (1, str(v)) for _, v in group)


def _scope(t: ir.Table, period_column: str, query: KpiQuery
           ) -> tuple[ir.Table, datetime, datetime]:
    """Rows of the tenant and date range asked, and the UTC bounds to consider."""
    column = t[period_column]
    if query.tenant is not None:
        t = t.filter(t.tenant == query.tenant)
    for name, values in query.filters.items():
        t = t.filter(t[_group_column(t, name)].isin(list(values)))
    lower = local_midnight(query.start, query.tz) if query.start else None
    upper = local_midnight(query.end + timedelta(days=1), query.tz) if query.end else None
    if lower is not None:
        t = t.filter(column >= lower.astimezone(UTC))
    if upper is not None:
        t = t.filter(column < upper.astimezone(UTC))
    if lower is None or upper is None:
        bounds = t.aggregate(first=column.min(), last=column.max()).to_pyarrow().to_pylist()[0]
        if bounds["first"] is None:
            fallback = datetime.now(UTC)
            return t, lower or fallback, upper or fallback
        lower = lower or _aware(bounds["first"])
        upper = upper or _aware(bounds["last"]) + timedelta(microseconds=1)
    return t, lower, upper


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _group_column(t: ir.Table, name: str) -> str:
    column = GROUPS[name]
    if column not in t.columns:
        raise InputError(
            f"--by: these metrics cannot be grouped by {name!r}: their rows have no "
            f"{column!r} column; group them by one of "
            f"{', '.join(n for n, c in GROUPS.items() if c in t.columns)}"
        )
    return column


def _compute_table(
    t: ir.Table, period_column: str, requests: Sequence[MetricRequest], query: KpiQuery
) -> _Rows:
    t, lower, upper = _scope(t, period_column, query)
    transitions = utc_offset_transitions(query.tz, lower, upper)
    local = LocalTime.of(t[period_column], transitions)
    if query.calendar is not None:
        t = t.filter(calendar_filter(local, query.calendar))
    days = (lower.astimezone(query.tz).date(),
            (upper - timedelta(microseconds=1)).astimezone(query.tz).date())
    key, offset = local.period_keys(query.period, days)
    group_columns = {name: t[_group_column(t, name)] for name in query.by}
    grouped = t.group_by(_period_key=key, _period_offset=offset, **group_columns)
    aggregates: dict[str, ir.Scalar] = {}
    for index, request in enumerate(requests):
        for component, expression in request.metric.formula(t, request.params).items():
            aggregates[f"m{index}_{component}"] = expression
    result = grouped.aggregate(**aggregates).to_pyarrow()
    return _rows(result, requests, query, lower, upper)


#: The UNIX epoch, to express instants as whole microseconds.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _rows(result: pa.Table, requests: Sequence[MetricRequest], query: KpiQuery,
          lower: datetime, upper: datetime) -> _Rows:
    """Every period from ``lower`` to ``upper`` × every group found × every request, from
    the aggregate ``result`` (one record per period and group with data), column-wise.

    Each period's start is worked out once per distinct period key, not once per record.
    """
    n = result.num_rows
    # Figures of every record, one column per request, and a last record: no data.
    shape = (n + 1, len(requests))
    value, numerator, denominator = (np.zeros(shape, np.float64) for _ in range(3))
    value_ok, numerator_ok, denominator_ok = (np.zeros(shape, np.bool_) for _ in range(3))
    for index, request in enumerate(requests):
        figures = _figures(index, request.metric, result)
        for target, ok, (numbers, defined) in zip(
            (value, numerator, denominator), (value_ok, numerator_ok, denominator_ok),
            figures, strict=True,
        ):
            target[:, index] = numbers
            ok[:, index] = defined
    keys = [request.metric.key for request in requests]

    # Each record's period: its start once per distinct (key, offset), as a UTC instant.
    if n:
        pairs = np.stack([_integers(result.column("_period_key")),
                          _integers(result.column("_period_offset"))], axis=1)
        distinct, of_pair = np.unique(pairs, axis=0, return_inverse=True)
        utc_starts = [period_start(query.period, int(k), int(o), query.tz).astimezone(UTC)
                      for k, o in distinct.tolist()]
        record_instants = np.array([(s - _EPOCH) // _MICROSECOND for s in utc_starts],
                                   np.int64)[of_pair.reshape(-1)]
    else:
        utc_starts, record_instants = [], np.zeros(0, np.int64)

    # Each record's group, and every group found, sorted.
    groups, record_groups = _groups(result, query.by)
    ranked = sorted(range(len(groups)), key=lambda g: _sortable(groups[g]))
    rank = np.empty(len(groups), np.int64)
    rank[ranked] = np.arange(len(groups))
    every_group = [groups[g] for g in ranked] or [tuple((name, None) for name in query.by)]
    record_groups = rank[record_groups]

    # The grid: every period in range × every group, with the record of each if any.
    # Keyed by UTC instant: the two 02:30 of an autumn night are equal as local times.
    starts = periods_between(query.period, lower, upper - _MICROSECOND, query.tz)
    instants = np.array([(s - _EPOCH) // _MICROSECOND for s in starts], np.int64)
    at = np.minimum(np.searchsorted(instants, record_instants), max(len(starts) - 1, 0))
    listed = (instants[at] == record_instants) if len(starts) else np.zeros(n, np.bool_)
    record_of = np.full((len(starts), len(every_group)), n, np.int64)
    record_of[at[listed], record_groups[listed]] = np.flatnonzero(listed)
    width = len(every_group) * len(keys)
    period = np.repeat(np.arange(len(starts), dtype=np.int64), width)
    group = np.tile(np.repeat(np.arange(len(every_group), dtype=np.int64), len(keys)),
                    len(starts))
    metric = np.tile(np.arange(len(keys), dtype=np.int64), len(starts) * len(every_group))
    record = np.repeat(record_of.reshape(-1), len(keys))

    # Repeated autumn intervals that periods_between cannot enumerate still count.
    leftovers = np.flatnonzero(~listed)
    if len(leftovers):
        firsts: dict[int, int] = {}
        for i in leftovers.tolist():
            firsts.setdefault(int(record_instants[i]), i)
        of_instant = {instant: len(starts) + j for j, instant in enumerate(firsts)}
        starts = starts + [
            utc_starts[int(of_pair.reshape(-1)[i])].astimezone(query.tz) for i in firsts.values()
        ]
        instants = np.concatenate([instants, np.array(list(firsts), np.int64)])
        # One record per instant and group: the last, as a mapping from them would keep.
        last_of = {(int(record_instants[i]), int(record_groups[i])): i
                   for i in leftovers.tolist()}
        chosen = np.array(list(last_of.values()), np.int64)
        period = np.concatenate([period, np.repeat(np.array(
            [of_instant[instant] for instant, _ in last_of], np.int64), len(keys))])
        group = np.concatenate([group, np.repeat(record_groups[chosen], len(keys))])
        metric = np.concatenate([metric, np.tile(np.arange(len(keys), dtype=np.int64),
                                                 len(chosen))])
        record = np.concatenate([record, np.repeat(chosen, len(keys))])
    rows = _Rows(starts, instants, every_group, keys, period, group, metric,
                 value[record, metric], value_ok[record, metric],
                 numerator[record, metric], numerator_ok[record, metric],
                 denominator[record, metric], denominator_ok[record, metric])
    if len(leftovers):
        rows = rows.sorted(requests)
    return rows


def _integers(column: pa.ChunkedArray) -> Ints:
    return np.asarray(column.cast(pa.int64()).to_numpy(), np.int64)


def _groups(result: pa.Table, by: Sequence[str]
            ) -> tuple[list[tuple[tuple[str, Any], ...]], Ints]:
    """The distinct groups of ``result``'s records, and each record's among them."""
    if not by:
        return ([()] if result.num_rows else []), np.zeros(result.num_rows, np.int64)
    codes, dictionaries = [], []
    for name in by:
        column = result.column(name).combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        encoded = column.dictionary_encode()
        dictionary = encoded.dictionary.to_pylist()
        codes.append(encoded.indices.fill_null(len(dictionary)).to_numpy(zero_copy_only=False))
        dictionaries.append([*dictionary, None])
    distinct, of_record = np.unique(np.stack(codes, axis=1).astype(np.int64), axis=0,
                                    return_inverse=True)
    groups = [tuple((name, values[code]) for name, values, code
                    in zip(by, dictionaries, row, strict=True)) for row in distinct.tolist()]
    return groups, np.asarray(of_record, np.int64).reshape(-1)


#: A request's figure columns: (numbers, defined) for value, numerator and denominator,
#: one entry per result record and a last one for a period and group with no rows.
Figures = tuple[tuple[Floats, Flags], tuple[Floats, Flags], tuple[Floats, Flags]]


def _figures(index: int, metric: Metric, result: pa.Table) -> Figures:
    """The figures of every result record for the ``index``-th request, as
    ``Metric.value`` gives them, column by column."""
    parts = {component: _numbers(result.column(f"m{index}_{component}"))
             for component in metric.components}
    none = np.zeros(result.num_rows + 1, np.bool_)
    zeros = np.zeros(result.num_rows + 1, np.float64)
    if metric.kind is Kind.RATIO:
        (num, num_ok), (den, den_ok) = parts["numerator"], parts["denominator"]
        defined = num_ok & den_ok & (den != 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(defined, metric.scale * num / np.where(defined, den, 1.0), 0.0)
        # ``or 0.0``: no rows, None or a zero give 0.0.
        kept = num_ok & (num != 0)
        numerator = np.where(kept, num, 0.0)
        denominator = np.where(den_ok & (den != 0), den, 0.0)
        ones = np.ones(result.num_rows + 1, np.bool_)
        return (value, defined), (numerator, ones), (denominator, ones)
    value, defined = parts["value"]
    if metric.kind in (Kind.COUNT, Kind.SNAPSHOT):
        value, defined = value.copy(), defined.copy()
        value[-1], defined[-1] = 0.0, True  # no rows: nothing counted
    return (value, defined), (zeros, none), (zeros, none)


def _numbers(column: pa.ChunkedArray) -> tuple[Floats, Flags]:
    """A component as floats (``float()`` of each) and where it is not null, with a last
    undefined entry (a period and group with no rows)."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        defined = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), np.bool_)
        numbers = np.asarray(column.fill_null(0).to_numpy(), np.float64)
    else:  # decimals and the like: Python's float() rounds them correctly
        items = column.to_pylist()
        defined = np.array([v is not None for v in items], np.bool_)
        numbers = np.array([0.0 if v is None else float(v) for v in items], np.float64)
    return np.append(numbers, 0.0), np.append(defined, False)
