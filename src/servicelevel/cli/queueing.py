"""``slm staff``, ``slm plan``, ``slm cost-curve``, ``slm simulate``: queueing and staffing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from servicelevel.cli import console
from servicelevel.cli.options import JsonOption
from servicelevel.errors import InputError
from servicelevel.model.time import parse_duration
from servicelevel.planning import cost_curve, staff, staffing_plan
from servicelevel.queueing import MODELS, Targets, offered_traffic, performance
from servicelevel.queueing.simulation import simulate

Calls = Annotated[float, typer.Option("--calls", help="Contacts offered per interval.")]
Interval = Annotated[str, typer.Option("--interval", help="Interval length, e.g. 30m.")]
Aht = Annotated[str, typer.Option("--aht", help="Average handling time, e.g. 180 or 3m.")]
Sl = Annotated[float | None, typer.Option("--sl", help="Service level target, e.g. 0.8.")]
Within = Annotated[str, typer.Option("--within", help="Answer-time threshold, e.g. 20s.")]
Model = Annotated[str, typer.Option("--model", help="erlang_c or erlang_a.")]
Patience = Annotated[
    str | None, typer.Option("--patience", help="Mean patience (Erlang A), e.g. 120s.")
]
MaxOcc = Annotated[
    float | None, typer.Option("--max-occupancy", help="Highest occupancy, e.g. 0.85.")
]
Shrinkage = Annotated[float, typer.Option("--shrinkage", help="Share of paid time off the phones.")]
Asa = Annotated[str | None, typer.Option("--asa", help="Highest ASA, e.g. 30s.")]
MaxAbandon = Annotated[
    float | None, typer.Option("--max-abandon", help="Highest abandon probability, e.g. 0.05.")
]
CostPerHour = Annotated[
    float | None, typer.Option("--cost-per-hour", help="Cost of one scheduled agent hour.")
]


def _share(value: float | None, option: str) -> float | None:
    if value is not None and not 0.0 < value <= 1.0:
        raise InputError(f"{option}: {value!r} is not a share; write e.g. 0.8 for 80%")
    return value


def model_choice(model: str, patience: str | None) -> tuple[str, float | None]:
    """``--model`` and ``--patience`` checked: the model's name and the patience in seconds."""
    if model not in MODELS:
        raise InputError(f"--model: {model!r} is not one of {', '.join(MODELS)}")
    if model == "erlang_a" and patience is None:
        raise InputError("--patience: Erlang A needs the mean patience, e.g. --patience 120s")
    return model, None if patience is None else parse_duration(patience, option="--patience")


def staffing_targets(sl: float | None, within: str, asa: str | None,
                     max_abandon: float | None, max_occupancy: float | None) -> Targets:
    """The staffing targets of ``--sl/--within``, ``--asa``, ``--max-abandon`` and
    ``--max-occupancy``, checked together."""
    targets = Targets(
        service_level=_share(sl, "--sl"), threshold=parse_duration(within, option="--within"),
        asa=None if asa is None else parse_duration(asa, option="--asa"),
        abandon_probability=_share(max_abandon, "--max-abandon"),
        max_occupancy=_share(max_occupancy, "--max-occupancy"),
    )
    problems = targets.check()
    if problems:
        raise InputError("; ".join(problems))
    return targets


