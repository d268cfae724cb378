"""Schedules with CP-SAT: small cases whose optimum is known, rules checked on every shift."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from servicelevel.errors import InputError
from servicelevel.planning.schedule_rules import BreakRule, Spacing, break_patterns
from servicelevel.planning.scheduling import (
    Schedule,
    ScheduleRules,
    build_schedule,
    greedy_schedule,
    schedule_rows,
)

STEP = pd.Timedelta(minutes=30)


def _plan(required: list[int], start: str = "2026-01-05 08:00") -> pd.DataFrame:
    times = pd.date_range(start, periods=len(required), freq="30min")
    return pd.DataFrame({"interval_start": times, "required_agents": required})


def _days(required: list[int], days: int, start: str = "2026-01-05 08:00") -> pd.DataFrame:
    """The same requirement on ``days`` consecutive days (2026-01-05 is a Monday)."""
    first = pd.Timestamp(start)
    return pd.concat([_plan(required, str(first + pd.Timedelta(days=d))) for d in range(days)],
                     ignore_index=True)


def _rules(extra: dict[str, Any] | None = None, **template: Any) -> ScheduleRules:
    base: dict[str, Any] = {"name": "day", "starts": ["08:00"], "length": 16}
    base.update(template)
    return ScheduleRules.model_validate({"templates": [base], "time_limit_seconds": 5,
                                         **(extra or {})})


def assert_rules_kept(result: Schedule, rules: ScheduleRules) -> None:
    """Every shift has its template's breaks, each of its length, in its window, in order,
    spaced as the template says; and lies within the opening hours."""
    for shift in result.shifts:
        template = rules.template(shift.template)
        assert shift.end - shift.start == template.length * STEP
        assert len(shift.breaks) == len(template.breaks)
        free_from = 0
        gaps = []
        for rule, b in zip(template.breaks, shift.breaks, strict=True):
            offset = (b.start - shift.start) // STEP
            assert b.kind == rule.kind and b.paid == rule.is_paid
            assert b.end - b.start == rule.length * STEP
            assert rule.earliest <= offset <= rule.latest
            gaps.append(offset - free_from)
            free_from = offset + rule.length
        if template.breaks:
            gaps.append(template.length - free_from)
            for gap in gaps:
                assert gap >= template.spacing.min
                assert template.spacing.max is None or gap <= template.spacing.max
        if rules.opening_hours is not None:
            assert_within(shift, rules.opening_hours)



def assert_within(shift: Any, hours: Any) -> None:
    """The shift lies inside the weekly hours' window of the day it starts."""
    window = hours.window(shift.start.weekday())
    assert window is not None
    day = shift.start.normalize()
    assert day + pd.Timedelta(minutes=window[0]) <= shift.start
    assert shift.end <= day + pd.Timedelta(minutes=window[1])

# -- known optimum -------------------------------------------------------------------------


def test_flat_requirement_gives_exactly_that_many_shifts() -> None:
    result = build_schedule(_plan([3] * 16), _rules())
    assert result.status == "OPTIMAL"
    assert result.gap == 0.0
    assert len(result.shifts) == 3
    assert result.shortfalls == []
    assert result.coverage["scheduled_agents"].tolist() == [3] * 16
    assert result.cost == 48.0
    assert [s.agent_id for s in result.shifts] == ["A001", "A002", "A003"]


def test_breaks_are_staggered_to_keep_coverage() -> None:
    # 2 agents needed all day, 1-interval breaks: 3 shifts, breaks at different times.
    rules = _rules(**{"break": {"length": 1, "earliest": 6, "latest": 9}})
    result = build_schedule(_plan([2] * 16), rules)
    assert result.status == "OPTIMAL"
    assert result.shortfalls == []
    assert len(result.shifts) == 3
    breaks = sorted(s.break_start for s in result.shifts if s.break_start is not None)
    assert len(set(breaks)) == 3
    assert_rules_kept(result, rules)


def test_a_break_and_an_unpaid_lunch_need_a_fourth_agent() -> None:
    # 2 agents needed for 16 intervals; each shift has a 1-interval break (offset 3–5) and
    # a 2-interval unpaid lunch (offset 7–9). Three agents' lunches (6 agent-intervals off)
    # fall within intervals 7–10 (4 intervals), so some interval has 2 off: 3 agents leave
    # at least 2 agent-intervals short. Under-staffing comes first, so the optimum is 4
    # shifts with nothing short, at 14 paid intervals each: cost 56.
    rules = _rules(breaks=[{"kind": "break", "length": 1, "earliest": 3, "latest": 5},
                           {"kind": "lunch", "length": 2, "earliest": 7, "latest": 9}])
    result = build_schedule(_plan([2] * 16), rules)
    assert result.status == "OPTIMAL"
    assert (len(result.shifts), result.under_staffing, result.cost) == (4, 0, 56.0)
    assert_rules_kept(result, rules)


