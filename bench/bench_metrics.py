"""Metric engine benchmark: the engine against pandas and hand-written DuckDB SQL.

    python bench/bench_metrics.py                 # 10,000,000 contacts
    python bench/bench_metrics.py --rows 20000    # a smoke run

One month of generated contacts (NumPy, fixed seed, several queues, realistic waits and
outcomes) goes into a DuckDB store file. The efficiency catalogue (every metric of
``servicelevel.metrics.efficiency``, defaults) is computed per 30-minute interval and
queue over that month three ways, in the same process:

1. the engine: ``servicelevel.metrics.engine.compute_table`` on the store (Ibis on
   DuckDB), the whole call, from query to its Arrow table of figures (periods with no
   contacts included); ``compute``, the same figures as ``KpiRow`` objects, is timed too;
2. pandas, vectorised (one groupby, no Python loops), on a DataFrame already in memory
   (loading it is not timed);
3. one hand-written DuckDB SQL query of the same figures: the practical limit.

All three must agree (values, numerators, denominators within 1e-9). Then ``slm kpi`` is
timed end to end as a subprocess (process start to output) on the same store.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa

from servicelevel.metrics import KpiQuery, KpiRow, MetricRequest, PeriodSpec, compute, metrics
from servicelevel.metrics.engine import TableSource, compute_table
from servicelevel.store.backends import duckdb_tables
from servicelevel.store.catalog import Store

MONTH_START = datetime(2024, 3, 1, tzinfo=UTC)
MONTH_DAYS = 31
INTERVAL_S = 1800
QUEUES = ("sales", "support", "billing", "retention", "tech", "vip", "claims", "returns")
#: Outcomes and their shares: mostly answered, some abandoned, a few of the rest.
OUTCOMES = {"answered": 0.84, "abandoned": 0.11, "timeout": 0.02, "overflow": 0.01,
            "ended_in_vru": 0.015, "waiting": 0.005}
RELATIVE = 1e-9


def catalogue() -> list[str]:
    """The efficiency metrics of the registry (contacts, one query)."""
    return [key for key, metric in metrics().items()
            if metric.formula.__module__ == "servicelevel.metrics.efficiency"]


# -- data ------------------------------------------------------------------------------

def generate(rows: int, seed: int) -> pa.Table:
    """A month of contacts: arrivals peak by day, waits and handle times skewed."""
    rng = np.random.default_rng(seed)
    day = rng.integers(0, MONTH_DAYS, rows)
    # Busy hours: a mixture around 10:00 and 15:00 UTC, clipped to the day.
    hour = np.where(rng.random(rows) < 0.55, rng.normal(10, 2, rows), rng.normal(15, 2.5, rows))
    second = np.clip(hour * 3600, 0, 86_399.999_999)
    micros = ((int(MONTH_START.timestamp()) + day * 86_400) * 1_000_000
              + (second * 1_000_000).astype(np.int64))
    names = list(OUTCOMES)
    outcome = rng.choice(len(names), rows, p=np.array(list(OUTCOMES.values())))
    queue = rng.integers(0, len(QUEUES), rows)
    answered = outcome == names.index("answered")
    wait = np.round(rng.exponential(np.where(answered, 25.0, 70.0)), 1)
    wait_null = rng.random(rows) < 0.002
    talk = np.round(rng.gamma(2.0, 120.0, rows), 1)
    talk_null = ~answered | (rng.random(rows) < 0.01)
    hold = np.where(rng.random(rows) < 0.2, np.round(rng.exponential(40.0, rows), 1), 0.0)
    acw = np.round(rng.exponential(35.0, rows), 1)
    return pa.table({
        "n": pa.array(np.arange(rows)),
        "queue": pa.DictionaryArray.from_arrays(queue.astype(np.int32), list(QUEUES)),
        "arrived_at": pa.array(micros, pa.timestamp("us", tz="UTC")),
        "outcome": pa.DictionaryArray.from_arrays(outcome.astype(np.int32), names),
        "wait_s": pa.array(wait, mask=wait_null),
        "talk_s": pa.array(talk, mask=talk_null),
        "hold_s": pa.array(hold, mask=~answered),
        "acw_s": pa.array(acw, mask=~answered),
    })


def build_store(path: Path, rows: int, seed: int) -> None:
    batch = generate(rows, seed)
    with Store.open(path) as store:
        con = store.connection
        con.register("generated", batch)
        con.execute(
            "INSERT INTO contacts (tenant, source, contact_id, channel, queue, direction, "
            "arrived_at, outcome, wait_s, talk_s, hold_s, acw_s) "
            "SELECT 'bench', 'generated', CAST(n AS VARCHAR), 'voice', CAST(queue AS VARCHAR), "
            "'inbound', arrived_at, CAST(outcome AS VARCHAR), wait_s, talk_s, hold_s, acw_s "
            "FROM generated ORDER BY arrived_at"
        )
        con.unregister("generated")
        con.execute("CHECKPOINT")


# -- the three implementations ---------------------------------------------------------

def kpi_query(keys: list[str]) -> KpiQuery:
    last = date(2024, 3, MONTH_DAYS)
    return KpiQuery(metrics=[MetricRequest.of(k) for k in keys], period=PeriodSpec.parse("30m"),
                    tz=ZoneInfo("UTC"), by=["queue"], start=MONTH_START.date(), end=last)


Figures = dict[tuple[int, str, str], tuple[float | None, float | None, float | None]]


def run_engine(tables: TableSource, keys: list[str]) -> list[KpiRow]:
    return compute(tables, kpi_query(keys))


def run_engine_table(tables: TableSource, keys: list[str]) -> pa.Table:
    return compute_table(tables, kpi_query(keys))


def table_figures(table: pa.Table) -> Figures:
    micros = table.column("period_start").cast(pa.int64()).to_pylist()
    queues = table.column("queue").to_pylist()
    metric = table.column("metric").to_pylist()
    value, numerator, denominator = (table.column(name).to_pylist()
                                     for name in ("value", "numerator", "denominator"))
    return {(m // 1_000_000 // INTERVAL_S, str(q), k): (v, n, d)
            for m, q, k, v, n, d in zip(micros, queues, metric, value, numerator, denominator,
                                        strict=True)}


def engine_figures(rows: list[KpiRow]) -> Figures:
    return {(int(r.period_start.timestamp()) // INTERVAL_S, str(r.group[0][1]), r.metric):
            (r.value, r.numerator, r.denominator) for r in rows}


_SQL = f"""
WITH c AS (
    SELECT queue, outcome, wait_s, talk_s, hold_s, acw_s,
           CAST(floor(epoch(arrived_at)) AS BIGINT) // {INTERVAL_S} AS k,
           outcome NOT IN ('ended_in_vru', 'waiting') AS offered,
           coalesce(wait_s, 0) AS wait
    FROM contacts
    WHERE arrived_at >= TIMESTAMPTZ '2024-03-01 00:00:00+00'
      AND arrived_at < TIMESTAMPTZ '2024-04-01 00:00:00+00'
)
SELECT k, queue,
    count(*) FILTER (offered) AS offered,
    count(*) FILTER (offered AND outcome = 'answered') AS answered,
    count(*) FILTER (offered AND outcome = 'abandoned') AS abandoned,
    count(*) FILTER (offered AND outcome = 'answered' AND wait <= 20) AS answered_20,
    sum(wait) FILTER (offered AND outcome = 'answered') AS answered_wait,
    sum(wait) FILTER (offered AND outcome = 'abandoned') AS abandoned_wait,
    max(wait_s) FILTER (offered) AS longest_wait,
    count(*) FILTER (outcome = 'answered' AND talk_s IS NOT NULL) AS handled,
    sum(coalesce(talk_s, 0) + coalesce(hold_s, 0) + coalesce(acw_s, 0))
        FILTER (outcome = 'answered' AND talk_s IS NOT NULL) AS handle_time
