"""Forecasting: model choice by backtest, closed intervals, intraday re-forecast."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from servicelevel.model.tables import FORECASTS
from servicelevel.planning.forecasting import (
    BASELINE,
    forecast_queues,
    forecast_rows,
    reforecast_intraday,
    wape,
)

UTC_ZONE = ZoneInfo("UTC")
WEEK_30M = 7 * 48


def _history(values: np.ndarray, interval_s: int, start: str = "2024-01-01") -> pd.DataFrame:
    starts = pd.date_range(start, periods=len(values), freq=f"{interval_s}s", tz="UTC")
    return pd.DataFrame({"queue": "q", "interval_start": starts, "contacts": values,
                         "aht_s": np.where(values > 0, 240.0, np.nan)})


def _weekly_pattern() -> np.ndarray:
    """Open 08:00–20:00, a daily hump, quieter weekends; closed at night."""
    slot = np.arange(WEEK_30M) % 48
    day = np.arange(WEEK_30M) // 48
    hump = np.where((slot >= 16) & (slot < 40), 10 + 20 * np.sin((slot - 16) / 24 * np.pi), 0.0)
    return hump * np.where(day >= 5, 0.4, 1.0)


def test_exactly_seasonal_series_keeps_seasonal_naive_and_its_pattern() -> None:
    pattern = _weekly_pattern()
    history = _history(np.tile(pattern, 4), 1800)
    (result,) = forecast_queues(history, interval_s=1800, horizon_s=7 * 86_400, tz=UTC_ZONE,
                                models=("seasonal_naive", "mstl"))
    assert result.model == BASELINE
    assert result.backtest_wape == pytest.approx(0.0)
    np.testing.assert_allclose(result.contacts, pattern, atol=1e-9)
    assert np.all(result.contacts[pattern == 0] == 0)  # closed hours stay closed
    assert result.starts[0] == datetime(2024, 1, 29, tzinfo=UTC)
    np.testing.assert_allclose(result.aht_s[pattern > 0], 240.0)


def test_noisy_seasonal_series_chosen_model_beats_seasonal_naive() -> None:
    rng = np.random.default_rng(7)
    pattern = _weekly_pattern()
    values = rng.poisson(np.tile(pattern, 6)).astype(float)
    (result,) = forecast_queues(_history(values, 1800), interval_s=1800,
                                horizon_s=14 * 86_400, tz=UTC_ZONE,
                                models=("seasonal_naive", "mstl"))
    assert result.model == "mstl"
    assert result.baseline_wape is not None and result.backtest_wape is not None
    assert result.backtest_wape < result.baseline_wape
    assert len(result.contacts) == 2 * WEEK_30M
    assert np.all(result.contacts[np.tile(pattern, 2) == 0] == 0)
    assert np.all(result.contacts >= 0)


def test_backtest_wape_by_hand() -> None:
    # 6-hour intervals: 4 a day, 28 a week; weeks of 1s, 2s and 3s.
    values = np.repeat([1.0, 2.0, 3.0], 28)
    history = _history(values, 21_600)
    (one,) = forecast_queues(history, interval_s=21_600, horizon_s=86_400, tz=UTC_ZONE,
                             models=("seasonal_naive",), backtest_windows=1)
    assert one.backtest_wape == pytest.approx(100 * 28 / (3 * 28))  # |3 − 2| ÷ 3
    (two,) = forecast_queues(history, interval_s=21_600, horizon_s=86_400, tz=UTC_ZONE,
                             models=("seasonal_naive",), backtest_windows=2)
    assert two.backtest_wape == pytest.approx(100 * (28 + 28) / (2 * 28 + 3 * 28))
    np.testing.assert_allclose(two.contacts, [3.0] * 4)


def test_wape_of_nothing_is_not_set() -> None:
    assert wape(np.zeros(3), np.ones(3)) is None
    assert wape(np.array([2.0, 2.0]), np.array([1.0, 4.0])) == pytest.approx(75.0)


def test_intervals_are_local_wall_clock_across_dst() -> None:
    zone = ZoneInfo("Europe/Paris")
    pattern = _weekly_pattern()
    local = pd.date_range("2024-03-18", periods=3 * WEEK_30M, freq="30min")
    # Three weeks of the same local pattern; clocks go forward on Sunday 31 March.
    aware = local.tz_localize(zone, nonexistent="NaT", ambiguous="NaT")
    keep = ~aware.isna()
    history = pd.DataFrame({"queue": "q", "interval_start": aware[keep],
                            "contacts": np.tile(pattern, 3)[keep], "aht_s": 200.0})
    (result,) = forecast_queues(history, interval_s=1800, horizon_s=86_400, tz=zone,
                                models=("seasonal_naive",))
    assert result.backtest_wape == pytest.approx(0.0)
    first = result.starts[0].astimezone(zone)
    assert (first.date().isoformat(), first.hour) == ("2024-04-08", 0)
    np.testing.assert_allclose(result.contacts, pattern[:48])


def test_intraday_reforecast_scales_the_rest_of_the_day() -> None:
    day = np.array([10.0, 10.0, 10.0, 10.0])
    adjusted = reforecast_intraday(day, np.array([15.0, 15.0]))
    np.testing.assert_allclose(adjusted, [15.0, 15.0, 12.5, 12.5])  # 1 + ½ × (1.5 − 1)
    np.testing.assert_allclose(reforecast_intraday(day, np.array([100.0])),
                               [100.0, 20.0, 20.0, 20.0])  # capped at 2×


def test_rows_fit_the_forecasts_table() -> None:
    (result,) = forecast_queues(_history(np.tile(_weekly_pattern(), 3), 1800),
                                interval_s=1800, horizon_s=3600, tz=UTC_ZONE,
                                models=("seasonal_naive",))
    rows = forecast_rows([result], tenant="t", created_at=datetime(2024, 2, 1, tzinfo=UTC))
    assert rows.schema == FORECASTS.schema
    assert rows.num_rows == 2
    assert rows.column("model").to_pylist() == [BASELINE, BASELINE]
    starts = rows.column("interval_start").to_pylist()
    assert starts[1] - starts[0] == timedelta(minutes=30)


def test_holidays_are_left_out_of_the_history_and_scaled_ahead() -> None:
    pattern = _weekly_pattern()
    values = np.tile(pattern, 4)
    holiday = 15  # Tuesday of the third week (2024-01-16): closed
    values[holiday * 48:(holiday + 1) * 48] = 0.0
    ahead = date(2024, 1, 31)  # Wednesday of the forecast week
    history = _history(values, 1800)
    (plain,) = forecast_queues(history, interval_s=1800, horizon_s=7 * 86_400, tz=UTC_ZONE,
                               models=("seasonal_naive",))
    assert plain.backtest_wape is not None and plain.backtest_wape > 0
    (result,) = forecast_queues(history, interval_s=1800, horizon_s=7 * 86_400, tz=UTC_ZONE,
                                models=("seasonal_naive",),
                                holidays={date(2024, 1, 16), ahead})
    assert result.backtest_wape == pytest.approx(0.0)
    expected = pattern.copy()
    expected[2 * 48:3 * 48] = 0.0  # the holiday ahead: as closed as the one seen
    np.testing.assert_allclose(result.contacts, expected, atol=1e-9)
