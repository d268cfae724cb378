"""Schedules: shifts (with their breaks) that cover a per-interval staffing requirement.

Pure (no I/O): a CP-SAT model (OR-Tools) over one or several days.

* one integer variable per shift group (template, day, start): the agents starting there;
* one integer variable per (shift group, break start): how many of them take their break
  then (the group's breaks add up to the group);
* coverage of an interval = agents on shift minus those on break;
* objective = big weight × under-staffing + cost (paid intervals) + over-staffing. The big
  weight is larger than the cost and over-staffing of any one shift, so one agent-interval
  short always outweighs one more shift: under-staffing is minimised first.

An infeasible requirement (too few agents allowed, no shift open then) still gives the best
partial schedule, and ``Schedule.shortfalls`` names the intervals left short.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd
from ortools.sat.python import cp_model
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from servicelevel.errors import InputError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_COST_SCALE = 100  # costs are solved as integers: hundredths
_OVER_WEIGHT = 1


class BreakRule(BaseModel):
    """One break: ``length`` intervals, starting between ``earliest`` and ``latest``
    intervals after the shift start (both included)."""

    model_config = ConfigDict(extra="forbid")

    length: int = Field(gt=0)
    earliest: int = Field(ge=1)
    latest: int = Field(ge=1)

    @model_validator(mode="after")
    def _window(self) -> BreakRule:
        if self.latest < self.earliest:
            raise ValueError(f"break window: latest {self.latest} < earliest {self.earliest}")
        return self


class ShiftTemplate(BaseModel):
    """Shifts of ``length`` intervals starting at any of ``starts`` (``HH:MM``), on
    ``days`` (``mon`` … ``sun``; every day when empty), with at most one break."""

    model_config = ConfigDict(extra="forbid")

    name: str
    starts: list[str] = Field(min_length=1)
    length: int = Field(gt=0)
    days: list[str] = Field(default_factory=list)
    cost_per_interval: float = Field(default=1.0, ge=0.0)
    break_: BreakRule | None = Field(default=None, alias="break")

    @field_validator("starts")
    @classmethod
    def _starts(cls, value: list[str]) -> list[str]:
        for start in value:
            try:
                dt.time.fromisoformat(start)
            except ValueError:
                raise ValueError(f"start {start!r}: write a time of day, e.g. 08:00") from None
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        days = [d.strip().lower()[:3] for d in value]
        unknown = [d for d, v in zip(days, value, strict=True) if d not in WEEKDAYS]
        if unknown:
            raise ValueError(f"days {unknown}: write mon, tue, wed, thu, fri, sat or sun")
        return days

    @model_validator(mode="after")
    def _break_fits(self) -> ShiftTemplate:
        b = self.break_
        if b is not None and b.latest + b.length >= self.length + 1:
            raise ValueError(f"template {self.name!r}: a break starting at {b.latest} of "
                             f"{b.length} intervals does not end within {self.length} intervals")
        return self


class ScheduleRules(BaseModel):
    """Everything a schedule must respect."""

    model_config = ConfigDict(extra="forbid")

    interval_minutes: int = Field(default=30, gt=0)
    templates: list[ShiftTemplate] = Field(min_length=1)
    max_agents: int | None = Field(default=None, ge=0, description="Most shifts in one day.")
    time_limit_seconds: float = Field(default=10.0, gt=0.0)


@dataclass(frozen=True)
class Shift:
    """One agent's shift; ``end`` is exclusive. Break times are ``None`` without a break."""

    template: str
    start: pd.Timestamp
    end: pd.Timestamp
    break_start: pd.Timestamp | None
    break_end: pd.Timestamp | None


@dataclass(frozen=True)
class Schedule:
    """A solved schedule."""

    coverage: pd.DataFrame  # interval_start, required_agents, scheduled_agents, short, over
    shifts: list[Shift]
    status: str  # OPTIMAL, FEASIBLE (time limit hit), INFEASIBLE, …
    gap: float  # relative optimality gap of the objective, 0 when proven optimal
    cost: float
    shortfalls: list[pd.Timestamp] = field(default_factory=list)

    @property
    def under_staffing(self) -> int:
        """Agent-intervals short in total."""
        return int(self.coverage["short"].sum())


