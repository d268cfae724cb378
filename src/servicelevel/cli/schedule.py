"""``slm schedule``: shifts and breaks that cover a staffing plan (CP-SAT)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
import yaml
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from servicelevel.cli import console
from servicelevel.errors import InputError
from servicelevel.planning.scheduling import Schedule, ScheduleRules, build_schedule

FORMATS = ("table", "csv", "json")


def _rules(path: Path) -> ScheduleRules:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"--rules: cannot read {path} as YAML ({error})") from None
    try:
        return ScheduleRules.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'rules'}: {e['msg']}" for e in error.errors()
        )
        raise InputError(f"{path}: {problems}") from None


def _plan(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(f"--plan: cannot read {path} as CSV ({error})") from None


def _shift_records(result: Schedule) -> list[dict[str, Any]]:
    return [{"template": s.template, "start": s.start.isoformat(), "end": s.end.isoformat(),
             "break_start": None if s.break_start is None else s.break_start.isoformat(),
             "break_end": None if s.break_end is None else s.break_end.isoformat()}
            for s in result.shifts]


def _coverage_records(result: Schedule) -> list[dict[str, Any]]:
    return [{"interval_start": pd.Timestamp(r["interval_start"]).isoformat(),
             **{k: int(r[k]) for k in ("required_agents", "scheduled_agents", "short", "over")}}
            for r in result.coverage.to_dict("records")]


def _render(result: Schedule, output: str) -> None:
    shifts, coverage = _shift_records(result), _coverage_records(result)
    if output == "json":
        typer.echo(json.dumps({
            "status": result.status, "gap": result.gap, "cost": result.cost,
            "under_staffing": result.under_staffing,
            "shortfalls": [t.isoformat() for t in result.shortfalls],
            "shifts": shifts, "coverage": coverage}, indent=2))
        return
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(coverage[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(coverage)
        typer.echo(buffer.getvalue(), nl=False)
        return
    table = Table(title=f"Shifts ({len(shifts)})")
    for key in ("template", "start", "end", "break_start", "break_end"):
        table.add_column(key)
    for s in shifts:
        table.add_row(*(str(v) if v is not None else "" for v in s.values()))
    console.print(table)
    cov = Table(title="Coverage")
    for key in coverage[0]:
        cov.add_column(key, justify="right")
    for r in coverage:
        cov.add_row(*(str(v) for v in r.values()), style="red" if r["short"] else None)
    console.print(cov)
    console.print(f"Status {result.status}, gap {result.gap:.1%}, cost {result.cost:g}, "
                  f"{result.under_staffing} agent-interval(s) short", highlight=False)
    if result.shortfalls:
        console.print("Short: " + ", ".join(t.isoformat() for t in result.shortfalls),
                      highlight=False)


def schedule_command(
    plan: Annotated[Path, typer.Option("--plan", help="CSV: interval_start,required_agents.")],
    rules: Annotated[Path, typer.Option("--rules", help="Scheduling rules (YAML).")],
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Shifts and breaks covering a staffing plan: under-staffing first, then cost."""
    if output not in FORMATS:
        raise InputError(f"--format: {output!r} is not one of {', '.join(FORMATS)}")
    parsed_rules, table = _rules(rules), _plan(plan)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TimeElapsedColumn(), console=console, transient=True,
                  disable=output != "table") as progress:
        task = progress.add_task("solving", total=None)
        result = build_schedule(
            table, parsed_rules,
            on_solution=lambda obj, bound: progress.update(
                task, description=f"solving: objective {obj:g}, bound {bound:g}"),
        )
    _render(result, output)


def register(app: typer.Typer) -> None:
    """Add ``slm schedule`` to ``app``."""
    app.command("schedule")(schedule_command)


__all__ = ["register"]
