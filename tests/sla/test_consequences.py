"""Every consequence shape, by hand: per point, tiers, fixed, caps, earn-back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from servicelevel.sla.consequences import period_amount, settle, total
from servicelevel.sla.evaluation import ObjectiveResult
from servicelevel.sla.schema import Consequences, Fee

FEE = Fee(monthly=10_000, currency="EUR")
UTC = ZoneInfo("UTC")


def shape(**fields: Any) -> Consequences:
    return Consequences.model_validate(fields)


@pytest.mark.parametrize(("rounding", "step", "expected"), [
    ("up", 1, 300.0),  # 2.3 points → 3 steps × 100
    ("down", 1, 200.0),  # → 2 steps × 100
    ("prorate", 1, 230.0),  # → 2.3 × 100
    ("up", 0.5, 500.0),  # 2.3 / 0.5 = 4.6 → 5 half-points × 100
])
def test_per_point(rounding: str, step: float, expected: float) -> None:
    rule = shape(per_point={"amount": 100, "step": step, "rounding": rounding})
    assert period_amount(rule, 2.3, FEE) == expected


def test_per_point_whole_steps_survive_float_noise() -> None:
    # 85.0 − 80.1 = 4.9000000000000057 points: rounded up it is 5 steps, not 6
    rule = shape(per_point={"amount": 100, "rounding": "up"})
    assert period_amount(rule, 85.0 - 80.1, FEE) == 500.0


def test_per_point_as_share_of_fee() -> None:
    rule = shape(per_point={"fee_percent": 0.5})
    assert period_amount(rule, 3, FEE) == 150.0  # 3 × 0.5 % × 10,000


@pytest.mark.parametrize(("shortfall", "expected"), [
    (0.1, 1000.0), (5.0, 1000.0), (5.01, 2500.0), (12.0, 4000.0), (0.0, 1000.0),
])
def test_tiers(shortfall: float, expected: float) -> None:
    # a tier applies when the shortfall is more than its bound; the first to any miss
    rule = shape(tiers=[{"shortfall_over": 0, "amount": 1000},
                        {"shortfall_over": 5, "amount": 2500},
                        {"shortfall_over": 10, "fee_percent": 40}])
    assert period_amount(rule, shortfall, FEE) == expected


def test_fixed_and_objective_cap() -> None:
    assert period_amount(shape(fixed={"fee_percent": 1}), 7, FEE) == 100.0  # 1 % of 10,000
    capped = shape(per_point={"amount": 100}, cap_fee_percent=5)
    assert period_amount(capped, 8, FEE) == 500.0  # 800, capped at 5 % × 10,000
    assert period_amount(capped, 3, FEE) == 300.0  # under the cap


def result(objective: str, month: int, verdict: str, margin: float, consequences: Consequences,
           month_cap: float | None = None) -> ObjectiveResult:
    start = datetime(2024, month, 1, tzinfo=UTC)
    return ObjectiveResult(
        objective=objective, name=objective, metric="service_level", unit="percent",
        owner="Ops", version="1", period=start.strftime("%Y-%m"), period_start=start,
        period_end=start + timedelta(days=28), attainment="aggregate", comparison=">=",
        target=80, actual=80 + margin, verdict=verdict, margin=margin,  # type: ignore[arg-type]
        consequences=consequences, fee=FEE, month_cap_fee_percent=month_cap,
    )


EARN_BACK = shape(per_point={"amount": 100}, earn_back={"following_periods": 2, "margin": 1})


def test_earn_back_waives_when_the_following_periods_beat_the_target() -> None:
    settled = settle([result("sl", 1, "missed", -3, EARN_BACK),
                      result("sl", 2, "met", 1.5, EARN_BACK),
                      result("sl", 3, "met", 2, EARN_BACK)])
    assert settled[0].consequence == 0.0
    assert settled[0].consequence_status == "waived (earn-back)"
    assert total(settled) == 0.0


def test_earn_back_not_earned_when_a_following_period_falls_short() -> None:
    # February meets the target but by 0.5 points, less than the 1-point margin
    settled = settle([result("sl", 1, "missed", -3, EARN_BACK),
                      result("sl", 2, "met", 0.5, EARN_BACK),
                      result("sl", 3, "met", 2, EARN_BACK)])
    assert (settled[0].consequence, settled[0].consequence_status) == (300.0, "due")


def test_earn_back_pending_while_the_following_periods_are_unknown() -> None:
    settled = settle([result("sl", 1, "missed", -3, EARN_BACK),
                      result("sl", 2, "met", 2, EARN_BACK)])
    assert settled[0].consequence == 300.0  # counted as due until earned back
    assert settled[0].consequence_status == "due (earn-back pending)"


def test_monthly_cap_scales_every_row_and_the_total_is_their_sum() -> None:
    per_point = shape(per_point={"amount": 100})
    settled = settle([result("sl", 1, "missed", -6, per_point, month_cap=6),
                      result("ab", 1, "missed", -3, per_point, month_cap=6),
                      result("sl", 2, "missed", -2, per_point, month_cap=6)])
    # January owes 600 + 300 = 900 > cap 6 % × 10,000 = 600: × 600/900 → 400 and 200
    assert [r.consequence for r in settled] == [400.0, 200.0, 200.0]
    assert [r.consequence_before_cap for r in settled] == [600.0, 300.0, 200.0]
    assert settled[0].consequence_status == "due (monthly cap)"
    assert total(settled) == 800.0


def test_met_and_running_periods_owe_nothing() -> None:
    per_point = shape(per_point={"amount": 100})
    running = result("sl", 3, "missed", -5, per_point)
    object.__setattr__(running, "running", True)
    settled = settle([result("sl", 1, "met", 2, per_point), running])
    assert [r.consequence for r in settled] == [0.0, 0.0]
