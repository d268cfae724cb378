"""One suite, every engine: each registered metric on DuckDB and on a local Spark session.

The same generated rows (every canonical table, schema-driven, fixed seed) go into one
DuckDB store file; both engines read that file. Every metric in the registry is computed
with its defaults and with each non-default choice of its parameters, over several
queries (interval, day, week and month periods; UTC and zones with daylight saving;
groups; date ranges; a tenant; business hours), and the two engines' rows must agree:
same periods, groups and metrics, values, numerators and denominators within 1e-9.

A metric that cannot run on Spark goes in ``SPARK_GAPS`` with the reason; its test is a
strict xfail, so it fails the day the gap closes. Nothing is skipped.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest

from servicelevel.errors import InputError
from servicelevel.metrics import (
    BusinessHours,
    KpiQuery,
    KpiRow,
    Metric,
    MetricRequest,
    PeriodSpec,
    compute,
    metrics,
)
from servicelevel.metrics.engine import GROUPS, PERIOD_COLUMN
from servicelevel.model.enums import AgentState, Channel, Outcome
from servicelevel.model.tables import CANONICAL_TABLES
from servicelevel.store.backends import duckdb_tables, spark_session, spark_tables
from servicelevel.store.catalog import Store

#: Metrics that cannot run on Spark yet: key -> why. Each is a strict xfail.
SPARK_GAPS: dict[str, str] = {}

RELATIVE = 1e-9
#: A small session: little memory, few partitions, and no whole-stage code generation
#: (compiling Java for each of many wide one-off queries costs more than it saves).
SMALL_SPARK = {
    "spark.driver.memory": "512m",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
}
ROWS_PER_TABLE = 1_500
SEED = 20240331

# Two windows around the 2024 daylight-saving changes (Europe: 31 March and 27 October;
# North America: 10 March and 3 November), so local days of 23 and 25 hours occur.
WINDOWS = (
    (datetime(2024, 3, 8, tzinfo=UTC), datetime(2024, 4, 2, tzinfo=UTC)),
    (datetime(2024, 10, 25, tzinfo=UTC), datetime(2024, 11, 5, tzinfo=UTC)),
)

# Closed vocabularies by column name; other text columns draw from small pools.
VOCABULARY: dict[str, list[str]] = {
    "tenant": ["acme", "globex", "007"],
    "source": ["fixture"],
    "outcome": [o.value for o in Outcome],
    "state": [s.value for s in AgentState],
    "channel": [c.value for c in Channel],
    "queue": ["sales", "support", "billing"],
    "direction": ["inbound", "outbound"],
    "agent_id": [f"agent{i}" for i in range(12)],
    "team": ["red", "blue", "green"],
    "service_type": ["PS", "NE", "IN"],
    "reason": ["break", "lunch", "training"],
    "activity": ["shift", "break", "lunch", "training"],
    "category": ["labour", "telephony", "facilities"],
    "role": ["agent", "team_lead", "qa", "trainer", "ops_manager"],
    "defect_root_cause": ["training", "process", "product"],
    "reviewer": ["qa1", "qa2"],
    "calibration_session": ["cal1", "cal2"],
    "currency": ["EUR"],
    "model": ["ets", "naive"],
}
# Outcomes weighted like a real queue: mostly answered, many abandoned, a few of the rest.
OUTCOME_WEIGHTS = {"answered": 0.55, "abandoned": 0.2}
# Typical size of each number column (seconds, scores, money, counts).
SCALE: dict[str, float] = {
    "wait_s": 40, "ring_s": 8, "talk_s": 240, "hold_s": 30, "acw_s": 45,
    "amount": 5_000, "contacts": 120, "aht_s": 300, "required_agents": 14,
    "backtest_wape": 0.2,
}
SCORE_RANGES: dict[str, tuple[int, int]] = {
    "csat_score": (1, 5), "csat_scale_max": (5, 5), "csat_scale_min": (1, 1),
    "nps_score": (0, 10), "score": (40, 100), "priority": (1, 3), "reassignments": (0, 3),
    "interval_s": (1800, 1800), "max_score": (5, 5),
}
# Timestamps that follow another column of the same row, and by how much at most.
FOLLOWS: dict[str, tuple[tuple[str, ...], int]] = {
    "answered_at": (("arrived_at",), 300), "ended_at": (("started_at", "arrived_at"), 4 * 3600),
    "resolved_at": (("arrived_at",), 3 * 86_400), "period_end": (("period_start",), 86_400),
    "created_at": (("interval_start",), -7 * 86_400),
}


def generate(table: str, rows: int, rng: np.random.Generator) -> pa.Table:
    """Rows for any canonical table, driven by its schema (so new tables are covered)."""
    schema = CANONICAL_TABLES[table].schema
    columns: dict[str, pa.Array] = {}
    for field in schema:  # timestamps that others follow come first in every schema
        columns[field.name] = _column(table, field, rows, rng, columns)
    return pa.Table.from_pydict(columns, schema=schema)


def _column(table: str, field: pa.Field, rows: int, rng: np.random.Generator,
            done: dict[str, pa.Array]) -> pa.Array:
    name, type_ = field.name, field.type
    nulls = rng.random(rows) < (0.0 if not field.nullable else 0.08)
    key = CANONICAL_TABLES[table].key
    timed_key = any(pa.types.is_timestamp(CANONICAL_TABLES[table].schema.field(k).type)
                    for k in key)
    if name == key[-1] and not timed_key:  # a key without an instant: number the rows
        return pa.array([f"{name.removesuffix('_id')}{i}" for i in range(rows)], type_)
    if pa.types.is_timestamp(type_):
        anchors, _ = FOLLOWS.get(name, ((), 0))
        anchor = next((a for a in anchors if a in done), None)
        if anchor is not None:
            base = done[anchor].to_numpy(zero_copy_only=False).astype("datetime64[us]")
            span = FOLLOWS[name][1]
            step = rng.integers(0, abs(span), rows) * (1 if span > 0 else -1)
            values = base + step.astype("timedelta64[s]")
        else:
            values = _instants(rows, rng)
        array = pa.array(values, pa.timestamp("us"), mask=nulls).cast(type_)
        return array
    if pa.types.is_string(type_):
        pool = VOCABULARY.get(name) or [f"{name}{i}" for i in range(4)]
        if name == "outcome":
            rest = (1 - sum(OUTCOME_WEIGHTS.values())) / (len(pool) - len(OUTCOME_WEIGHTS))
            weights = np.array([OUTCOME_WEIGHTS.get(v, rest) for v in pool])
            picks = rng.choice(len(pool), rows, p=weights / weights.sum())
        else:
            picks = rng.integers(0, len(pool), rows)
        return pa.array([pool[i] for i in picks], type_, mask=nulls)
    if pa.types.is_floating(type_):
        if name in SCORE_RANGES:
            low, high = SCORE_RANGES[name]
            values = rng.integers(low, high + 1, rows).astype(float)
        else:
            # Whole seconds, so values sit exactly on thresholds (20 s, 5 s) often.
            values = np.round(rng.exponential(SCALE.get(name, 50.0), rows))
        return pa.array(values, type_, mask=nulls)
    if pa.types.is_integer(type_):
        low, high = SCORE_RANGES.get(name, (0, 10))
        return pa.array(rng.integers(low, high + 1, rows), type_, mask=nulls)
    if pa.types.is_boolean(type_):
        return pa.array(rng.random(rows) < 0.3, type_, mask=nulls)
    if pa.types.is_date32(type_):
        # Hire and leave dates up to the end of the windows, so the roster changes in them.
        days = rng.integers(0, 540, rows)
        return pa.array([date(2023, 6, 1) + timedelta(days=int(d)) for d in days], type_,
                        mask=nulls)
    if pa.types.is_list(type_):
        return pa.array([_list_value(type_.value_type, rng) for _ in range(rows)], type_,
                        mask=nulls)
    raise NotImplementedError(f"no generator for {table}.{name} of type {type_}; add one")


def _instants(rows: int, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """Instants over both windows, with sub-second parts (period cuts must floor them)."""
    which = rng.integers(0, len(WINDOWS), rows)
    starts = np.array([int(w[0].timestamp()) for w in WINDOWS])[which]
    lengths = np.array([int((w[1] - w[0]).total_seconds()) for w in WINDOWS])[which]
    seconds = starts + (rng.random(rows) * lengths).astype(np.int64)
    micros = seconds * 1_000_000 + rng.integers(0, 1_000_000, rows)
    return micros.astype("datetime64[us]")


def _list_value(value_type: pa.DataType, rng: np.random.Generator) -> list[Any]:
    count = int(rng.integers(1, 4))
    if pa.types.is_string(value_type):
        return [VOCABULARY["queue"][int(rng.integers(0, 3))] for _ in range(count)]
    if pa.types.is_struct(value_type):
        items = []
        for index in range(count):
            item: dict[str, Any] = {}
            for member in value_type:
                if pa.types.is_string(member.type):
                    item[member.name] = f"item{index}"
                elif pa.types.is_boolean(member.type):
                    item[member.name] = bool(rng.random() < 0.2)
                else:
                    item[member.name] = float(rng.integers(0, 6))
            items.append(item)
        return items
    raise NotImplementedError(f"no generator for lists of {value_type}")


@pytest.fixture(scope="session")
def engine_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real DuckDB store file holding generated rows in every canonical table."""
    path = tmp_path_factory.mktemp("engines") / "store.duckdb"
    rng = np.random.default_rng(SEED)
    with Store.open(path) as store, store.transaction():
        for name in CANONICAL_TABLES:
            store.upsert(name, generate(name, ROWS_PER_TABLE, rng))
    return path


