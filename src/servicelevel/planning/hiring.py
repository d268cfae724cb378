"""Hiring plans: required FTE per week against the roster, and the classes to hire.

Pure (no I/O): the caller hands in a staffing plan and the roster as data frames.

* ``weekly_required_fte`` — a staffing plan (``interval_start``, ``required_agents``)
  as FTE per ISO week: required agent hours ÷ (1 − shrinkage) ÷ paid hours per FTE;
* ``weekly_attrition`` — leavers per week ÷ average headcount over a trailing window;
* ``monthly_to_weekly`` — a monthly attrition rate as the weekly rate that compounds to it;
* ``hiring_plan`` — per week: projected headcount without new hires (the roster decaying
  by attrition, known leave and start dates applied), expected leavers, the gap, and the
  trainees each class must start with so that it goes live when needed, split into
  initial and replacement hires; weeks within the training lead time are too late.

Every agent of the roster counts as ``fte_per_agent`` FTE (the roster has no FTE column).
Words as in docs/glossary.md; formulas in docs/planning.md ("Hiring plan").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from servicelevel.errors import InputError

_DAYS_PER_WEEK = 7
_WEEKS_PER_MONTH = 52.0 / 12.0
_EPSILON = 1e-9  # 10.000000001 needed agents are 10, not 11


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def _local_starts(values: pd.Series, tz: ZoneInfo) -> pd.Series:
    """Plan times as local wall-clock times: naive ones as they are, aware ones in ``tz``."""
    def one(value: object) -> pd.Timestamp:
        try:
            stamp = pd.Timestamp(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputError(f"plan: interval_start {value!r} is not a time; write e.g. "
                             "2026-11-23T08:00") from None
        if pd.isna(stamp):
            raise InputError("plan: an interval_start is empty")
        return stamp.tz_convert(tz).tz_localize(None) if stamp.tzinfo else stamp

    return pd.Series([one(v) for v in values], index=values.index, dtype="datetime64[ns]")


def weekly_required_fte(
    plan: pd.DataFrame,
    *,
    tz: ZoneInfo,
    hours_per_fte: float = 37.5,
    shrinkage: float = 0.0,
    interval_s: float | None = None,
) -> pd.DataFrame:
    """Required FTE per ISO week of a staffing plan.

    ``plan`` has ``interval_start`` (local wall-clock time, or aware and then converted
    to ``tz``) and ``required_agents`` (seated agents; give ``shrinkage`` to gross them
    up, or 0 when the plan already counts agents to schedule). The interval length is
    ``interval_s``, else the plan's ``interval_s`` column, else the shortest step
    between its intervals. Columns: ``week_start`` (Monday), ``plan_days`` (days of the
    week the plan covers), ``agent_hours``, ``required_fte``.
    """
    missing = sorted({"interval_start", "required_agents"} - set(plan.columns))
    if missing:
        raise InputError(f"plan: missing column(s) {', '.join(missing)}; a staffing plan "
                         "needs interval_start and required_agents (slm forecast --plan-out)")
    if not hours_per_fte > 0:
        raise InputError(f"--hours-per-fte: {hours_per_fte!r} must be > 0, e.g. 37.5")
    if not 0.0 <= shrinkage < 1.0:
        raise InputError(f"--shrinkage: {shrinkage!r} is not a share in [0, 1); write e.g. 0.3")
    if plan.empty:
        raise InputError("plan: no intervals")
    starts = _local_starts(plan["interval_start"], tz)
    required = pd.to_numeric(plan["required_agents"], errors="coerce")
    if required.isna().any() or (required < 0).any():
        raise InputError("plan: required_agents must be numbers >= 0 in every row")
    lengths = _interval_lengths(plan, starts, interval_s)
    frame = pd.DataFrame({
        "day": starts.dt.date,
        "agent_hours": required.to_numpy(dtype=np.float64) * lengths / 3600.0,
    })
    frame["week_start"] = frame["day"].map(week_start)
    weeks = frame.groupby("week_start").agg(plan_days=("day", "nunique"),
                                            agent_hours=("agent_hours", "sum")).reset_index()
    weeks["required_fte"] = weeks["agent_hours"] / (1.0 - shrinkage) / hours_per_fte
    return weeks


def _interval_lengths(plan: pd.DataFrame, starts: pd.Series,
                      interval_s: float | None) -> np.ndarray:
    if interval_s is not None:
        if not interval_s > 0:
            raise InputError(f"interval: {interval_s!r} s must be > 0")
        return np.full(len(plan), float(interval_s))
    if "interval_s" in plan.columns:
        given = pd.to_numeric(plan["interval_s"], errors="coerce")
        if given.isna().any() or (given <= 0).any():
            raise InputError("plan: interval_s must be seconds > 0 in every row")
        return given.to_numpy(dtype=np.float64)
    steps = np.diff(np.sort(starts.unique()).astype("datetime64[s]").astype(np.int64))
    steps = steps[steps > 0]
    if steps.size == 0:
        raise InputError("plan: one interval only; give the interval length (--interval)")
    return np.full(len(plan), float(steps.min()))


def _employed(roster: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Hire and leave days as day numbers (ordinal); no hire date is 'always', no leave
    date is 'never'."""
    for column in ("hired_on", "left_on"):
        if column not in roster.columns:
            raise InputError(f"roster: missing column {column!r}")

    def days(column: str, empty: float) -> np.ndarray:
        return np.array([empty if v is None or v is pd.NaT or (isinstance(v, float) and
                                                                math.isnan(v))
                         else pd.Timestamp(v).date().toordinal()
                         for v in roster[column]], dtype=np.float64)

    return days("hired_on", -math.inf), days("left_on", math.inf)


