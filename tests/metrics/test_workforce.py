"""Workforce metrics on one agent's hand-built states and schedule, by day and by hour."""

from __future__ import annotations

import pytest

from tests.metrics.helpers import at, row, store_with, value, values


def state(name, start, end, agent="a1"):
    return row("agent_states", agent_id=agent, queue="", state=name,
               started_at=at(f"2024-03-04 {start}"), ended_at=at(f"2024-03-04 {end}"))


def planned(activity, start, end, agent="a1"):
    return row("schedules", agent_id=agent, activity=activity,
               started_at=at(f"2024-03-04 {start}"), ended_at=at(f"2024-03-04 {end}"))


@pytest.fixture(scope="module")
def day():
    return store_with(
        agent_states=[
            state("logged_in", "08:10", "12:30"),  # 15,600 s
            state("paused", "10:00", "10:20"),  # 1,200 s
            state("on_contact", "08:30", "09:30"),  # 3,600 s
            state("wrap_up", "09:30", "09:40"),  # 600 s
            state("on_contact", "11:00", "11:30"),  # 1,800 s
            row("agent_states", agent_id="a1", queue="", state="logged_in",
                started_at=at("2024-03-04 13:00")),  # still open: left out
        ],
        schedules=[planned("shift", "08:00", "12:00"), planned("break", "10:00", "10:15")],
    )


@pytest.mark.parametrize(("metric", "params", "expected"), [
    # handling 6,000 s ÷ available (15,600 − 1,200) = 14,400 s
    ("occupancy", {}, 100 * 6_000 / 14_400),
    ("utilization", {}, 100 * 6_000 / 15_600),  # ÷ logged in
    ("utilization", {"denominator": "scheduled"}, 100 * 6_000 / 14_400),  # ÷ the 4 h shift
    # shift 14,400; in it logged in 08:10–12:00 = 13,800, paused 1,200: available 12,600
    ("shrinkage", {}, 100 * (14_400 - 12_600) / 14_400),
    # available in work time 08:10–10:00 + 10:20–12:00 = 12,600; away all the break 900
    ("adherence", {}, 100 * 13_500 / 14_400),
    ("attendance", {}, 100 * 13_800 / 14_400),  # logged in 08:10–12:00 of 08:00–12:00
])
def test_workforce_by_hand(day, metric, params, expected):
    assert value(day, metric, params, period="day") == pytest.approx(expected)


def test_occupancy_is_split_at_interval_boundaries(day):
    # 08h: handling 08:30–09:00 = 1,800 ÷ available 08:10–09:00 = 3,000
    # 09h: 09:00–09:40 = 2,400 ÷ 3,600; 10h: 0 ÷ (3,600 − 1,200); 11h: 1,800 ÷ 3,600;
    # 12h: 0 ÷ 1,800. Together 6,000 ÷ 14,400, the day's value.
    got = values(day, "occupancy", period="60m")
    assert got == pytest.approx({
        "2024-03-04T08:00:00+00:00": 60.0, "2024-03-04T09:00:00+00:00": 200 / 3,
        "2024-03-04T10:00:00+00:00": 0.0, "2024-03-04T11:00:00+00:00": 50.0,
        "2024-03-04T12:00:00+00:00": 0.0,
    })
