"""Judging objectives: KpiRows from the metric engine + the contract → results. Pure.

For each objective and period: the actual value under the objective's attainment rule,
the verdict (met / missed / insufficient data / excluded), the margin (positive = better
than target), the error budget, and for proportions the Wilson interval and the
statistical verdict. Consequences are settled afterwards across periods
(``consequences.settle``), projections added for running periods (``projection``).

Attainment rules:
- ``aggregate``: the period's exact value from its summed components;
- ``intervals_met``: the share of intervals (with data) whose value meets the target,
  compared with ``intervals_share``;
- ``interval_mean``: the plain mean of the interval values, compared with the target.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any, Literal
from zoneinfo import ZoneInfo

from servicelevel.metrics import Direction, Kind, KpiRow, Metric, PeriodSpec, Unit
from servicelevel.metrics.periods import next_period_start, period_containing
from servicelevel.sla.schema import Consequences, Exclusion, Fee, Objective
from servicelevel.sla.statistics import statistical_verdict, wilson

Verdict = Literal["met", "missed", "insufficient data", "excluded"]
VERDICTS: tuple[Verdict, ...] = ("met", "missed", "insufficient data", "excluded")


@dataclass(frozen=True)
class ProjectionResult:
    """A running period: where it is heading, and what the rest of it needs."""

    as_of: date
    days_left: int
    projected: float | None  # projected final value, metric units
    required_rest: float | None  # value the rest of the period needs (metric units)
    status: Literal["on track", "at risk", "cannot be met", "secured", "unknown"]

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "days_left": self.days_left,
                "projected": _round(self.projected),
                "required_rest_of_period": _round(self.required_rest), "status": self.status}


@dataclass(frozen=True)
class ObjectiveResult:
    """One objective in one period."""

    objective: str
    name: str
    metric: str
    unit: str
    owner: str
    version: str
    period: str  # label: 1999-02, 1999-02-14, 1999-W07
    period_start: datetime
    period_end: datetime  # excluded
    attainment: str
    comparison: str
    target: float
    actual: float | None
    verdict: Verdict
    margin: float | None = None  # positive: better than target
    error_budget: float | None = None
    error_budget_unit: str | None = None
    numerator: float | None = None
    denominator: float | None = None
    intervals_met: int | None = None
    intervals_counted: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    statistical_verdict: str | None = None
    excluded: tuple[str, ...] = ()
    running: bool = False
    projection: ProjectionResult | None = None
    consequence: float = 0.0  # money owed for this period, after earn-back and caps
    consequence_before_cap: float = 0.0
    consequence_status: str | None = None  # due, waived (earn-back), earn-back pending
    consequence_kind: str | None = None
    consequences: Consequences | None = field(default=None, repr=False, compare=False)
    fee: Fee | None = field(default=None, repr=False, compare=False)
    month_cap_fee_percent: float | None = field(default=None, repr=False, compare=False)

    @property
    def shortfall(self) -> float:
        return 0.0 if self.margin is None or self.verdict != "missed" else max(0.0, -self.margin)

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "objective": self.objective, "name": self.name, "metric": self.metric,
            "unit": self.unit, "owner": self.owner, "version": self.version,
            "period": self.period, "period_start": self.period_start.isoformat(),
            "attainment": self.attainment, "comparison": self.comparison,
            "target": self.target, "actual": _round(self.actual), "verdict": self.verdict,
            "margin": _round(self.margin), "error_budget": self.error_budget,
            "error_budget_unit": self.error_budget_unit,
            "numerator": self.numerator, "denominator": self.denominator,
        }
        if self.intervals_counted is not None:
            row["intervals_met"] = self.intervals_met
            row["intervals_counted"] = self.intervals_counted
        if self.ci_low is not None:
            row["ci95"] = [_round(self.ci_low), _round(self.ci_high)]
            row["statistical_verdict"] = self.statistical_verdict
        row["excluded"] = list(self.excluded)
        row["running"] = self.running
        row["projection"] = self.projection.to_dict() if self.projection else None
        row["consequence"] = self.consequence
        row["consequence_before_cap"] = self.consequence_before_cap
        row["consequence_status"] = self.consequence_status
        row["consequence_kind"] = self.consequence_kind
        return row


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


# --- comparisons, margins, budgets --------------------------------------------------------


def meets(value: float, comparison: str, target: float) -> bool:
    return {
        ">=": value >= target, ">": value > target, "<=": value <= target, "<": value < target,
    }[comparison]


def margin(value: float, comparison: str, target: float) -> float:
    """Distance to the target, positive when better than it."""
    return value - target if comparison.startswith(">") else target - value


def _exact(value: float) -> Fraction:
    return Fraction(str(value)) if not float(value).is_integer() else Fraction(int(value))


def error_budget(numerator: float, denominator: float, comparison: str, target: float,
                 metric: Metric) -> tuple[float | None, str | None]:
    """How many more bad contacts (or seconds, for means) the period can absorb.

    Ratio of shares with good numerator n over d, target p (share): more bad contacts k
    keep n / (d + k) ≥ p while k ≤ n/p − d, so budget = ⌊n/p − d⌋ (for ">": the largest
    k with n/(d+k) > p, ⌈n/p − d⌉ − 1). Lower-is-better share with bad numerator n,
    target q: each bad contact adds to both, (n + k)/(d + k) ≤ q while
    k ≤ (q·d − n)/(1 − q). Means (e.g. ASA = total wait / answered), lower is better:
    T·d − n seconds of total wait; higher is better: n − T·d. Counts: T − value or
    value − T. A negative budget is the excess over it.
    """
    n, d = _exact(numerator), _exact(denominator)
    higher = metric.direction is Direction.HIGHER_IS_BETTER
    strict = comparison in (">", "<")
    if metric.kind is Kind.RATIO and metric.unit is Unit.PERCENT:
        share = _exact(target) / 100
        if higher:
            if share == 0:
                return None, None
            bound = n / share - d
        else:
            if share == 1:
                return None, None
            bound = (share * d - n) / (1 - share)
        whole = math.ceil(bound) - 1 if strict else math.floor(bound)
        return float(whole), "contacts"
    if metric.kind is Kind.RATIO:
        t = _exact(target)
        slack = n - t * d if higher else t * d - n
        return float(slack), f"{metric.unit.value} in total"
    return None, None


def intervals_budget(met: int, counted: int, share_percent: float) -> float:
    """More intervals that could miss: ⌊m/s − N⌋, the share formula over intervals."""
    share = _exact(share_percent) / 100
    return float(math.floor(Fraction(met) / share - counted))


# --- periods and exclusions ---------------------------------------------------------------


def period_label(spec: PeriodSpec, start: datetime) -> str:
    if spec.name == "month":
        return start.strftime("%Y-%m")
    if spec.name == "week":
        year, week, _ = start.date().isocalendar()
        return f"{year}-W{week:02d}"
    return start.date().isoformat()


def applies(exclusion: Exclusion, objective_id: str) -> bool:
    return not exclusion.objectives or objective_id in exclusion.objectives


def row_excluded(exclusion: Exclusion, local_start: datetime, seconds: int | None,
                 queue: Any) -> bool:
    """Whether a row (an interval or a day, of one queue or all) falls in the exclusion.

    The parts of one exclusion combine: queues (if listed) and dates or time range (if
    given). An interval that overlaps an excluded time range is excluded whole.
    """
    if exclusion.queues and queue not in exclusion.queues:
        return False
    if not exclusion.dates and exclusion.start is None:
        return True
    naive = local_start.replace(tzinfo=None)
    if naive.date() in exclusion.dates:
        return True
    if exclusion.start is not None and exclusion.end is not None:
        length = timedelta(seconds=seconds if seconds is not None else 86_400)
        return naive < exclusion.end and naive + length > exclusion.start
    return False


def whole_period_excluded(exclusions: Iterable[Exclusion], start: datetime,
                          end: datetime) -> list[str]:
    """Reasons, when the exclusions (dates, time ranges, no queue) cover every day."""
    covering = [e for e in exclusions if not e.queues]
    day = start.date()
    last = (end - timedelta(microseconds=1)).date()
    reasons: list[str] = []
    while day <= last:
        hit = [e for e in covering if day in e.dates or (
            e.start is not None and e.end is not None
            and e.start <= datetime.combine(day, datetime.min.time())
            and e.end >= datetime.combine(day + timedelta(days=1), datetime.min.time()))]
        if not hit:
            return []
        reasons += [e.reason for e in hit if e.reason not in reasons]
        day += timedelta(days=1)
    return reasons


def exclusion_touches(exclusion: Exclusion, start: datetime, end: datetime) -> bool:
    first = start.replace(tzinfo=None)
    last = end.replace(tzinfo=None)
    if any(first.date() <= d < last.date() for d in exclusion.dates):
        return True
    if exclusion.start is not None and exclusion.end is not None:
        return exclusion.start < last and exclusion.end > first
    return not exclusion.dates  # queues only: always in force


# --- measuring and judging ----------------------------------------------------------------


@dataclass(frozen=True)
class Parts:
    """Rolled-up components of one metric over rows: exact sums (or max / min)."""

    value: float | None
    numerator: float | None
    denominator: float | None


def rollup(metric: Metric, rows: Sequence[KpiRow]) -> Parts:
    """The components of ``rows`` combined the way the metric's kind says."""
    if metric.kind is Kind.RATIO:
        n = sum(r.numerator or 0.0 for r in rows)
        d = sum(r.denominator or 0.0 for r in rows)
        return Parts(metric.value({"numerator": n, "denominator": d}), n, d)
    values = [r.value for r in rows if r.value is not None]
    if metric.kind is Kind.COUNT:
        return Parts(float(sum(values)), None, None)
    if not values:
        return Parts(None, None, None)
    if metric.kind is Kind.MAXIMUM:
        return Parts(max(values), None, None)
    if metric.kind is Kind.MINIMUM:
        return Parts(min(values), None, None)
    if len(rows) == 1:
        return Parts(rows[0].value, None, None)
    raise ValueError(f"{metric.key}: a {metric.kind} metric does not roll up; measure it "
                     "per period without time-range or queue exclusions")


