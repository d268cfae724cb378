"""Forecasts of contacts offered and handle time per queue and interval.

Pure: the caller hands in the history (offered contacts and AHT per interval and queue,
as the metric engine reports them with ``PeriodSpec`` intervals in the local zone) and
gets the forecast back; nothing here reads or writes the store.

How a queue is forecast:

1. The history is laid on a regular grid of *local wall-clock* intervals (seasonality
   follows the clock on the wall: the repeated autumn hour is added into one interval,
   the skipped spring hour is an empty one). Intervals with no row are 0 contacts.
2. Every candidate model (a plain function chosen by name, see ``MODELS``) is scored by
   a rolling-origin backtest: for each of the last ``backtest_windows`` weeks, it is fit
   on everything before that week and forecasts it; its WAPE is
   Σ |actual − forecast| ÷ Σ actual over those weeks.
3. The model with the lowest WAPE (``seasonal_naive`` wins ties: the simplest) is fit on
   the whole history and forecasts the horizon. Intervals of the week that had no
   contact in the history used (closed hours) stay at 0; negative figures become 0.
4. Holidays (local dates given by the caller): in the history, a holiday is replaced by
   the same day a week earlier before any model sees it, and the ratio of its contacts to
   that day's is kept; a holiday in the horizon is the forecast times the ratio over all
   holidays of the history (left as forecast when the history has none).
   A day with no contact at all on a weekday that has had contacts is missing data, not a
   quiet day: it is filled from the nearest same weekday and not scored in the backtest.
5. Handle time: the contact-weighted mean AHT of the same interval of the week, over the
   whole history used or its last 4 or 8 weeks (``AHT_MODELS``), chosen per queue by the
   same rolling-origin backtest on handle-time WAPE (Σ |actual handle − handled ×
   forecast AHT| ÷ Σ actual handle); the queue's overall mean where that interval never
   had an answered contact.

``reforecast_intraday`` adjusts the rest of a day from what arrived so far;
``intraday_forecast`` does it for a queue's forecast of the day and names the result
``intraday:<model>``. ``with_required_agents`` adds the agents each interval needs
(``staffing_plan``). No model here draws random numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from servicelevel.errors import InputError
from servicelevel.model.tables import FORECASTS
from servicelevel.planning.staffing import staffing_plan
from servicelevel.queueing import Targets

Floats = npt.NDArray[np.float64]

#: A forecast model: (history, horizon in intervals, intervals per day) -> forecast.
Model = Callable[[Floats, int, int], Floats]

BASELINE = "seasonal_naive"
#: Model names of intraday re-forecasts: ``intraday:`` and the model of the day's forecast.
INTRADAY_PREFIX = "intraday:"
_DAYS_PER_WEEK = 7
_AVERAGE_WEEKS = 4


def seasonal_naive(y: Floats, horizon: int, per_day: int) -> Floats:
    """Each interval as the same interval one week earlier (the baseline)."""
    from statsforecast.models import SeasonalNaive

    return _mean(SeasonalNaive(season_length=per_day * _DAYS_PER_WEEK), y, horizon)


def seasonal_average(y: Floats, horizon: int, per_day: int) -> Floats:
    """Each interval as the mean of the same interval over the last four weeks."""
    from statsforecast.models import SeasonalWindowAverage

    week = per_day * _DAYS_PER_WEEK
    return _mean(SeasonalWindowAverage(season_length=week, window_size=_AVERAGE_WEEKS), y,
                 horizon)


def mstl(y: Floats, horizon: int, per_day: int) -> Floats:
    """MSTL: daily and weekly seasonal components (LOESS), the trend by AutoETS."""
    from statsforecast.models import MSTL

    return _mean(MSTL(season_length=[per_day, per_day * _DAYS_PER_WEEK]), y, horizon)


def auto_ets(y: Floats, horizon: int, per_day: int) -> Floats:
    """AutoETS (error, trend and season chosen by AICc) with daily seasonality."""
    from statsforecast.models import AutoETS

    return _mean(AutoETS(season_length=per_day), y, horizon)


def _mean(model: object, y: Floats, horizon: int) -> Floats:
    result = model.forecast(y=y, h=horizon)  # type: ignore[attr-defined]
    return np.asarray(result["mean"], dtype=np.float64)


#: Candidate models by name; an extension adds its own function here.
MODELS: dict[str, Model] = {
    "seasonal_naive": seasonal_naive,
    "seasonal_average": seasonal_average,
    "mstl": mstl,
    "auto_ets": auto_ets,
}


#: Handle-time models: the contact-weighted AHT of each interval of the week over the
#: last N weeks of the history (None: all of it). Chosen per queue by backtest.
AHT_MODELS: dict[str, int | None] = {"aht_all_weeks": None, "aht_last_4_weeks": 4,
                                     "aht_last_8_weeks": 8}


@dataclass(frozen=True)
class QueueForecast:
    """The forecast of one queue: the chosen model, the backtest, the intervals."""

    queue: str
    model: str
    backtest_wape: float | None  # % of the chosen model; None when nothing to backtest
    baseline_wape: float | None  # % of seasonal naive over the same weeks
    scores: Mapping[str, float]  # backtest WAPE % of every model that could be fit
    interval_s: int
    starts: Sequence[datetime]  # aware, UTC
    contacts: Floats
    aht_s: Floats
    notes: Sequence[str] = field(default_factory=tuple)
    required_agents: Floats | None = None  # per interval, once staffed
    aht_model: str = "aht_all_weeks"  # the handle-time profile chosen (AHT_MODELS)
    aht_scores: Mapping[str, float] = field(default_factory=dict)  # handle-time WAPE %


def wape(actual: Floats, forecast: Floats) -> float | None:
    """Σ |actual − forecast| ÷ Σ actual, in %; None when nothing arrived."""
    total = float(np.sum(actual))
    if total <= 0:
        return None
    return 100.0 * float(np.sum(np.abs(actual - forecast))) / total


def history_from_metrics(table: pa.Table) -> pd.DataFrame:
    """``compute_table``'s rows of ``offered`` and ``aht`` by queue as one history frame.

    Columns: ``queue``, ``interval_start`` (aware, local), ``contacts``, ``aht_s``.
    """
    frame = table.to_pandas()
    if frame.empty:
        return pd.DataFrame(columns=["queue", "interval_start", "contacts", "aht_s"])
    if "queue" not in frame.columns:
        frame["queue"] = ""
    wide = frame.pivot_table(index=["queue", "period_start"], columns="metric",
                             values="value", aggfunc="first", dropna=False)
    wide = wide.reindex(columns=["offered", "aht"]).reset_index()
    return pd.DataFrame({
        "queue": wide["queue"].astype(str),
        "interval_start": wide["period_start"],
        "contacts": wide["offered"].astype(float).fillna(0.0),
        "aht_s": wide["aht"].astype(float),
    })


def forecast_queues(
    history: pd.DataFrame,
    *,
    interval_s: int,
    horizon_s: float,
    tz: ZoneInfo,
    models: Sequence[str] = tuple(MODELS),
    backtest_windows: int = 2,
    history_weeks: int | None = None,
    holidays: Collection[date] = frozenset(),
    progress: Callable[[str], None] | None = None,
    aht_models: Sequence[str] = tuple(AHT_MODELS),
) -> list[QueueForecast]:
    """Forecast every queue in ``history`` from the interval after its last one.

    ``history`` has ``queue``, ``interval_start`` (aware), ``contacts`` and ``aht_s``
    (see ``history_from_metrics``). ``history_weeks`` keeps only the latest weeks.
    """
    if interval_s <= 0 or 86_400 % interval_s:
        raise InputError(f"--interval: {interval_s} s does not divide a day; write 15m, 30m or 60m")
    unknown = [name for name in models if name not in MODELS]
    if unknown:
        raise InputError(f"models: {', '.join(unknown)} unknown; use {', '.join(MODELS)}")
    unknown = [name for name in aht_models if name not in AHT_MODELS]
    if unknown or not aht_models:
        raise InputError(f"handle-time models: {', '.join(unknown) or 'none'} given; use "
                         f"{', '.join(AHT_MODELS)}")
    per_day = 86_400 // interval_s
    horizon = int(np.ceil(horizon_s / interval_s))
    if horizon <= 0:
        raise InputError(f"--horizon: {horizon_s:g} s is shorter than one interval")
    results = []
    for queue, rows in history.groupby("queue", sort=True):
        grid = _local_grid(rows, interval_s, tz)
        if history_weeks is not None:
            grid = grid.iloc[-history_weeks * _DAYS_PER_WEEK * per_day:]
        results.append(_forecast_one(str(queue), grid, interval_s, per_day, horizon, tz,
                                     models, backtest_windows, frozenset(holidays), progress,
                                     aht_models))
    return results


def _local_grid(rows: pd.DataFrame, interval_s: int, tz: ZoneInfo) -> pd.DataFrame:
    """Contacts and handle seconds on a regular grid of local wall-clock intervals."""
    starts = pd.to_datetime(rows["interval_start"])
    if starts.dt.tz is None:
        raise InputError("history: interval_start must be aware timestamps")
    local = starts.dt.tz_convert(tz).dt.tz_localize(None)
    contacts = rows["contacts"].astype(float).fillna(0.0).to_numpy()
    aht = rows["aht_s"].astype(float).to_numpy()
    frame = pd.DataFrame({
        "local": local.to_numpy(),
        "contacts": contacts,
        "handle": np.where(np.isnan(aht), 0.0, aht * contacts),
        "handled": np.where(np.isnan(aht), 0.0, contacts),
    }).groupby("local").sum()
    # The grid starts at the first local midnight so that position mod a day is the slot.
    first = frame.index.min().normalize()
    index = pd.date_range(first, frame.index.max(), freq=f"{interval_s}s")
    return frame.reindex(index, fill_value=0.0)


def _forecast_one(
    queue: str, grid: pd.DataFrame, interval_s: int, per_day: int, horizon: int,
    tz: ZoneInfo, models: Sequence[str], windows: int, holidays: frozenset[date],
    progress: Callable[[str], None] | None, aht_models: Sequence[str],
) -> QueueForecast:
    week = per_day * _DAYS_PER_WEEK
    scores: dict[str, float] = {}
    notes: list[str] = []
    days = np.array([d.date() for d in grid.index[::per_day]])
    y, missing = _without_missing_days(grid["contacts"].to_numpy(dtype=np.float64), days,
                                       per_day, holidays)
    if missing.any():
        notes.append(f"{int(missing.sum()) // per_day} day(s) with no contact where that "
                     "weekday has had contacts taken as missing data: filled from the nearest "
                     "same weekday, left out of the backtest")
    y, holiday_ratio = _without_holidays(y, days, per_day, holidays)
    usable = max(0, min(windows, len(y) // week - 1))
    if usable < windows:
        notes.append(f"{len(y) / week:.1f} weeks of history: backtest on {usable} week(s)")
    candidates = [name for name in models if name == BASELINE or usable > 0]
    for name in candidates:
        if progress is not None:
            progress(f"{queue}: backtest {name}")
        errors: list[tuple[Floats, Floats]] = []
        try:
            for window in range(usable, 0, -1):
                end = len(y) - window * week
                seen = ~missing[end:end + week]  # missing data is no actual to score
                forecast = _clean(MODELS[name](y[:end], week, per_day))
                errors.append((y[end:end + week][seen], forecast[seen]))
        except Exception as error:  # a model that cannot fit this series is left out
            notes.append(f"{name} left out: {error}")
            continue
        if errors:
            score = wape(np.concatenate([a for a, _ in errors]),
                         np.concatenate([f for _, f in errors]))
            if score is not None:
                scores[name] = score
    chosen = min(scores, key=lambda n: (round(scores[n], 9), n != BASELINE, n)) if scores \
        else BASELINE
    if progress is not None:
        progress(f"{queue}: fit {chosen}")
    forecast = _clean(MODELS[chosen](y, horizon, per_day))
    start = len(y)  # position of the first forecast interval on the grid
    slots = (start + np.arange(horizon)) % week
    forecast[~_open_slots(y, week)[slots]] = 0.0
    aht_scores = _aht_backtest(grid, week, usable, missing, aht_models)
    aht_model = min(aht_scores, key=lambda n: (round(aht_scores[n], 9), n)) if aht_scores \
        else aht_models[0]
    aht = _aht_profile(grid, week, AHT_MODELS[aht_model])[slots]
    local = pd.date_range(grid.index[-1] + pd.Timedelta(seconds=interval_s), periods=horizon,
                          freq=f"{interval_s}s")
    on_holiday = np.array([d.date() in holidays for d in local], dtype=bool)
    if on_holiday.any():
        if holiday_ratio is None:
            notes.append("no holiday in the history: holidays ahead forecast as usual days")
        else:
            forecast[on_holiday] *= holiday_ratio
    starts, keep = _to_utc(local, tz)
    return QueueForecast(
        queue=queue, model=chosen, backtest_wape=scores.get(chosen),
        baseline_wape=scores.get(BASELINE), scores=scores, interval_s=interval_s,
        starts=starts, contacts=forecast[keep], aht_s=aht[keep], notes=tuple(notes),
        aht_model=aht_model, aht_scores=aht_scores,
    )


def _without_missing_days(
    y: Floats, days: npt.NDArray[np.object_], per_day: int, holidays: frozenset[date],
) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """The history with days that look like missing data filled, and which intervals were.

    A whole day (not a holiday) without a contact, on a weekday that had contacts on
    another day of the history, is taken as missing data (a lost file, an outage of the
    recording), not as a day nobody called: it is filled with the nearest same weekday
    that has data (the earlier one on a tie). A weekday that never had a contact is closed.
    """
    whole_days = len(y) // per_day  # a last, partial day is never taken as missing
    totals = y[: whole_days * per_day].reshape(whole_days, per_day).sum(axis=1)
    weekday = np.array([day.weekday() for day in days[:whole_days]], dtype=np.int64)
    usual = np.array([day not in holidays for day in days[:whole_days]], dtype=bool)
    has_data = (totals > 0) & usual
    missing_day = (totals == 0) & usual & np.isin(weekday, weekday[has_data])
    filled = y.copy()
    missing = np.zeros(len(y), dtype=bool)
    for index in np.flatnonzero(missing_day):
        donors = np.flatnonzero(has_data & (weekday == weekday[index]))
        donor = int(donors[np.argmin(np.abs(donors - index) * 2 + (donors > index))])
        filled[index * per_day:(index + 1) * per_day] = y[donor * per_day:(donor + 1) * per_day]
        missing[index * per_day:(index + 1) * per_day] = True
    return filled, missing


def _without_holidays(
    y: Floats, days: npt.NDArray[np.object_], per_day: int, holidays: frozenset[date],
) -> tuple[Floats, float | None]:
    """The history with each holiday replaced by the same day a week earlier, and the
    ratio of holiday contacts to those days' (None when no holiday has a week before)."""
    cleaned = y.copy()
    seen = reference = 0.0
    for index, day in enumerate(days):
        if day not in holidays or index < _DAYS_PER_WEEK:
            continue
        now = slice(index * per_day, (index + 1) * per_day)
        before = slice((index - _DAYS_PER_WEEK) * per_day, (index - _DAYS_PER_WEEK + 1) * per_day)
        seen += float(y[now].sum())
        reference += float(cleaned[before].sum())
        cleaned[now] = cleaned[before][: len(y[now])]
    return cleaned, (seen / reference if reference > 0 else None)


