"""``slm forecast``: contacts and handle time per interval, stored in ``forecasts``."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from servicelevel.cli import console
from servicelevel.cli.kpi import FORMATS, _date
from servicelevel.cli.options import DbOption, TenantOption, db_path
from servicelevel.errors import InputError
from servicelevel.metrics import KpiQuery, MetricRequest, PeriodSpec, compute_table
from servicelevel.metrics.periods import holiday_dates
from servicelevel.model.time import parse_duration, zone
from servicelevel.planning.forecasting import (
    BASELINE,
    QueueForecast,
    forecast_queues,
    forecast_rows,
    history_from_metrics,
)
from servicelevel.store import Store
from servicelevel.store.backends import open_tables


def forecast(
    queue: Annotated[str, typer.Option("--queue", help="Queue to forecast.")],
    db: DbOption = None,
    horizon: Annotated[str, typer.Option(help="How far ahead, e.g. 14d.")] = "14d",
    interval: Annotated[str, typer.Option(help="Interval: 15m, 30m or 60m.")] = "30m",
    tz: Annotated[str, typer.Option(help="Zone the intervals are cut in.")] = "UTC",
    tenant: TenantOption = None,
    end: Annotated[str | None, typer.Option(
        "--to", help="Last day of history used (YYYY-MM-DD) [default: all].")] = None,
    history_weeks: Annotated[int, typer.Option(
        "--history-weeks", help="Weeks of history the models are fit on.")] = 12,
    holidays: Annotated[str, typer.Option(
        "--holidays", help="Country whose public holidays are modelled, e.g. IL or US-NY.")] = "",
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Forecast contacts and AHT per interval; the model is chosen by backtest WAPE."""
    if output not in FORMATS:
        raise InputError(f"--format: {output!r} is not one of {', '.join(FORMATS)}")
    period = PeriodSpec.parse(interval)
    if period.seconds is None:
        raise InputError(f"--interval: {interval!r} is not an interval; write 15m, 30m or 60m")
    horizon_s = parse_duration(horizon, option="--horizon")
    local = zone(tz, option="--tz")
    query = KpiQuery(
        metrics=[MetricRequest.of("offered"), MetricRequest.of("aht")], period=period,
        tz=local, by=["queue"], end=_date(end, "--to"), tenant=tenant,
        filters={"queue": [queue]},
    )
    store_path = db_path(db)
    history = history_from_metrics(compute_table(open_tables("duckdb", store_path), query))
    if history.empty or history["contacts"].sum() == 0:
        raise InputError(f"--queue: {queue!r} has no offered contacts in {store_path}")
    years = range(history["interval_start"].min().year,
                  history["interval_start"].max().year + 2 + int(horizon_s // 31_536_000))
    closed = holiday_dates(holidays, years)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True,
                  disable=output != "table") as progress:
        task = progress.add_task("fitting", total=None)
        results = forecast_queues(
            history, interval_s=period.seconds, horizon_s=horizon_s, tz=local,
            history_weeks=history_weeks, holidays=closed,
            progress=lambda step: progress.update(task, description=step),
        )
    rows = forecast_rows(results, tenant=tenant or "default", created_at=datetime.now(UTC))
    with Store.open(store_path) as store:
        store.upsert("forecasts", rows)
    _render(results, output, local)


def _records(item: QueueForecast, tz: Any) -> list[dict[str, Any]]:
    return [
        {"interval_start": start.astimezone(tz).isoformat(), "queue": item.queue,
         "contacts": round(float(c), 3), "aht_s": None if a != a else round(float(a), 1),
         "model": item.model}
        for start, c, a in zip(item.starts, item.contacts, item.aht_s, strict=True)
    ]


def _render(results: list[QueueForecast], output: str, tz: Any) -> None:
    records = [r for item in results for r in _records(item, tz)]
    if output == "json":
        summary = [{"queue": i.queue, "model": i.model, "backtest_wape": i.backtest_wape,
                    "baseline_wape": i.baseline_wape, "scores": dict(i.scores)}
                   for i in results]
        typer.echo(json.dumps({"models": summary, "forecast": records}, indent=2))
        return
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]) if records else ["queue"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        typer.echo(buffer.getvalue(), nl=False)
        return
    for item in results:
        console.print(_summary(item))
        for note in item.notes:
            console.print(f"  note: {note}")
    table = Table(title="Forecast per interval")
    for name, justify in (("interval", "left"), ("queue", "left"), ("contacts", "right"),
                          ("AHT s", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in records:
        table.add_row(r["interval_start"][:16], r["queue"], f"{r['contacts']:,.1f}",
                      "—" if r["aht_s"] is None else f"{r['aht_s']:,.0f}")
    console.print(table)


def _summary(item: QueueForecast) -> str:
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}%"

    others = ", ".join(f"{name} {pct(score)}" for name, score in sorted(item.scores.items()))
    return (f"{item.queue}: model {item.model}, backtest WAPE {pct(item.backtest_wape)} "
            f"vs {BASELINE} {pct(item.baseline_wape)} ({others})")


def register(app: typer.Typer) -> None:
    app.command()(forecast)