FROM c GROUP BY k, queue
"""


def run_sql(con: Any) -> pd.DataFrame:
    return con.sql(_SQL).arrow().read_all().to_pandas()


def run_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    outcome = frame["outcome"]
    offered = ~outcome.isin(["ended_in_vru", "waiting"])
    answered = offered & (outcome == "answered")
    abandoned = offered & (outcome == "abandoned")
    wait = frame["wait_s"].fillna(0.0)
    handled = (outcome == "answered") & frame["talk_s"].notna()
    handle = frame["talk_s"].fillna(0.0) + frame["hold_s"].fillna(0.0) + frame["acw_s"].fillna(0.0)
    parts = pd.DataFrame({
        "k": frame["epoch"] // INTERVAL_S,
        "queue": frame["queue"],
        "offered": offered.astype("int64"),
        "answered": answered.astype("int64"),
        "abandoned": abandoned.astype("int64"),
        "answered_20": (answered & (wait <= 20)).astype("int64"),
        "answered_wait": wait.where(answered, 0.0),
        "abandoned_wait": wait.where(abandoned, 0.0),
        "longest_wait": frame["wait_s"].where(offered),
        "handled": handled.astype("int64"),
        "handle_time": handle.where(handled, 0.0),
    })
    grouped = parts.groupby(["k", "queue"], observed=True, sort=False)
    summed = grouped.sum(min_count=0)
    summed["longest_wait"] = grouped["longest_wait"].max()
    return summed.reset_index()


def figures(table: pd.DataFrame) -> Figures:
    """The catalogue's figures from one row per interval and queue of components."""
    out: Figures = {}
    columns = {name: table[name].to_numpy() for name in table.columns}
    for i in range(len(table)):
        key = int(columns["k"][i])
        queue = str(columns["queue"][i])

        def c(name: str, i: int = i) -> float:
            value = columns[name][i]
            return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) \
                else float(value)

        def ratio(num: float, den: float, scale: float = 1.0) -> tuple[Any, Any, Any]:
            return (scale * num / den if den else None, num, den)

        longest = columns["longest_wait"][i]
        longest_value = None if longest is None or pd.isna(longest) else float(longest)
        out[(key, queue, "service_level")] = ratio(c("answered_20"), c("offered"), 100.0)
        out[(key, queue, "offered")] = (c("offered"), None, None)
        out[(key, queue, "answered")] = (c("answered"), None, None)
        out[(key, queue, "abandoned")] = (c("abandoned"), None, None)
        out[(key, queue, "asa")] = ratio(c("answered_wait"), c("answered"))
        out[(key, queue, "awt")] = ratio(c("answered_wait"), c("answered"))
        out[(key, queue, "average_time_to_abandon")] = ratio(c("abandoned_wait"),
                                                             c("abandoned"))
        out[(key, queue, "longest_wait")] = (longest_value, None, None)
        out[(key, queue, "abandon_rate")] = ratio(c("abandoned"), c("offered"), 100.0)
        out[(key, queue, "aht")] = ratio(c("handle_time"), c("handled"))
    return out


