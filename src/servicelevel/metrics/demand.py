"""Cost and demand metrics: cost per contact, staffing vs forecast, forecast accuracy
(WAPE, MAPE, bias), backlog at period end, agent attrition.

Words as in docs/glossary.md. These metrics join canonical tables: costs to the contacts
of their period, forecasts to the contacts that actually arrived and to the agents who
were logged in, the roster to the periods. A cost or a forecast that spans several
periods is spread over them in proportion to time, so roll-ups stay exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from servicelevel.metrics.efficiency import offered
from servicelevel.metrics.formulas import prepared_ratio
from servicelevel.metrics.handling import handled
from servicelevel.metrics.periods import (
    PeriodSpec,
    Window,
    assign_period,
    local_midnight,
    split_by_period,
)
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
from servicelevel.model.enums import AgentState, Outcome


def _cost_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    costs = tables("costs")
    if p["category"]:
        costs = costs.filter(costs.category == p["category"])
    bounds = window.bounds(costs, "period_start", "period_end")
    c = tables("contacts")
    counted = handled(c) if p["per"] == "handled" else offered(c)
    # Contacts add no cost: null, so a period with contacts but no cost rows has no value.
    contacts = c.select(tenant=c.tenant, queue=c.queue.fill_null(""), period_at=c.arrived_at,
                        _num=ibis.null("float64"), _den=counted.cast("float64"))
    if bounds is None:
        return contacts
    cut = split_by_period(costs, "period_start", "period_end", window.grid(*bounds))
    spread = cut.select(tenant=cut.tenant, queue=cut.queue, period_at=cut.period_at,
                        _num=cut.amount * cut.overlap_s / cut.span_s, _den=ibis.literal(0.0))
    return union_rows(spread, contacts)


register(Metric(
    key="cost_per_contact", name="Cost per contact", unit=Unit.CURRENCY, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="costs", tables=("costs", "contacts"),
    columns=("period_start", "period_end", "amount", "category", "contacts.outcome"),
    definition=(
        "Costs of the period ÷ contacts handled (answered or resolved) in it, or ÷ offered "
        "contacts with per=offered. A cost that spans several periods is spread over them "
        "in proportion to time."
    ),
    notes=(
        "Costs of queue '' belong to the whole tenant: grouped by queue they stay apart. "
        "Benchmarks (MetricNet, COPC) divide fully loaded cost by handled contacts; "
        "category picks one kind of cost (e.g. labour). Currencies are not converted."
    ),
    formula=prepared_ratio,
    prepare=_cost_rows,
    parameters=(
        Parameter("per", "handled", "Denominator: handled or offered contacts.",
                  choices=("handled", "offered")),
        Parameter("category", "", "Only costs of this category; empty for all."),
    ),
))


#: Model names of intraday re-forecasts start with this (``intraday:seasonal_average``).
INTRADAY_PREFIX = "intraday:"


def _forecasts(tables: TableSource, p: Mapping[str, Any]) -> ir.Table:
    """The forecast rows used: one model's, or per interval the latest forecast made.

    The store keeps every model's forecast of an interval (the key holds the model), so
    without a model named, each interval takes the row made last (``created_at``; ties
    to the first model name), leaving out intraday re-forecasts: an interval is never
    counted twice.
    """
    f = tables("forecasts")
    if p["model"]:
        f = f.filter(f.model == p["model"])
    else:
        f = f.filter(~f.model.startswith(INTRADAY_PREFIX))
        latest = ibis.row_number().over(
            group_by=[f.tenant, f.queue, f.interval_start, f.interval_s],
            order_by=[f.created_at.isnull(), ibis.desc(f.created_at), f.model],
        )
        f = f.mutate(_latest=latest)
        f = f.filter(f._latest == 0).drop("_latest")
    return f.mutate(_interval_end=f.interval_start + f.interval_s.as_interval("s"))


def _staffing_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    f = _forecasts(tables, p)
    required = f.select(tenant=f.tenant, queue=f.queue, _start=f.interval_start,
                        _end=f._interval_end, _wn=ibis.literal(0.0),
                        _wd=f.required_agents.fill_null(0.0))
    s = tables("agent_states")
    s = s.filter((s.state == AgentState.LOGGED_IN.value) & s.ended_at.notnull()
                 & (s.ended_at > s.started_at))
    staffed = s.select(tenant=s.tenant, queue=s.queue, _start=s.started_at, _end=s.ended_at,
                       _wn=ibis.literal(1.0), _wd=ibis.literal(0.0))
    spans = union_rows(required, staffed)
    bounds = window.bounds(spans, "_start", "_end")
    if bounds is None:
        return spans.mutate(period_at=spans._start, _num=spans._wn, _den=spans._wd)
    cut = split_by_period(spans, "_start", "_end", window.grid(*bounds))
    return cut.mutate(_num=cut._wn * cut.overlap_s, _den=cut._wd * cut.overlap_s)


_LEVEL = Parameter(
    "level", "interval", "interval: each forecast interval against the contacts that "
    "arrived in it (interval accuracy); day: each queue's daily totals (daily accuracy), "
    "for periods of a day or longer.", choices=("interval", "day"))

_MODEL = Parameter("model", "", "Forecast model to use, e.g. seasonal_average or "
                   "intraday:seasonal_average; empty: per interval, the latest forecast made "
                   "(intraday re-forecasts left out).")

register(Metric(
    key="staffing_vs_forecast", name="Staffing vs forecast", unit=Unit.PERCENT,
    kind=Kind.RATIO, direction=Direction.HIGHER_IS_BETTER, table="forecasts",
    tables=("forecasts", "agent_states"),
    columns=("interval_start", "interval_s", "required_agents", "agent_states.state"),
    definition=(
        "Agent time logged in ÷ agent time required by the forecast's staffing "
        "(required agents × interval length): 100% is staffed as planned, below is "
        "understaffed."
    ),
    notes=(
        "Logged-in time of sessions with queue '' (all queues) counts for queue ''; "
        "group by queue only when sessions and forecasts name the same queues. Planners "
        "also compare scheduled (not logged-in) agents with requirements; that is "
        "schedule efficiency, not this."
    ),
    formula=prepared_ratio,
    prepare=_staffing_rows,
    parameters=(_MODEL,),
))


def _accuracy_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    f = _forecasts(tables, p).mutate(_row=ibis.row_number())
    c = tables("contacts")
    c = c.filter(offered(c)).select(_c_tenant=c.tenant, _c_queue=c.queue, _c_at=c.arrived_at)
    joined = f.left_join(c, [f.tenant == c._c_tenant, f.queue == c._c_queue,
                             c._c_at >= f.interval_start, c._c_at < f._interval_end])
    per_interval = joined.group_by(
        "_row", "tenant", "queue", period_at=joined.interval_start
    ).aggregate(_forecast=joined.contacts.max(), _actual=joined._c_at.count())
    per_interval = per_interval.mutate(
        _forecast=per_interval._forecast.fill_null(0.0),
        _actual=per_interval._actual.cast("float64"),
    )
    if p["level"] == "interval":
        return per_interval
    # Daily accuracy: each queue's forecast and actual summed over its local day first.
    days = Window(PeriodSpec.parse("day"), window.tz, window.start, window.end, window.tenant)
    bounds = days.bounds(per_interval, "period_at", "period_at")
    if bounds is None:
        return per_interval
    placed = assign_period(per_interval.drop("_row"), "period_at", days.grid(*bounds))
    return placed.group_by("tenant", "queue", "period_at").aggregate(
        _forecast=placed._forecast.sum(), _actual=placed._actual.sum())


def _wape(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    return {"numerator": (t._actual - t._forecast).abs().sum(), "denominator": t._actual.sum()}


def _mape(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    seen = t._actual > 0
    error = (t._actual - t._forecast).abs() / ibis.ifelse(seen, t._actual, 1.0)
    return {"numerator": ibis.ifelse(seen, error, 0.0).sum(),
            "denominator": seen.cast("int64").sum()}


def _bias(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    return {"numerator": (t._forecast - t._actual).sum(), "denominator": t._actual.sum()}


_ACCURACY_NOTE = (
    "Each forecast interval is compared with the offered contacts that arrived in it, and "
    "counts in the period its interval starts in. "
)

def _register_accuracy(key: str, name: str, formula: Any, definition: str,
                       notes: str = "") -> None:
    """One forecast accuracy metric: forecasts against the contacts that arrived."""
    register(Metric(
        key=key, name=name, unit=Unit.PERCENT, kind=Kind.RATIO,
        direction=Direction.LOWER_IS_BETTER, table="forecasts",
        tables=("forecasts", "contacts"),
        columns=("queue", "interval_start", "interval_s", "contacts", "contacts.arrived_at"),
        definition=definition, notes=_ACCURACY_NOTE + notes, formula=formula,
        prepare=_accuracy_rows, parameters=(_MODEL, _LEVEL),
    ))


_register_accuracy(
    "wape", "Forecast error (WAPE)", _wape,
    "Weighted absolute percentage error of the volume forecast: Σ |actual − forecast| "
    "÷ Σ actual over the forecast's intervals.",
    "WAPE is what WFM tools report as interval accuracy (forecast accuracy = 100 − "
    "WAPE); it stays defined when intervals have no contacts, unlike MAPE.",
)
_register_accuracy(
    "mape", "Forecast error (MAPE)", _mape,
    "Mean absolute percentage error of the volume forecast: the mean of |actual − "
    "forecast| ÷ actual over forecast intervals that had contacts.",
    "Intervals with no actual contacts are left out (their error is undefined), so "
    "MAPE over-weights quiet intervals; prefer WAPE for contracts.",
)
_register_accuracy(
    "forecast_bias", "Forecast bias", _bias,
    "Σ (forecast − actual) ÷ Σ actual: positive when the forecast was too high "
    "(overstaffing), negative when too low. Best at 0, whichever its sign.",
)


_OPEN_WITHOUT_END = (Outcome.WAITING.value, Outcome.ANSWERED.value)


def _backlog_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    t = tables("contacts")
    t = t.filter(t.outcome != Outcome.ENDED_IN_VRU.value)
    closed = t.resolved_at.fill_null(t.ended_at) if p["until"] == "resolved" else t.ended_at
    t = t.mutate(_closed=closed)
    bounds = window.bounds(t, "arrived_at", "arrived_at")
    if bounds is None:
        return t.mutate(period_at=t.arrived_at)
    grid = window.grid(*bounds)
    still_open = t._closed.isnull() & t.outcome.isin(list(_OPEN_WITHOUT_END))
    joined = t.join(grid, [t.arrived_at < grid._period_end,
                           still_open | (t._closed >= grid._period_end)])
    return joined.mutate(period_at=joined._period_at).drop(
        "_period_at", "_period_end", "_period_s", "_first_day", "_end_day")


def _backlog(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    return {"value": t.count()}


register(Metric(
    key="backlog", name="Backlog", unit=Unit.CONTACTS, kind=Kind.SNAPSHOT,
    direction=Direction.LOWER_IS_BETTER, table="contacts",
    columns=("outcome", "arrived_at", "resolved_at", "ended_at"),
    definition=(
        "Contacts open at the end of the period: arrived before it ended and not yet "
        "resolved (or ended, with until=ended). A contact with neither time is open while "
        "still waiting or in handling."
    ),
    notes=(
        "A snapshot: a month's backlog is the one at the end of its last day, not a sum. "
        "Help desks count open tickets (not resolved); back offices sometimes count "
        "'not closed', which until=ended gives."
    ),
    formula=_backlog,
    prepare=_backlog_rows,
    parameters=(Parameter("until", "resolved", "A contact stops being open when resolved "
                          "(or ended, if never resolved), or only when ended.",
                          choices=("resolved", "ended")),),
))


_EPOCH = ibis.date(1970, 1, 1)


def _roster_bounds(agents: ir.Table, window: Window) -> tuple[date, date] | None:
    if window.start and window.end:
        return window.start, window.end
    found = agents.aggregate(
        first=agents.hired_on.min(), last_left=agents.left_on.max(),
        last_hired=agents.hired_on.max(),
    ).to_pyarrow().to_pylist()[0]
    known = [d for d in (found["last_left"], found["last_hired"]) if d is not None]
    if found["first"] is None or not known:
        return None
    return window.start or found["first"], window.end or max(known)


def _attrition_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    a = tables("agents")
    if window.tenant is not None:
        a = a.filter(a.tenant == window.tenant)
    if p["role"]:
        a = a.filter(a.role.isnull() | (a.role == p["role"]))
    a = a.filter(a.hired_on.notnull()).mutate(
        _hired=a.hired_on.delta(_EPOCH, unit="day").cast("int64"),
        _left=a.left_on.delta(_EPOCH, unit="day").cast("int64"),
    )
    bounds = _roster_bounds(a, window)
    if bounds is None:
        return a.mutate(period_at=ibis.null("timestamp('UTC')"), _num=0.0, _den=0.0)
    first, last = bounds
    grid = window.grid(local_midnight(first, window.tz),
                       local_midnight(last + timedelta(days=1), window.tz))
    joined = a.join(grid, [a._hired < grid._end_day,
                           a._left.isnull() | (a._left >= grid._first_day)])
    days_in = (ibis.least(joined._left.fill_null(joined._end_day - 1) + 1, joined._end_day)
               - ibis.greatest(joined._hired, joined._first_day))
    leaving = joined._left.notnull() & (joined._left < joined._end_day)
    return joined.select(
        tenant=joined.tenant, team=joined.team, agent_id=joined.agent_id,
        period_at=joined._period_at, _num=leaving.cast("float64"),
        _den=days_in.cast("float64") / (joined._end_day - joined._first_day).cast("float64"),
    )


register(Metric(
    key="attrition", name="Agent attrition", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="agents",
    columns=("agent_id", "team", "role", "hired_on", "left_on"),
    definition=(
        "Agents who left in the period (their last working day in it) ÷ the period's "
        "average headcount (agents employed each day, averaged over its days)."
    ),
    notes=(
        "Not annualised: a month's rate × 12 approximates the annual rate that benchmarks "
        "(ContactBabel, SHRM) quote. Some centers divide by headcount at the start of the "
        "period instead. Counted per period, so it does not roll up from shorter periods."
    ),
    formula=prepared_ratio,
    prepare=_attrition_rows,
    additive=False,
    parameters=(Parameter("role", "agent", "Only roster rows of this role (rows with no role "
                          "count too); empty for everyone."),),
))
