"""Projection of a running month and the performance the rest of it needs, by hand.

History: every day has 100 contacts; 90 within threshold in February, 70 in March. As
of Friday 2024-03-15, each remaining day's forecast is the mean of the last four same
weekdays: two in March (70) and two in February (90) → 80 of 100. Remaining: 15–31
March, 17 days → n_rest = 1,360, d_rest = 1,700. So far (1–14 March): 980 of 1,400.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from servicelevel.metrics import get_metric
from servicelevel.sla.projection import Day, project, same_weekday_forecast

AS_OF = date(2024, 3, 15)
END = date(2024, 4, 1)
HISTORY = [
    Day(date(2024, 2, 1) + timedelta(days=i), 90.0 if i < 29 else 70.0, 100.0)
    for i in range(29 + 14)
]
SO_FAR = [d for d in HISTORY if d.day >= date(2024, 3, 1)]
SL = get_metric("service_level")


def test_same_weekday_forecast() -> None:
    remaining = [AS_OF + timedelta(days=i) for i in range(17)]
    assert same_weekday_forecast(HISTORY, remaining, AS_OF) == (1360.0, 1700.0)
    # a closed day forecasts nothing: 16 days × 80 / 100
    closed = frozenset({date(2024, 3, 29)})
    assert same_weekday_forecast(HISTORY, remaining, AS_OF, closed=closed) == (1280.0, 1600.0)


def test_at_risk() -> None:
    p = project(SL, ">=", 80, SO_FAR, HISTORY, END, AS_OF)
    assert p.days_left == 17
    # (980 + 1,360) / (1,400 + 1,700) = 2,340 / 3,100 = 75.48 %
    assert p.projected == pytest.approx(100 * 2340 / 3100)
    # (0.8 × 3,100 − 980) / 1,700 = 1,500 / 1,700 = 88.24 % needed on the rest
    assert p.required_rest == pytest.approx(100 * 1500 / 1700)
    assert p.status == "at risk"


def test_cannot_be_met_and_secured() -> None:
    # (0.99 × 3,100 − 980) / 1,700 = 2,089 / 1,700 = 122.9 % > 100 %
    hopeless = project(SL, ">=", 99, SO_FAR, HISTORY, END, AS_OF)
    assert hopeless.required_rest == pytest.approx(100 * 2089 / 1700)
    assert hopeless.status == "cannot be met"
    # (0.3 × 3,100 − 980) / 1,700 < 0: whatever happens, 30 % is reached
    assert project(SL, ">=", 30, SO_FAR, HISTORY, END, AS_OF).status == "secured"
    # 75 %: projected 75.48 % meets it
    assert project(SL, ">=", 75, SO_FAR, HISTORY, END, AS_OF).status == "on track"


def test_mean_lower_is_better() -> None:
    asa = get_metric("asa")
    history = [Day(d.day, 3000.0, 100.0) for d in HISTORY]  # 30 s per answered call
    so_far = [d for d in history if d.day >= date(2024, 3, 1)]
    # (25 × 3,100 − 42,000) / 1,700 = 35,500 / 1,700 = 20.88 s needed on the rest
    p = project(asa, "<=", 25, so_far, history, END, AS_OF)
    assert p.required_rest == pytest.approx(35500 / 1700)
    assert p.projected == pytest.approx(30.0)
    assert p.status == "at risk"
    # (10 × 3,100 − 42,000) < 0: even no wait at all cannot bring the month to 10 s
    assert project(asa, "<=", 10, so_far, history, END, AS_OF).status == "cannot be met"