@pytest.fixture(scope="session")
def spark() -> Any:
    """One local Spark session for the whole run: two cores, small memory, no UI."""
    return spark_session("local[2]", SMALL_SPARK)


# -- the queries every metric runs through ----------------------------------------------

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_18 = BusinessHours({day: ((9 * 3600, 18 * 3600),) for day in range(5)},
                                 holidays=frozenset({date(2024, 4, 1)}))


@cache
def cases() -> dict[str, dict[str, Any]]:
    # Every case names its days: an open range costs each engine one more query.
    return {
        # The autumn night's repeated hour: two 02:00 and two 02:30 intervals.
        "30m-paris-autumn-by-queue": dict(period="30m", tz=PARIS, by=("queue",),
                                          start=date(2024, 10, 26), end=date(2024, 10, 28)),
        # A 23-hour local day (10 March), filtered to two queues.
        "day-newyork-spring-by-tenant-channel": dict(period="day", tz=NEW_YORK,
                                                     by=("tenant", "channel"),
                                                     start=date(2024, 3, 8),
                                                     end=date(2024, 4, 2),
                                                     filters={"queue": ["sales", "billing"]}),
        "month-paris-tenant-business-hours": dict(period="month", tz=PARIS,
                                                  by=("team", "priority"), tenant="007",
                                                  start=date(2024, 10, 1),
                                                  end=date(2024, 11, 30),
                                                  calendar=WEEKDAYS_9_TO_18),
    }


