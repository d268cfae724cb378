"""Evaluating a contract over a store: the thin layer that calls the metric engine.

Everything that decides lives in the pure modules (evaluation, consequences, projection);
this module builds the engine queries for each version and objective and hands the
KpiRows over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from servicelevel.metrics import (
    BusinessHours,
    Kind,
    KpiQuery,
    KpiRow,
    MetricRequest,
    PeriodSpec,
    compute,
)
from servicelevel.metrics.engine import TableSource
from servicelevel.metrics.periods import local_midnight, next_period_start, period_containing
from servicelevel.model.time import zone
from servicelevel.sla.consequences import settle, total
from servicelevel.sla.evaluation import (
    Context,
    ObjectiveResult,
    applies,
    has_data,
    judge_rows,
    rollup,
)
from servicelevel.sla.loading import LoadedContract, parse_span
from servicelevel.sla.projection import Day, project
from servicelevel.sla.schema import WEEKDAYS, Calendar, Exclusion, Objective, Scope
from servicelevel.sla.versions import Version, versions

HISTORY_WEEKS = 4


@dataclass(frozen=True)
class Selection:
    """The days whose periods are judged: a period is in when it starts in [first, last]."""

    first: date | None = None
    last: date | None = None

    @classmethod
    def parse(cls, text: str | None) -> Selection:
        """``1999-02``, ``1999``, ``1999-01..1999-10``, ``1999-02-14``; None: all data."""
        from servicelevel.errors import InputError

        if text is None or not text.strip():
            return cls()
        left, sep, right = text.strip().partition("..")
        try:
            first = _bounds(left)[0]
            last = _bounds(right if sep else left)[1]
        except ValueError:
            raise InputError(
                f"--period: {text!r} is not a period; write a month 1999-02, a year 1999, "
                "a day 1999-02-14 or a range 1999-01..1999-10"
            ) from None
        if last < first:
            raise InputError(f"--period: {text!r} ends before it starts")
        return cls(first, last)


def _bounds(text: str) -> tuple[date, date]:
    parts = text.strip().split("-")
    if len(parts) == 1 and len(parts[0]) == 4:
        year = int(parts[0])
        return date(year, 1, 1), date(year, 12, 31)
    if len(parts) == 2:
        first = date(int(parts[0]), int(parts[1]), 1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first, following - timedelta(days=1)
    day = date.fromisoformat(text.strip())
    return day, day


@dataclass(frozen=True)
class Evaluation:
    """Every objective in every period judged, with the contract's traceability."""

    contract: str
    source: str
    sha256: str
    versions: tuple[str, ...]
    currency: str | None
    as_of: datetime
    results: tuple[ObjectiveResult, ...]

    @property
    def total(self) -> float:
        return total(self.results)

    @property
    def any_missed(self) -> bool:
        """A finished period missed; a running period is not missed yet."""
        return any(r.verdict == "missed" and not r.running for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract": self.contract, "source": self.source, "sha256": self.sha256,
            "versions": list(self.versions), "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "results": [
                {**r.to_dict(), "contract_sha256": self.sha256} for r in self.results
            ],
            "total_consequences": self.total,
            "all_met": not self.any_missed,
        }


def check(tables: TableSource, loaded: LoadedContract, selection: Selection = Selection(),
          as_of: datetime | None = None) -> Evaluation:
    """Judge every objective of every version over the selected periods."""
    now = as_of or datetime.now(UTC)
    all_versions = versions(loaded.contract)
    results: list[ObjectiveResult] = []
    for version in all_versions:
        plans = [_plan(version, o, selection, now) for o in version.objectives]
        open_plans = [p for p in plans if p.needs_extent]
        extents = _run(tables, [(p, replace(p.query, period=PeriodSpec.parse("month"),
                                            by=(), end=p.last)) for p in open_plans])
        for plan in open_plans:
            plan.settle_extent(extents[id(plan)])
        ready = [p for p in plans if p.first is not None and p.last is not None
                 and min(p.last, p.data_last) >= p.first]
        measured = _run(tables, [(p, p.measure_query()) for p in ready])
        for plan in ready:
            judged = judge_rows(plan.context, measured[id(plan)], as_of=plan.as_of)
            assert plan.last is not None
            judged = [r for r in judged if r.period_start.date() <= plan.last]
            results += [_with_projection(tables, plan, r) if r.running else r for r in judged]
    results.sort(key=lambda r: (r.period_start, _order(all_versions, r.objective)))
    fee = all_versions[-1].fee
    return Evaluation(
        loaded.contract.contract, loaded.source, loaded.sha256,
        tuple(v.version for v in all_versions), fee.currency if fee else None, now,
        tuple(settle(results)),
    )


