"""Judging objectives from engine rows: attainment rules, budgets, exclusions, Wilson.

Every expected figure is computed by hand in the comments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from servicelevel.metrics import KpiRow, PeriodSpec, get_metric
from servicelevel.sla.evaluation import Context, error_budget, judge_rows
from servicelevel.sla.schema import Exclusion, Objective
from servicelevel.sla.statistics import statistical_verdict, wilson

UTC = ZoneInfo("UTC")
MONTH = PeriodSpec.parse("month")


def objective(**fields: Any) -> Objective:
    base: dict[str, Any] = {"id": "sl", "metric": "service_level", "comparison": ">=",
                            "target": 80, "owner": "Ops"}
    base.update(fields)
    return Objective.model_validate(base)


def context(o: Objective, exclusions: tuple[Exclusion, ...] = (),
            fine: int | None = None) -> Context:
    return Context(o, get_metric(o.metric), "1", MONTH, UTC, exclusions, None, None, fine)


def row(start: datetime, n: float, d: float, metric: str = "service_level",
        queue: str | None = None) -> KpiRow:
    scale = get_metric(metric).scale
    group = (("queue", queue),) if queue else ()
    return KpiRow(start, group, metric, scale * n / d if d else None, n, d)


MARCH = datetime(2024, 3, 1, tzinfo=UTC)


def test_aggregate_met_with_budget_and_wilson() -> None:
    [result] = judge_rows(context(objective()), [row(MARCH, 850, 1000)])
    assert result.verdict == "met"
    assert result.actual == pytest.approx(85.0)
    assert result.margin == pytest.approx(5.0)
    # ⌊850 / 0.8 − 1000⌋ = ⌊62.5⌋ = 62: 850/1062 = 80.04 % still meets, 850/1063 = 79.96 % not
    assert result.error_budget == 62
    assert result.error_budget_unit == "contacts"
    # Wilson, z = 1.96, n = 1000, p = 0.85: centre (0.85 + z²/2000)/(1 + z²/1000) = 0.84866,
    # half-width z/(1 + z²/1000)·√(p(1−p)/1000 + z²/4e6) = 0.02213 → 82.65 % … 87.08 %
    assert result.ci_low == pytest.approx(82.653, abs=0.01)
    assert result.ci_high == pytest.approx(87.079, abs=0.01)
    assert result.statistical_verdict == "met"
    assert result.period == "2024-03"


def test_strict_comparison_at_the_boundary() -> None:
    # 800 / 1000 = 80 %: meets ">= 80" with a budget of ⌊1000 − 1000⌋ = 0,
    [met] = judge_rows(context(objective()), [row(MARCH, 800, 1000)])
    assert (met.verdict, met.error_budget) == ("met", 0)
    # misses "> 80"; its budget is ⌈0⌉ − 1 = −1 (one good contact short)
    [missed] = judge_rows(context(objective(comparison=">")), [row(MARCH, 800, 1000)])
    assert (missed.verdict, missed.error_budget) == ("missed", -1)
    # 80 % of 1000 sits inside its own interval: the statistics cannot tell
    assert missed.statistical_verdict == "can't tell"


def test_lower_is_better_share_budget() -> None:
    o = objective(id="ab", metric="abandon_rate", comparison="<=", target=5)
    [result] = judge_rows(context(o), [row(MARCH, 40, 1000, "abandon_rate")])
    assert result.verdict == "met"
    # ⌊(0.05·1000 − 40) / 0.95⌋ = ⌊10.53⌋ = 10: 50/1010 = 4.95 %, 51/1011 = 5.04 %
    assert result.error_budget == 10


def test_mean_budget_is_in_seconds_of_total_wait() -> None:
    o = objective(id="asa", metric="asa", comparison="<=", target=35)
    [result] = judge_rows(context(o), [row(MARCH, 30_000, 1000, "asa")])
    # ASA = 30,000 s / 1000 = 30 s; budget 35·1000 − 30,000 = 5,000 s of total wait
    assert (result.actual, result.error_budget) == (30.0, 5000.0)
    assert result.error_budget_unit == "seconds in total"
    assert result.ci_low is None  # no proportion, no Wilson interval


def test_error_budget_formula_directly() -> None:
    sl = get_metric("service_level")
    # ⌊45 / 0.9 − 50⌋ = 0 and ⌊46 / 0.9 − 50⌋ = ⌊1.11⌋ = 1
    assert error_budget(45, 50, ">=", 90, sl) == (0.0, "contacts")
    assert error_budget(46, 50, ">=", 90, sl) == (1.0, "contacts")


def test_minimum_volume_gives_insufficient_data() -> None:
    [result] = judge_rows(context(objective(minimum_volume=100)), [row(MARCH, 99, 99)])
    assert result.verdict == "insufficient data"
    assert result.actual == pytest.approx(100.0)  # the value is shown, not judged
    [empty] = judge_rows(context(objective()), [KpiRow(MARCH, (), "service_level", None,
                                                        0.0, 0.0)])
    assert empty.verdict == "insufficient data"


HALF_HOURS = [MARCH + timedelta(hours=9, minutes=30 * i) for i in range(4)]
# 9/10 = 90 %, 7/10 = 70 %, 8/10 = 80 %, and a half-hour with no calls
INTERVAL_ROWS = [row(HALF_HOURS[0], 9, 10), row(HALF_HOURS[1], 7, 10),
                 row(HALF_HOURS[2], 8, 10), row(HALF_HOURS[3], 0, 0)]


def test_intervals_met() -> None:
    o = objective(attainment="intervals_met", intervals_share=60)
    [result] = judge_rows(context(o, fine=1800), INTERVAL_ROWS)
    # 2 of the 3 half-hours with calls reach 80 %: 66.67 % ≥ 60 % → met
    assert (result.intervals_met, result.intervals_counted) == (2, 3)
    assert result.actual == pytest.approx(200 / 3)
    assert result.verdict == "met"
    assert (result.target, result.comparison) == (60, ">=")
    # one more missed half-hour: 2/4 = 50 % < 60 %; budget ⌊2 / 0.6 − 3⌋ = ⌊0.33⌋ = 0
    assert result.error_budget == 0
    [strict] = judge_rows(context(objective(attainment="intervals_met", intervals_share=70),
                                  fine=1800), INTERVAL_ROWS)
    assert strict.verdict == "missed"  # 66.67 % < 70 %


def test_interval_mean_and_aggregate_differ_in_rule_not_data() -> None:
    [mean] = judge_rows(context(objective(attainment="interval_mean"), fine=1800),
                        INTERVAL_ROWS)
    assert mean.actual == pytest.approx(80.0)  # (90 + 70 + 80) / 3
    assert mean.verdict == "met"
    [aggregate] = judge_rows(context(objective(), fine=1800), INTERVAL_ROWS)
    assert aggregate.actual == pytest.approx(80.0)  # 24 / 30
    assert (aggregate.numerator, aggregate.denominator) == (24, 30)


def test_time_range_exclusion_drops_the_interval() -> None:
    outage = Exclusion.model_validate({"reason": "carrier outage", "kind": "outage",
                                       "start": "2024-03-01T09:30", "end": "2024-03-01T10:00"})
    [result] = judge_rows(context(objective(), (outage,), fine=1800), INTERVAL_ROWS)
    # the 09:30 half-hour (7/10) is out: (9 + 8) / 20 = 85 %
    assert result.actual == pytest.approx(85.0)
    assert result.excluded == ("carrier outage",)
    assert result.verdict == "met"


def test_queue_exclusion() -> None:
    rows = [row(MARCH, 90, 100, queue="sales"), row(MARCH, 10, 100, queue="broken")]
    exclusion = Exclusion.model_validate({"reason": "client's IVR misrouted",
                                          "queues": ["broken"], "kind": "client_caused"})
    [result] = judge_rows(context(objective(), (exclusion,)), rows)
    assert result.actual == pytest.approx(90.0)  # only sales: 90 / 100
    [all_queues] = judge_rows(context(objective()), rows)
    assert all_queues.actual == pytest.approx(50.0)  # 100 / 200


def test_whole_period_excluded() -> None:
    days = [date(2024, 2, 1) + timedelta(days=i) for i in range(29)]
    force_majeure = Exclusion.model_validate({"reason": "flood", "kind": "force_majeure",
                                              "dates": days})
    february = datetime(2024, 2, 1, tzinfo=UTC)
    [result] = judge_rows(context(objective(), (force_majeure,)), [row(february, 1, 100)])
    assert result.verdict == "excluded"
    partly = Exclusion.model_validate({"reason": "flood", "dates": days[:-1]})
    [judged] = judge_rows(context(objective(), (partly,)), [row(february, 1, 100)])
    assert judged.verdict == "missed"  # one day still counts


def test_wilson_against_a_published_value() -> None:
    # Brown, Cai & DasGupta (2001): x = 0 of n = 10 gives the Wilson upper bound 0.2775
    low, high = wilson(0, 10) or (None, None)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)
    assert wilson(0, 0) is None


@pytest.mark.parametrize(("interval", "comparison", "target", "verdict"), [
    ((0.82, 0.87), ">=", 0.80, "met"),
    ((0.75, 0.79), ">=", 0.80, "missed"),
    ((0.78, 0.82), ">=", 0.80, "can't tell"),
    ((0.03, 0.04), "<=", 0.05, "met"),
    ((0.06, 0.07), "<=", 0.05, "missed"),
    ((0.04, 0.06), "<", 0.05, "can't tell"),
])
def test_statistical_verdicts(interval: tuple[float, float], comparison: str, target: float,
                              verdict: str) -> None:
    assert statistical_verdict(interval, comparison, target) == verdict
