"""Hiring plans by hand: required FTE per week, attrition from the roster, classes timed
by the training lead time, too-late weeks, rounding, training attrition."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from servicelevel.errors import InputError
from servicelevel.planning import (
    Attrition,
    hiring_plan,
    monthly_to_weekly,
    weekly_attrition,
    weekly_required_fte,
)

MONDAY = date(2026, 11, 23)
NO_ATTRITION = Attrition(weekly=0.0, source="none")
UTC_ZONE = ZoneInfo("UTC")


def _roster(staying: int, leaving: tuple[date | None, ...] = (),
            hired: date = date(2025, 1, 1)) -> pd.DataFrame:
    left = [None] * staying + list(leaving)
    return pd.DataFrame({"agent_id": [f"a{i}" for i in range(len(left))],
                         "hired_on": [hired] * len(left), "left_on": left})


def _weeks(first: date, fte: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"week_start": [first + timedelta(weeks=i) for i in range(len(fte))],
                         "required_fte": fte})


def _week(plan_weeks: pd.DataFrame, day: date) -> dict[str, object]:
    rows = plan_weeks[plan_weeks["week_start"] == day].to_dict("records")
    assert len(rows) == 1, day
    return {str(k): v for k, v in rows[0].items()}


def test_required_fte_per_iso_week() -> None:
    # Monday and Tuesday 08:00-10:00 with 4 seated agents, Sunday 2 agents for an hour,
    # then Monday of the next week: 30-minute intervals.
    times = ([f"2026-11-23T{h}" for h in ("08:00", "08:30", "09:00", "09:30")]
             + [f"2026-11-24T{h}" for h in ("08:00", "08:30", "09:00", "09:30")]
             + ["2026-11-29T10:00", "2026-11-29T10:30", "2026-11-30T08:00"])
    plan = pd.DataFrame({"interval_start": times,
                         "required_agents": [4] * 8 + [2, 2, 10]})
    weeks = weekly_required_fte(plan, tz=UTC_ZONE, hours_per_fte=37.5, shrinkage=0.2)
    assert weeks["week_start"].tolist() == [date(2026, 11, 23), date(2026, 11, 30)]
    # 8 × 4 × ½ h + 2 × 2 × ½ h = 18 agent hours; ÷ 0.8 ÷ 37.5 = 0.6 FTE
    assert weeks["agent_hours"].tolist() == [18.0, 5.0]
    assert weeks["required_fte"].tolist() == pytest.approx([0.6, 5.0 / 0.8 / 37.5])
    assert weeks["plan_days"].tolist() == [3, 1]


def test_aware_plan_times_fall_in_their_local_week() -> None:
    # Sunday 23:30 in UTC is Monday 01:30 in Jerusalem: the next ISO week there.
    plan = pd.DataFrame({"interval_start": ["2026-11-29T23:30:00+00:00",
                                            "2026-11-29T23:00:00+00:00"],
                         "required_agents": [3, 3]})
    weeks = weekly_required_fte(plan, tz=ZoneInfo("Asia/Jerusalem"), hours_per_fte=1.0)
    assert weeks["week_start"].tolist() == [date(2026, 11, 30)]
    assert weeks["required_fte"].tolist() == [3.0]


def test_plan_problems_name_the_field() -> None:
    with pytest.raises(InputError, match="required_agents"):
        weekly_required_fte(pd.DataFrame({"interval_start": ["2026-11-23T08:00"]}),
                            tz=UTC_ZONE)
    with pytest.raises(InputError, match="one interval only"):
        weekly_required_fte(pd.DataFrame({"interval_start": ["2026-11-23T08:00"],
                                          "required_agents": [1]}), tz=UTC_ZONE)
    with pytest.raises(InputError, match="--shrinkage"):
        weekly_required_fte(pd.DataFrame({"interval_start": ["2026-11-23T08:00"],
                                          "required_agents": [1]}), tz=UTC_ZONE,
                            shrinkage=1.0, interval_s=1800)


def test_attrition_from_a_roster_with_known_leavers() -> None:
    # Four weeks before Monday 23 November: 26 Oct - 22 Nov. Ten agents stay; one left
    # on 1 November, one on 15 November (last working days), one long before.
    roster = _roster(10, (date(2026, 11, 1), date(2026, 11, 15), date(2026, 1, 31)))
    rate = weekly_attrition(roster, as_of=MONDAY, window_weeks=4)
    # Employed: 12 for 7 days, 11 for 14 days, 10 for 7 days -> 308 / 28 = 11 on average.
    assert rate.average_headcount == pytest.approx(11.0)
    assert rate.leavers == 2
    assert rate.weekly == pytest.approx(2 / 4 / 11)
    assert rate.monthly == pytest.approx(1 - (1 - 2 / 44) ** (52 / 12))
    assert weekly_attrition(_roster(0), as_of=MONDAY).weekly == 0.0


def test_monthly_attrition_compounds_to_weekly() -> None:
    weekly = monthly_to_weekly(0.03)
    assert (1 - weekly) ** (52 / 12) == pytest.approx(0.97)
    with pytest.raises(InputError, match="--attrition"):
        monthly_to_weekly(1.2)


def test_a_class_starts_the_training_lead_time_before_the_week_needed() -> None:
    # Ten agents and ten FTE needed until the week of 1 February 2027, then 12.4:
    # 2.4 short, rounded up to 3 agents, who start six weeks earlier (21 December).
    required = _weeks(date(2026, 11, 30), [10.0] * 9 + [12.4])
    plan = hiring_plan(required, _roster(10), as_of=MONDAY, attrition=NO_ATTRITION,
                       training_weeks=6)
    start = _week(plan.weeks, date(2026, 12, 21))
    assert (start["trainees"], start["initial_hires"], start["replacement_hires"]) == (3, 3, 0)
    assert start["goes_live"] == date(2027, 2, 1)
    assert plan.weeks["trainees"].sum() == 3
    needed = _week(plan.weeks, date(2027, 2, 1))
    assert needed["gap"] == pytest.approx(2.4)
    assert needed["from_classes"] == 3.0 and needed["short"] == 0.0
    assert plan.too_late == [] and plan.initial_hires == 3


def test_training_attrition_and_class_size_gross_up_the_class() -> None:
    required = _weeks(date(2027, 2, 1), [12.4])
    # 3 must go live; a quarter of trainees drop out: ceil(3 / 0.75) = 4 trainees.
    plan = hiring_plan(required, _roster(10), as_of=MONDAY, attrition=NO_ATTRITION,
                       training_weeks=6, training_attrition=0.25)
    start = _week(plan.weeks, date(2026, 12, 21))
    assert (start["trainees"], start["initial_hires"], start["replacement_hires"]) == (4, 3, 1)
    # Classes of 5: 5 trainees, 3.75 expected to go live.
    plan = hiring_plan(required, _roster(10), as_of=MONDAY, attrition=NO_ATTRITION,
                       training_weeks=6, training_attrition=0.25, class_size=5)
    assert _week(plan.weeks, date(2026, 12, 21))["trainees"] == 5
    assert _week(plan.weeks, date(2027, 2, 1))["from_classes"] == pytest.approx(3.75)


def test_weeks_within_the_lead_time_are_too_late() -> None:
    # 12 needed from 7 December; training takes 6 weeks, so the first class (starting
    # this week, 23 November) goes live on 4 January: the weeks before are too late.
    required = _weeks(date(2026, 12, 7), [12.0] * 6)
    plan = hiring_plan(required, _roster(10), as_of=MONDAY, attrition=NO_ATTRITION,
                       training_weeks=6)
    assert plan.too_late == [date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 21),
                             date(2026, 12, 28)]
    assert _week(plan.weeks, date(2026, 12, 7))["short"] == 2.0
    start = _week(plan.weeks, MONDAY)
    assert (start["trainees"], start["initial_hires"], start["goes_live"]) == (
        2, 2, date(2027, 1, 4))
    assert _week(plan.weeks, date(2027, 1, 4))["short"] == 0.0
    # A Wednesday as of: the earliest class starts the next Monday.
    late = hiring_plan(required, _roster(10), as_of=MONDAY + timedelta(days=2),
                       attrition=NO_ATTRITION, training_weeks=6)
    assert late.too_late[-1] == date(2027, 1, 4)
    assert _week(late.weeks, date(2026, 11, 30))["trainees"] == 2


def test_attrition_needs_replacement_hires_each_week() -> None:
    # Ten agents, ten needed, 10% leave a week, no training: one hire a week replaces
    # the expected leavers (10 → 9 → 8.1 on the roster, classes decaying alike).
    required = _weeks(MONDAY, [10.0] * 4)
    plan = hiring_plan(required, _roster(10), as_of=MONDAY,
                       attrition=Attrition(weekly=0.1, source="given"), training_weeks=0)
    assert plan.weeks["projected_headcount"].tolist() == pytest.approx([10, 9, 8.1, 7.29])
    assert plan.weeks["expected_leavers"].tolist() == pytest.approx([1, 0.9, 0.81, 0.729])
    assert plan.weeks["trainees"].tolist() == [0, 1, 1, 1]
    assert plan.weeks["from_classes"].tolist() == pytest.approx([0, 1, 1.9, 2.71])
    assert (plan.initial_hires, plan.replacement_hires) == (0, 3)


def test_known_leave_dates_and_fractional_fte_round_up() -> None:
    # Ten agents, two of them leaving on Friday 4 December; 10.2 FTE needed: the roster
    # is 10 until then (0.2 short: 1 hire) and 8 after (2.2 short: 3 hires, 2 more).
    roster = _roster(8, (date(2026, 12, 4), date(2026, 12, 4)))
    required = _weeks(MONDAY, [10.2] * 3)
    plan = hiring_plan(required, roster, as_of=MONDAY, attrition=NO_ATTRITION,
                       training_weeks=0)
    assert plan.weeks["projected_headcount"].tolist() == [10, 10, 8]
    assert plan.weeks["expected_leavers"].tolist() == [0, 2, 0]
    assert plan.weeks["trainees"].tolist() == [1, 0, 2]
    # Without attrition every hire closes the gap: all are initial hires.
    assert plan.weeks["initial_hires"].tolist() == [1, 0, 2]
    # Agents counted as 0.5 FTE each: 10.2 FTE is 20.4 agents against 10.
    half = hiring_plan(_weeks(MONDAY, [10.2]), _roster(10), as_of=MONDAY,
                       attrition=NO_ATTRITION, training_weeks=0, fte_per_agent=0.5)
    assert half.weeks["trainees"].tolist() == [11]
    assert any("0.5 FTE" in note for note in half.notes)


def test_hiring_inputs_are_checked_together() -> None:
    with pytest.raises(InputError, match=r"--training-weeks.*--class-size"):
        hiring_plan(_weeks(MONDAY, [1.0]), _roster(1), as_of=MONDAY,
                    attrition=NO_ATTRITION, training_weeks=-1, class_size=0)
    with pytest.raises(InputError, match="before --as-of"):
        hiring_plan(_weeks(date(2026, 1, 5), [1.0]), _roster(1), as_of=MONDAY,
                    attrition=NO_ATTRITION)
