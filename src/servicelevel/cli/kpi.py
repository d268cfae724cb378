"""``slm kpi``: metrics per period and group, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from servicelevel.cli import console
from servicelevel.cli.options import DbOption, TenantOption, db_path
from servicelevel.errors import InputError
from servicelevel.metrics import (
    KpiQuery,
    KpiRow,
    MetricRequest,
    PeriodSpec,
    Unit,
    compute,
    get_metric,
)
from servicelevel.model.time import zone
from servicelevel.store.backends import open_tables

FORMATS = ("table", "csv", "json")


def parse_params(items: list[str]) -> dict[str, dict[str, str]]:
    """``metric.name=value`` items as {metric: {name: value}}."""
    params: dict[str, dict[str, str]] = {}
    for item in items:
        target, sep, value = item.partition("=")
        metric, dot, name = target.partition(".")
        if not sep or not dot or not metric or not name:
            raise InputError(
                f"--param: {item!r} is not metric.parameter=value; write e.g. "
                "service_level.threshold=20"
            )
        params.setdefault(metric.strip(), {})[name.strip()] = value.strip()
    return params


def build_query(
    metric_keys: str, params: list[str], period: str, by: str | None, tz: str,
    start: str | None, end: str | None, tenant: str | None,
) -> KpiQuery:
    keys = [k.strip() for k in metric_keys.split(",") if k.strip()]
    if not keys:
        raise InputError("--metrics: name at least one metric, e.g. service_level,asa")
    given = parse_params(params)
    for metric in given:
        if metric not in keys:
            get_metric(metric)  # an unknown name suggests the nearest
            raise InputError(f"--param: {metric} is not among --metrics {metric_keys}")
    return KpiQuery(
        metrics=[MetricRequest.of(k, given.get(k)) for k in keys],
        period=PeriodSpec.parse(period),
        tz=zone(tz, option="--tz"),
        by=[b.strip() for b in by.split(",") if b.strip()] if by else [],
        start=parse_date(start, "--from"),
        end=parse_date(end, "--to"),
        tenant=tenant,
    )


def parse_date(text: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` option, or None when not given."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option}: {text!r} is not a date; write YYYY-MM-DD") from None


def render(rows: list[KpiRow], output: str) -> str | Table:
    """JSON and CSV: one row per period, group and metric. Table: metrics as columns."""
    records = [row.to_dict() for row in rows]
    if output == "json":
        return json.dumps(records, indent=2)
    if output == "csv":
        buffer = io.StringIO()
        columns = ["period_start", *_group_names(rows), "metric", "value", "numerator",
                   "denominator"]
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return buffer.getvalue()
    return pivot_table(rows)


def _group_names(rows: list[KpiRow]) -> list[str]:
    return [name for name, _ in rows[0].group] if rows else []


def pivot_table(rows: list[KpiRow], title: str | None = None) -> Table:
    """Periods (and groups) as rows, metrics as columns."""
    metrics: list[str] = list(dict.fromkeys(row.metric for row in rows))
    lines: dict[tuple[Any, ...], dict[str, float | None]] = {}
    for row in rows:
        lines.setdefault((row.period_start, *row.group), {})[row.metric] = row.value
    table = Table(title=title)
    table.add_column("period")
    for name in _group_names(rows):
        table.add_column(name)
    units = {metric: get_metric(metric).unit for metric in metrics}
    for metric in metrics:
        table.add_column(f"{metric} {_UNIT_LABELS.get(units[metric], '')}".strip(),
                         justify="right")
    for key, values in lines.items():
        start, *group = key
        table.add_row(
            _period_label(start), *(_cell(v[1]) for v in group),
            *(_cell(values.get(m), units[m]) for m in metrics),
        )
    return table


_UNIT_LABELS = {Unit.PERCENT: "%", Unit.SECONDS: "s", Unit.HOURS: "h"}


def _period_label(start: datetime) -> str:
    if start.hour == start.minute == 0:
        return start.date().isoformat()
    return start.isoformat(timespec="minutes")


def _cell(value: Any, unit: Unit | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if unit in (Unit.CONTACTS, Unit.COUNT) else f"{value:,.2f}"
    return str(value)


def kpi(
    metrics: Annotated[str, typer.Option("--metrics", help="Comma-separated metric keys.")],
    db: DbOption = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="metric.parameter=value, e.g. service_level.threshold=20"),
    ] = None,
    period: Annotated[str, typer.Option(help="15m, 30m, 60m, day, week or month.")] = "month",
    by: Annotated[str | None, typer.Option(help="Group by: tenant,queue,channel,team,agent,"
                                           "service_type,priority.")] = None,
    tz: Annotated[str, typer.Option(help="Zone the periods are cut in.")] = "UTC",
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, included.")] = None,
    tenant: TenantOption = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    engine: Annotated[str, typer.Option(help="Engine to compute on: duckdb or spark.")] = "duckdb",
    spark_master: Annotated[str, typer.Option(
        "--spark-master", help="Spark master URL with --engine spark.")] = "local[2]",
) -> None:
    """Compute metrics per period and group."""
    if output not in FORMATS:
        raise InputError(f"--format: {output!r} is not one of {', '.join(FORMATS)}")
    query = build_query(metrics, param or [], period, by, tz, start, end, tenant)
    rows = compute(open_tables(engine, db_path(db), spark_master=spark_master), query)
    rendered = render(rows, output)
    if isinstance(rendered, str):
        typer.echo(rendered, nl=not rendered.endswith("\n"))
    else:
        console.print(rendered)


def register(app: typer.Typer) -> None:
    app.command()(kpi)