def has_data(metric: Metric, parts: Parts) -> bool:
    if metric.kind is Kind.RATIO:
        return bool(parts.denominator)
    return parts.value is not None and (metric.kind is not Kind.COUNT or parts.value > 0)


@dataclass(frozen=True)
class Context:
    """What judging one objective needs besides the rows."""

    objective: Objective
    metric: Metric
    version: str
    spec: PeriodSpec  # the objective's period
    tz: ZoneInfo
    exclusions: tuple[Exclusion, ...] = ()  # those that apply to this objective
    fee: Fee | None = None
    month_cap_fee_percent: float | None = None
    fine_seconds: int | None = None  # interval length of the rows; None: period rows


def judge_rows(context: Context, rows: Sequence[KpiRow],
               as_of: datetime | None = None) -> list[ObjectiveResult]:
    """One result per objective period found in ``rows`` (rows of one metric)."""
    keep = [r for r in rows if not _dropped(context, r)]
    periods: dict[datetime, list[KpiRow]] = {}
    for row in rows:
        periods.setdefault(period_containing(context.spec, row.period_start, context.tz), [])
    for row in keep:
        periods[period_containing(context.spec, row.period_start, context.tz)].append(row)
    return [
        judge_period(context, start, period_rows, as_of)
        for start, period_rows in sorted(periods.items())
    ]


