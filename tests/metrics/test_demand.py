"""Cost and demand metrics on hand-built costs, forecasts, agent states and the roster."""

from __future__ import annotations

from datetime import date

import pytest

from tests.metrics.helpers import at, contact, row, store_with, value, values


@pytest.fixture(scope="module")
def demand():
    return store_with(
        contacts=[
            contact("c1", "2024-03-04 09:00"), contact("c2", "2024-03-04 09:10"),
            contact("c3", "2024-03-04 09:20", "abandoned", 30.0),
            contact("c4", "2024-03-04 09:40"), contact("c5", "2024-03-04 09:50"),
            contact("c6", "2024-03-04 10:10", "ended_in_vru", None),  # never offered
        ],
        costs=[
            row("costs", queue="", category="labour", period_start=at("2024-03-01 00:00"),
                period_end=at("2024-04-01 00:00"), amount=3_100.0),
            row("costs", queue="", category="telephony", period_start=at("2024-03-01 00:00"),
                period_end=at("2024-04-01 00:00"), amount=310.0),
        ],
        forecasts=[
            row("forecasts", queue="q1", interval_start=at("2024-03-04 09:00"), interval_s=1800,
                contacts=4.0, required_agents=2.0, model="m"),
            row("forecasts", queue="q1", interval_start=at("2024-03-04 09:30"), interval_s=1800,
                contacts=2.0, required_agents=1.0, model="m"),
            row("forecasts", queue="q1", interval_start=at("2024-03-04 10:00"), interval_s=1800,
                contacts=1.0, required_agents=1.0, model="m"),
        ],
        agent_states=[
            row("agent_states", agent_id="a1", queue="q1", state="logged_in",
                started_at=at("2024-03-04 09:00"), ended_at=at("2024-03-04 10:30")),
            row("agent_states", agent_id="a2", queue="q1", state="logged_in",
                started_at=at("2024-03-04 09:00"), ended_at=at("2024-03-04 09:15")),
        ],
    )


@pytest.mark.parametrize(("metric", "params", "expected"), [
    ("cost_per_contact", {}, 3_410 / 4),  # handled c1 c2 c4 c5
    ("cost_per_contact", {"category": "labour"}, 3_100 / 4),
    ("cost_per_contact", {"per": "offered"}, 3_410 / 5),  # c3 abandoned is offered too
    # Actual per interval 3, 2, 0 against forecast 4, 2, 1
    ("wape", {}, 40.0),  # (1 + 0 + 1) / 5
    ("mape", {}, 100 / 6),  # (1/3 + 0) / 2; the interval with no contacts is left out
    ("forecast_bias", {}, 40.0),  # (7 − 5) / 5
    # Staffed a1 5,400 s + a2 900 s against (2 + 1 + 1) × 1,800 s required
    ("staffing_vs_forecast", {}, 100 * 6_300 / 7_200),
])
def test_demand_by_hand(demand, metric, params, expected):
    assert value(demand, metric, params) == pytest.approx(expected)


def test_cost_is_spread_over_days(demand):
    # The month's 3,410 over 31 days is 110 a day; on 4 March, 4 handled contacts.
    got = values(demand, "cost_per_contact", period="day", start=date(2024, 3, 4),
                 end=date(2024, 3, 5))
    assert got == {"2024-03-04T00:00:00+00:00": pytest.approx(27.5),
                   "2024-03-05T00:00:00+00:00": None}


def test_staffing_by_interval(demand):
    assert values(demand, "staffing_vs_forecast", period="30m") == pytest.approx({
        "2024-03-04T09:00:00+00:00": 75.0,  # (1,800 + 900) / (2 × 1,800)
        "2024-03-04T09:30:00+00:00": 100.0,  # 1,800 / 1,800
        "2024-03-04T10:00:00+00:00": 100.0,
    })


@pytest.fixture(scope="module")
def reforecast():
    """The forecast of ``demand`` (model m, made first), a later one by model n for the
    first two intervals, and an intraday re-forecast of the last two intervals."""
    def forecast(start, contacts, model, made):
        return row("forecasts", queue="q1", interval_start=at(start), interval_s=1800,
                   contacts=contacts, required_agents=1.0, model=model, created_at=at(made))

    return store_with(
        contacts=[contact("c1", "2024-03-04 09:00"), contact("c2", "2024-03-04 09:10"),
                  contact("c3", "2024-03-04 09:20", "abandoned", 30.0),
                  contact("c4", "2024-03-04 09:40"), contact("c5", "2024-03-04 09:50")],
        forecasts=[
            forecast("2024-03-04 09:00", 4.0, "m", "2024-03-01 00:00"),
            forecast("2024-03-04 09:30", 2.0, "m", "2024-03-01 00:00"),
            forecast("2024-03-04 10:00", 1.0, "m", "2024-03-01 00:00"),
            forecast("2024-03-04 09:00", 3.0, "n", "2024-03-02 00:00"),
            forecast("2024-03-04 09:30", 4.0, "n", "2024-03-02 00:00"),
            forecast("2024-03-04 09:30", 2.0, "intraday:n", "2024-03-04 09:30"),
            forecast("2024-03-04 10:00", 0.0, "intraday:n", "2024-03-04 09:30"),
        ],
    )


