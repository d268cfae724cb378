"""A scheduling problem laid out for solvers: the requirement per interval, the shift groups
(template, day, start) with their break patterns, and which named agent may work which group.

Pure (no I/O). Times are wall-clock (naive) timestamps of the centre; a plan with zoned
timestamps is read in its own zone's wall clock.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from servicelevel.errors import InputError
from servicelevel.planning.schedule_rules import (
    WEEKDAYS,
    AgentRule,
    ScheduleRules,
    ShiftTemplate,
    expand_starts,
)

COST_SCALE = 100  # costs are solved as integers: hundredths


@dataclass(frozen=True)
class Group:
    """Shifts of one template starting at one time: the agents in it are interchangeable."""

    template: ShiftTemplate
    day: int  # index into Problem.days
    start: pd.Timestamp
    end: pd.Timestamp
    covers: tuple[int, ...]  # requirement position of each offset of the shift, -1 outside
    patterns: tuple[tuple[int, ...], ...]  # break start offsets, one tuple per pattern
    off: np.ndarray  # bool (patterns × length): on a break at that offset
    cost: int  # COST_SCALE × cost per interval × paid intervals
    paid: int  # paid intervals


@dataclass(frozen=True)
class Problem:
    """Everything the solvers need, derived once from a plan and rules."""

    rules: ScheduleRules
    step: pd.Timedelta
    times: list[pd.Timestamp]
    required: list[int]  # what the plan asks (closed intervals keep it but count 0)
    open: list[bool]
    need: list[int]  # required in open intervals, 0 when closed
    low: list[int]  # least agents working, per interval
    high: list[int | None]  # most agents working, per interval
    days: list[pd.Timestamp]  # midnight of each day of the plan
    groups: list[Group]
    eligible: list[list[int]]  # per agent: the groups they may work
    weeks: list[list[int]]  # day indices of each Monday-Sunday week touched by the plan
    full_weeks: list[bool]  # whether the plan holds all seven days of that week

    @property
    def agents(self) -> list[AgentRule]:
        return self.rules.agents

    def week_of(self, day: int) -> int:
        return next(w for w, days in enumerate(self.weeks) if day in days)


@dataclass(frozen=True)
class Placement:
    """One shift placed: its group, its break pattern and its agent (None: anonymous)."""

    group: int
    pattern: int
    agent: int | None


def read_requirement(plan: pd.DataFrame,
                     step: pd.Timedelta) -> tuple[list[pd.Timestamp], list[int]]:
    """Interval starts (sorted, wall-clock) and required agents (rounded up) of a plan."""
    missing = {"interval_start", "required_agents"} - set(plan.columns)
    if missing:
        raise InputError(f"staffing plan: missing column(s) {sorted(missing)}; "
                         "needed: interval_start, required_agents (other columns are ignored)")
    if plan.empty:
        raise InputError("staffing plan: no intervals")
    try:
        starts = pd.Series(pd.to_datetime(plan["interval_start"]))
    except (ValueError, TypeError):
        raise InputError("staffing plan: interval_start must be timestamps, "
                         "e.g. 2026-01-05T08:00") from None
    if starts.dt.tz is not None:
        starts = starts.dt.tz_localize(None)
    required = pd.to_numeric(plan["required_agents"], errors="coerce")
    if required.isna().any() or (required < 0).any():
        raise InputError("staffing plan: required_agents must be numbers >= 0")
    if starts.isna().any():
        raise InputError("staffing plan: interval_start is empty in some rows")
    if starts.duplicated().any():
        raise InputError("staffing plan: an interval_start appears twice")
    order = starts.argsort()
    times = [pd.Timestamp(t) for t in starts.iloc[order]]
    for t in times:
        if (t - t.normalize()) % step != pd.Timedelta(0):
            raise InputError(f"staffing plan: {t} is not on the {step} interval grid "
                             "(interval_minutes in the rules)")
    values = [math.ceil(float(v) - 1e-9) for v in required.iloc[order]]
    return times, values


def _minute(t: pd.Timestamp) -> int:
    return t.hour * 60 + t.minute


def _is_open(rules: ScheduleRules, t: pd.Timestamp, step: pd.Timedelta) -> bool:
    if rules.opening_hours is None:
        return True
    window = rules.opening_hours.window(t.weekday())
    end = _minute(t) + step.total_seconds() / 60
    return window is not None and window[0] <= _minute(t) and end <= window[1]


def build_problem(plan: pd.DataFrame, rules: ScheduleRules) -> Problem:
    """Lay out ``plan`` (``interval_start``, ``required_agents``) under ``rules``."""
    step = pd.Timedelta(minutes=rules.interval_minutes)
    times, required = read_requirement(plan, step)
    position = {t: i for i, t in enumerate(times)}
    is_open = [_is_open(rules, t, step) for t in times]
    need = [r if o else 0 for r, o in zip(required, is_open, strict=True)]
    low: list[int] = []
    high: list[int | None] = []
    where: list[str] = []
    for t, o in zip(times, is_open, strict=True):
        lo, hi, rule = rules.agents_per_interval.bounds(t.weekday(), _minute(t))
        if lo and hi is not None and lo > hi:
            raise InputError(f"{rule}: min {lo} > max {hi} agents at {t}")
        low.append(lo if o else 0)
        high.append(hi)
        where.append(rule)
    days = sorted({t.normalize() for t in times})
    day_index = {d: n for n, d in enumerate(days)}
    groups: list[Group] = []
    for template in rules.templates:
        patterns = tuple(template.break_patterns())
        off = np.zeros((len(patterns), template.length), dtype=bool)
        for p, pattern in enumerate(patterns):
            for b, s in zip(template.breaks, pattern, strict=True):
                off[p, s:s + b.length] = True
        cost = round(template.cost_per_interval * COST_SCALE) * template.paid_length
        for day in days:
            if template.days and WEEKDAYS[day.weekday()] not in template.days:
                continue
            for minute in expand_starts(template):
                start = day + pd.Timedelta(minutes=minute)
                span = [start + k * step for k in range(template.length)]
                if not all(_is_open(rules, t, step) for t in span):
                    continue
                covers = tuple(position.get(t, -1) for t in span)
                if any(c >= 0 for c in covers):
                    groups.append(Group(template, day_index[day], start,
                                        start + template.length * step, covers, patterns, off,
                                        cost, template.paid_length))
    _check_floors(times, low, where, groups)
    weeks: dict[pd.Timestamp, list[int]] = {}
    for n, day in enumerate(days):
        weeks.setdefault(day - pd.Timedelta(days=day.weekday()), []).append(n)
    problem = Problem(
        rules=rules, step=step, times=times, required=required, open=is_open, need=need,
        low=low, high=high, days=days, groups=groups,
        eligible=[[g for g, group in enumerate(groups) if _may_work(agent, group)]
                  for agent in rules.agents],
        weeks=list(weeks.values()), full_weeks=[len(w) == 7 for w in weeks.values()])
    _check_agents(problem)
    return problem


def _check_floors(times: list[pd.Timestamp], low: list[int], where: list[str],
                  groups: list[Group]) -> None:
    """A minimum no shift can meet is a contradiction in the rules, not a shortfall."""
    covered = np.zeros(len(times), dtype=bool)
    for group in groups:
        for k, pos in enumerate(group.covers):
            if pos >= 0 and not group.off[:, k].all():
                covered[pos] = True
    bad = [i for i, lo in enumerate(low) if lo > 0 and not covered[i]]
    if bad:
        first = bad[0]
        raise InputError(
            f"{where[first]}: min {low[first]} agents at {times[first]}"
            + (f" and {len(bad) - 1} more interval(s)" if len(bad) > 1 else "")
            + ", but no shift template can work then (check the templates' starts and days, "
            "their breaks, and opening_hours)")


def _may_work(agent: AgentRule, group: Group) -> bool:
    template = group.template
    if agent.templates and template.name not in agent.templates:
        return False
    if group.start.date() in agent.unavailable:
        return False
    if agent.available is None:
        return True
    window = agent.available.window(group.start.weekday())
    if window is None:
        return False
    start = (group.start - group.start.normalize()) / pd.Timedelta(minutes=1)
    end = (group.end - group.start.normalize()) / pd.Timedelta(minutes=1)
    return window[0] <= start and end <= window[1]


def hours_in_intervals(hours: float, step: pd.Timedelta, *, up: bool) -> int:
    """``hours`` as a whole number of intervals (rounded up or down)."""
    count = hours * 3600 / step.total_seconds()
    return math.ceil(count - 1e-9) if up else math.floor(count + 1e-9)


def _check_agents(problem: Problem) -> None:
    """Each agent's weekly minimum must be reachable with the shifts open to them."""
    step = problem.step
    for agent, eligible in zip(problem.agents, problem.eligible, strict=True):
        if not agent.min_hours_per_week:
            continue
        need = hours_in_intervals(agent.min_hours_per_week, step, up=True)
        best_per_day: dict[int, int] = {}
        for g in eligible:
            group = problem.groups[g]
            best_per_day[group.day] = max(best_per_day.get(group.day, 0), group.paid)
        for w, days in enumerate(problem.weeks):
            if not problem.full_weeks[w]:
                continue
            most = sorted((best_per_day.get(d, 0) for d in days), reverse=True)
            limit = agent.max_shifts_per_week
            reachable = sum(most[:limit] if limit is not None else most)
            if reachable < need:
                monday = problem.days[days[0]] - pd.Timedelta(days=problem.days[days[0]].weekday())
                raise InputError(
                    f"agent {agent.id!r}: min_hours_per_week {agent.min_hours_per_week:g} h "
                    f"cannot be reached in the week of {dt.date.isoformat(monday.date())} "
                    f"(at most {reachable * step.total_seconds() / 3600:g} h with the shifts "
                    "open to the agent); lower it or widen their availability")


__all__ = ["COST_SCALE", "Group", "Placement", "Problem", "build_problem", "hours_in_intervals",
           "read_requirement"]