def _dropped(context: Context, row: KpiRow) -> bool:
    queue = dict(row.group).get("queue")
    local = row.period_start.astimezone(context.tz)
    return any(row_excluded(e, local, context.fine_seconds, queue) for e in context.exclusions
               if e.queues or e.start is not None)


def judge_period(context: Context, start: datetime, rows: Sequence[KpiRow],
                 as_of: datetime | None = None) -> ObjectiveResult:
    """The result of one objective in the period starting at ``start``."""
    o, metric = context.objective, context.metric
    end = next_period_start(context.spec, start, context.tz)
    base = ObjectiveResult(
        objective=o.id, name=o.name or o.id, metric=o.metric, unit=metric.unit.value,
        owner=o.owner, version=context.version, period=period_label(context.spec, start),
        period_start=start, period_end=end, attainment=o.attainment,
        comparison=o.comparison, target=o.target, actual=None, verdict="insufficient data",
        excluded=tuple(e.reason for e in context.exclusions
                       if exclusion_touches(e, start.astimezone(context.tz),
                                            end.astimezone(context.tz))),
        running=as_of is not None and end > as_of,
        consequences=o.consequences, fee=context.fee,
        consequence_kind=o.consequences.kind if o.consequences else None,
        month_cap_fee_percent=context.month_cap_fee_percent,
    )
    if whole_period_excluded(context.exclusions, start.astimezone(context.tz),
                             end.astimezone(context.tz)):
        return replace(base, verdict="excluded")
    if o.attainment == "aggregate":
        return _aggregate(base, metric, rollup(metric, rows), o.minimum_volume)
    return _intervals(base, metric, rows, o)