def test_short_shifts_follow_a_peak() -> None:
    # Peak of 4 in the middle 4 hours, 1 otherwise: one long shift (cheaper per hour)
    # plus three short ones cover it exactly, with nothing over.
    rules = ScheduleRules.model_validate({"templates": [
        {"name": "long", "starts": ["08:00"], "length": 16, "cost_per_interval": 0.9},
        {"name": "short", "starts": ["08:00", "10:00", "12:00"], "length": 8},
    ]})
    required = [1] * 4 + [4] * 8 + [1] * 4
    result = build_schedule(_plan(required), rules)
    assert result.status == "OPTIMAL"
    assert result.shortfalls == []
    assert result.over_staffing == 0
    assert sorted(s.template for s in result.shifts) == ["long", "short", "short", "short"]


def test_under_staffing_outweighs_any_cost() -> None:
    # One interval needs an agent and the only shift is very dear: it is still worked.
    rules = _rules(cost_per_interval=1000.0)
    result = build_schedule(_plan([0] * 15 + [1]), rules)
    assert (len(result.shifts), result.under_staffing) == (1, 0)


def test_max_agents_leaves_named_intervals_short() -> None:
    rules = _rules({"max_agents": 2})
    required = [2] * 8 + [3] * 4 + [2] * 4
    result = build_schedule(_plan(required), rules)
    assert len(result.shifts) == 2
    assert result.under_staffing == 4
    assert result.shortfalls == list(pd.date_range("2026-01-05 12:00", periods=4, freq="30min"))


def test_several_days_and_weekday_templates() -> None:
    plan = _days([1] * 16, 2)
    result = build_schedule(plan, _rules(days=["mon"]))
    assert len(result.shifts) == 1
    assert result.shifts[0].start == pd.Timestamp("2026-01-05 08:00")
    assert len(result.shortfalls) == 16
    assert all(t.day == 6 for t in result.shortfalls)


# -- opening hours, agents per interval ----------------------------------------------------


def test_no_shift_outside_opening_hours_and_closed_intervals_count_nothing() -> None:
    # Plan 06:00–22:00 asks 1 agent throughout; the centre opens 08:00–20:00, 8-hour shifts
    # may start 06:00, 08:00 or 12:00: the 06:00 start is closed, so 08:00 + 12:00.
    rules = _rules({"opening_hours": {"default": ["08:00", "20:00"]}},
                   starts=["06:00", "08:00", "12:00"])
    result = build_schedule(_plan([1] * 32, "2026-01-05 06:00"), rules)
    assert sorted(str(s.start.time()) for s in result.shifts) == ["08:00:00", "12:00:00"]
    cov = result.coverage
    closed = cov[~cov["open"]]
    assert len(closed) == 8  # 06:00–08:00 and 20:00–22:00
    assert (closed["scheduled_agents"] == 0).all() and (closed["short"] == 0).all()
    assert result.shortfalls == []
    assert_rules_kept(result, rules)


def test_closed_day_gets_no_shift() -> None:
    rules = _rules({"opening_hours": {"default": ["08:00", "20:00"], "tue": None}})
    result = build_schedule(_days([1] * 16, 2), rules)
    assert [s.start.day for s in result.shifts] == [5]
    assert result.shortfalls == []


def test_agents_per_interval_floor_and_ceiling() -> None:
    # Ceiling 2 against a requirement of 3: 2 work, 1 short everywhere. Floor 2 against a
    # requirement of 1 from 12:00: 2 work there, 1 over per interval.
    rules = _rules({"agents_per_interval": {"max": 2}}, starts=["08:00"])
    result = build_schedule(_plan([3] * 16), rules)
    assert result.coverage["scheduled_agents"].max() == 2
    assert result.under_staffing == 16

    rules = _rules({"agents_per_interval": {"limits": [{"from": "12:00", "min": 2}]}},
                   starts=["08:00", "12:00"], length=8)
    result = build_schedule(_plan([1] * 16), rules)
    cov = result.coverage.set_index("interval_start")
    assert (cov.loc["2026-01-05 12:00":, "scheduled_agents"] == 2).all()
    assert (cov.loc[:"2026-01-05 11:30", "scheduled_agents"] == 1).all()
    assert result.over_staffing == 8