def variants(metric: Metric) -> list[dict[str, Any]]:
    """Defaults, then each other choice of each parameter (and the other boolean)."""
    found: list[dict[str, Any]] = [{}]
    for parameter in metric.parameters:
        if parameter.choices is not None:
            found += [{parameter.name: c} for c in parameter.choices if c != parameter.default]
        elif isinstance(parameter.default, bool):
            found.append({parameter.name: not parameter.default})
    return found


def query(case: str, table: str, requests: list[MetricRequest], grouped: bool = True
          ) -> KpiQuery:
    spec = dict(cases()[case])
    columns = set(CANONICAL_TABLES[table].schema.names)
    # Group and filter only by dimensions the metric's table has.
    by = [name for name in spec.pop("by") if GROUPS[name] in columns and grouped]
    filters = {k: v for k, v in spec.pop("filters", {}).items() if GROUPS[k] in columns}
    tenant = spec.pop("tenant", None)
    return KpiQuery(metrics=requests, period=PeriodSpec.parse(spec.pop("period")),
                    by=by, filters=filters, tenant=tenant, **spec)


def batches(case: str) -> Iterator[tuple[str, list[MetricRequest]]]:
    """Every variant of every metric, one query per table.

    Variants of one metric go in the same query under keys ``key@n`` (a request is a
    metric and its parameters; the engine labels rows by the metric's key).
    """
    by_table: dict[str, list[MetricRequest]] = {}
    for metric in metrics().values():
        for number, params in enumerate(variants(metric)):
            variant = dataclasses.replace(metric, key=f"{metric.key}@{number}")
            by_table.setdefault(metric.table, []).append(
                MetricRequest(variant, metric.resolve(params)))
    yield from sorted(by_table.items())


def metric_key(request: MetricRequest) -> str:
    return request.metric.key.split("@")[0]