def _aggregate(base: ObjectiveResult, metric: Metric, parts: Parts,
               minimum: int) -> ObjectiveResult:
    result = replace(base, actual=parts.value, numerator=parts.numerator,
                     denominator=parts.denominator)
    if not has_data(metric, parts) or parts.value is None:
        return result
    volume = parts.denominator if metric.kind is Kind.RATIO else parts.value
    if metric.kind in (Kind.RATIO, Kind.COUNT) and (volume or 0) < minimum:
        return result
    verdict: Verdict = "met" if meets(parts.value, base.comparison, base.target) else "missed"
    result = replace(result, verdict=verdict,
                     margin=margin(parts.value, base.comparison, base.target))
    if metric.kind is Kind.RATIO and parts.numerator is not None and parts.denominator:
        budget, unit = error_budget(parts.numerator, parts.denominator, base.comparison,
                                    base.target, metric)
        result = replace(result, error_budget=budget, error_budget_unit=unit)
        if metric.unit is Unit.PERCENT:
            interval = wilson(parts.numerator, parts.denominator)
            if interval is not None:
                result = replace(
                    result, ci_low=100 * interval[0], ci_high=100 * interval[1],
                    statistical_verdict=statistical_verdict(
                        interval, base.comparison, base.target / 100),
                )
    elif metric.kind is Kind.COUNT:
        slack = margin(parts.value, base.comparison, base.target)
        result = replace(result, error_budget=slack, error_budget_unit=metric.unit.value)
    return result


def _intervals(base: ObjectiveResult, metric: Metric, rows: Sequence[KpiRow],
               o: Objective) -> ObjectiveResult:
    by_interval: dict[datetime, list[KpiRow]] = {}
    for row in rows:
        by_interval.setdefault(row.period_start, []).append(row)
    values: list[float] = []
    volume = 0.0
    for interval_rows in by_interval.values():
        parts = rollup(metric, interval_rows)
        if has_data(metric, parts) and parts.value is not None:
            values.append(parts.value)
            volume += parts.denominator or 0.0
    total = rollup(metric, rows) if rows else Parts(None, None, None)
    result = replace(base, numerator=total.numerator, denominator=total.denominator)
    if not values or (metric.kind is Kind.RATIO and volume < o.minimum_volume):
        return result
    if o.attainment == "interval_mean":
        mean = sum(values) / len(values)
        return replace(result, actual=mean, intervals_counted=len(values),
                       verdict="met" if meets(mean, o.comparison, o.target) else "missed",
                       margin=margin(mean, o.comparison, o.target))
    met = sum(1 for v in values if meets(v, o.comparison, o.target))
    share = 100.0 * met / len(values)
    assert o.intervals_share is not None
    return replace(
        result, actual=share, target=o.intervals_share, comparison=">=",
        intervals_met=met, intervals_counted=len(values),
        verdict="met" if share >= o.intervals_share else "missed",
        margin=share - o.intervals_share,
        error_budget=intervals_budget(met, len(values), o.intervals_share),
        error_budget_unit="intervals",
    )