def test_a_floor_no_shift_can_meet_names_the_rule() -> None:
    rules = _rules({"agents_per_interval": {"limits": [
        {"days": ["mon"], "from": "20:00", "to": "21:00", "min": 1}]}})
    plan = _plan([1] * 26)  # 08:00–21:00; shifts end at 16:00
    with pytest.raises(InputError, match=r"agents_per_interval.limits\[0\]: min 1 agents at "
                                         r"2026-01-05 20:00:00 and 1 more"):
        build_schedule(plan, rules)


def test_floors_that_cannot_all_be_met_are_named() -> None:
    # Each interval wants at least 2 agents working, but only one may work each day.
    rules = _rules({"agents_per_interval": {"min": 2}, "max_agents": 1})
    with pytest.raises(InputError, match="min 2 agents at 2026-01-05 08:00"):
        build_schedule(_plan([1] * 16), rules)


# -- named agents --------------------------------------------------------------------------


def _agents(agents: list[dict[str, Any]], **template: Any) -> ScheduleRules:
    return _rules({"agents": agents}, **template)


def test_availability_and_unavailable_dates_are_respected() -> None:
    # Three days need one agent each. ann works no Monday, bob is away on the 6th:
    # Monday is bob's, Tuesday ann's, Wednesday either.
    rules = _agents([
        {"id": "ann", "available": {"default": ["08:00", "18:00"], "mon": None}},
        {"id": "bob", "unavailable": ["2026-01-06"]}])
    result = build_schedule(_days([1] * 16, 3), rules)
    assert result.under_staffing == 0
    worked = {(s.agent_id, s.start.day) for s in result.shifts}
    assert ("bob", 5) in worked and ("ann", 6) in worked
    assert ("ann", 5) not in worked and ("bob", 6) not in worked


def test_a_time_window_keeps_late_shifts_from_an_early_agent() -> None:
    rules = _agents([{"id": "early", "available": ["07:00", "13:00"]}],
                    starts=["08:00", "12:00"], length=8)
    result = build_schedule(_plan([1] * 16), rules)  # 08:00–16:00: 8-12 and 12-16 shifts
    assert [str(s.start.time()) for s in result.shifts] == ["08:00:00"]
    assert result.under_staffing == 8


def test_rest_between_shifts() -> None:
    # One agent; Monday 17:30–22:00 and Tuesday 07:00–11:30 both need them. The shifts
    # are 4.5 h, so 9 h lie between: with 11 h rest only one day is worked.
    plan = pd.concat([_plan([1] * 9, "2026-01-05 17:30"), _plan([1] * 9, "2026-01-06 07:00")])
    template = {"starts": ["07:00", "17:30"], "length": 9}
    assert build_schedule(plan, _agents([{"id": "a"}], **template)).under_staffing == 0
    result = build_schedule(plan, _agents([{"id": "a", "min_rest_hours": 11}], **template))
    assert (len(result.shifts), result.under_staffing) == (1, 9)


@pytest.mark.parametrize(("limit", "worked"), [
    ({"max_shifts_per_week": 2}, 2), ({"max_hours_per_week": 20}, 2),
    ({"max_consecutive_days": 3}, 4), ({}, 5)])
def test_weekly_limits(limit: dict[str, Any], worked: int) -> None:
    # One agent, five days that each need them for a whole 8-hour shift.
    rules = _agents([{"id": "a", **limit}])
    result = build_schedule(_days([1] * 16, 5), rules)
    assert len(result.shifts) == worked
    assert result.under_staffing == 16 * (5 - worked)
    if "max_consecutive_days" in limit:
        # Four of five days without four in a row: the day off is Tuesday, Wednesday or
        # Thursday (the 6th, 7th or 8th).
        off = {5, 6, 7, 8, 9} - {s.start.day for s in result.shifts}
        assert off in ({6}, {7}, {8})


def test_weekly_minimum_hours_are_worked_even_without_requirement() -> None:
    # A full week with nothing required; the agent is owed 16 h: two 8-hour shifts.
    rules = _agents([{"id": "a", "min_hours_per_week": 16}])
    result = build_schedule(_days([0] * 16, 7), rules)
    assert len(result.shifts) == 2
    assert result.over_staffing == 32


