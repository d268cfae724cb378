"""Schedules with CP-SAT: small cases whose optimum is known."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from servicelevel.errors import InputError
from servicelevel.planning.scheduling import (
    ScheduleRules,
    build_schedule,
    schedule_rows,
)


def _plan(required: list[int], start: str = "2026-01-05 08:00") -> pd.DataFrame:
    times = pd.date_range(start, periods=len(required), freq="30min")
    return pd.DataFrame({"interval_start": times, "required_agents": required})


def _rules(**template: object) -> ScheduleRules:
    base: dict[str, object] = {"name": "day", "starts": ["08:00"], "length": 16}
    base.update(template)
    return ScheduleRules.model_validate({"templates": [base], "time_limit_seconds": 5})


def test_flat_requirement_gives_exactly_that_many_shifts() -> None:
    result = build_schedule(_plan([3] * 16), _rules())
    assert result.status == "OPTIMAL"
    assert result.gap == 0.0
    assert len(result.shifts) == 3
    assert result.shortfalls == []
    assert result.coverage["scheduled_agents"].tolist() == [3] * 16
    assert result.cost == 48.0


def test_breaks_are_staggered_to_keep_coverage() -> None:
    # 2 agents needed all day, 1-interval breaks: 3 shifts, breaks at different times.
    rules = _rules(**{"break": {"length": 1, "earliest": 6, "latest": 9}})
    result = build_schedule(_plan([2] * 16), rules)
    assert result.status == "OPTIMAL"
    assert result.shortfalls == []
    assert len(result.shifts) == 3
    breaks = sorted(s.break_start for s in result.shifts if s.break_start is not None)
    assert len(set(breaks)) == 3
    for shift in result.shifts:
        assert shift.break_start is not None and shift.break_end is not None
        offset = (shift.break_start - shift.start) / pd.Timedelta(minutes=30)
        assert 6 <= offset <= 9
        assert shift.start < shift.break_start < shift.break_end <= shift.end


def test_short_shifts_follow_a_peak() -> None:
    # Peak of 4 in the middle 4 hours, 1 otherwise: one long shift (cheaper per hour)
    # plus three short ones.
    rules = ScheduleRules.model_validate({"templates": [
        {"name": "long", "starts": ["08:00"], "length": 16, "cost_per_interval": 0.9},
        {"name": "short", "starts": ["08:00", "10:00", "12:00"], "length": 8},
    ]})
    required = [1] * 4 + [4] * 8 + [1] * 4
    result = build_schedule(_plan(required), rules)
    assert result.shortfalls == []
    assert result.coverage["over"].sum() == 0
    assert sorted(s.template for s in result.shifts) == ["long", "short", "short", "short"]


def test_max_agents_leaves_named_intervals_short() -> None:
    rules = ScheduleRules.model_validate({
        "templates": [{"name": "day", "starts": ["08:00"], "length": 16}], "max_agents": 2})
    required = [2] * 8 + [3] * 4 + [2] * 4
    result = build_schedule(_plan(required), rules)
    assert len(result.shifts) == 2
    assert result.under_staffing == 4
    assert result.shortfalls == list(pd.date_range("2026-01-05 12:00", periods=4, freq="30min"))


def test_several_days_and_weekday_templates() -> None:
    plan = pd.concat([_plan([1] * 16, "2026-01-05 08:00"), _plan([1] * 16, "2026-01-06 08:00")])
    rules = _rules(days=["mon"])
    result = build_schedule(plan, rules)
    assert len(result.shifts) == 1
    assert result.shifts[0].start == pd.Timestamp("2026-01-05 08:00")
    assert len(result.shortfalls) == 16
    assert all(t.day == 6 for t in result.shortfalls)


def test_schedule_rows_fit_the_schedules_table() -> None:
    rules = _rules(**{"break": {"length": 2, "earliest": 6, "latest": 8}})
    rows = schedule_rows(build_schedule(_plan([1] * 16), rules))
    assert rows["activity"].tolist().count("shift") == 2
    assert set(rows["activity"]) == {"shift", "break"}
    assert rows["agent_id"].str.match(r"A\d{3}").all()


def test_invalid_rules_and_plans_are_refused() -> None:
    with pytest.raises(ValidationError, match="does not end within"):
        _rules(**{"break": {"length": 4, "earliest": 6, "latest": 14}})
    with pytest.raises(ValidationError, match="time of day"):
        _rules(starts=["8h"])
    with pytest.raises(InputError, match="required_agents"):
        build_schedule(pd.DataFrame({"interval_start": ["2026-01-05 08:00"]}), _rules())
