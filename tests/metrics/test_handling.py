"""Handling metrics on hand-built contacts and surveys: TFR, TAT, TFS, TRT, SDR with business
days and holidays, FCR from repeat contacts and from surveys, transfer and escalation rates."""

from __future__ import annotations

import pytest

from tests.metrics.helpers import at, contact, row, store_with, value


@pytest.fixture(scope="module")
def tickets():
    # Week of Monday 2024-03-04 (UTC); business hours mon–fri 09:00–17:00.
    return store_with(contacts=[
        contact("h1", "2024-03-04 09:00", "resolved", None, channel="email",
                answered_at=at("2024-03-04 09:30"), resolved_at=at("2024-03-04 11:00"),
                ended_at=at("2024-03-04 12:00")),
        contact("h2", "2024-03-04 16:30", "resolved", None, channel="email",
                answered_at=at("2024-03-05 10:00"), resolved_at=at("2024-03-05 12:00")),
        contact("h3", "2024-03-04 10:00", "answered", 60.0, ended_at=at("2024-03-04 10:11"),
                transferred=True),
        contact("h4", "2024-03-04 11:00", "abandoned", 30.0, ended_at=at("2024-03-04 11:00:30")),
        contact("h5", "2024-03-08 18:30", "answered", None, channel="email",
                answered_at=at("2024-03-11 16:00"), ended_at=at("2024-03-11 16:10"),
                escalated=True),
    ])


@pytest.mark.parametrize(("metric", "expected"), [
    # h1 1,800 s; h2 16:30 → Tue 10:00 = 63,000 s; h3 60 s; h5 Fri 18:30 → Mon 16:00 = 250,200 s
    ("tfr", (1_800 + 63_000 + 60 + 250_200) / 4),
    # handled and ended: h1 3 h = 10,800 s; h3 660 s; h5 Fri 18:30 → Mon 16:10 = 250,800 s
    ("tat", (10_800 + 660 + 250_800) / 3),
    # first solution: h1 2 h = 7,200 s; h2 16:30 → Tue 12:00 = 70,200 s
    ("tfs", (7_200 + 70_200) / 2),
    # final: h1 closed at 12:00 after its 11:00 solution = 10,800 s; h2 not closed: 70,200 s
    ("trt", (10_800 + 70_200) / 2),
    # handled h1 h2 h3 h5; transferred h3; escalated h5
    ("transfer_rate", 25.0),
    ("escalation_rate", 25.0),
])
def test_handling_by_hand(tickets, metric, expected):
    assert value(tickets, metric) == pytest.approx(expected)


def test_same_day_response(tickets):
    # h1 met (09:30 ≤ Mon 17:00); h2 arrived 16:30 Mon, due Mon 17:00, answered Tue: missed;
    # h3 met; h4 never answered: missed; h5 arrived Fri after close, due Mon 17:00: met.
    assert value(tickets, "sdr", {"hours": "mon-fri 09:00-17:00"}) == 60.0  # 3 / 5
    # Calendar days: h5 is then due Fri 24:00 and missed: 2 / 5.
    assert value(tickets, "sdr", {"hours": "mon-sun 00:00-24:00"}) == 40.0


@pytest.fixture(scope="module")
def may_day():
    # Paris, CEST (UTC+2). Wednesday 2024-05-01 is a French public holiday.
    return store_with(contacts=[
        # Tue 30 April 18:00 local, after close: due at the next business day's close.
        contact("m1", "2024-04-30 16:00", "answered", None, answered_at=at("2024-05-02 14:00")),
        # On the holiday itself, 10:00 local.
        contact("m2", "2024-05-01 08:00", "answered", None, answered_at=at("2024-05-02 08:00")),
        # Tue 30 April 10:00 local, answered 16:59 local the same day.
        contact("m3", "2024-04-30 08:00", "answered", None, answered_at=at("2024-04-30 14:59")),
    ])


def test_same_day_response_skips_holidays(may_day):
    hours = "mon-fri 09:00-17:00"
    # With French holidays m1 and m2 are due Thu 2 May 17:00 local = 15:00 UTC: all met.
    assert value(may_day, "sdr", {"hours": hours, "holidays": "FR"}, tz="Europe/Paris",
                 period="week") == 100.0
    # Without, both were due Wed 1 May 17:00 local = 15:00 UTC and are missed: 1 / 3.
    assert value(may_day, "sdr", {"hours": hours}, tz="Europe/Paris",
                 period="week") == pytest.approx(100 / 3)


@pytest.fixture(scope="module")
def repeats():
    return store_with(contacts=[
        contact("k1", "2024-03-04 09:00", customer_id="A"),
        contact("k1b", "2024-03-08 09:00", "abandoned", 40.0, customer_id="A"),  # 4 days on
        contact("k2", "2024-03-04 10:00", customer_id="B"),
        contact("k2b", "2024-03-20 10:00", customer_id="B"),  # 16 days on: not a repeat
        contact("k3", "2024-03-05 10:00", customer_id="C"),
        contact("k3b", "2024-03-06 10:00", queue="q2", customer_id="C"),  # other queue, 1 day
        contact("k4", "2024-03-05 11:00"),  # unknown customer: left out
        contact("k5", "2024-03-04 12:00", customer_id="D"),
        contact("k5b", "2024-03-05 12:00", "ended_in_vru", None, customer_id="D"),  # not offered
    ])


@pytest.mark.parametrize(("params", "expected"), [
    # Answered with a customer: k1 k2 k2b k3 k3b k5 = 6; repeated: k1 (k1b), k3 (k3b).
    ({}, 100 * 4 / 6),
    ({"same_queue": True}, 100 * 5 / 6),  # k3b went to q2: k3 resolved
    ({"window": "2d"}, 100 * 5 / 6),  # k1b came 4 days later: k1 resolved; k3b 1 day: not
])
def test_fcr_from_repeat_contacts(repeats, params, expected):
    assert value(repeats, "fcr_repeat", params) == pytest.approx(expected)


def test_fcr_from_surveys():
    surveys = [
        row("surveys", survey_id="s1", responded_at=at("2024-03-04 10:00"),
            first_contact_resolved=True),
        row("surveys", survey_id="s2", responded_at=at("2024-03-05 10:00"),
            first_contact_resolved=False),
        row("surveys", survey_id="s3", responded_at=at("2024-03-05 11:00")),  # not answered
        row("surveys", survey_id="s4", responded_at=at("2024-03-06 10:00"),
            first_contact_resolved=True),
    ]
    assert value(store_with(surveys=surveys), "fcr_survey") == pytest.approx(100 * 2 / 3)