def test_a_weekly_minimum_out_of_reach_names_the_agent() -> None:
    rules = _agents([{"id": "a", "min_hours_per_week": 30, "max_shifts_per_week": 3}])
    with pytest.raises(InputError, match="agent 'a': min_hours_per_week 30 h cannot be"):
        build_schedule(_days([1] * 16, 7), rules)


def test_identical_agents_share_a_requirement() -> None:
    rules = _agents([{"id": f"a{n}", "max_shifts_per_week": 3} for n in range(4)])
    result = build_schedule(_days([2] * 16, 5), rules)
    assert result.under_staffing == 0
    per_agent = pd.Series([s.agent_id for s in result.shifts]).value_counts()
    assert per_agent.max() <= 3 and per_agent.sum() == 10
    assert all((s.agent_id, s.start.day) for s in result.shifts)
    assert len({(s.agent_id, s.start.day) for s in result.shifts}) == 10


def assert_agent_rules_kept(result: Schedule, rules: ScheduleRules,
                            full_weeks: set[pd.Timestamp] | None = None) -> None:
    """Every named agent works only templates and times open to them, at most one shift a
    day, within their weekly limits (and minimums in ``full_weeks``, given by Monday), with
    their rest between shifts and no more days in a row than allowed."""
    full_weeks = full_weeks or set()
    by_id = {agent.id: agent for agent in rules.agents}
    worked: dict[str, list[Any]] = {}
    for shift in result.shifts:
        assert shift.agent_id in by_id
        worked.setdefault(shift.agent_id, []).append(shift)
    for agent_id, shifts in worked.items():
        agent = by_id[agent_id]
        shifts.sort(key=lambda s: s.start)
        days = [s.start.normalize() for s in shifts]
        assert len(set(days)) == len(days)
        for shift in shifts:
            assert not agent.templates or shift.template in agent.templates
            assert shift.start.date() not in agent.unavailable
            if agent.available is not None:
                assert_within(shift, agent.available)
        for before, after in itertools.pairwise(shifts):
            rest = (after.start - before.end) / pd.Timedelta(hours=1)
            assert rest >= (agent.min_rest_hours or 0)
        weeks: dict[pd.Timestamp, list[Any]] = {}
        for shift, day in zip(shifts, days, strict=True):
            weeks.setdefault(day - pd.Timedelta(days=day.weekday()), []).append(shift)
        for monday, week in weeks.items():
            hours = sum(rules.template(s.template).paid_length for s in week) * 0.5
            assert agent.max_shifts_per_week is None or len(week) <= agent.max_shifts_per_week
            assert agent.max_hours_per_week is None or hours <= agent.max_hours_per_week
            if monday in full_weeks:
                assert hours >= (agent.min_hours_per_week or 0)
        if full_weeks - set(weeks):
            assert not agent.min_hours_per_week
        if agent.max_consecutive_days is not None:
            run = 1
            for before, after in itertools.pairwise(days):
                run = run + 1 if after - before == pd.Timedelta(days=1) else 1
                assert run <= agent.max_consecutive_days


def test_identical_agents_are_given_the_shifts_counted_for_them() -> None:
    # A week needing two agents for one 8-hour shift a day: 14 shifts among three agents
    # who each work 4 or 5 days, no more than 5 in a row, 11 hours apart.
    limits = {"max_shifts_per_week": 5, "min_hours_per_week": 32, "max_consecutive_days": 5,
              "min_rest_hours": 11}
    rules = _agents([{"id": f"a{n}", **limits} for n in range(3)])
    result = build_schedule(_days([2] * 16, 7), rules)
    assert (result.status, result.under_staffing, len(result.shifts)) == ("OPTIMAL", 0, 14)
    assert result.cost == 14 * 16
    assert_agent_rules_kept(result, rules, {pd.Timestamp("2026-01-05")})


def test_shifts_the_agents_cannot_share_fall_back_to_one_model_per_agent() -> None:
    # Three days each need one agent for 8 hours; two agents work at most 12 hours a week.
    # Counted for both together, three 8-hour shifts fit (24 h); shared out, each agent
    # works one long and one short shift at most, so 4 hours of one day stay short.
    rules = _rules({"agents": [{"id": f"a{n}", "max_hours_per_week": 12,
                                "max_shifts_per_week": 2} for n in range(2)]},
                   name="long", starts=["08:00"], length=16)
    rules = ScheduleRules.model_validate({
        **rules.model_dump(by_alias=True, exclude={"templates"}),
        "templates": [{"name": "long", "starts": ["08:00"], "length": 16},
                      {"name": "short", "starts": ["08:00"], "length": 8}]})
    result = build_schedule(_days([1] * 16, 3), rules)
    assert result.under_staffing == 8
    assert result.under_staffing_bound == 8
    assert_agent_rules_kept(result, rules)


