"""Efficiency metrics on hand-built contacts; ICMI's six service level treatments."""

from __future__ import annotations

import pytest

from tests.metrics.helpers import contact, store_with, value


@pytest.fixture(scope="module")
def icmi():
    """ICMI's worked example: 1,000 offered, 943 answered (811 within 20 s), 57 abandoned
    (19 within 20 s, of which 10 within 5 s)."""
    rows = []
    rows += [contact(f"a{i}", "2024-03-04 09:00", "answered", 10.0) for i in range(811)]
    rows += [contact(f"b{i}", "2024-03-04 09:00", "answered", 40.0) for i in range(132)]
    rows += [contact(f"s{i}", "2024-03-04 09:00", "abandoned", 3.0) for i in range(10)]
    rows += [contact(f"t{i}", "2024-03-04 09:00", "abandoned", 15.0) for i in range(9)]
    rows += [contact(f"u{i}", "2024-03-04 09:00", "abandoned", 60.0) for i in range(38)]
    return store_with(contacts=rows)


@pytest.mark.parametrize(("abandons", "expected"), [
    ("negative", 81.1),  # 811 / 1000
    ("ignored", 82.7),  # 811 / (1000 − 19) = 82.67
    ("positive", 83.0),  # (811 + 19) / 1000
    ("answered_only", 86.0),  # 811 / 943 = 86.00
    ("short_excluded", 81.9),  # 811 / (1000 − 10) = 81.92
    ("short_positive", 82.1),  # (811 + 10) / 1000
])
def test_service_level_icmi_treatments(icmi, abandons, expected):
    got = value(icmi, "service_level", {"abandons": abandons, "threshold": "20s"})
    assert round(got, 1) == expected


def test_service_level_threshold_is_inclusive():
    source = store_with(contacts=[contact("a", "2024-03-04 09:00", "answered", 20.0),
                                  contact("b", "2024-03-04 09:00", "answered", 20.5)])
    assert value(source, "service_level", {"threshold": 20}) == 50.0  # 20 ≤ 20 met, 20.5 not


@pytest.fixture(scope="module")
def small():
    return store_with(contacts=[
        contact("c1", "2024-03-04 09:00", "answered", 10.0, talk_s=100.0, hold_s=20.0,
                acw_s=30.0),
        contact("c2", "2024-03-04 09:05", "answered", 30.0, talk_s=200.0, acw_s=10.0),
        contact("c3", "2024-03-04 09:10", "abandoned", 4.0),
        contact("c4", "2024-03-04 09:15", "abandoned", 50.0),
        contact("c5", "2024-03-04 09:20", "timeout", 120.0),
        contact("c6", "2024-03-04 09:25", "ended_in_vru", None),
        contact("c7", "2024-03-04 09:30", "waiting", 5.0),
        contact("c8", "2024-03-04 09:35", "answered", 25.0),  # still talking: no talk_s
    ])


# Offered: c1 c2 c3 c4 c5 c8 = 6 (c6 never queued, c7 not finished); answered c1 c2 c8.
@pytest.mark.parametrize(("metric", "params", "expected"), [
    ("offered", {}, 6),
    ("offered", {"timeouts": False}, 5),
    ("answered", {}, 3),
    ("abandoned", {}, 2),
    ("service_level", {"threshold": 20}, 100 / 6),  # c1 only: 1 / 6
    ("asa", {}, 65 / 3),  # (10 + 30 + 25) / 3
    ("awt", {}, 65 / 3),
    ("awt", {"include_abandoned": True}, 23.8),  # (10 + 30 + 25 + 4 + 50) / 5
    ("average_time_to_abandon", {}, 27.0),  # (4 + 50) / 2
    ("longest_wait", {}, 120.0),  # the timeout c5
    ("longest_wait", {"include_abandoned": False}, 30.0),  # c2
    ("abandon_rate", {}, 100 * 2 / 6),
    ("abandon_rate", {"exclude_short": True}, 20.0),  # c3 short: 1 / 5
    ("abandon_rate", {"timeouts": False}, 40.0),  # 2 / 5
    ("aht", {}, 180.0),  # (100 + 20 + 30 + 200 + 10) / 2; c8 still talking
])
def test_efficiency_by_hand(small, metric, params, expected):
    assert value(small, metric, params, period="day") == pytest.approx(expected)


def test_empty_period_has_no_value_but_counts_are_zero():
    source = store_with(contacts=[contact("a", "2024-03-04 09:00", "answered", 5.0),
                                  contact("b", "2024-03-06 09:00", "answered", 5.0)])
    from tests.metrics.helpers import values
    assert values(source, "asa", period="day") == {
        "2024-03-04T00:00:00+00:00": 5.0, "2024-03-05T00:00:00+00:00": None,
        "2024-03-06T00:00:00+00:00": 5.0,
    }
    assert values(source, "answered", period="day")["2024-03-05T00:00:00+00:00"] == 0.0