@dataclass(frozen=True)
class Attrition:
    """A weekly attrition rate and where it comes from."""

    weekly: float  # share of headcount leaving per week
    source: str  # how it was found, for people
    leavers: int | None = None
    average_headcount: float | None = None
    window_weeks: int | None = None

    @property
    def monthly(self) -> float:
        """The monthly rate the weekly one compounds to."""
        return float(1.0 - (1.0 - self.weekly) ** _WEEKS_PER_MONTH)


def monthly_to_weekly(monthly: float) -> float:
    """``1 − (1 − monthly)^(12/52)``: the weekly rate that compounds to ``monthly``."""
    if not 0.0 <= monthly < 1.0:
        raise InputError(f"--attrition: {monthly!r} is not a monthly share in [0, 1); "
                         "write e.g. 0.03 for 3% a month")
    return float(1.0 - (1.0 - monthly) ** (1.0 / _WEEKS_PER_MONTH))


def weekly_attrition(roster: pd.DataFrame, *, as_of: date, window_weeks: int = 26) -> Attrition:
    """Leavers per week ÷ average headcount, over the ``window_weeks`` before ``as_of``.

    A leaver's last working day falls in the window (``as_of`` excluded); the average
    headcount is the mean over the window's days of agents employed that day. 0 when
    the window had nobody employed.
    """
    if window_weeks < 1:
        raise InputError(f"--attrition-window: {window_weeks} weeks; at least 1, e.g. 26w")
    hired, left = _employed(roster)
    first = as_of - timedelta(weeks=window_weeks)
    days = np.arange(first.toordinal(), as_of.toordinal(), dtype=np.float64)
    employed = ((hired[:, None] <= days[None, :]) & (left[:, None] >= days[None, :])).sum(axis=0)
    average = float(employed.mean()) if days.size else 0.0
    leavers = int(np.sum((left >= first.toordinal()) & (left < as_of.toordinal())))
    rate = leavers / window_weeks / average if average > 0 else 0.0
    source = (f"{leavers} leaver(s) in the {window_weeks} weeks before {as_of} over an "
              f"average headcount of {average:.1f}")
    return Attrition(weekly=min(rate, 1.0), source=source, leavers=leavers,
                     average_headcount=average, window_weeks=window_weeks)


@dataclass(frozen=True)
class HiringPlan:
    """Per week (rows of ``weeks``): ``required_fte`` and ``required_agents`` (÷ FTE per
    agent), the roster's ``projected_headcount`` and ``expected_leavers`` without new
    hires, ``gap`` (required − projected), agents ``from_classes`` already planned,
    ``short`` (what stays uncovered), ``too_late``, and the class that starts training
    that week: ``trainees`` = ``initial_hires`` + ``replacement_hires``, ``goes_live``."""

    weeks: pd.DataFrame
    attrition: Attrition
    training_weeks: int
    too_late: Sequence[date]  # weeks short of agents that no class can reach in time
    notes: Sequence[str] = field(default_factory=tuple)

    @property
    def initial_hires(self) -> int:
        return int(self.weeks["initial_hires"].sum())

    @property
    def replacement_hires(self) -> int:
        return int(self.weeks["replacement_hires"].sum())