class Engine:
    """Computes every batch once per engine and hands each metric its rows."""

    def __init__(self, tables: Callable[[str], Any]) -> None:
        self.tables = tables
        self.results: dict[str, dict[str, list[KpiRow] | BaseException]] = {}

    def rows(self, case: str, key: str) -> list[KpiRow]:
        if case not in self.results:
            self.results[case] = self._run(case)
        result = self.results[case][key]
        if isinstance(result, BaseException):
            raise result
        return result

    def _run(self, case: str) -> dict[str, list[KpiRow] | BaseException]:
        results: dict[str, list[KpiRow] | BaseException] = {}
        for table, requests in batches(case):
            keys = list(dict.fromkeys(metric_key(r) for r in requests))
            try:
                rows = compute(self.tables, query(case, table, requests))
            except Exception:  # one metric's failure must not hide the others': retry alone
                for key in keys:
                    results[key] = self._alone(case, table,
                                               [r for r in requests if metric_key(r) == key])
                continue
            for key in keys:
                results[key] = [r for r in rows if r.metric.split("@")[0] == key]
        return results

    def _alone(self, case: str, table: str, requests: list[MetricRequest]
               ) -> list[KpiRow] | BaseException:
        try:
            return compute(self.tables, query(case, table, requests))
        except Exception as error:
            if not (isinstance(error, InputError) and "cannot be grouped" in str(error)):
                return error
        # The metric's rows lack a dimension of the case: the same query, ungrouped.
        try:
            return compute(self.tables, query(case, table, requests, grouped=False))
        except Exception as error:
            return error


@pytest.fixture(scope="session")
def on_duckdb(engine_store: Path) -> Engine:
    return Engine(duckdb_tables(engine_store))


@pytest.fixture(scope="session")
def on_spark(engine_store: Path, spark: Any) -> Engine:
    return Engine(spark_tables(spark, engine_store))


def _metric_params() -> list[Any]:
    params = []
    for key in sorted(metrics()):
        marks = [pytest.mark.spark]
        if key in SPARK_GAPS:
            marks.append(pytest.mark.xfail(strict=True, reason=SPARK_GAPS[key]))
        params.append(pytest.param(key, marks=marks, id=key))
    return params


@pytest.mark.parametrize("key", _metric_params())
def test_metric_agrees_on_duckdb_and_spark(key: str, on_duckdb: Engine, on_spark: Engine) -> None:
    for case in cases():
        expected = on_duckdb.rows(case, key)
        actual = on_spark.rows(case, key)
        assert_same_rows(expected, actual, f"{key} in {case}")


def assert_same_rows(expected: list[KpiRow], actual: list[KpiRow], where: str) -> None:
    assert len(actual) == len(expected), f"{where}: {len(actual)} rows on Spark, " \
                                         f"{len(expected)} on DuckDB"
    for want, got in zip(expected, actual, strict=True):
        label = f"{where} at {want.period_start.isoformat()} {dict(want.group)}"
        # isoformat keeps the offset: the repeated autumn hour's two intervals differ.
        assert (got.period_start.isoformat(), got.group, got.metric) == (
            want.period_start.isoformat(), want.group, want.metric), label
        for part in ("value", "numerator", "denominator"):
            assert _close(getattr(want, part), getattr(got, part)), (
                f"{label}: {part} {getattr(got, part)} on Spark, {getattr(want, part)} on DuckDB")


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-12)


# -- the suite itself can fail ---------------------------------------------------------

def test_the_suite_covers_every_metric_and_table() -> None:
    """Every registered metric is parametrized; every table a metric reads has rows."""
    assert {p.values[0] for p in _metric_params()} == set(metrics())
    assert set(SPARK_GAPS) <= set(metrics()), "a gap names a metric that does not exist"
    for metric in metrics().values():
        assert metric.table in CANONICAL_TABLES
        prepared = getattr(metric, "prepare", None) is not None  # builds its own rows
        assert prepared or metric.table in PERIOD_COLUMN, f"{metric.key}: no period column"


def test_the_fixture_has_rows_where_metrics_look(on_duckdb: Engine) -> None:
    """The generated data is not vacuous: every metric has a value somewhere."""
    for key, metric in metrics().items():
        try:
            values = [r.value for case in cases() for r in on_duckdb.rows(case, key)]
        except Exception:  # a metric that fails is reported by its own test
            continue
        assert any(v not in (None, 0.0) for v in values), f"{key} ({metric.table}) is empty"


def test_a_difference_is_reported() -> None:
    """The comparison catches a numerator off by one part in a million."""
    start = datetime(2024, 3, 31, tzinfo=PARIS)
    want = [KpiRow(start, (("queue", "sales"),), "asa", 20.0, 200.0, 10.0)]
    got = [KpiRow(start, (("queue", "sales"),), "asa", 20.0, 200.0002, 10.0)]
    with pytest.raises(AssertionError, match="numerator"):
        assert_same_rows(want, got, "asa")
    with pytest.raises(AssertionError, match="rows on Spark"):
        assert_same_rows(want, [], "asa")
