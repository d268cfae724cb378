"""Forecast benchmark: the model chosen by backtest against seasonal naive, on real data.

    python bench/bench_forecast.py                 # Anonymous Bank, Jan–Jun → July, 30 min
    python bench/bench_forecast.py --db FILE       # reuse (or build) the store in FILE

Trains on January–June 1999 of the full Anonymous Bank data (offered contacts per
30-minute interval, Asia/Jerusalem wall clock, from the metric engine), forecasts July,
and compares the forecast with the contacts that arrived in July: WAPE of the chosen
model and of seasonal naive (each interval as the same interval a week earlier), both
fit on the same history. Exits 1 if the chosen model does not beat seasonal naive.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from servicelevel.metrics import KpiQuery, MetricRequest, PeriodSpec, compute_table
from servicelevel.metrics.periods import holiday_dates
from servicelevel.model.time import zone
from servicelevel.planning.forecasting import (
    BASELINE,
    QueueForecast,
    forecast_queues,
    history_from_metrics,
    wape,
)
from servicelevel.store import Store, ingest_paths
from servicelevel.store.backends import open_tables

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "anonymous_bank"
TENANT = "anonymous-bank"
TZ = "Asia/Jerusalem"


def history(db: Path, queue: str, start: date, end: date, interval: str) -> pd.DataFrame:
    query = KpiQuery(
        metrics=[MetricRequest.of("offered"), MetricRequest.of("aht")],
        period=PeriodSpec.parse(interval), tz=zone(TZ), by=["queue"], start=start, end=end,
        tenant=TENANT, filters={"queue": [queue]},
    )
    return history_from_metrics(compute_table(open_tables("duckdb", db), query))


def july_wape(item: QueueForecast, actual: pd.DataFrame) -> float | None:
    forecast = pd.Series(item.contacts, index=pd.DatetimeIndex(item.starts).tz_convert("UTC"))
    seen = actual.set_index(pd.DatetimeIndex(actual["interval_start"]).tz_convert("UTC"))
    seen = seen["contacts"].groupby(level=0).sum()
    index = forecast.index.union(seen.index)
    return wape(seen.reindex(index, fill_value=0.0).to_numpy(np.float64),
                forecast.reindex(index, fill_value=0.0).to_numpy(np.float64))


def july_handle_wape(aht: np.ndarray, item: QueueForecast, actual: pd.DataFrame) -> float:
    """Handle-time WAPE of a per-interval AHT forecast on July: Σ |actual handle − answered
    × forecast AHT| ÷ Σ actual handle, over the intervals with answered contacts."""
    forecast = pd.Series(aht, index=pd.DatetimeIndex(item.starts).tz_convert("UTC"))
    seen = actual.set_index(pd.DatetimeIndex(actual["interval_start"]).tz_convert("UTC"))
    seen = seen[seen["aht_s"].notna() & (seen["contacts"] > 0)]
    handle = seen["aht_s"] * seen["contacts"]  # offered as the weight, as the forecaster does
    predicted = forecast.reindex(seen.index).fillna(0.0) * seen["contacts"]
    return float(100 * (handle - predicted).abs().sum() / handle.sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--queue", default="bank")
    parser.add_argument("--interval", default="30m")
    parser.add_argument("--holidays", default="IL", help="country code; '' for none")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    db = args.db or Path(scratch.name) / "bank.duckdb"
    files = [p for p in sorted(args.data.glob("*.txt.gz")) if p.name[:2] in
             ("01", "02", "03", "04", "05", "06", "07")]
    started = time.perf_counter()
    with Store.open(db) as store:
        ingest_paths(store, "anonymous-bank", files, tenant=TENANT)
    print(f"store {db}: {len(files)} files ingested in {time.perf_counter() - started:.1f} s")

    train = history(db, args.queue, date(1999, 1, 1), date(1999, 6, 30), args.interval)
    actual = history(db, args.queue, date(1999, 7, 1), date(1999, 7, 31), args.interval)
    interval_s = PeriodSpec.parse(args.interval).seconds
    assert interval_s is not None
    horizon_s = 31 * 86_400.0
    started = time.perf_counter()
    closed = holiday_dates(args.holidays, [1999])
    (chosen,) = forecast_queues(train, interval_s=interval_s, horizon_s=horizon_s, tz=zone(TZ),
                                holidays=closed)
    fit_s = time.perf_counter() - started
    (naive,) = forecast_queues(train, interval_s=interval_s, horizon_s=horizon_s, tz=zone(TZ),
                               models=(BASELINE,), holidays=closed)
    print(f"holidays ({args.holidays or 'none'}): "
          + ", ".join(sorted(str(d) for d in closed if d.month <= 7)))
    print(f"queue {args.queue}: {train['contacts'].sum():,.0f} contacts Jan–Jun, "
          f"{actual['contacts'].sum():,.0f} in July, {args.interval} intervals")
    print("backtest WAPE (last 2 weeks of June): "
          + ", ".join(f"{n} {s:.2f}%" for n, s in sorted(chosen.scores.items())))
    for note in chosen.notes:
        print(f"note: {note}")
    ours, base = july_wape(chosen, actual), july_wape(naive, actual)
    print(f"chosen model: {chosen.model} (backtest, fit and forecast {fit_s:.1f} s)")
    print(f"July WAPE: {chosen.model} {ours:.2f}% vs {BASELINE} {base:.2f}%")
    print("handle time: backtest WAPE " + ", ".join(
        f"{n} {v:.2f}%" for n, v in sorted(chosen.aht_scores.items()))
        + f"; chosen {chosen.aht_model}")
    for name in sorted(chosen.aht_scores):
        (alone,) = forecast_queues(train, interval_s=interval_s, horizon_s=horizon_s,
                                   tz=zone(TZ), models=(BASELINE,), holidays=closed,
                                   aht_models=(name,))
        print(f"  July handle-time WAPE {name}: "
              f"{july_handle_wape(alone.aht_s, alone, actual):.2f}%")
    beats = ours is not None and base is not None and ours < base
    print("chosen model beats seasonal naive: " + ("yes" if beats else "NO"))
    return 0 if beats else 1


if __name__ == "__main__":
    sys.exit(main())
