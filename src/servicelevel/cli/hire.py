"""``slm hire``: the classes to hire, per week, for a staffing plan against the roster."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from servicelevel.cli import console
from servicelevel.cli.kpi import FORMATS, parse_date
from servicelevel.cli.options import DbOption, TenantOption, db_path
from servicelevel.errors import InputError
from servicelevel.model.time import parse_duration, zone
from servicelevel.planning.hiring import (
    Attrition,
    HiringPlan,
    hiring_plan,
    monthly_to_weekly,
    weekly_attrition,
    weekly_required_fte,
)
from servicelevel.store import Store

_WEEK_S = 7 * 86_400


def hire(
    plan: Annotated[Path, typer.Option(
        "--plan", help="Staffing plan CSV: interval_start,required_agents (seated agents).")],
    db: DbOption = None,
    tenant: TenantOption = None,
    tz: Annotated[str, typer.Option(help="Zone of the plan's times and of the weeks.")] = "UTC",
    hours_per_fte: Annotated[float, typer.Option(
        "--hours-per-fte", help="Paid hours of one FTE a week.")] = 37.5,
    shrinkage: Annotated[float, typer.Option(
        help="Share of paid time off the phones; 0 when the plan already includes it.")] = 0.0,
    training_weeks: Annotated[int, typer.Option(
        "--training-weeks", help="Weeks from class start to going live.")] = 6,
    attrition_window: Annotated[str, typer.Option(
        "--attrition-window", help="History the attrition rate is measured over.")] = "26w",
    attrition: Annotated[float | None, typer.Option(
        "--attrition", help="Monthly attrition rate instead of the history's, e.g. 0.03.")
    ] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Today (YYYY-MM-DD): roster and attrition up to it [default: today].")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only agents of this team.")] = None,
    site: Annotated[str | None, typer.Option(help="Only agents of this site.")] = None,
    role: Annotated[str, typer.Option(
        help="Only roster rows of this role (rows with no role count too); '' for all.")
    ] = "agent",
    fte_per_agent: Annotated[float, typer.Option(
        "--fte-per-agent", help="FTE each agent of the roster counts for.")] = 1.0,
    class_size: Annotated[int | None, typer.Option(
        "--class-size", help="Classes start with a multiple of this many trainees.")] = None,
    training_attrition: Annotated[float, typer.Option(
        "--training-attrition", help="Share of trainees who leave before going live.")] = 0.0,
    interval: Annotated[str | None, typer.Option(
        help="Interval length of the plan [default: its interval_s, or its step].")] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Initial and replacement hires per week, timed by the training lead time."""
    if output not in FORMATS:
        raise InputError(f"--format: {output!r} is not one of {', '.join(FORMATS)}")
    local = zone(tz, option="--tz")
    today = parse_date(as_of, "--as-of") or datetime.now(UTC).astimezone(local).date()
    required = weekly_required_fte(
        _read_plan(plan), tz=local, hours_per_fte=hours_per_fte, shrinkage=shrinkage,
        interval_s=None if interval is None else parse_duration(interval, option="--interval"))
    roster = _roster(db_path(db), tenant, team, site, role)
    rate = _attrition(roster, today, attrition, attrition_window)
    result = hiring_plan(required, roster, as_of=today, attrition=rate,
                         training_weeks=training_weeks, fte_per_agent=fte_per_agent,
                         class_size=class_size, training_attrition=training_attrition)
    _render(result, output)


def _read_plan(path: Path) -> pd.DataFrame:
    try:
        plan: pd.DataFrame = pd.read_csv(path)
        return plan
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(f"--plan: cannot read {path} as CSV ({error})") from None


def _roster(path: Path, tenant: str | None, team: str | None, site: str | None,
            role: str) -> pd.DataFrame:
    with Store.open(path, read_only=True) as store:
        agents: pd.DataFrame = store.table("agents").to_pandas()
    keep = pd.Series(True, index=agents.index)
    for column, wanted in (("tenant", tenant), ("team", team), ("site", site)):
        if wanted is not None:
            keep &= agents[column] == wanted
    if role:
        keep &= agents["role"].isna() | (agents["role"] == role)
    return agents[keep]


def _attrition(roster: pd.DataFrame, today: date, monthly: float | None,
               window: str) -> Attrition:
    if monthly is not None:
        return Attrition(weekly=monthly_to_weekly(monthly),
                         source=f"given: {monthly:.1%} a month")
    weeks = parse_duration(window, option="--attrition-window") / _WEEK_S
    if weeks != int(weeks):
        raise InputError(f"--attrition-window: {window!r} is not whole weeks; write e.g. 26w")
    return weekly_attrition(roster, as_of=today, window_weeks=int(weeks))


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):
        return _plain(value.item())
    if isinstance(value, float):
        return round(value, 3)
    return value


def _records(result: HiringPlan) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()}
            for row in result.weeks.to_dict("records")]


def _render(result: HiringPlan, output: str) -> None:
    records = _records(result)
    if output == "json":
        rate = result.attrition
        typer.echo(json.dumps({
            "attrition": {"weekly": rate.weekly, "monthly": rate.monthly, "source": rate.source},
            "training_weeks": result.training_weeks,
            "initial_hires": result.initial_hires,
            "replacement_hires": result.replacement_hires,
            "too_late": [w.isoformat() for w in result.too_late],
            "notes": list(result.notes), "weeks": records,
        }, indent=2))
        return
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        typer.echo(buffer.getvalue(), nl=False)
        return
    rate = result.attrition
    console.print(f"Attrition {rate.weekly:.2%} a week ({rate.monthly:.1%} a month): "
                  f"{rate.source}")
    console.print(f"Hires: {result.initial_hires} initial, {result.replacement_hires} "
                  f"replacement; training {result.training_weeks} week(s)")
    if result.too_late:
        console.print("Too late to hire for (short within the training lead time): "
                      + ", ".join(w.isoformat() for w in result.too_late))
    for note in result.notes:
        console.print(f"  note: {note}")
    table = Table(title="Hiring plan per week")
    columns = (("week", "week_start", ""), ("required FTE", "required_fte", ".1f"),
               ("headcount", "projected_headcount", ".1f"),
               ("leavers", "expected_leavers", ".2f"), ("gap", "gap", ".1f"),
               ("from classes", "from_classes", ".1f"), ("short", "short", ".1f"),
               ("start training", "trainees", "d"), ("initial", "initial_hires", "d"),
               ("replacement", "replacement_hires", "d"), ("goes live", "goes_live", ""))
    for title, _, _ in columns:
        table.add_column(title, justify="left" if title in ("week", "goes live") else "right")
    for r in records:
        cells = ["—" if r[key] is None else format(r[key], spec) for _, key, spec in columns]
        if r["too_late"]:
            cells[6] += " too late"
        table.add_row(*cells)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(hire)