def _plain(value: Any) -> Any:
    """JSON-safe: NumPy scalars to Python, infinities and NaN to null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print_records(records: list[dict[Any, Any]], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps([{k: _plain(v) for k, v in r.items()} for r in records]))
        return
    table = Table(title=title)
    for key in records[0]:
        table.add_column(key, justify="right")
    for r in records:
        table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.values()))
    console.print(table)


def staff_command(
    calls: Calls, interval: Interval, aht: Aht, within: Within = "20s", sl: Sl = None,
    model: Model = "erlang_c", patience: Patience = None, max_occupancy: MaxOcc = None,
    shrinkage: Shrinkage = 0.0, asa: Asa = None, max_abandon: MaxAbandon = None,
    as_json: JsonOption = False,
) -> None:
    """Agents needed for one interval to meet every target together."""
    model_name, patience_s = model_choice(model, patience)
    targets = staffing_targets(sl, within, asa, max_abandon, max_occupancy)
    result = staff(calls, parse_duration(interval, option="--interval"),
                   parse_duration(aht, option="--aht"), targets, model=model_name,
                   patience=patience_s, shrinkage=checked_shrinkage(shrinkage))
    record = {k: _plain(v) for k, v in result.as_dict().items()}
    if as_json:
        typer.echo(json.dumps(record))
        return
    table = Table(title=f"Staffing ({model_name})", show_header=False)
    for key, value in record.items():
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    console.print(table)
    if model_name == "erlang_a" and targets.abandon_probability is None:
        console.print(f"Implied abandon rate: {result.abandon_probability:.1%}")


def checked_shrinkage(value: float) -> float:
    """``--shrinkage`` as a share in [0, 1)."""
    if not 0.0 <= value < 1.0:
        raise InputError(f"--shrinkage: {value!r} is not a share in [0, 1); write e.g. 0.3")
    return value


def plan_command(
    source: Annotated[Path, typer.Option("--from", help="CSV with calls and aht columns.")],
    interval: Interval = "30m", within: Within = "20s", sl: Sl = None, model: Model = "erlang_c",
    patience: Patience = None, max_occupancy: MaxOcc = None, shrinkage: Shrinkage = 0.0,
    asa: Asa = None, max_abandon: MaxAbandon = None, cost_per_hour: CostPerHour = None,
    as_json: JsonOption = False,
) -> None:
    """Agents per interval for a table of calls and AHT (seconds) per interval."""
    model_name, patience_s = model_choice(model, patience)
    targets = staffing_targets(sl, within, asa, max_abandon, max_occupancy)
    try:
        table = pd.read_csv(source)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(f"--from: cannot read {source} as CSV ({error})") from None
    plan = staffing_plan(table, targets, interval=parse_duration(interval, option="--interval"),
                         model=model_name, patience=patience_s,
                         shrinkage=checked_shrinkage(shrinkage), cost_per_hour=cost_per_hour)
    _print_records(plan.to_dict("records"), as_json, f"Staffing plan ({model_name})")


def cost_curve_command(
    calls: Calls, interval: Interval, aht: Aht, within: Within = "20s",
    sl_from: Annotated[float, typer.Option("--sl-from", help="Lowest target.")] = 0.5,
    sl_to: Annotated[float, typer.Option("--sl-to", help="Highest target.")] = 0.95,
    step: Annotated[float, typer.Option("--step", help="Step between targets.")] = 0.05,
    model: Model = "erlang_c", patience: Patience = None, shrinkage: Shrinkage = 0.0,
    cost_per_hour: CostPerHour = None, as_json: JsonOption = False,
) -> None:
    """Agents and cost against the service level target: the cost of one more point."""
    model_name, patience_s = model_choice(model, patience)
    if not (0.0 < sl_from <= sl_to < 1.0 and step > 0.0):
        raise InputError("--sl-from, --sl-to, --step: need 0 < from <= to < 1 and step > 0")
    levels = np.round(np.arange(sl_from, sl_to + step / 2, step), 10)
    curve = cost_curve(calls, parse_duration(interval, option="--interval"),
                       parse_duration(aht, option="--aht"),
                       parse_duration(within, option="--within"), levels, model=model_name,
                       patience=patience_s, shrinkage=checked_shrinkage(shrinkage),
                       cost_per_hour=1.0 if cost_per_hour is None else cost_per_hour)
    _print_records(curve.to_dict("records"), as_json, f"Cost of service level ({model_name})")


def simulate_command(
    calls: Calls, interval: Interval, aht: Aht,
    agents: Annotated[int, typer.Option("--agents", help="Agents seated.")],
    within: Within = "20s", model: Model = "erlang_c", patience: Patience = None,
    intervals: Annotated[int, typer.Option("--intervals", help="Intervals to simulate.")] = 48,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Simulate the queue and set it beside the formula's answer."""
    model_name, patience_s = model_choice(model, patience)
    length, h, t = (parse_duration(v, option=o) for v, o in
                    ((interval, "--interval"), (aht, "--aht"), (within, "--within")))
    if agents < 1 or intervals < 1:
        raise InputError("--agents and --intervals: at least 1")
    sim = simulate(np.full(intervals, calls), length, np.full(intervals, agents), aht=h,
                   patience=patience_s, threshold=t, seed=seed).summary()
    theory = performance(offered_traffic(calls, length, h), agents, h, t, model=model_name,
                         patience=patience_s).item()
    rows = [{"measure": k, "simulated": sim[k], "formula": theory[k]}
            for k in ("service_level", "asa", "abandon_probability", "occupancy")]
    _print_records(rows, as_json, f"Simulation of {sim['offered']:.0f} contacts (seed {seed})")


def register(app: typer.Typer) -> None:
    """Add the queueing commands to ``app``."""
    app.command("staff")(staff_command)
    app.command("plan")(plan_command)
    app.command("cost-curve")(cost_curve_command)
    app.command("simulate")(simulate_command)


__all__ = ["register"]
