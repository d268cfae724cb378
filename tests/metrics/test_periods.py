"""Periods in a zone with daylight saving: a 23-hour and a 25-hour day in Europe/Paris."""

from __future__ import annotations

from datetime import date

from tests.metrics.helpers import at, contact, row, store_with, values

PARIS = "Europe/Paris"


def test_autumn_day_has_25_intervals_and_the_repeated_hour_twice():
    # 27 October 2024: clocks go back at 03:00 CEST to 02:00 CET.
    source = store_with(contacts=[
        contact("x", "2024-10-27 00:30", "answered", 5.0),  # 02:30 CEST (+02:00)
        contact("y", "2024-10-27 01:30", "answered", 5.0),  # 02:30 CET (+01:00)
        contact("z", "2024-10-27 22:30", "answered", 5.0),  # 23:30 CET
    ])
    day = {"start": date(2024, 10, 27), "end": date(2024, 10, 27), "tz": PARIS}
    by_hour = values(source, "answered", period="60m", **day)
    assert len(by_hour) == 25
    assert by_hour["2024-10-27T02:00:00+02:00"] == 1
    assert by_hour["2024-10-27T02:00:00+01:00"] == 1
    assert by_hour["2024-10-27T23:00:00+01:00"] == 1
    assert sum(v for v in by_hour.values() if v) == 3
    assert values(source, "answered", period="day", **day) == {
        "2024-10-27T00:00:00+02:00": 3}


def test_spring_day_has_23_intervals():
    # 31 March 2024: clocks go forward at 02:00 CET to 03:00 CEST.
    source = store_with(contacts=[
        contact("x", "2024-03-31 00:30", "answered", 5.0),  # 01:30 CET
        contact("y", "2024-03-31 01:30", "answered", 5.0),  # 03:30 CEST
    ])
    day = {"start": date(2024, 3, 31), "end": date(2024, 3, 31), "tz": PARIS}
    by_hour = values(source, "answered", period="60m", **day)
    assert len(by_hour) == 23
    assert "2024-03-31T02:00:00+01:00" not in by_hour
    assert by_hour["2024-03-31T01:00:00+01:00"] == 1
    assert by_hour["2024-03-31T03:00:00+02:00"] == 1


def test_time_in_state_is_cut_in_the_repeated_hour():
    # Logged in 00:00–02:00 UTC = 02:00 CEST to 02:00 CET, on a contact 00:30–01:30 UTC:
    # each of the two 02:00 intervals has 1,800 s handling of 3,600 s available.
    source = store_with(agent_states=[
        row("agent_states", agent_id="a", queue="", state="logged_in",
            started_at=at("2024-10-27 00:00"), ended_at=at("2024-10-27 02:00")),
        row("agent_states", agent_id="a", queue="", state="on_contact",
            started_at=at("2024-10-27 00:30"), ended_at=at("2024-10-27 01:30")),
    ])
    got = values(source, "occupancy", period="60m", tz=PARIS)
    assert got == {"2024-10-27T02:00:00+02:00": 50.0, "2024-10-27T02:00:00+01:00": 50.0}
    assert values(source, "occupancy", period="day", tz=PARIS) == {
        "2024-10-27T00:00:00+02:00": 50.0}


def test_an_open_range_ends_with_the_period_of_the_last_row() -> None:
    # The last contact at 23:59:59.5 belongs to 5 March; no empty 6 March follows it.
    source = store_with(contacts=[
        contact("c1", "2024-03-05 10:00"),
        contact("c2", "2024-03-05 23:59:59.500000"),
    ])
    assert values(source, "offered", period="day") == {"2024-03-05T00:00:00+00:00": 2.0}
