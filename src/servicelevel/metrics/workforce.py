"""Workforce metrics over agent states and schedules: occupancy, utilization, shrinkage,
schedule adherence, attendance.

Words as in docs/glossary.md. Time in a state is cut at period boundaries: an interval from
08:50 to 09:20 gives 10 minutes to the 08:30 interval and 20 to the 09:00 one, so every
roll-up is exact. *Logged-in* time is the session envelope; *paused* time lies inside it;
*handling* time is on-contact plus wrap-up; *available* time is logged-in minus paused.
*Scheduled* time is the schedule's shifts; break, lunch and the like lie inside them.
Intervals still open (no end) are left out until they end.

Each agent's intervals of one state are taken not to overlap. An adapter that writes a
session per queue (``queue`` set) gives per-queue figures: group by queue, or keep to the
rows with queue '' (all queues) when sessions are global.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from servicelevel.metrics.formulas import prepared_ratio
from servicelevel.metrics.periods import Window, split_by_period
from servicelevel.metrics.registry import (
    Direction,
    Kind,
    Metric,
    Parameter,
    TableSource,
    Unit,
    register,
    union_rows,
)
from servicelevel.model.enums import AgentState

_HANDLING = (AgentState.ON_CONTACT.value, AgentState.WRAP_UP.value)
_LOGGED_IN = (AgentState.LOGGED_IN.value,)
_PAUSED = (AgentState.PAUSED.value,)


def _spans(t: ir.Table, where: ir.BooleanValue, numerator: float,
           denominator: float) -> ir.Table:
    """Intervals as (tenant, agent_id, queue, _start, _end) with their weights."""
    t = t.filter(where & t.ended_at.notnull() & (t.ended_at > t.started_at))
    return t.select(
        tenant=t.tenant, agent_id=t.agent_id, queue=t.queue.fill_null(""),
        _start=t.started_at, _end=t.ended_at,
        _wn=ibis.literal(numerator, "float64"), _wd=ibis.literal(denominator, "float64"),
    )


def _states(tables: TableSource, names: Sequence[str], numerator: float,
            denominator: float) -> ir.Table:
    t = tables("agent_states")
    return _spans(t, t.state.isin(list(names)), numerator, denominator)


def _scheduled(tables: TableSource, activities: Sequence[str], numerator: float,
               denominator: float) -> ir.Table:
    t = tables("schedules")
    return _spans(t, t.activity.isin(list(activities)), numerator, denominator)


def _overlap(a: ir.Table, b: ir.Table, numerator: float, denominator: float) -> ir.Table:
    """Where intervals of ``a`` and ``b`` of the same agent overlap, with new weights."""
    b = b.select(_b_tenant=b.tenant, _b_agent=b.agent_id, _b_start=b._start, _b_end=b._end)
    joined = a.join(b, [a.tenant == b._b_tenant, a.agent_id == b._b_agent,
                        a._start < b._b_end, a._end > b._b_start])
    return joined.select(
        tenant=joined.tenant, agent_id=joined.agent_id, queue=joined.queue,
        _start=ibis.greatest(joined._start, joined._b_start),
        _end=ibis.least(joined._end, joined._b_end),
        _wn=ibis.literal(numerator, "float64"), _wd=ibis.literal(denominator, "float64"),
    )


def _time_rows(window: Window, parts: Sequence[ir.Table]) -> ir.Table:
    """Weighted intervals cut at period boundaries: ``_num`` and ``_den`` seconds per row."""
    spans = union_rows(*parts)
    bounds = window.bounds(spans, "_start", "_end")
    if bounds is None:
        return spans.mutate(period_at=spans._start, _num=spans._wn, _den=spans._wd)
    cut = split_by_period(spans, "_start", "_end", window.grid(*bounds))
    return cut.mutate(_num=cut._wn * cut.overlap_s, _den=cut._wd * cut.overlap_s)



def _activities(text: str) -> list[str]:
    return [a.strip() for a in str(text).split(",") if a.strip()]


_SHIFT = Parameter("shift_activity", "shift", "Schedule activity that is a paid shift.")
_OFF = Parameter(
    "off_activities", "break,lunch,training,meeting",
    "Scheduled activities inside a shift when the agent is not to take contacts.",
)


def _occupancy_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    return _time_rows(window, [
        _states(tables, _HANDLING, 1.0, 0.0),
        _states(tables, _LOGGED_IN, 0.0, 1.0),
        _states(tables, _PAUSED, 0.0, -1.0),
    ])


register(Metric(
    key="occupancy", name="Occupancy", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER, table="agent_states",
    columns=("agent_id", "state", "started_at", "ended_at"),
    definition=(
        "Handling time (on contact + wrap-up) ÷ available time (logged in, not paused): "
        "the share of the time agents could take contacts that they spent on them."
    ),
    notes=(
        "ICMI and COPC define occupancy over available (staffed, not in aux) time, as here; "
        "some WFM tools divide by all logged-in time, which is utilization here. Too high "
        "(over about 90%) burns agents out, so 'higher is better' holds only up to a target."
    ),
    formula=prepared_ratio,
    prepare=_occupancy_rows,
))


def _utilization_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    handling = _states(tables, _HANDLING, 1.0, 0.0)
    if p["denominator"] == "scheduled":
        return _time_rows(window, [handling, _scheduled(tables, [p["shift_activity"]], 0, 1)])
    return _time_rows(window, [handling, _states(tables, _LOGGED_IN, 0.0, 1.0)])


register(Metric(
    key="utilization", name="Utilization", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER, table="agent_states",
    tables=("agent_states", "schedules"),
    columns=("agent_id", "state", "started_at", "ended_at", "schedules.activity"),
    definition=(
        "Handling time (on contact + wrap-up) ÷ logged-in time, pauses included; or with "
        "denominator=scheduled, ÷ scheduled shift time (paid time)."
    ),
    notes=(
        "Utilization is the word with most meanings: logged-in ÷ paid time (some WFM "
        "suites), handling ÷ paid time (BPO billing, denominator=scheduled), handling ÷ "
        "logged-in time (the default). Name the parameter in a contract."
    ),
    formula=prepared_ratio,
    prepare=_utilization_rows,
    parameters=(
        Parameter("denominator", "logged_in", "Logged-in time or scheduled shift time.",
                  choices=("logged_in", "scheduled")),
        _SHIFT,
    ),
))


def _shift_parts(tables: TableSource, p: Mapping[str, Any], sign: float) -> list[ir.Table]:
    """``sign`` × available time within shifts: shift ∩ logged-in − shift ∩ paused."""
    shifts = _scheduled(tables, [p["shift_activity"]], 0.0, 0.0)
    return [
        _overlap(shifts, _states(tables, _LOGGED_IN, 0, 0), sign, 0.0),
        _overlap(shifts, _states(tables, _PAUSED, 0, 0), -sign, 0.0),
    ]


def _shrinkage_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    return _time_rows(window, [
        _scheduled(tables, [p["shift_activity"]], 1.0, 1.0), *_shift_parts(tables, p, -1.0),
    ])


register(Metric(
    key="shrinkage", name="Shrinkage", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="schedules", tables=("schedules", "agent_states"),
    columns=("agent_id", "activity", "started_at", "ended_at", "agent_states.state"),
    definition=(
        "Share of scheduled shift time in which agents were not available: absent, logged "
        "out, or paused (breaks, training, meetings, unplanned aux). Available time outside "
        "the shifts (overtime) does not offset it."
    ),
    notes=(
        "This is actual (observed) shrinkage. Planners also quote planned shrinkage (the "
        "schedule's own breaks and activities ÷ shift time) and split planned from "
        "unplanned; some exclude lunch when it is unpaid."
    ),
    formula=prepared_ratio,
    prepare=_shrinkage_rows,
    parameters=(_SHIFT,),
))


def _adherence_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    # In adherence: available during work time + not available during off activities
    # = A(shift) − A(off) + (|off| − A(off)), where A(x) = |x ∩ logged-in| − |x ∩ paused|.
    off = _scheduled(tables, _activities(p["off_activities"]), 1.0, 0.0)
    off_plain = _scheduled(tables, _activities(p["off_activities"]), 0.0, 0.0)
    return _time_rows(window, [
        _scheduled(tables, [p["shift_activity"]], 0.0, 1.0),
        *_shift_parts(tables, p, 1.0),
        off,
        _overlap(off_plain, _states(tables, _LOGGED_IN, 0, 0), -2.0, 0.0),
        _overlap(off_plain, _states(tables, _PAUSED, 0, 0), 2.0, 0.0),
    ])


register(Metric(
    key="adherence", name="Schedule adherence", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER, table="schedules", tables=("schedules", "agent_states"),
    columns=("agent_id", "activity", "started_at", "ended_at", "agent_states.state"),
    definition=(
        "Share of scheduled shift time in which the agent did what the schedule said: "
        "available (logged in, not paused) in work time, and not available during the "
        "scheduled off activities (break, lunch, training, meeting)."
    ),
    notes=(
        "Time-based adherence, as NICE, Verint and Genesys WFM report it. Conformance "
        "(worked time ÷ scheduled time, regardless of when) is a different measure. Off "
        "activities are taken to lie inside shifts."
    ),
    formula=prepared_ratio,
    prepare=_adherence_rows,
    parameters=(_SHIFT, _OFF),
))


def _attendance_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    shifts = _scheduled(tables, [p["shift_activity"]], 0.0, 1.0)
    plain = _scheduled(tables, [p["shift_activity"]], 0.0, 0.0)
    return _time_rows(window, [shifts, _overlap(plain, _states(tables, _LOGGED_IN, 0, 0),
                                                1.0, 0.0)])


register(Metric(
    key="attendance", name="Attendance", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER, table="schedules", tables=("schedules", "agent_states"),
    columns=("agent_id", "activity", "started_at", "ended_at", "agent_states.state"),
    definition="Share of scheduled shift time in which the agent was logged in (pauses count).",
    notes=(
        "HR attendance often counts days or shifts present ÷ scheduled; time-based "
        "attendance also catches late log-ins and early log-offs."
    ),
    formula=prepared_ratio,
    prepare=_attendance_rows,
    parameters=(_SHIFT,),
))
