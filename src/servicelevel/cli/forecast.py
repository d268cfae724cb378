"""``slm forecast``: contacts and handle time per interval, stored in ``forecasts``.

With a staffing target (``--sl``/``--within``, ``--asa``, ``--max-abandon``, …) every
interval also gets its required agents, and ``--plan-out`` writes them as a staffing
plan. ``--intraday`` re-forecasts the rest of today from the contacts offered so far.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from servicelevel.cli import console
from servicelevel.cli.kpi import FORMATS, parse_date
from servicelevel.cli.options import DbOption, TenantOption, db_path
from servicelevel.cli.queueing import (
    Asa,
    MaxAbandon,
    MaxOcc,
    Model,
    Patience,
    Shrinkage,
    Sl,
    Within,
    checked_shrinkage,
    model_choice,
    staffing_targets,
)
from servicelevel.errors import InputError
from servicelevel.metrics import KpiQuery, MetricRequest, PeriodSpec, compute_table
from servicelevel.metrics.periods import holiday_dates, local_midnight
from servicelevel.model.time import parse_duration, zone
from servicelevel.planning.forecasting import (
    BASELINE,
    INTRADAY_PREFIX,
    IntradayForecast,
    QueueForecast,
    forecast_queues,
    forecast_rows,
    history_from_metrics,
    intraday_forecast,
    staffing_table,
    with_required_agents,
)
from servicelevel.store import Store
from servicelevel.store.backends import open_tables

Staffer = Callable[[QueueForecast], QueueForecast]


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
    intraday: Annotated[bool, typer.Option(
        "--intraday", help="Re-forecast the rest of today from the contacts so far.")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Intraday: now, e.g. 2026-11-23T11:30 (local) [default: now].")] = None,
    damping: Annotated[float, typer.Option(
        help="Intraday: share of today's deviation carried into the rest of the day.")] = 0.5,
    bounds: Annotated[str, typer.Option(
        help="Intraday: lowest and highest factor on the rest of the day.")] = "0.5,2",
    sl: Sl = None, within: Within = "20s", asa: Asa = None, max_abandon: MaxAbandon = None,
    max_occupancy: MaxOcc = None, model: Model = "erlang_c", patience: Patience = None,
    shrinkage: Shrinkage = 0.0,
    plan_out: Annotated[Path | None, typer.Option(
        "--plan-out", help="Write interval_start,required_agents,… as CSV (for slm schedule)."
    )] = None,
) -> None:
    """Forecast contacts and AHT per interval; the model is chosen by backtest WAPE."""
    if output not in FORMATS:
        raise InputError(f"--format: {output!r} is not one of {', '.join(FORMATS)}")
    period = PeriodSpec.parse(interval)
    if period.seconds is None:
        raise InputError(f"--interval: {interval!r} is not an interval; write 15m, 30m or 60m")
    local = zone(tz, option="--tz")
    staffer = _staffer(sl, within, asa, max_abandon, max_occupancy, model, patience, shrinkage)
    if plan_out is not None and staffer is None:
        raise InputError("--plan-out: a staffing plan needs a target, e.g. --sl 0.8 --within 20s")
    store_path = db_path(db)
    fit = _Fitter(store_path, queue, period, local, tenant, history_weeks, holidays, output)
    if intraday:
        day = _intraday(fit, _as_of(as_of, local), damping, _bounds(bounds))
        rest = day.rest_of_day()
        results = [rest if staffer is None else staffer(rest)] if len(rest.starts) else []
        _store(store_path, results, tenant)
        _render_intraday(day, results, output, local)
    else:
        end_day = parse_date(end, "--to")
        results = fit(end_day, parse_duration(horizon, option="--horizon"), None)
        if staffer is not None:
            results = [staffer(item) for item in results]
        _store(store_path, results, tenant)
        _render(results, output, local)
    if plan_out is not None:
        _write_plan(plan_out, results, local)


def _staffer(sl: float | None, within: str, asa: str | None, max_abandon: float | None,
             max_occupancy: float | None, model: str, patience: str | None,
             shrinkage: float) -> Staffer | None:
    """Required agents per interval when a target is given (options as in ``slm plan``)."""
    if sl is None and asa is None and max_abandon is None and max_occupancy is None:
        return None
    model_name, patience_s = model_choice(model, patience)
    targets = staffing_targets(sl, within, asa, max_abandon, max_occupancy)
    share = checked_shrinkage(shrinkage)
    return lambda item: with_required_agents(item, targets, model=model_name,
                                             patience=patience_s, shrinkage=share)


class _Fitter:
    """History from the metric engine, then ``forecast_queues`` with a progress bar."""

    def __init__(self, store_path: Path, queue: str, period: PeriodSpec, tz: ZoneInfo,
                 tenant: str | None, history_weeks: int, holidays: str, output: str) -> None:
        self.store_path, self.queue, self.period, self.tz = store_path, queue, period, tz
        self.tenant, self.history_weeks, self.holidays = tenant, history_weeks, holidays
        self.output = output

    def offered(self, start: date | None, end: date | None,
                metrics: tuple[str, ...] = ("offered", "aht")) -> pd.DataFrame:
        query = KpiQuery(
            metrics=[MetricRequest.of(m) for m in metrics], period=self.period, tz=self.tz,
            by=["queue"], start=start, end=end, tenant=self.tenant,
            filters={"queue": [self.queue]},
        )
        return history_from_metrics(compute_table(open_tables("duckdb", self.store_path), query))

    def __call__(self, end: date | None, horizon_s: float,
                 until: datetime | None) -> list[QueueForecast]:
        """Forecast ``horizon_s`` after the history, or (``until``) up to that instant."""
        history = self.offered(None, end)
        if history.empty or history["contacts"].sum() == 0:
            raise InputError(f"--queue: {self.queue!r} has no offered contacts in "
                             f"{self.store_path}" + ("" if end is None else f" up to {end}"))
        last = history["interval_start"].max()
        if until is not None:
            horizon_s = (until - last.to_pydatetime()).total_seconds() - self.interval_s
        years = range(history["interval_start"].min().year,
                      last.year + 2 + int(horizon_s // 31_536_000))
        closed = holiday_dates(self.holidays, years)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True,
                      disable=self.output != "table") as progress:
            task = progress.add_task("fitting", total=None)
            return forecast_queues(
                history, interval_s=self.interval_s, horizon_s=horizon_s, tz=self.tz,
                history_weeks=self.history_weeks, holidays=closed,
                progress=lambda step: progress.update(task, description=step),
            )

    @property
    def interval_s(self) -> int:
        assert self.period.seconds is not None
        return int(self.period.seconds)


def _as_of(text: str | None, tz: ZoneInfo) -> datetime:
    if text is None:
        return datetime.now(UTC).astimezone(tz)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of: {text!r} is not a time; write e.g. 2026-11-23T11:30") from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _bounds(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"--bounds: {text!r} is not two numbers; write e.g. 0.5,2") from None
    return low, high


def _intraday(fit: _Fitter, as_of: datetime, damping: float,
              bounds: tuple[float, float]) -> IntradayForecast:
    """Today's forecast (stored, else fit on the history before today), today's offered
    contacts in the intervals that are over, and the adjusted rest of the day."""
    today = as_of.date()
    start = local_midnight(today, fit.tz).astimezone(UTC)
    stop = local_midnight(today + timedelta(days=1), fit.tz).astimezone(UTC)
    step = timedelta(seconds=fit.interval_s)
    starts = [start + i * step for i in range(int((stop - start) / step))]
    day = _stored_day(fit, starts) or _fitted_day(fit, starts, today, stop)
    actual = fit.offered(today, today, ("offered",))
    arrived = dict(zip(pd.to_datetime(actual["interval_start"]).dt.tz_convert(UTC),
                       actual["contacts"], strict=True))
    elapsed = sum(1 for s in starts if s + step <= as_of)
    so_far = np.array([float(arrived.get(pd.Timestamp(s), 0.0)) for s in starts[:elapsed]])
    return intraday_forecast(day, so_far, damping=damping, bounds=bounds)


def _stored_day(fit: _Fitter, starts: list[datetime]) -> QueueForecast | None:
    """The day's forecast in the store: per interval the latest made (not intraday)."""
    f = open_tables("duckdb", fit.store_path)("forecasts")
    f = f.filter((f.queue == fit.queue) & (f.interval_s == fit.interval_s)
                 & (f.interval_start >= starts[0]) & (f.interval_start <= starts[-1])
                 & ~f.model.startswith(INTRADAY_PREFIX))
    if fit.tenant is not None:
        f = f.filter(f.tenant == fit.tenant)
    rows = f.to_pandas()
    if rows.empty:
        return None
    rows = rows.sort_values(["created_at", "model"], ascending=[False, True],
                            na_position="last")
    latest = rows.drop_duplicates("interval_start").set_index("interval_start")
    latest.index = pd.to_datetime(latest.index, utc=True)
    keys = [pd.Timestamp(s) for s in starts]
    contacts = latest["contacts"].reindex(keys).to_numpy(dtype=np.float64)
    aht = latest["aht_s"].reindex(keys).to_numpy(dtype=np.float64)
    return QueueForecast(queue=fit.queue, model=str(rows["model"].iloc[0]),
                         backtest_wape=None, baseline_wape=None, scores={},
                         interval_s=fit.interval_s, starts=starts, contacts=contacts, aht_s=aht)


