"""``slm contract validate|schema``, ``slm check`` and ``slm scorecard``: SLAs as code.

``slm check`` exits 0 when every objective is met (insufficient data and excluded
periods are not misses), 1 when any is missed, 2 for invalid input.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from servicelevel.cli import EXIT_INVALID_INPUT, console
from servicelevel.cli.options import DbOption, db_path
from servicelevel.errors import ContractError, InputError
from servicelevel.sla import (
    Contract,
    Evaluation,
    Selection,
    check,
    load_contract,
    load_scorecards,
    scorecard,
)
from servicelevel.store.backends import open_tables

EXIT_MISSED = 1
FORMATS = ("table", "json")
contract_app = typer.Typer(help="SLA contracts: validate a file, print the JSON Schema.",
                           no_args_is_help=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the contract: {error}") from None


def _as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    except ValueError:
        raise InputError(f"--as-of: {text!r} is not a date; write YYYY-MM-DD") from None


@contract_app.command("validate")
def validate(file: Annotated[Path, typer.Argument(help="Contract YAML file.")]) -> None:
    """Report every problem of a contract at once, each at file:line:column."""
    try:
        loaded = load_contract(_read(file), str(file))
    except ContractError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        typer.echo(f"{len(error.problems)} problem(s) in {file}", err=True)
        raise typer.Exit(EXIT_INVALID_INPUT) from None
    c = loaded.contract
    versions = ", ".join([c.version, *(a.version for a in c.amendments)])
    console.print(f"{file}: valid contract {c.contract!r} ({len(c.objectives)} objective(s), "
                  f"version(s) {versions}), sha256 {loaded.sha256}", highlight=False)


@contract_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the contract file."""
    typer.echo(json.dumps(Contract.model_json_schema(), indent=2))


def check_command(
    contract: Annotated[Path, typer.Argument(help="Contract YAML file.")],
    db: DbOption = None,
    period: Annotated[str | None, typer.Option(
        help="1999-02, 1999, 1999-01..1999-10 [default: every period with data].")] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Judge as on this day (YYYY-MM-DD): later periods are running.")] = None,
) -> None:
    """Judge every objective of a contract per period: verdicts, budgets, consequences."""
    if output not in FORMATS:
        raise InputError(f"--format: {output!r} is not one of {', '.join(FORMATS)}")
    loaded = load_contract(_read(contract), str(contract))
    evaluation = check(open_tables("duckdb", db_path(db)), loaded, Selection.parse(period),
                       _as_of(as_of))
    if output == "json":
        typer.echo(json.dumps(evaluation.to_dict(), indent=2))
    else:
        console.print(render_check(evaluation))
        console.print(_footer(evaluation), highlight=False)
    if evaluation.any_missed:
        raise typer.Exit(EXIT_MISSED)


def render_check(evaluation: Evaluation) -> Table:
    running = any(r.projection for r in evaluation.results)
    table = Table(title=f"{evaluation.contract}: contract compliance")
    for name in ("period", "objective", "ver", "actual", "target", "verdict", "margin",
                 "error budget", "95% CI", "stat.", "consequence", "status"):
        table.add_column(name, justify="right" if name in (
            "actual", "target", "margin", "error budget", "consequence") else "left")
    if running:
        table.add_column("projected", justify="right")
        table.add_column("needed rest", justify="right")
    for r in evaluation.results:
        ci = f"{r.ci_low:.1f}–{r.ci_high:.1f}" if r.ci_low is not None and r.ci_high else "—"
        budget = "—" if r.error_budget is None else f"{r.error_budget:,.0f} {_short(r)}"
        cells = [r.period, r.objective, r.version, _num(r.actual),
                 f"{r.comparison} {r.target:g}",
                 f"{r.verdict} so far" if r.running else r.verdict, _num(r.margin), budget, ci,
                 r.statistical_verdict or "—", f"{r.consequence:,.2f}",
                 r.consequence_status or ""]
        if running:
            p = r.projection
            cells += [_num(p.projected) if p else "", (
                p.status if p and p.status in ("cannot be met", "secured")
                else _num(p.required_rest)) if p else ""]
        table.add_row(*cells)
    return table


def _short(r: object) -> str:
    unit = getattr(r, "error_budget_unit", "") or ""
    return {"seconds in total": "s total"}.get(unit, unit)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _footer(evaluation: Evaluation) -> str:
    counts = {v: sum(1 for r in evaluation.results if r.verdict == v)
              for v in ("met", "missed", "insufficient data", "excluded")}
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    currency = f" {evaluation.currency}" if evaluation.currency else ""
    return (f"{summary}. Total consequences: {evaluation.total:,.2f}{currency} (the sum of "
            f"the rows).\nContract {evaluation.contract} version(s) "
            f"{', '.join(evaluation.versions)}, sha256 {evaluation.sha256}")


STANDARD_SCORECARDS = Path(
    str(resources.files("servicelevel").joinpath("data", "scorecards", "standard.yaml"))
)


def scorecard_command(
    role: Annotated[str, typer.Option(help="agent, team_lead, qa, trainer or ops_manager.")],
    contract: Annotated[Path | None, typer.Option(
        "--contract", help="Contract (or scorecards) YAML file holding the scorecards "
        "[default: the standard scorecards shipped with servicelevel].")] = None,
    db: DbOption = None,
    period: Annotated[str | None, typer.Option(help="1999-02, 1999 or 1999-01..1999-10.")
                      ] = None,
    who: Annotated[str | None, typer.Option(help="Only this agent or team.")] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """A role's KPIs against their targets, per month (and per person)."""
    if output not in FORMATS:
        raise InputError(f"--format: {output!r} is not one of {', '.join(FORMATS)}")
    contract = contract or STANDARD_SCORECARDS
    source = load_scorecards(_read(contract), str(contract))
    selection = Selection.parse(period)
    lines = scorecard(open_tables("duckdb", db_path(db)), source, role, selection.first,
                      selection.last, who)
    if output == "json":
        typer.echo(json.dumps([line.to_dict() for line in lines], indent=2))
        return
    table = Table(title=f"{role} scorecard")
    for name in ("period", "who", "kpi", "actual", "target", "verdict"):
        table.add_column(name, justify="right" if name in ("actual", "target") else "left")
    for line in lines:
        table.add_row(line.period, line.who or "all", line.kpi, _num(line.actual),
                      f"{line.comparison} {line.target:g}", line.verdict)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app, name="contract")
    app.command("check")(check_command)
    app.command("scorecard")(scorecard_command)