@pytest.mark.parametrize(("params", "expected"), [
    # Actual 3, 2, 0. Latest made per interval: n 3, n 4, m 1 -> (0 + 2 + 1) / 5
    ({}, 60.0),
    ({"model": "m"}, 40.0),  # 4, 2, 1 -> (1 + 0 + 1) / 5
    ({"model": "n"}, 40.0),  # 3, 4 over actual 3, 2 -> 2 / 5
    ({"model": "intraday:n"}, 0.0),  # 2, 0 over actual 2, 0
])
def test_each_interval_counts_one_forecast(reforecast, params, expected):
    assert value(reforecast, "wape", params) == pytest.approx(expected)


@pytest.fixture(scope="module")
def tickets():
    def ticket(cid, arrived, outcome="resolved", **columns):
        return contact(cid, arrived, outcome, None, channel="ticket", **columns)

    return store_with(contacts=[
        ticket("t1", "2024-03-01 09:00", resolved_at=at("2024-03-02 10:00")),
        ticket("t2", "2024-03-01 10:00", resolved_at=at("2024-03-05 10:00")),
        ticket("t3", "2024-03-02 09:00", "waiting"),  # still open
        ticket("t4", "2024-03-03 09:00", "abandoned", ended_at=at("2024-03-03 09:05")),
        ticket("t5", "2024-03-03 12:00", resolved_at=at("2024-03-04 08:00"),
               ended_at=at("2024-03-09 08:00")),
    ])


def test_backlog_at_period_end(tickets):
    # End of 1 March: t1 t2; of 2 March: t2 t3; of 3 March: t2 t3 t5 (t4 ended at once).
    assert values(tickets, "backlog", period="day") == {
        "2024-03-01T00:00:00+00:00": 2.0, "2024-03-02T00:00:00+00:00": 2.0,
        "2024-03-03T00:00:00+00:00": 3.0,
    }
    assert value(tickets, "backlog") == 1.0  # end of March: only t3, not the sum of days
    # End of 5 March: t3 open; t5 resolved on the 4th but closed only on the 9th.
    fifth = {"period": "day", "start": date(2024, 3, 5), "end": date(2024, 3, 5)}
    assert value(tickets, "backlog", **fifth) == 1.0
    assert value(tickets, "backlog", {"until": "ended"}, **fifth) == 2.0


def test_attrition():
    source = store_with(agents=[
        row("agents", agent_id="x1", role="agent", hired_on=date(2024, 1, 1),
            left_on=date(2024, 3, 10)),
        row("agents", agent_id="x2", role="agent", hired_on=date(2024, 1, 1)),
        row("agents", agent_id="x3", hired_on=date(2024, 3, 16)),
        row("agents", agent_id="x4", role="team_lead", hired_on=date(2023, 6, 1),
            left_on=date(2024, 3, 5)),
    ])
    march = {"start": date(2024, 3, 1), "end": date(2024, 3, 31)}
    # Headcount-days: x1 10, x2 31, x3 16 = 57; average 57 / 31. One leaver (x1).
    assert value(source, "attrition", **march) == pytest.approx(100 * 31 / 57)
    # Everyone: x4 leaves too, 5 days: 2 / (62 / 31)
    assert value(source, "attrition", {"role": ""}, **march) == pytest.approx(100.0)


def test_daily_accuracy_compares_the_days_totals():
    # Actual per interval 3, 2 (09:00, 09:30) and 1 the next day (10:00) against
    # forecasts 2, 3 and 2: interval errors 1, 1, 1; daily totals 5 vs 5 and 1 vs 2.
    store = store_with(
        contacts=[contact(f"c{i}", t) for i, t in enumerate(
            ["2024-03-04 09:00", "2024-03-04 09:10", "2024-03-04 09:20", "2024-03-04 09:40",
             "2024-03-04 09:50", "2024-03-05 10:10"])],
        forecasts=[
            row("forecasts", queue="q1", interval_start=at(start), interval_s=1800,
                contacts=contacts, model="m")
            for start, contacts in (("2024-03-04 09:00", 2.0), ("2024-03-04 09:30", 3.0),
                                    ("2024-03-05 10:00", 2.0))
        ],
    )
    assert value(store, "wape") == pytest.approx(100 * 3 / 6)
    assert value(store, "wape", {"level": "day"}) == pytest.approx(100 * 1 / 6)
    assert value(store, "mape", {"level": "day"}) == pytest.approx(100 * (0 + 1) / 2)
    assert value(store, "forecast_bias", {"level": "day"}) == pytest.approx(100 * 1 / 6)
    assert values(store, "wape", period="day", params={"level": "day"}) == pytest.approx(
        {"2024-03-04T00:00:00+00:00": 0.0, "2024-03-05T00:00:00+00:00": 100.0})