def _fitted_day(fit: _Fitter, starts: list[datetime], today: date,
                stop: datetime) -> QueueForecast:
    """The day forecast from the history before it, when the store has no forecast of it."""
    (made,) = fit(today - timedelta(days=1), 0.0, stop)
    by_start = {s: i for i, s in enumerate(made.starts)}
    picks = [by_start.get(s) for s in starts]
    contacts = np.array([np.nan if i is None else made.contacts[i] for i in picks])
    aht = np.array([np.nan if i is None else made.aht_s[i] for i in picks])
    return replace(made, starts=starts, contacts=contacts, aht_s=aht)


def _store(store_path: Path, results: list[QueueForecast], tenant: str | None) -> None:
    if not results:
        return
    rows = forecast_rows(results, tenant=tenant or "default", created_at=datetime.now(UTC))
    with Store.open(store_path) as store:
        store.upsert("forecasts", rows)


def _write_plan(path: Path, results: list[QueueForecast], tz: ZoneInfo) -> None:
    columns = ["interval_start", "queue", "contacts", "aht_s", "required_agents"]
    frames = [staffing_table(item, tz) for item in results]
    plan = pd.concat(frames) if frames else pd.DataFrame(columns=columns)
    try:
        plan.to_csv(path, index=False)
    except OSError as error:
        raise InputError(f"--plan-out: cannot write {path} ({error})") from None