def _order(all_versions: Sequence[Version], objective_id: str) -> int:
    ids: list[str] = []
    for version in all_versions:
        ids += [o.id for o in version.objectives if o.id not in ids]
    return ids.index(objective_id)


@dataclass
class _Plan:
    """The engine query of one objective in one version, and its judging context."""

    request: MetricRequest
    query: KpiQuery  # without end, at the objective's period
    context: Context
    first: date | None
    last: date | None
    data_last: date  # data through yesterday: today is not over
    as_of: datetime
    needs_extent: bool
    needs_extent_first: bool = False

    def settle_extent(self, months: list[KpiRow]) -> None:
        metric = self.request.metric
        with_data = [r for r in months if has_data(metric, rollup(metric, [r]))]
        if not with_data:
            self.first = self.last = None
            return
        following = next_period_start(PeriodSpec.parse("month"), with_data[-1].period_start,
                                 self.query.tz)
        assert self.first is not None
        if self.needs_extent_first:
            self.first = max(self.first, with_data[0].period_start.date())
        if self.last is None:
            self.last = following.date() - timedelta(days=1)

    def measure_query(self) -> KpiQuery:
        assert self.first is not None and self.last is not None
        fine = self.context.fine_seconds
        by = ("queue",) if any(e.queues for e in self.context.exclusions) else ()
        return replace(self.query, start=self.first, end=min(self.last, self.data_last),
                       period=PeriodSpec.parse(f"{fine // 60}m") if fine else self.query.period,
                       by=by)


def _plan(version: Version, objective: Objective, selection: Selection,
          now: datetime) -> _Plan:
    tz = zone(version.calendar.time_zone)
    spec = PeriodSpec.parse(objective.period)
    first = _first_period_on_or_after(spec, version.effective_from, tz)
    last = None if version.effective_until is None else \
        _first_period_on_or_after(spec, version.effective_until, tz) - timedelta(days=1)
    if selection.first is not None:
        first = max(first, _first_period_on_or_after(spec, selection.first, tz))
    if selection.last is not None:
        end_of = next_period_start(spec, period_containing(
            spec, local_midnight(selection.last, tz), tz), tz).date() - timedelta(days=1)
        last = end_of if last is None else min(last, end_of)
    today = now.astimezone(tz).date()
    exclusions = tuple(e for e in version.exclusions if applies(e, objective.id))
    request = MetricRequest.of(objective.metric, objective.params)
    query = KpiQuery(
        metrics=[request], period=spec, tz=tz, start=first, end=None,
        calendar=_calendar(version.calendar, objective, exclusions, first, last or today),
        **_scope(version.scope, objective.scope),
    )
    context = Context(objective, request.metric, version.version, spec, tz, exclusions,
                      version.fee, version.cap_fee_percent, _fine_seconds(objective, exclusions))
    plan = _Plan(request, query, context, first, last, today - timedelta(days=1),
                 local_midnight(today, tz), last is None or selection.first is None)
    plan.needs_extent_first = selection.first is None
    return plan


def _run(tables: TableSource, work: Sequence[tuple[_Plan, KpiQuery]]) -> dict[int, list[KpiRow]]:
    """Each plan's rows, computing queries that differ only in their metric together."""
    groups: dict[tuple[Any, ...], list[tuple[_Plan, KpiQuery]]] = {}
    for plan, query in work:
        key = (query.period, query.tz, tuple(query.by), query.start, query.end, query.tenant,
               _calendar_key(query.calendar),
               tuple(sorted((k, tuple(v)) for k, v in query.filters.items())))
        batches = groups.setdefault(key, [])
        batches.append((plan, query))
    out: dict[int, list[KpiRow]] = {}
    for items in groups.values():
        pending = list(items)
        while pending:  # one metric key once per engine call: rows are told apart by key
            batch: list[tuple[_Plan, KpiQuery]] = []
            rest: list[tuple[_Plan, KpiQuery]] = []
            seen: set[str] = set()
            for plan, query in pending:
                target = batch if plan.request.metric.key not in seen else rest
                target.append((plan, query))
                seen.add(plan.request.metric.key)
            query = replace(batch[0][1], metrics=[p.request for p, _ in batch])
            rows = compute(tables, query)
            for plan, _ in batch:
                out[id(plan)] = [r for r in rows if r.metric == plan.request.metric.key]
            pending = rest
    return out


