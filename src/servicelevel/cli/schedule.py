"""``slm schedule``: shifts, breaks and lunches that cover a staffing plan (CP-SAT), shown
as tables, CSV or JSON, and written to the ``schedules`` table with ``--db``."""

from __future__ import annotations

import csv
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pyarrow as pa
import typer
import yaml
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from servicelevel.cli import console, err_console
from servicelevel.cli.options import TenantOption
from servicelevel.errors import InputError
from servicelevel.planning.scheduling import Schedule, ScheduleRules, build_schedule, schedule_rows

FORMATS = ("table", "csv", "shifts-csv", "json")


def _rules(path: Path) -> ScheduleRules:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"--rules: cannot read {path} as YAML ({error})") from None
    try:
        return ScheduleRules.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'rules'}: "
            f"{e['msg'].removeprefix('Value error, ')}" for e in error.errors())
        raise InputError(f"{path}: {problems}") from None


def _plan(path: Path, column: str, queue: str | None) -> pd.DataFrame:
    """The plan as ``interval_start``, ``required_agents`` (taken from ``column``) and extras;
    a CSV, or JSON records such as ``slm plan --json`` prints. A plan of several queues (a
    ``queue`` column, as ``slm forecast --plan-out`` writes) is cut to ``queue``."""
    try:
        if path.suffix.lower() == ".json":
            table = pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
        else:
            table = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(f"--plan: cannot read {path} ({error})") from None
    if column not in table.columns:
        hint = (" (slm plan's output has agents and scheduled_agents: "
                "pass --column scheduled_agents)" if "scheduled_agents" in table.columns else "")
        raise InputError(f"--plan: {path} has no column {column!r}{hint}; "
                         f"its columns are {', '.join(map(str, table.columns))}")
    if "queue" in table.columns:
        queues = sorted(table["queue"].dropna().astype(str).unique())
        if queue is not None:
            table = table[table["queue"].astype(str) == queue]
            if table.empty:
                raise InputError(f"--queue: {path} has no rows for queue {queue!r}; "
                                 f"its queues are {', '.join(queues)}")
        elif len(queues) > 1:
            raise InputError(f"--plan: {path} holds the queues {', '.join(queues)}; "
                             "schedule one at a time with --queue")
    if column != "required_agents":
        table = table.drop(columns=["required_agents"], errors="ignore").rename(
            columns={column: "required_agents"})
    return table


def _iso(value: pd.Timestamp | None) -> str | None:
    return None if value is None else value.isoformat()


def _shift_records(result: Schedule) -> list[dict[str, Any]]:
    return [{"agent_id": s.agent_id, "template": s.template, "start": _iso(s.start),
             "end": _iso(s.end), "break_start": _iso(s.break_start),
             "break_end": _iso(s.break_end),
             "breaks": [{"kind": b.kind, "start": _iso(b.start), "end": _iso(b.end),
                         "paid": b.paid} for b in s.breaks]}
            for s in result.shifts]


def _coverage_records(result: Schedule) -> list[dict[str, Any]]:
    return [{"interval_start": pd.Timestamp(r["interval_start"]).isoformat(),
             **{k: int(r[k]) for k in ("required_agents", "scheduled_agents", "short", "over")},
             "open": bool(r["open"]), "min_agents": int(r["min_agents"]),
             "max_agents": None if pd.isna(r["max_agents"]) else int(r["max_agents"])}
            for r in result.coverage.to_dict("records")]