def _number(value: float | None, digits: int) -> float | None:
    return None if value is None or value != value else round(float(value), digits)


def _records(item: QueueForecast, tz: Any) -> list[dict[str, Any]]:
    required = item.required_agents
    return [
        {"interval_start": start.astimezone(tz).isoformat(), "queue": item.queue,
         "contacts": round(float(c), 3), "aht_s": _number(a, 1), "model": item.model,
         **({} if required is None else {"required_agents": int(required[i])})}
        for i, (start, c, a) in enumerate(zip(item.starts, item.contacts, item.aht_s,
                                              strict=True))
    ]


def _render(results: list[QueueForecast], output: str, tz: Any) -> None:
    records = [r for item in results for r in _records(item, tz)]
    if output == "json":
        summary = [{"queue": i.queue, "model": i.model, "backtest_wape": i.backtest_wape,
                    "baseline_wape": i.baseline_wape, "scores": dict(i.scores),
                    "aht_model": i.aht_model, "aht_scores": dict(i.aht_scores)}
                   for i in results]
        typer.echo(json.dumps({"models": summary, "forecast": records}, indent=2))
        return
    if output == "csv":
        _echo_csv(records)
        return
    for item in results:
        console.print(_summary(item))
        for note in item.notes:
            console.print(f"  note: {note}")
    staffed = any(i.required_agents is not None for i in results)
    table = Table(title="Forecast per interval")
    for name, justify in (("interval", "left"), ("queue", "left"), ("contacts", "right"),
                          ("AHT s", "right"), *([("agents", "right")] if staffed else [])):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in records:
        table.add_row(r["interval_start"][:16], r["queue"], f"{r['contacts']:,.1f}",
                      "—" if r["aht_s"] is None else f"{r['aht_s']:,.0f}",
                      *([str(r.get("required_agents", "—"))] if staffed else []))
    console.print(table)


