"""Where a running period is heading, and what the rest of it needs. Pure.

Forecast of the rest (until the forecasting module lands): for each remaining day, the
mean numerator and mean denominator of the same weekday over the last ``weeks`` weeks
before ``as_of`` (days with no data count as zero: a closed Saturday forecasts nothing).
Closed days (holidays, excluded dates) forecast zero.

Projected final value = (n_so_far + n_rest) / (d_so_far + d_rest) × scale.

Required performance on the rest, for a share target p ("≥"):
    x = (p · (d_so_far + d_rest) − n_so_far) / d_rest
— "cannot be met" when x > 1, "secured" when x ≤ 0. Lower-is-better shares (≤ q) use the
same x with q: "cannot be met" when x < 0, "secured" when x ≥ 1. Means (ASA ≤ T) need a
mean of x = (T · (d_so_far + d_rest) − n_so_far) / d_rest on the rest, "cannot be met"
when x < 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from servicelevel.metrics import Kind, Metric, Unit
from servicelevel.sla.evaluation import ProjectionResult, meets


@dataclass(frozen=True)
class Day:
    """One local day's components of a ratio metric."""

    day: date
    numerator: float
    denominator: float


def same_weekday_forecast(history: Sequence[Day], remaining: Iterable[date], as_of: date,
                          weeks: int = 4, closed: frozenset[date] = frozenset()
                          ) -> tuple[float, float]:
    """Summed (numerator, denominator) forecast for the remaining days."""
    known = {d.day: d for d in history if d.day < as_of}
    n_rest = d_rest = 0.0
    for day in remaining:
        if day in closed:
            continue
        # The latest day before as_of on the same weekday, and the weeks before it.
        last = day - timedelta(days=7 * -(-((day - as_of).days + 1) // 7))
        samples = [known.get(last - timedelta(days=7 * i), Day(last, 0.0, 0.0))
                   for i in range(weeks)]
        n_rest += sum(s.numerator for s in samples) / weeks
        d_rest += sum(s.denominator for s in samples) / weeks
    return n_rest, d_rest


def required_rest(metric: Metric, comparison: str, target: float, n_so_far: float,
                  d_so_far: float, d_rest: float) -> float | None:
    """The value the rest of the period needs, in the metric's units; None if no rest."""
    if d_rest <= 0:
        return None
    t = target / metric.scale
    return metric.scale * (t * (d_so_far + d_rest) - n_so_far) / d_rest


def project(metric: Metric, comparison: str, target: float, so_far: Sequence[Day],
            history: Sequence[Day], period_end: date, as_of: date, weeks: int = 4,
            closed: frozenset[date] = frozenset()) -> ProjectionResult:
    """Projection of a running period of a ratio metric from its days so far."""
    remaining = [as_of + timedelta(days=i) for i in range((period_end - as_of).days)]
    if metric.kind is not Kind.RATIO:
        return ProjectionResult(as_of, len(remaining), None, None, "unknown")
    n_so = sum(d.numerator for d in so_far)
    d_so = sum(d.denominator for d in so_far)
    n_rest, d_rest = same_weekday_forecast(history, remaining, as_of, weeks, closed)
    total_d = d_so + d_rest
    projected = metric.scale * (n_so + n_rest) / total_d if total_d else None
    needed = required_rest(metric, comparison, target, n_so, d_so, d_rest)
    higher = comparison.startswith(">")
    status: str
    if needed is None:
        status = "unknown" if projected is None else (
            "secured" if meets(projected, comparison, target) else "cannot be met")
    elif higher and needed <= 0:
        status = "secured"
    elif (higher and metric.unit is Unit.PERCENT and needed > 100) or (not higher and needed < 0):
        status = "cannot be met"
    elif not higher and metric.unit is Unit.PERCENT and needed >= 100:
        status = "secured"
    elif projected is not None and meets(projected, comparison, target):
        status = "on track"
    else:
        status = "at risk"
    return ProjectionResult(as_of, len(remaining), projected, needed, status)  # type: ignore[arg-type]