def _csv(records: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if records:
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return buffer.getvalue()


def _summary(result: Schedule) -> dict[str, Any]:
    return {"status": result.status, "gap": result.gap, "gaps": result.gaps,
            "cost": result.cost, "under_staffing": result.under_staffing,
            "under_staffing_bound": result.under_staffing_bound,
            "over_staffing": result.over_staffing,
            "solve_seconds": round(result.solve_seconds, 3),
            "shortfalls": [t.isoformat() for t in result.shortfalls]}


def _render(result: Schedule, output: str, stored: dict[str, Any] | None) -> None:
    shifts, coverage = _shift_records(result), _coverage_records(result)
    if output == "json":
        typer.echo(json.dumps({**_summary(result), "shifts": shifts, "coverage": coverage,
                               "stored": stored}, indent=2))
        return
    if output in ("csv", "shifts-csv"):
        rows = coverage if output == "csv" else [
            {k: v for k, v in s.items() if k != "breaks"}
            | {"breaks": "; ".join(f"{b['kind']} {b['start']}/{b['end']}" for b in s["breaks"])}
            for s in shifts]
        typer.echo(_csv(rows), nl=False)
        return
    table = Table(title=f"Shifts ({len(shifts)})")
    for key in ("agent", "template", "start", "end", "breaks"):
        table.add_column(key)
    for s in sorted(result.shifts, key=lambda s: (s.agent_id or "", s.start)):
        table.add_row(s.agent_id or "", s.template, str(s.start), str(s.end), ", ".join(
            f"{b.kind} {b.start:%H:%M}–{b.end:%H:%M}" for b in s.breaks))
    console.print(table)
    cov = Table(title="Coverage (short intervals in red)")
    for key in ("interval_start", "required_agents", "scheduled_agents", "short", "over"):
        cov.add_column(key, justify="right")
    for r in coverage:
        if r["open"]:
            cov.add_row(r["interval_start"], *(str(r[k]) for k in (
                "required_agents", "scheduled_agents", "short", "over")),
                style="red" if r["short"] else None)
    console.print(cov)
    gaps = result.gaps
    proven = f" (proven least {result.under_staffing_bound})" \
        if gaps.get("under_staffing", 0.0) > 0 else ""
    cost_gap = f" (gap {gaps['cost']:.1%})" if gaps.get("cost", 0.0) > 0 else ""
    console.print(f"Status {result.status}: {result.under_staffing} agent-interval(s) short"
                  f"{proven}, cost {result.cost:g}{cost_gap}, {result.over_staffing} "
                  f"agent-interval(s) over, solved in {result.solve_seconds:.1f} s",
                  highlight=False)
    if result.shortfalls:
        console.print("Short: " + ", ".join(t.isoformat() for t in result.shortfalls),
                      highlight=False)
    if stored:
        console.print(f"Wrote {stored['rows']} row(s) to the schedules table of {stored['db']}",
                      highlight=False)


def _store(result: Schedule, rules: ScheduleRules, db: Path, tenant: str, queue: str | None,
           tz: str | None) -> dict[str, Any]:
    """Replace the tenant's schedule rows for these agents and period, in one transaction."""
    from servicelevel.store import Store

    try:
        rows = schedule_rows(result, tenant=tenant, queue=queue, tz=tz)
    except Exception as error:  # an unknown zone, or a wall-clock time that does not exist
        raise InputError(f"--tz: cannot place the schedule in {tz!r} ({error})") from None
    times = pd.Series(pd.to_datetime(result.coverage["interval_start"]))
    step = pd.Timedelta(minutes=rules.interval_minutes)
    span = pd.Series([times.min(), times.max() + step]).dt.tz_localize(tz or "UTC")
    low, high = span.dt.tz_convert("UTC")
    if not rows.empty:
        low, high = min(low, rows["started_at"].min()), max(high, rows["ended_at"].max())
    agents = ([a.id for a in rules.agents] if rules.agents else None)
    with Store.open(db) as store, store.transaction():
        where = "tenant = ? AND started_at >= ? AND started_at < ?"
        params: list[Any] = [tenant, low.to_pydatetime(), high.to_pydatetime()]
        if agents is None:  # anonymous shifts are numbered A001, A002, …
            where += " AND regexp_full_match(agent_id, 'A[0-9]{3,}')"
        else:
            where += f" AND agent_id IN ({', '.join('?' for _ in agents)})"
            params += agents
        store.connection.execute(f"DELETE FROM schedules WHERE {where}", params)
        store.upsert("schedules", pa.Table.from_pandas(rows, preserve_index=False))
    return {"db": str(db), "tenant": tenant, "rows": len(rows)}


def schedule_command(
    plan: Annotated[Path, typer.Option(
        "--plan", help="CSV (or .json records) with interval_start and required_agents; "
        "other columns are ignored.")],
    rules: Annotated[Path, typer.Option("--rules", help="Scheduling rules (YAML).")],
    output: Annotated[str, typer.Option(
        "--format", help="table, csv (coverage), shifts-csv or json.")] = "table",
    db: Annotated[Path | None, typer.Option(
        "--db", help="Store file to write the schedule to (nothing is written without).")
    ] = None,
    tenant: TenantOption = None,
    queue: Annotated[str | None, typer.Option(
        "--queue", help="The plan's queue to schedule, and the queue of the stored rows.")
    ] = None,
    tz: Annotated[str | None, typer.Option(
        "--tz", help="Zone of the plan's wall-clock times, for the stored rows (default UTC).")
    ] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", help="Seconds to solve (default: the rules' time_limit_seconds).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Solver threads.")] = 2,
    column: Annotated[str, typer.Option(
        "--column", help="Plan column holding the agents required.")] = "required_agents",
) -> None:
    """Shifts, breaks and lunches covering a staffing plan: under-staffing first, then cost."""
    if output not in FORMATS:
        raise InputError(f"--format: {output!r} is not one of {', '.join(FORMATS)}")
    if (time_limit is not None and time_limit <= 0) or workers < 1:
        raise InputError("--time-limit and --workers: must be above 0")
    parsed_rules, table = _rules(rules), _plan(plan, column, queue)
    limit = parsed_rules.time_limit_seconds if time_limit is None else time_limit
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TimeElapsedColumn(), TextColumn(f"of {limit:g} s"), console=err_console,
                  transient=True, disable=not err_console.is_terminal) as progress:
        task = progress.add_task("solving", total=limit)
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(
                build_schedule, table, parsed_rules, workers=workers, time_limit=time_limit,
                on_solution=lambda phase, obj, bound: progress.update(
                    task, description=f"{phase.replace('_', '-')}: {obj:g} (bound {bound:g})"))
            began = time.monotonic()
            while not future.done():
                progress.update(task, completed=min(time.monotonic() - began, limit))
                time.sleep(0.2)
            result = future.result()
    stored = None
    if db is not None:
        stored = _store(result, parsed_rules, db, tenant or "default", queue, tz)
    _render(result, output, stored)


def register(app: typer.Typer) -> None:
    """Add ``slm schedule`` to ``app``."""
    app.command("schedule")(schedule_command)


__all__ = ["register"]