def _echo_csv(records: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]) if records else ["queue"],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    typer.echo(buffer.getvalue(), nl=False)


def _intraday_records(day: IntradayForecast, staffed: QueueForecast | None,
                      tz: Any) -> list[dict[str, Any]]:
    required = None if staffed is None or staffed.required_agents is None else dict(
        zip(staffed.starts, staffed.required_agents, strict=True))
    records = []
    for i, start in enumerate(day.starts):
        record = {
            "interval_start": start.astimezone(tz).isoformat(), "queue": day.queue,
            "actual": float(day.actual[i]) if i < day.elapsed else None,
            "original": round(float(day.original[i]), 3),
            "adjusted": round(float(day.adjusted[i]), 3), "aht_s": _number(day.aht_s[i], 1),
        }
        if required is not None:
            agents = required.get(start)
            record["required_agents"] = None if agents is None else int(agents)
        records.append(record)
    return records


def _render_intraday(day: IntradayForecast, results: list[QueueForecast], output: str,
                     tz: Any) -> None:
    records = _intraday_records(day, results[0] if results else None, tz)
    if output == "json":
        typer.echo(json.dumps({"queue": day.queue, "model": day.model,
                               "elapsed": day.elapsed, "factor": day.factor,
                               "intervals": records}, indent=2))
        return
    if output == "csv":
        _echo_csv(records)
        return
    actual, planned = float(day.actual.sum()), float(day.original[:day.elapsed].sum())
    console.print(f"{day.queue}: {actual:,.0f} contacts offered in {day.elapsed} interval(s) "
                  f"against {planned:,.1f} forecast; rest of the day × {day.factor:.3f} "
                  f"({day.model})")
    staffed = "required_agents" in (records[0] if records else {})
    table = Table(title="Intraday re-forecast")
    for name in ("interval", "actual", "original", "adjusted", "AHT s",
                 *(["agents"] if staffed else [])):
        table.add_column(name, justify="left" if name == "interval" else "right")

    def cell(value: float | None, spec: str) -> str:
        return "—" if value is None else format(value, spec)

    for r in records:
        table.add_row(r["interval_start"][:16], cell(r["actual"], ",.0f"),
                      cell(r["original"], ",.1f"), cell(r["adjusted"], ",.1f"),
                      cell(r["aht_s"], ",.0f"),
                      *([cell(r["required_agents"], "d")] if staffed else []))
    console.print(table)


def _summary(item: QueueForecast) -> str:
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}%"

    others = ", ".join(f"{name} {pct(score)}" for name, score in sorted(item.scores.items()))
    aht = pct(item.aht_scores.get(item.aht_model))
    return (f"{item.queue}: model {item.model}, backtest WAPE {pct(item.backtest_wape)} "
            f"vs {BASELINE} {pct(item.baseline_wape)} ({others}); handle time "
            f"{item.aht_model}, backtest WAPE {aht}")


def register(app: typer.Typer) -> None:
    app.command()(forecast)