def compare(name: str, expected: Figures, actual: Figures, keys: list[str]) -> int:
    """Figures that differ between ``actual`` and the engine's ``expected``."""
    wanted = {k for k in expected if k[2] in keys}
    problems = 0
    for key in wanted | {k for k in actual if k[2] in keys}:
        a, b = expected.get(key), actual.get(key)
        if a is not None and b is None and _empty(a):
            continue  # a period with no contacts: the engine lists it, the baselines do not
        if a is None or b is None or not all(_close(x, y) for x, y in zip(a, b, strict=True)):
            if problems < 5:
                print(f"  {name} differs at {key}: engine {a}, {name} {b}")
            problems += 1
    return problems


def _empty(figure: tuple[float | None, float | None, float | None]) -> bool:
    value, numerator, denominator = figure
    return value in (None, 0.0) and numerator in (None, 0.0) and denominator in (None, 0.0)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-9)


def interleaved(runs: list[Callable[[], Any]], repeat: int) -> list[tuple[float, Any]]:
    """Best wall time of each run over ``repeat`` rounds, and its last result."""
    best = [math.inf] * len(runs)
    results: list[Any] = [None] * len(runs)
    for _ in range(repeat):
        for i, run in enumerate(runs):
            started = time.perf_counter()
            results[i] = run()
            best[i] = min(best[i], time.perf_counter() - started)
    return list(zip(best, results, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="contacts to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="timings keep the best of N")
    parser.add_argument("--db", type=Path, default=None,
                        help="store file to (re)use; default: a temporary one")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    db = args.db or folder / "bench.duckdb"
    try:
        if not db.exists():
            started = time.perf_counter()
            build_store(db, args.rows, args.seed)
            print(f"generated {args.rows:,} contacts into {db} "
                  f"in {time.perf_counter() - started:.1f} s")
        keys = catalogue()
        print(f"catalogue: {len(keys)} metrics: {', '.join(keys)}")
        store = Store.open(db, read_only=True)
        started = time.perf_counter()
        frame = store.connection.sql(
            "SELECT queue, outcome, wait_s, talk_s, hold_s, acw_s, "
            "CAST(floor(epoch(arrived_at)) AS BIGINT) AS epoch FROM contacts "
            "WHERE arrived_at >= TIMESTAMPTZ '2024-03-01 00:00:00+00' "
            "AND arrived_at < TIMESTAMPTZ '2024-04-01 00:00:00+00'"
        ).df()
        frame["queue"] = frame["queue"].astype("category")
        frame["outcome"] = frame["outcome"].astype("category")
        load_s = time.perf_counter() - started

        # Like the SQL below, the engine reads through one connection opened beforehand.
        tables = duckdb_tables(db)
        # Rounds interleave the three, so a busy machine slows each of them alike.
        ((engine_s, engine_table), (rows_s, engine_rows), (pandas_s, by_pandas),
         (sql_s, by_sql)) = interleaved(
            [lambda: run_engine_table(tables, keys), lambda: run_engine(tables, keys),
             lambda: run_pandas(frame), lambda: run_sql(store.connection)], args.repeat)
        by_engine = table_figures(engine_table)
        problems = (compare("compute", by_engine, engine_figures(engine_rows), keys)
                    + compare("pandas", by_engine, figures(by_pandas), keys)
                    + compare("sql", by_engine, figures(by_sql), keys))
        if len(engine_rows) != engine_table.num_rows:
            print(f"  compute gave {len(engine_rows):,} rows, compute_table "
                  f"{engine_table.num_rows:,}")
            problems += 1
        print(f"engine (compute_table, Arrow) {engine_s:.3f} s | engine (compute, KpiRow "
              f"objects) {rows_s:.3f} s | pandas {pandas_s:.3f} s | hand-written SQL "
              f"{sql_s:.3f} s")
        print(f"pandas loading its DataFrame from the store (not in its time): {load_s:.3f} s")
        print(f"pandas / engine = {pandas_s / engine_s:.2f}x (target >= 3x); "
              f"engine / SQL = {engine_s / sql_s:.2f}x (target <= 1.2x)")
        print(f"with KpiRow objects (compute): pandas / engine = {pandas_s / rows_s:.2f}x; "
              f"engine / SQL = {rows_s / sql_s:.2f}x")
        print(f"figures compared: {len(by_engine):,}; differences: {problems}")
        print(f"load average: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
        store.close()

        kpi_s = time_slm_kpi(db, args.repeat)
        print(f"slm kpi end to end: {kpi_s:.2f} s (target < 2 s)")
        return 1 if problems else 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


KPI_ARGS = ["kpi", "--metrics", "service_level,asa,abandon_rate,aht", "--period", "month",
            "--by", "queue", "--format", "csv"]


def time_slm_kpi(db: Path, repeat: int = 3) -> float:
    """Best wall time of ``slm kpi`` from process start to its output."""
    command = [sys.executable, "-c", "from servicelevel.cli import main; main()",
               *KPI_ARGS, "--db", str(db)]
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0 or "service_level" not in done.stdout:
            raise SystemExit(f"slm kpi failed ({done.returncode}): {done.stderr[-2000:]}")
        best = min(best, elapsed)
    return best


if __name__ == "__main__":
    sys.exit(main())
