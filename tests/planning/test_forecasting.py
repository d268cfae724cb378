"""Forecasting: model choice by backtest, closed intervals, intraday re-forecast."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from servicelevel.errors import InputError
from servicelevel.model.tables import FORECASTS
from servicelevel.planning import staff
from servicelevel.planning.forecasting import (
    BASELINE,
    INTRADAY_PREFIX,
    QueueForecast,
    forecast_queues,
    forecast_rows,
    intraday_forecast,
    reforecast_intraday,
    staffing_table,
    wape,
    with_required_agents,
)
from servicelevel.queueing import Targets

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


def test_intraday_reforecast_damping_and_bounds_by_hand() -> None:
    day = np.array([10.0, 10.0, 10.0, 10.0])
    # Running 30% hot: 1 + 0.5 × 0.3 = 1.15; undamped 1.3; bounded at 1.2.
    np.testing.assert_allclose(reforecast_intraday(day, np.array([13.0])), [13, 11.5, 11.5, 11.5])
    np.testing.assert_allclose(reforecast_intraday(day, np.array([13.0]), damping=1.0),
                               [13, 13, 13, 13])
    np.testing.assert_allclose(
        reforecast_intraday(day, np.array([13.0]), damping=1.0, bounds=(0.5, 1.2)),
        [13, 12, 12, 12])
    # Running cold is damped the same way: 1 + 0.5 × (0.5 − 1) = 0.75.
    np.testing.assert_allclose(reforecast_intraday(day, np.array([5.0, 5.0])),
                               [5, 5, 7.5, 7.5])
    with pytest.raises(InputError, match="--damping"):
        reforecast_intraday(day, np.array([5.0]), damping=2.0)
    with pytest.raises(InputError, match="--bounds"):
        reforecast_intraday(day, np.array([5.0]), bounds=(1.2, 2.0))


def _day(contacts: list[float], model: str = "mstl") -> QueueForecast:
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)
    return QueueForecast(
        queue="q1", model=model, backtest_wape=12.0, baseline_wape=15.0, scores={},
        interval_s=3600, starts=[start + timedelta(hours=i) for i in range(len(contacts))],
        contacts=np.array(contacts), aht_s=np.full(len(contacts), 180.0),
    )


def test_intraday_forecast_names_its_model_and_keeps_the_rest_of_the_day() -> None:
    day = intraday_forecast(_day([10.0, 10.0, 10.0, np.nan, 10.0]), np.array([13.0, 13.0]))
    assert day.model == "intraday:mstl" and day.elapsed == 2
    assert day.factor == pytest.approx(1.15)
    np.testing.assert_allclose(day.adjusted, [13, 13, 11.5, 0, 11.5])
    rest = day.rest_of_day()  # the interval the forecast did not cover is left out
    assert [t.hour for t in rest.starts] == [10, 12]
    np.testing.assert_allclose(rest.contacts, [11.5, 11.5])
    assert rest.model == "intraday:mstl" and rest.backtest_wape is None
    # A re-forecast of a re-forecast is still named after the model underneath.
    assert intraday_forecast(_day([1.0], "intraday:mstl"), np.array([])).model == \
        "intraday:mstl"
    # The forecast accuracy metrics leave these rows out by this prefix
    # (tests/metrics/test_demand.py: test_each_interval_counts_one_forecast).
    assert INTRADAY_PREFIX == "intraday:"


def test_required_agents_per_interval() -> None:
    targets = Targets(service_level=0.8, threshold=20.0)
    forecast = _day([0.0, 11.5, 100.0])
    forecast = QueueForecast(**{**forecast.__dict__, "aht_s": np.array([np.nan, 180, 180])})
    staffed = with_required_agents(forecast, targets, shrinkage=0.3)
    assert staffed.required_agents is not None
    expected = [0, staff(11.5, 3600, 180, targets, shrinkage=0.3).scheduled_agents,
                staff(100.0, 3600, 180, targets, shrinkage=0.3).scheduled_agents]
    assert list(staffed.required_agents) == expected
    assert expected[1] == 3  # 2 seated ÷ 0.7, rounded up
    rows = forecast_rows([staffed], tenant="t", created_at=datetime(2026, 11, 22, tzinfo=UTC))
    assert rows.column("required_agents").to_pylist() == [float(v) for v in expected]

    plan = staffing_table(staffed, ZoneInfo("Asia/Jerusalem"))
    assert list(plan.columns) == ["interval_start", "queue", "contacts", "aht_s",
                                  "required_agents"]
    assert plan["interval_start"].tolist() == ["2026-11-23T10:00:00", "2026-11-23T11:00:00",
                                               "2026-11-23T12:00:00"]
    assert plan["required_agents"].tolist() == expected
    with pytest.raises(InputError, match="target"):
        staffing_table(forecast, UTC_ZONE)


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
    # Not named a holiday, the closed Tuesday looks like missing data: filled, not scored.
    assert any("missing data" in note for note in plain.notes)
    np.testing.assert_allclose(plain.contacts, pattern, atol=1e-9)
    (result,) = forecast_queues(history, interval_s=1800, horizon_s=7 * 86_400, tz=UTC_ZONE,
                                models=("seasonal_naive",),
                                holidays={date(2024, 1, 16), ahead})
    assert result.backtest_wape == pytest.approx(0.0)
    expected = pattern.copy()
    expected[2 * 48:3 * 48] = 0.0  # the holiday ahead: as closed as the one seen
    np.testing.assert_allclose(result.contacts, expected, atol=1e-9)


def test_a_day_without_data_is_filled_and_left_out_of_the_backtest() -> None:
    # Four weeks; Sundays always closed; the data of Tuesday 16 January is lost.
    pattern = _weekly_pattern()
    pattern[6 * 48:] = 0.0
    rng = np.random.default_rng(3)
    values = np.tile(pattern, 4) * rng.uniform(0.9, 1.1, 4 * WEEK_30M)
    lost = slice(15 * 48, 16 * 48)
    values[lost] = 0.0
    (result,) = forecast_queues(_history(values, 1800), interval_s=1800,
                                horizon_s=7 * 86_400, tz=UTC_ZONE, models=("seasonal_naive",),
                                backtest_windows=2)
    assert [n for n in result.notes if "missing data" in n] == [
        "1 day(s) with no contact where that weekday has had contacts taken as missing "
        "data: filled from the nearest same weekday, left out of the backtest"]
    # Backtest by hand: week 3 (holding the lost Tuesday) scored without it, then week 4.
    filled = values.copy()
    filled[lost] = values[8 * 48:9 * 48]  # the Tuesday a week earlier: nearest, earlier
    week3, week4 = slice(2 * WEEK_30M, 3 * WEEK_30M), slice(3 * WEEK_30M, 4 * WEEK_30M)
    seen3 = np.ones(WEEK_30M, dtype=bool)
    seen3[48:96] = False
    actual = np.concatenate([values[week3][seen3], values[week4]])
    forecast = np.concatenate([filled[WEEK_30M:2 * WEEK_30M][seen3], filled[week3]])
    assert result.backtest_wape == pytest.approx(wape(actual, forecast))
    np.testing.assert_allclose(result.contacts, values[week4])
    assert np.all(result.contacts[6 * 48:] == 0)  # a weekday never open stays closed


def test_handle_time_model_is_chosen_by_backtest() -> None:
    # Ten weeks; handle time fell from 300 s to 200 s four weeks before the end.
    pattern = _weekly_pattern()
    values = np.tile(pattern, 10)
    history = _history(values, 1800)
    history["aht_s"] = np.where(values > 0, np.where(np.arange(len(values)) < 6 * WEEK_30M,
                                                     300.0, 200.0), np.nan)
    (result,) = forecast_queues(history, interval_s=1800, horizon_s=86_400, tz=UTC_ZONE,
                                models=("seasonal_naive",), backtest_windows=2)
    assert result.aht_model == "aht_last_4_weeks"
    # Backtest weeks 9 and 10 (actual 200 s each), each from the weeks before it:
    # last 4 weeks: 250 then 225 s; last 8: 275 then 262.5 s; all: 275 then 266.7 s.
    assert result.aht_scores == pytest.approx({
        "aht_last_4_weeks": 100 * (50 + 25) / 400,
        "aht_last_8_weeks": 100 * (75 + 62.5) / 400,
        "aht_all_weeks": 100 * (75 + (300 * 6 + 200 * 3) / 9 - 200) / 400,
    })
    np.testing.assert_allclose(result.aht_s[pattern[:48] > 0], 200.0)