def test_a_mixed_two_week_roster_keeps_every_agent_rule() -> None:
    # Early, late and any-time full-timers (with breaks and an unpaid lunch), part-timers in
    # the evening or at the weekend, days off: every shift keeps its template's rules and
    # every agent theirs, and the schedule is no worse than the greedy one.
    full = {"name": "full", "length": 12, "starts": ["07:00", "08:00", "09:00", "10:00"],
            "breaks": [{"kind": "break", "length": 1, "earliest": 3, "latest": 4},
                       {"kind": "lunch", "length": 1, "earliest": 6, "latest": 7,
                        "paid": False}]}
    part = {"name": "part", "length": 6, "cost_per_interval": 1.1,
            "starts": ["07:00", "10:00", "12:00", "13:00"],
            "breaks": [{"kind": "break", "length": 1, "earliest": 2, "latest": 3}]}
    agents: list[dict[str, Any]] = []
    for n in range(6):
        agent: dict[str, Any] = {"id": f"F{n}", "templates": ["full"], "min_hours_per_week": 16,
                                 "max_hours_per_week": 25, "max_shifts_per_week": 5,
                                 "min_rest_hours": 11, "max_consecutive_days": 4}
        if n % 3 == 1:
            agent["available"] = {"default": ["07:00", "14:00"]}
        if n == 4:
            agent["unavailable"] = ["2026-01-07"]
        agents.append(agent)
    for n in range(3):
        agents.append({"id": f"P{n}", "templates": ["part"], "max_hours_per_week": 9,
                       "min_rest_hours": 11,
                       "available": {"default": ["12:00", "16:00"]} if n else None})
    rules = ScheduleRules.model_validate({"templates": [full, part], "agents": agents,
                                         "time_limit_seconds": 5})
    required = [1, 2, 3, 3, 4, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 1, 1, 1]
    plan = _days(required, 14, "2026-01-05 07:00")
    result = build_schedule(plan, rules)
    greedy = greedy_schedule(plan, rules)
    mondays = {pd.Timestamp("2026-01-05"), pd.Timestamp("2026-01-12")}
    for schedule in (result, greedy):
        assert_rules_kept(schedule, rules)
        assert_agent_rules_kept(schedule, rules, mondays)
    assert (result.under_staffing, result.cost) <= (greedy.under_staffing, greedy.cost)


# -- break patterns ------------------------------------------------------------------------


@st.composite
def _break_rules(draw: st.DrawFn) -> tuple[int, list[BreakRule], Spacing]:
    length = draw(st.integers(6, 20))
    breaks = []
    for _ in range(draw(st.integers(1, 3))):
        earliest = draw(st.integers(1, length - 1))
        latest = draw(st.integers(earliest, min(earliest + 4, length - 1)))
        breaks.append(BreakRule(length=draw(st.integers(1, 2)), earliest=earliest,
                                latest=latest))
    low = draw(st.integers(0, 3))
    high = draw(st.one_of(st.none(), st.integers(low, low + 8)))
    return length, breaks, Spacing(min=low, max=high)


@given(_break_rules())
@settings(max_examples=200, deadline=None)
def test_break_patterns_are_exactly_the_valid_placements(
        case: tuple[int, list[BreakRule], Spacing]) -> None:
    length, breaks, spacing = case
    windows = [range(b.earliest, b.latest + 1) for b in breaks]
    valid = []
    for starts in itertools.product(*windows):
        ends = [s + b.length for s, b in zip(starts, breaks, strict=True)]
        gaps = [starts[0], *(s - e for s, e in zip(starts[1:], ends, strict=False)),
                length - ends[-1]]
        if all(g >= spacing.min and (spacing.max is None or g <= spacing.max) for g in gaps):
            valid.append(starts)
    assert break_patterns(length, breaks, spacing) == valid