def _first_period_on_or_after(spec: PeriodSpec, day: date, tz: ZoneInfo) -> date:
    start = period_containing(spec, local_midnight(day, tz), tz)
    if start.date() < day:
        start = next_period_start(spec, start, tz)
    return start.date()


def _calendar_key(calendar: BusinessHours | None) -> Any:
    if calendar is None:
        return None
    return tuple(sorted(calendar.hours.items())), calendar.holidays


def _fine_seconds(objective: Objective, exclusions: Sequence[Exclusion]) -> int | None:
    """Interval length to measure at: the objective's interval, or 15 min for ranges."""
    if objective.attainment != "aggregate":
        return int(objective.interval.rstrip("m")) * 60
    if any(e.start is not None or (e.queues and e.dates) for e in exclusions):
        return 900
    return None


def _scope(contract: Scope, objective: Scope | None) -> dict[str, Any]:
    def pick(name: str) -> list[str]:
        own = getattr(objective, name) if objective is not None else []
        return list(own or getattr(contract, name))

    filters: dict[str, list[str]] = {}
    tenants = pick("tenants")
    for group, name in (("queue", "queues"), ("channel", "channels"),
                        ("service_type", "service_types")):
        if pick(name):
            filters[group] = pick(name)
    if len(tenants) > 1:
        filters["tenant"] = tenants
    return {"tenant": tenants[0] if len(tenants) == 1 else None, "filters": filters}


def _calendar(calendar: Calendar, objective: Objective, exclusions: Sequence[Exclusion],
              first: date, last: date) -> BusinessHours | None:
    closed = set(calendar.holidays.dates)
    closed |= {d for e in exclusions if not e.queues for d in e.dates}
    closed |= country_holidays(calendar, first, last)
    if objective.business_hours_only and calendar.business_hours is not None:
        hours: dict[int, tuple[tuple[int, int], ...]] = {}
        for day, spans in calendar.business_hours.items():
            parsed = [parse_span(span) for span in spans]
            hours[WEEKDAYS.index(day)] = tuple(p for p in parsed if p is not None)
    elif closed:
        hours = {weekday: ((0, 86_400),) for weekday in range(7)}
    else:
        return None
    return BusinessHours(hours, frozenset(closed))


def country_holidays(calendar: Calendar, first: date, last: date) -> set[date]:
    import holidays

    days: set[date] = set()
    years = range(first.year - 1, last.year + 2)
    for code in calendar.holidays.countries:
        country, _, subdivision = code.partition("-")
        found = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
        days |= set(found)
    return days


def _with_projection(tables: TableSource, plan: _Plan,
                     result: ObjectiveResult) -> ObjectiveResult:
    metric = plan.request.metric
    if result.attainment != "aggregate" or metric.kind is not Kind.RATIO:
        return result
    today = plan.as_of.date()
    start = result.period_start.date()
    history_start = min(start, today) - timedelta(days=7 * HISTORY_WEEKS)
    rows = [] if plan.data_last < history_start else compute(tables, replace(
        plan.query, period=PeriodSpec.parse("day"), by=(), start=history_start,
        end=plan.data_last))
    days = [_day(r) for r in rows]
    calendar = plan.query.calendar
    projection = project(
        metric, result.comparison, result.target,
        so_far=[d for d in days if d.day >= start], history=days,
        period_end=result.period_end.date(), as_of=today, weeks=HISTORY_WEEKS,
        closed=calendar.holidays if calendar is not None else frozenset(),
    )
    return replace(result, projection=projection)


def _day(row: KpiRow) -> Day:
    return Day(row.period_start.date(), row.numerator or 0.0, row.denominator or 0.0)