@dataclass(frozen=True)
class _Group:
    template: ShiftTemplate
    day: pd.Timestamp
    start: pd.Timestamp
    covers: list[int]  # requirement positions covered by the shift, by offset (-1: outside)


def _requirement(plan: pd.DataFrame, step: pd.Timedelta) -> tuple[list[pd.Timestamp], list[int]]:
    missing = {"interval_start", "required_agents"} - set(plan.columns)
    if missing:
        raise InputError(f"staffing plan: missing column(s) {sorted(missing)}; "
                         "needed: interval_start, required_agents")
    if plan.empty:
        raise InputError("staffing plan: no intervals")
    starts = pd.to_datetime(plan["interval_start"])
    required = pd.to_numeric(plan["required_agents"], errors="coerce")
    if required.isna().any() or (required < 0).any():
        raise InputError("staffing plan: required_agents must be numbers >= 0")
    if starts.duplicated().any():
        raise InputError("staffing plan: an interval_start appears twice")
    order = starts.argsort()
    times = [pd.Timestamp(t) for t in starts.iloc[order]]
    day0 = times[0].normalize()
    for t in times:
        if (t - day0) % step != pd.Timedelta(0):
            raise InputError(f"staffing plan: {t} is not on the {step} interval grid")
    values = [int(-(-float(v) // 1)) for v in required.iloc[order]]  # ceil
    return times, values


def _groups(rules: ScheduleRules, times: list[pd.Timestamp],
            step: pd.Timedelta) -> list[_Group]:
    position = {t: i for i, t in enumerate(times)}
    days = sorted({t.normalize() for t in times})
    groups = []
    for template in rules.templates:
        for day in days:
            if template.days and WEEKDAYS[day.weekday()] not in template.days:
                continue
            for start_text in template.starts:
                start_time = dt.time.fromisoformat(start_text)
                start = day + pd.Timedelta(hours=start_time.hour, minutes=start_time.minute)
                covers = [position.get(start + k * step, -1) for k in range(template.length)]
                if any(c >= 0 for c in covers):
                    groups.append(_Group(template, day, start, covers))
    return groups


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, report: Callable[[float, float], None]) -> None:
        super().__init__()
        self._report = report

    def on_solution_callback(self) -> None:
        self._report(float(self.ObjectiveValue()), float(self.BestObjectiveBound()))


def build_schedule(
    plan: pd.DataFrame,
    rules: ScheduleRules,
    *,
    on_solution: Callable[[float, float], None] | None = None,
    workers: int = 2,
) -> Schedule:
    """Shifts covering ``plan`` (columns ``interval_start``, ``required_agents``).

    ``on_solution(objective, bound)`` is called at each better solution found.
    """
    step = pd.Timedelta(minutes=rules.interval_minutes)
    times, required = _requirement(plan, step)
    groups = _groups(rules, times, step)
    n = len(times)
    # No group needs more agents than the whole requirement (or than the day's maximum).
    cap = sum(required) + 1 if rules.max_agents is None else rules.max_agents

    model = cp_model.CpModel()
    working: list[list[cp_model.LinearExpr]] = [[] for _ in range(n)]
    shift_vars = []
    break_vars: list[list[tuple[int, cp_model.IntVar]]] = []
    per_day: dict[pd.Timestamp, list[cp_model.IntVar]] = {}
    cost_terms = []
    for g, group in enumerate(groups):
        x = model.new_int_var(0, cap, f"x{g}")
        shift_vars.append(x)
        per_day.setdefault(group.day, []).append(x)
        cost_terms.append(round(group.template.cost_per_interval * _COST_SCALE)
                          * group.template.length * x)
        for pos in group.covers:
            if pos >= 0:
                working[pos].append(x)
        rule = group.template.break_
        breaks: list[tuple[int, cp_model.IntVar]] = []
        if rule is not None:
            for offset in range(rule.earliest, rule.latest + 1):
                y = model.new_int_var(0, cap, f"y{g}_{offset}")
                breaks.append((offset, y))
                for k in range(offset, offset + rule.length):
                    if group.covers[k] >= 0:
                        working[group.covers[k]].append(-y)
            model.add(sum(y for _, y in breaks) == x)
        break_vars.append(breaks)
    if rules.max_agents is not None:
        for day_vars in per_day.values():
            model.add(sum(day_vars) <= rules.max_agents)

    lengths = [t.length for t in rules.templates]
    max_shift = max(round(t.cost_per_interval * _COST_SCALE) * t.length for t in rules.templates)
    under_weight = max_shift + max(lengths) * _OVER_WEIGHT + 1
    unders, overs, covered = [], [], []
    for i in range(n):
        cov = sum(working[i]) if working[i] else 0
        u = model.new_int_var(0, required[i], f"u{i}")
        o = model.new_int_var(0, cap * len(groups), f"o{i}")
        model.add(cov + u - o == required[i])
        unders.append(u)
        overs.append(o)
        covered.append(cov)
    model.minimize(under_weight * sum(unders) + sum(cost_terms) + _OVER_WEIGHT * sum(overs))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = rules.time_limit_seconds
    solver.parameters.num_workers = workers
    callback = None if on_solution is None else _Progress(on_solution)
    code = solver.solve(model, callback)
    status = solver.status_name(code)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise InputError(f"schedule: no solution found ({status}); "
                         "raise time_limit_seconds or loosen the rules")

    shifts: list[Shift] = []
    for group, x, breaks in zip(groups, shift_vars, break_vars, strict=True):
        count = solver.value(x)
        end = group.start + group.template.length * step
        if not breaks:
            shifts += [Shift(group.template.name, group.start, end, None, None)] * count
            continue
        assert group.template.break_ is not None
        blen = group.template.break_.length * step
        for offset, y in breaks:
            b = group.start + offset * step
            shifts += [Shift(group.template.name, group.start, end, b, b + blen)] * solver.value(y)
    shifts.sort(key=lambda s: (s.start, s.break_start or s.start))

    scheduled = [int(solver.value(c)) if not isinstance(c, int) else c for c in covered]
    short = [max(r - s, 0) for r, s in zip(required, scheduled, strict=True)]
    coverage = pd.DataFrame({
        "interval_start": times, "required_agents": required, "scheduled_agents": scheduled,
        "short": short, "over": [max(s - r, 0) for r, s in zip(required, scheduled, strict=True)],
    })
    objective, bound = solver.objective_value, solver.best_objective_bound
    gap = 0.0 if code == cp_model.OPTIMAL else abs(objective - bound) / max(abs(objective), 1.0)
    cost = sum(_shift_cost(s, rules) for s in shifts)
    return Schedule(coverage=coverage, shifts=shifts, status=status, gap=gap, cost=cost,
                    shortfalls=[t for t, s in zip(times, short, strict=True) if s > 0])


def _shift_cost(shift: Shift, rules: ScheduleRules) -> float:
    """Cost of one shift: its paid intervals times the template's cost per interval."""
    template = next(t for t in rules.templates if t.name == shift.template)
    return template.cost_per_interval * template.length


def schedule_rows(schedule: Schedule, *, tenant: str = "default",
                  queue: str | None = None) -> pd.DataFrame:
    """The shifts as rows of the ``schedules`` table (one ``shift`` and one ``break`` row per
    agent; agents are numbered ``A001``, ``A002``, … in shift order)."""
    rows: list[dict[str, object]] = []
    for n, shift in enumerate(schedule.shifts, start=1):
        agent = f"A{n:03d}"
        base = {"tenant": tenant, "agent_id": agent, "queue": queue}
        rows.append({**base, "activity": "shift", "started_at": shift.start,
                     "ended_at": shift.end})
        if shift.break_start is not None:
            rows.append({**base, "activity": "break", "started_at": shift.break_start,
                         "ended_at": shift.break_end})
    columns: Sequence[str] = ("tenant", "agent_id", "activity", "queue", "started_at",
                              "ended_at")
    return pd.DataFrame(rows, columns=list(columns))


__all__ = ["BreakRule", "Schedule", "ScheduleRules", "Shift", "ShiftTemplate",
           "build_schedule", "schedule_rows"]