@given(_break_rules(), st.lists(st.integers(0, 3), min_size=4, max_size=4))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_scheduled_shift_keeps_its_break_rules(
        case: tuple[int, list[BreakRule], Spacing], shape: list[int]) -> None:
    length, breaks, spacing = case
    if any(b.latest + b.length > length for b in breaks) or not break_patterns(
            length, breaks, spacing):
        return  # refused when the rules load (tested below)
    rules = ScheduleRules.model_validate({"time_limit_seconds": 2, "templates": [{
        "name": "t", "starts": ["08:00", "09:00", "10:00"], "length": length,
        "breaks": [b.model_dump() for b in breaks], "spacing": spacing.model_dump()}]})
    required = [v for v in shape for _ in range(6)]
    result = build_schedule(_plan(required), rules)
    assert_rules_kept(result, rules)
    assert_rules_kept(greedy_schedule(_plan(required), rules), rules)


def test_greedy_is_a_valid_schedule_no_better_than_cp_sat() -> None:
    rules = _agents([{"id": f"a{n}", "min_rest_hours": 12, "max_shifts_per_week": 4}
                     for n in range(5)],
                    starts=["08:00", "09:00", "10:00", "12:00"], length=8,
                    breaks=[{"length": 1, "earliest": 3, "latest": 5}])
    plan = _days([1, 2, 3, 3, 4, 4, 3, 3, 2, 2, 3, 3, 2, 2, 1, 1], 5)
    greedy, best = greedy_schedule(plan, rules), build_schedule(plan, rules)
    assert_rules_kept(greedy, rules)
    assert_rules_kept(best, rules)
    assert (best.under_staffing, best.cost) <= (greedy.under_staffing, greedy.cost)


# -- rows, validation ----------------------------------------------------------------------


def test_schedule_rows_fit_the_schedules_table() -> None:
    rules = _rules(breaks=[{"length": 1, "earliest": 3, "latest": 5},
                           {"kind": "lunch", "length": 1, "earliest": 7, "latest": 9}])
    rows = schedule_rows(build_schedule(_plan([1] * 16), rules), tz="Europe/Paris")
    assert rows["activity"].tolist().count("shift") == 2
    assert set(rows["activity"]) == {"shift", "break", "lunch"}
    assert rows["agent_id"].str.match(r"A\d{3}").all()
    first = rows[rows["activity"] == "shift"]["started_at"].min()
    assert first == pd.Timestamp("2026-01-05 07:00", tz="UTC")  # 08:00 in Paris


@pytest.mark.parametrize(("rules", "message"), [
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16,
                     "break": {"length": 4, "earliest": 6, "latest": 14}}]},
     "does not end within"),
    ({"templates": [{"name": "t", "starts": ["8h"], "length": 16}]}, "time of day"),
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16,
                     "breaks": [{"length": 1, "earliest": 2, "latest": 3}],
                     "spacing": {"min": 4}}]}, "no placement of the breaks"),
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16,
                     "break": {"length": 1, "earliest": 2, "latest": 3},
                     "breaks": [{"length": 1, "earliest": 2, "latest": 3}]}]},
     "either break or breaks"),
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16}],
      "opening_hours": {"mond": ["08:00", "20:00"]}}, "not a weekday"),
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16}],
      "opening_hours": {"mon": ["20:00", "08:00"]}}, "is not after"),
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16}],
      "agents_per_interval": {"min": 5, "max": 3}}, "min 5 > max 3"),
    ({"templates": [{"name": "t", "starts": ["08:15"], "length": 16}]}, "30-minute grid"),
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16}],
      "agents": [{"id": "a", "templates": ["x"]}]}, "unknown template"),
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16}],
      "agents": [{"id": "a"}, {"id": "a"}]}, "appear twice"),
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16}],
      "agents": [{"id": "a", "min_hours_per_week": 40, "max_hours_per_week": 20}]},
     "min_hours_per_week 40.0 > max_hours_per_week 20"),
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16, "days": ["funday"]}]},
     "write mon, tue"),
    ({"templates": [{"name": "t", "starts": ["08:00"], "length": 16}], "colour": 1},
     "Extra inputs"),
])
def test_invalid_rules_are_refused_with_the_field(rules: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ScheduleRules.model_validate(rules)


def test_invalid_plans_are_refused() -> None:
    with pytest.raises(InputError, match="required_agents"):
        build_schedule(pd.DataFrame({"interval_start": ["2026-01-05 08:00"]}), _rules())
    with pytest.raises(InputError, match="interval grid"):
        build_schedule(pd.DataFrame({"interval_start": ["2026-01-05 08:10"],
                                     "required_agents": [1]}), _rules())