def _clean(values: Floats) -> Floats:
    return np.clip(np.nan_to_num(values, nan=0.0), 0.0, None)


def _open_slots(y: Floats, week: int) -> npt.NDArray[np.bool_]:
    """Per interval of the week: had it any contact in the history?"""
    padded = np.zeros(-(-len(y) // week) * week)
    padded[:len(y)] = y
    seen: npt.NDArray[np.bool_] = padded.reshape(-1, week).sum(axis=0) > 0
    return seen


def _aht_backtest(grid: pd.DataFrame, week: int, windows: int,
                  missing: npt.NDArray[np.bool_], names: Sequence[str]) -> dict[str, float]:
    """Handle-time WAPE % of each AHT model over the last ``windows`` weeks: Σ |actual
    handle − handled × forecast AHT| ÷ Σ actual handle (seconds), each week forecast from
    the weeks before it."""
    handle = grid["handle"].to_numpy(dtype=np.float64)
    handled = grid["handled"].to_numpy(dtype=np.float64)
    scores: dict[str, float] = {}
    for name in names:
        weeks = AHT_MODELS[name]
        error = total = 0.0
        for window in range(windows, 0, -1):
            end = len(grid) - window * week
            if end <= 0:
                continue
            profile = _aht_profile(grid.iloc[:end], week, weeks)
            slots = (end + np.arange(week)) % week
            part = slice(end, end + week)
            seen = ~missing[part]
            predicted = np.nan_to_num(profile[slots]) * handled[part]
            error += float(np.abs(handle[part] - predicted)[seen].sum())
            total += float(handle[part][seen].sum())
        if total > 0:
            scores[name] = 100.0 * error / total
    return scores


def _aht_profile(grid: pd.DataFrame, week: int, weeks: int | None = None) -> Floats:
    """Contact-weighted AHT per interval of the week over the last ``weeks`` weeks (all
    when None), aligned to the grid's start; the overall mean where unseen."""
    def by_slot(values: Floats) -> Floats:
        padded = np.zeros(-(-len(values) // week) * week)
        padded[:len(values)] = values
        summed: Floats = padded.reshape(-1, week).sum(axis=0)
        return summed

    handle = grid["handle"].to_numpy(dtype=np.float64)
    handled = grid["handled"].to_numpy(dtype=np.float64)
    if weeks is not None and len(handle) > weeks * week:
        # Keep whole weeks of the grid's own phase, so slot k stays slot k.
        first = len(handle) - weeks * week - (len(handle) - weeks * week) % week
        mask = np.arange(len(handle)) >= first
        handle, handled = np.where(mask, handle, 0.0), np.where(mask, handled, 0.0)
    handle = by_slot(handle)
    handled = by_slot(handled)
    overall = handle.sum() / handled.sum() if handled.sum() > 0 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        profile: Floats = np.where(handled > 0, handle / handled, overall)
    return profile


def _to_utc(local: pd.DatetimeIndex, tz: ZoneInfo) -> tuple[list[datetime], npt.NDArray[np.bool_]]:
    """Local wall times as UTC instants; times the clocks skip are dropped, the repeated
    autumn hour is taken once (its first, summer-time occurrence)."""
    aware = local.tz_localize(tz, ambiguous=np.ones(len(local), dtype=bool),
                              nonexistent="NaT")
    keep = ~np.asarray(aware.isna())
    utc = aware[keep].tz_convert("UTC")
    return [t.to_pydatetime() for t in utc], keep


def intraday_factor(
    forecast: Floats, actual_so_far: Floats, *, damping: float = 0.5,
    bounds: tuple[float, float] = (0.5, 2.0),
) -> float:
    """``1 + damping × (actual ÷ forecast − 1)`` over the elapsed intervals, within
    ``bounds``; 1 when nothing was forecast for them."""
    done = len(actual_so_far)
    if done > len(forecast):
        raise InputError("actual_so_far: more intervals than the day's forecast")
    if not 0.0 <= damping <= 1.0:
        raise InputError(f"--damping: {damping!r} is not in [0, 1]; write e.g. 0.5")
    low, high = bounds
    if not 0.0 <= low <= 1.0 <= high:
        raise InputError(f"--bounds: {low:g},{high:g} must hold 1 (low <= 1 <= high); "
                         "write e.g. 0.5,2")
    planned = float(np.sum(np.asarray(forecast, dtype=np.float64)[:done]))
    ratio = float(np.sum(actual_so_far)) / planned if planned > 0 else 1.0
    return float(np.clip(1.0 + damping * (ratio - 1.0), low, high))


def reforecast_intraday(
    forecast: Floats, actual_so_far: Floats, *, damping: float = 0.5,
    bounds: tuple[float, float] = (0.5, 2.0),
) -> Floats:
    """The day's forecast with its remaining intervals scaled by how the day is going.

    ``actual_so_far`` holds the contacts of the day's first intervals. The rest of the
    day is multiplied by ``1 + damping × (actual ÷ forecast − 1)`` over the elapsed
    intervals, kept within ``bounds``; the elapsed intervals become the actuals.
    """
    factor = intraday_factor(forecast, actual_so_far, damping=damping, bounds=bounds)
    done = len(actual_so_far)
    result = np.asarray(forecast, dtype=np.float64).copy()
    result[done:] *= factor
    result[:done] = actual_so_far
    return result


@dataclass(frozen=True)
class IntradayForecast:
    """A queue's day: the original forecast, the actuals so far, the adjusted day."""

    queue: str
    model: str  # "intraday:" + the original forecast's model
    interval_s: int
    starts: Sequence[datetime]  # every interval of the day, aware
    original: Floats
    actual: Floats  # offered contacts of the elapsed intervals (the first ones)
    adjusted: Floats  # actuals, then the rest of the day × factor
    aht_s: Floats
    factor: float
    covered: npt.NDArray[np.bool_]  # intervals the day's forecast had a figure for

    @property
    def elapsed(self) -> int:
        """Intervals of the day that are over."""
        return len(self.actual)

    def rest_of_day(self) -> QueueForecast:
        """The adjusted intervals still to come that the day's forecast covers, as a
        forecast to store."""
        done = self.elapsed
        keep = np.flatnonzero(self.covered[done:]) + done
        return QueueForecast(
            queue=self.queue, model=self.model, backtest_wape=None, baseline_wape=None,
            scores={}, interval_s=self.interval_s, starts=[self.starts[int(i)] for i in keep],
            contacts=self.adjusted[keep], aht_s=self.aht_s[keep],
        )


def intraday_forecast(
    day: QueueForecast, actual_so_far: Floats, *, damping: float = 0.5,
    bounds: tuple[float, float] = (0.5, 2.0),
) -> IntradayForecast:
    """Re-forecast the rest of ``day`` (a forecast of one day's intervals, in order) from
    the offered contacts of its first intervals (``reforecast_intraday``).

    An interval the day's forecast does not cover (NaN contacts) counts as 0 and is left
    out of ``rest_of_day``.
    """
    given = np.asarray(day.contacts, dtype=np.float64)
    covered = ~np.isnan(given)
    original = np.where(covered, given, 0.0)
    actual = np.asarray(actual_so_far, dtype=np.float64)
    factor = intraday_factor(original, actual, damping=damping, bounds=bounds)
    base = day.model.removeprefix(INTRADAY_PREFIX)
    return IntradayForecast(
        queue=day.queue, model=INTRADAY_PREFIX + base, interval_s=day.interval_s,
        starts=list(day.starts), original=original, actual=actual,
        adjusted=reforecast_intraday(original, actual, damping=damping, bounds=bounds),
        aht_s=np.asarray(day.aht_s, dtype=np.float64), factor=factor, covered=covered,
    )


def with_required_agents(
    forecast: QueueForecast, targets: Targets, *, model: str = "erlang_c",
    patience: float | None = None, shrinkage: float = 0.0,
) -> QueueForecast:
    """The forecast with the agents each interval needs to meet ``targets``
    (``staffing_plan``: seated agents, or agents to schedule when ``shrinkage`` > 0).

    An interval with no contacts, or no handle time to staff from, needs no agent.
    """
    contacts = np.asarray(forecast.contacts, dtype=np.float64)
    aht = np.asarray(forecast.aht_s, dtype=np.float64)
    staffed = (contacts > 0) & (aht > 0)  # NaN AHT compares False
    required = np.zeros(len(contacts))
    if staffed.any():
        plan = staffing_plan(pd.DataFrame({"calls": contacts[staffed], "aht": aht[staffed]}),
                             targets, interval=forecast.interval_s, model=model,
                             patience=patience, shrinkage=shrinkage)
        required[staffed] = plan["scheduled_agents"].to_numpy(dtype=np.float64)
    return replace(forecast, required_agents=required)


def staffing_table(forecast: QueueForecast, tz: ZoneInfo) -> pd.DataFrame:
    """The staffed forecast as a staffing plan: ``interval_start`` (local wall-clock time
    in ``tz``, no offset), ``queue``, ``contacts``, ``aht_s``, ``required_agents``."""
    if forecast.required_agents is None:
        raise InputError("staffing plan: the forecast has no required agents; give a "
                         "target such as --sl 0.8 --within 20s")
    local = [start.astimezone(tz).replace(tzinfo=None) for start in forecast.starts]
    return pd.DataFrame({
        "interval_start": [t.isoformat() for t in local],
        "queue": forecast.queue,
        "contacts": np.round(np.asarray(forecast.contacts, dtype=np.float64), 3),
        "aht_s": np.round(np.asarray(forecast.aht_s, dtype=np.float64), 1),
        "required_agents": np.asarray(forecast.required_agents).astype(np.int64),
    })


def forecast_rows(
    forecasts: Sequence[QueueForecast], *, tenant: str, created_at: datetime,
    channel: str | None = None,
) -> pa.Table:
    """The forecasts as rows of the ``forecasts`` table."""
    columns: dict[str, list[object]] = {name: [] for name in FORECASTS.schema.names}
    for item in forecasts:
        n = len(item.starts)
        columns["tenant"] += [tenant] * n
        columns["queue"] += [item.queue] * n
        columns["channel"] += [channel] * n
        columns["interval_start"] += list(item.starts)
        columns["interval_s"] += [item.interval_s] * n
        columns["contacts"] += [float(v) for v in item.contacts]
        columns["aht_s"] += [None if np.isnan(v) else float(v) for v in item.aht_s]
        columns["required_agents"] += ([None] * n if item.required_agents is None
                                       else [float(v) for v in item.required_agents])
        columns["model"] += [item.model] * n
        columns["backtest_wape"] += [item.backtest_wape] * n
        columns["created_at"] += [created_at] * n
    return pa.table(columns, schema=FORECASTS.schema)