def hiring_plan(
    required: pd.DataFrame,
    roster: pd.DataFrame,
    *,
    as_of: date,
    attrition: Attrition,
    training_weeks: int = 6,
    fte_per_agent: float = 1.0,
    class_size: int | None = None,
    training_attrition: float = 0.0,
) -> HiringPlan:
    """The classes to hire so that each week of ``required`` (``week_start``,
    ``required_fte``, see ``weekly_required_fte``) has the agents it needs.

    Week by week from the first week starting on or after ``as_of``: the agents needed
    (required FTE ÷ ``fte_per_agent``) less the roster's projected headcount and the
    agents of earlier classes still there is the shortfall; a class going live that week
    covers it, rounded up to whole agents, started ``training_weeks`` earlier with
    trainees grossed up by ``training_attrition`` and rounded up to a multiple of
    ``class_size``. A class that would have to start before ``as_of`` is too late: the
    week is named in ``too_late`` and left short.
    """
    _check(training_weeks, fte_per_agent, class_size, training_attrition, attrition.weekly)
    if required.empty:
        raise InputError("plan: no weeks to hire for")
    need = required.set_index("week_start")["required_fte"].astype(float) / fte_per_agent
    earliest = week_start(as_of) if as_of.weekday() == 0 else \
        week_start(as_of) + timedelta(weeks=1)
    last = max(need.index)
    weeks = [earliest + timedelta(weeks=i)
             for i in range(max(0, (last - earliest).days // _DAYS_PER_WEEK + 1))]
    if not weeks:
        raise InputError(f"plan: its last week ({last}) starts before --as-of {as_of}")
    live_from = earliest + timedelta(weeks=training_weeks)
    hired, left = _employed(roster)
    survive = 1.0 - attrition.weekly

    def projected(day: date, rate: float) -> float:
        """Roster agents expected on ``day``: known leavers until their last day, the
        others decaying by ``rate`` a week from ``as_of`` (or their later start)."""
        d = day.toordinal()
        known = float(np.sum((hired <= d) & (left >= d) & np.isfinite(left)))
        open_ended = (hired <= d) & ~np.isfinite(left)
        since = np.maximum(hired[open_ended], as_of.toordinal())
        return known + float(np.sum((1.0 - rate) ** ((d - since) / _DAYS_PER_WEEK)))

    cohorts: list[tuple[date, float]] = []  # (live week, agents going live)
    classes: dict[date, tuple[int, int, date]] = {}  # start week -> trainees, initial, live
    gap_no_attrition = 0.0  # the largest gap of the roster without attrition so far
    initial_given = 0
    rows = []
    for week in weeks:
        needed = need.get(week)
        roster_now = projected(week, attrition.weekly)
        from_classes = sum(n * survive ** ((week - live).days / _DAYS_PER_WEEK)
                           for live, n in cohorts if live <= week)
        short = 0.0 if needed is None else needed - roster_now - from_classes
        live = math.ceil(short - _EPSILON) if short > _EPSILON else 0
        if needed is not None:
            gap_no_attrition = max(gap_no_attrition, needed - projected(week, 0.0))
        if live > 0 and week >= live_from:
            trainees = math.ceil(live / (1.0 - training_attrition) - _EPSILON)
            if class_size is not None:
                trainees = class_size * math.ceil(trainees / class_size)
            initial = min(live, max(0, math.ceil(gap_no_attrition - _EPSILON) - initial_given))
            initial_given += initial
            classes[week - timedelta(weeks=training_weeks)] = (trainees, initial, week)
            cohorts.append((week, trainees * (1.0 - training_attrition)))
            from_classes += trainees * (1.0 - training_attrition)
        rows.append({
            "week_start": week,
            "required_fte": None if needed is None else float(needed) * fte_per_agent,
            "required_agents": None if needed is None else float(needed),
            "projected_headcount": roster_now,
            "expected_leavers": roster_now - projected(week + timedelta(weeks=1),
                                                       attrition.weekly),
            "gap": None if needed is None else float(needed) - roster_now,
            "from_classes": from_classes,
            "short": None if needed is None else max(0.0, float(needed) - roster_now
                                                     - from_classes),
            "too_late": live > 0 and week < live_from,
        })
    for row in rows:
        trainees, initial, live_week = classes.get(row["week_start"], (0, 0, None))
        row.update({"trainees": trainees, "initial_hires": initial,
                    "replacement_hires": trainees - initial, "goes_live": live_week})
    return HiringPlan(
        weeks=pd.DataFrame(rows), attrition=attrition, training_weeks=training_weeks,
        too_late=[r["week_start"] for r in rows if r["too_late"]],
        notes=_notes(required, weeks, fte_per_agent, roster.empty),
    )


def _check(training_weeks: int, fte_per_agent: float, class_size: int | None,
           training_attrition: float, weekly: float) -> None:
    problems = []
    if training_weeks < 0:
        problems.append(f"--training-weeks: {training_weeks} must be >= 0")
    if not fte_per_agent > 0:
        problems.append(f"--fte-per-agent: {fte_per_agent!r} must be > 0, e.g. 1 or 0.8")
    if class_size is not None and class_size < 1:
        problems.append(f"--class-size: {class_size} must be at least 1")
    if not 0.0 <= training_attrition < 1.0:
        problems.append(f"--training-attrition: {training_attrition!r} is not a share in "
                        "[0, 1); write e.g. 0.1")
    if not 0.0 <= weekly < 1.0:
        problems.append(f"attrition: {weekly!r} a week is not a share in [0, 1)")
    if problems:
        raise InputError("; ".join(problems))


def _notes(required: pd.DataFrame, weeks: list[date], fte_per_agent: float,
           no_roster: bool) -> list[str]:
    notes = ["the roster is empty: every agent needed is a hire"] if no_roster else []
    if "plan_days" in required.columns:
        for week, days in zip(required["week_start"], required["plan_days"], strict=True):
            if days < _DAYS_PER_WEEK and week in weeks:
                notes.append(f"week of {week}: the plan covers {days} day(s) of it")
    if fte_per_agent != 1.0:
        notes.append(f"every agent of the roster counts as {fte_per_agent:g} FTE")
    return notes
