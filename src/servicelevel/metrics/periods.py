"""Periods cut in a time zone, as portable Ibis arithmetic.

A period key is computed from a timestamp with integer arithmetic only (epoch seconds,
the zone's UTC offset from a CASE over its transitions, floor division, and the civil
calendar from a day number), so the same expression runs on DuckDB, Spark or any
other Ibis backend, and DST is right: a local day has 23 or 25 hours when the clocks
change, and the repeated hour of autumn gives two distinct intervals (told apart by
their UTC offset).

Keys:
- interval of L seconds: ``local_seconds // L`` plus the offset (two keys, see above);
- day: the local day number (days since 1970-01-01);
- week: ISO weeks starting on Monday, as the day number of that Monday;
- month: ``year * 12 + month - 1``.

``calendar_filter`` keeps only what falls in business hours and outside holidays.

``Window`` is what a metric's ``prepare`` function gets: the period kind, zone and days
asked. ``Window.grid`` gives the periods as a small table (start and end instants, local
day numbers) so that rows can be split at period boundaries (``split_by_period``: time in
state, costs, forecasts) or placed in the period that holds an instant
(``assign_period``) with a join that any backend runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from servicelevel.errors import InputError

_EPOCH_DATE = date(1970, 1, 1)
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class PeriodSpec:
    """A kind of period: an interval of fixed length, or a calendar day, week or month."""

    name: str  # "30m", "day", "week", "month"
    seconds: int | None  # interval length; None for calendar periods

    @classmethod
    def parse(cls, text: str) -> PeriodSpec:
        name = text.strip().lower()
        aliases = {"daily": "day", "weekly": "week", "monthly": "month", "1d": "day",
                   "hour": "60m", "1h": "60m", "60min": "60m", "30min": "30m", "15min": "15m"}
        name = aliases.get(name, name)
        if name in ("day", "week", "month"):
            return cls(name, None)
        match = re.fullmatch(r"(\d+)\s*(m|min|s|h)", name)
        if match:
            number, unit = int(match.group(1)), match.group(2)
            seconds = number * {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]
            if (seconds > 0 and 3600 % seconds == 0) or seconds in (7200, 10800, 14400, 21600):
                minutes = seconds // 60
                return cls(f"{minutes}m" if seconds % 60 == 0 else f"{seconds}s", seconds)
        raise InputError(
            f"--period: {text!r} is not a period; write 15m, 30m, 60m, day, week or month"
        )


def utc_offset_transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """``(epoch_second, offset_seconds)`` pairs: the offset in force from each instant on.

    The first pair starts at ``start``; one pair follows per offset change up to ``end``.
    """
    def offset_at(epoch: int) -> int:
        delta = datetime.fromtimestamp(epoch, UTC).astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    begin = int(start.timestamp()) - _SECONDS_PER_DAY
    finish = int(end.timestamp()) + _SECONDS_PER_DAY
    result = [(begin, offset_at(begin))]
    step = 6 * 3600  # no zone changes its offset twice within six hours
    probe = begin
    while probe < finish:
        following = min(probe + step, finish)
        if offset_at(following) != result[-1][1]:
            low, high = probe, following  # offset changes in (low, high]
            while high - low > 1:
                middle = (low + high) // 2
                if offset_at(middle) == result[-1][1]:
                    low = middle
                else:
                    high = middle
            result.append((high, offset_at(high)))
        probe = following
    return result


def offset_seconds(
    epoch: ir.IntegerValue, transitions: Sequence[tuple[int, int]]
) -> ir.IntegerValue:
    """The UTC offset in force at ``epoch`` as an Ibis expression."""
    if len(transitions) == 1:
        return ibis.literal(transitions[0][1], type="int64")
    branches = [(epoch >= instant, offset) for instant, offset in reversed(transitions[1:])]
    return ibis.cases(*branches, else_=transitions[0][1])


def civil_month_key(day_number: ir.IntegerValue) -> ir.IntegerValue:
    """``year * 12 + month - 1`` of a day number (days since 1970-01-01), proleptic Gregorian.

    Integer-only conversion (H. Hinnant's days-to-civil), so any SQL engine computes it.
    """
    z = day_number + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = ibis.ifelse(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + ibis.ifelse(month <= 2, 1, 0)
    return year * 12 + month - 1


@dataclass(frozen=True)
class LocalTime:
    """Columns derived from one timestamp column in one zone."""

    epoch: ir.IntegerValue  # UTC epoch seconds
    offset: ir.IntegerValue  # UTC offset in force, seconds
    local_seconds: ir.IntegerValue  # epoch + offset: seconds since 1970-01-01 local clock
    day: ir.IntegerValue  # local day number

    @classmethod
    def of(cls, timestamp: ir.TimestampValue, transitions: Sequence[tuple[int, int]]) -> LocalTime:
        # Floor: a cast rounds on some engines, putting 10:29:59.7 in the 10:30 interval.
        epoch = timestamp.epoch_seconds().floor().cast("int64")
        offset = offset_seconds(epoch, transitions)
        local = epoch + offset
        return cls(epoch, offset, local, local // _SECONDS_PER_DAY)

    @property
    def weekday(self) -> ir.IntegerValue:
        """0 = Monday … 6 = Sunday (1970-01-01 was a Thursday)."""
        return (self.day + 3) % 7

    @property
    def second_of_day(self) -> ir.IntegerValue:
        return self.local_seconds - self.day * _SECONDS_PER_DAY

    def period_keys(
        self, spec: PeriodSpec, days: tuple[date, date] | None = None
    ) -> tuple[ir.IntegerValue, ir.IntegerValue]:
        """``(key, offset_key)``: the period and, for intervals, the offset that labels it.

        ``days``, the first and last local day the rows can fall on, lets a month key be
        a short CASE over the month starts in between instead of the civil calendar
        arithmetic (same key, a fifth of the work per row on DuckDB).
        """
        zero = ibis.literal(0, type="int64")
        if spec.seconds is not None:
            return self.local_seconds // spec.seconds, self.offset
        if spec.name == "day":
            return self.day, zero
        if spec.name == "week":
            return self.day - self.weekday, zero
        if days is not None:
            return month_key_between(self.day, *days), zero
        return civil_month_key(self.day), zero


def month_key_between(day_number: ir.IntegerValue, first: date, last: date,
                      most: int = 240) -> ir.IntegerValue:
    """The month key (as ``civil_month_key``) of a day number known to lie in first…last."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if len(months) > most:
        return civil_month_key(day_number)
    branches = [(day_number >= (date(y, m, 1) - _EPOCH_DATE).days, y * 12 + m - 1)
                for y, m in reversed(months[1:])]
    if not branches:
        return ibis.literal(months[0][0] * 12 + months[0][1] - 1, type="int64")
    return ibis.cases(*branches, else_=months[0][0] * 12 + months[0][1] - 1)


def period_start(spec: PeriodSpec, key: int, offset: int, tz: ZoneInfo) -> datetime:
    """The local start of the period with this key, as an aware datetime in ``tz``."""
    if spec.seconds is not None:
        instant = datetime.fromtimestamp(key * spec.seconds - offset, UTC)
        return instant.astimezone(tz)
    if spec.name in ("day", "week"):
        local_date = _EPOCH_DATE + timedelta(days=key)
    else:
        local_date = date(key // 12, key % 12 + 1, 1)
    return local_midnight(local_date, tz)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local day (midnight, or later where DST skips midnight)."""
    naive = datetime.combine(day, time(0))
    aware = naive.replace(tzinfo=tz)
    # A skipped midnight round-trips to another wall time: the day starts at the gap's end.
    round_trip = aware.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != naive:
        return round_trip
    return aware


def next_period_start(spec: PeriodSpec, start: datetime, tz: ZoneInfo) -> datetime:
    """The start of the period that follows the one starting at ``start``."""
    if spec.seconds is not None:
        return (start.astimezone(UTC) + timedelta(seconds=spec.seconds)).astimezone(tz)
    day = start.astimezone(tz).date()
    if spec.name == "day":
        following = day + timedelta(days=1)
    elif spec.name == "week":
        following = day + timedelta(days=7)
    else:
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return local_midnight(following, tz)


def periods_between(spec: PeriodSpec, first: datetime, last: datetime,
                    tz: ZoneInfo) -> list[datetime]:
    """Every period start from the period holding ``first`` to the one holding ``last``."""
    start = period_containing(spec, first, tz)
    result = []
    while start <= last:
        result.append(start)
        start = next_period_start(spec, start, tz)
    return result


def period_containing(spec: PeriodSpec, instant: datetime, tz: ZoneInfo) -> datetime:
    """The start of the period holding ``instant``, in ``tz``."""
    local = instant.astimezone(tz)
    if spec.seconds is not None:
        offset = int((local.utcoffset() or timedelta()).total_seconds())
        key = (int(local.timestamp()) + offset) // spec.seconds
        return period_start(spec, key, offset, tz)
    day = local.date()
    if spec.name == "week":
        day -= timedelta(days=day.weekday())
    elif spec.name == "month":
        day = day.replace(day=1)
    return local_midnight(day, tz)


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (0 = Monday) as (start, end) seconds of the local day."""

    hours: dict[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[date] = frozenset()

    def day_numbers_of_holidays(self) -> list[int]:
        return sorted((d - _EPOCH_DATE).days for d in self.holidays)


def calendar_filter(local: LocalTime, calendar: BusinessHours) -> ir.BooleanValue:
    """True where the instant is in business hours and not on a holiday."""
    open_now: ir.BooleanValue = ibis.literal(False)
    for weekday, spans in calendar.hours.items():
        for begin, end in spans:
            open_now = open_now | (
                (local.weekday == weekday)
                & (local.second_of_day >= begin)
                & (local.second_of_day < end)
            )
    holidays = calendar.day_numbers_of_holidays()
    if holidays:
        open_now = open_now & ~local.day.isin(holidays)
    return open_now


def day_numbers(days: Iterable[date]) -> list[int]:
    return [(d - _EPOCH_DATE).days for d in days]


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_business_hours(text: str, holidays: Iterable[date] = ()) -> BusinessHours:
    """Opening hours written like ``mon-fri 08:00-18:00; sat 09:00-12:00``.

    Days are ``mon`` … ``sun`` or a range of them; ``24:00`` closes at midnight.
    """
    hours: dict[int, list[tuple[int, int]]] = {}
    for part in (p.strip() for p in text.split(";")):
        match = re.fullmatch(
            r"([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})",
            part.lower(),
        )
        if not match or match.group(1) not in _WEEKDAYS or (
            match.group(2) and match.group(2) not in _WEEKDAYS
        ):
            raise InputError(
                f"business hours: {part!r} is not days and hours; write e.g. "
                "'mon-fri 08:00-18:00; sat 09:00-12:00'"
            )
        first = _WEEKDAYS.index(match.group(1))
        last = _WEEKDAYS.index(match.group(2) or match.group(1))
        begin = int(match.group(3)) * 3600 + int(match.group(4)) * 60
        end = int(match.group(5)) * 3600 + int(match.group(6)) * 60
        if not 0 <= begin < end <= _SECONDS_PER_DAY:
            raise InputError(f"business hours: {part!r} closes before it opens")
        for weekday in range(first, last + 1):
            hours.setdefault(weekday, []).append((begin, end))
    return BusinessHours({d: tuple(sorted(v)) for d, v in hours.items()}, frozenset(holidays))


def holiday_dates(country: str, years: Iterable[int]) -> frozenset[date]:
    """Public holidays of a country (ISO code like ``FR`` or ``US-NY``), from ``holidays``."""
    if not country:
        return frozenset()
    import holidays as holiday_calendars

    code, _, subdivision = country.upper().partition("-")
    try:
        found = holiday_calendars.country_holidays(code, subdiv=subdivision or None,
                                                   years=list(years))
    except NotImplementedError:
        raise InputError(
            f"holidays: {country!r} is not a country the holidays package knows; write an "
            "ISO 3166 code like 'US', 'FR' or 'US-NY'"
        ) from None
    return frozenset(found.keys())


def business_close(calendar: BusinessHours, day: date, tz: ZoneInfo) -> datetime | None:
    """The UTC instant a business day closes (end of its last span); None when closed."""
    spans = calendar.hours.get(day.weekday())
    if not spans or day in calendar.holidays:
        return None
    end = max(e for _, e in spans)
    midnight = local_midnight(day, tz).replace(tzinfo=None)
    local = midnight + timedelta(seconds=end)
    if end == _SECONDS_PER_DAY:
        return local_midnight(day + timedelta(days=1), tz).astimezone(UTC)
    return local.replace(tzinfo=tz).astimezone(UTC)


def response_deadlines(calendar: BusinessHours, tz: ZoneInfo, first: date,
                       last: date) -> pa.Table:
    """Per local day: its business close (null when closed) and the next business day's.

    Columns ``day`` (local day number), ``close_at`` and ``next_close_at`` (UTC).
    """
    if not calendar.hours:
        raise InputError("business hours: no day is open; write e.g. 'mon-fri 08:00-18:00'")
    closes: dict[date, datetime | None] = {}
    day = first
    horizon = last + timedelta(days=400)
    while day <= horizon:
        closes[day] = business_close(calendar, day, tz)
        day += timedelta(days=1)
    days, close_at, next_close_at = [], [], []
    following: datetime | None = None
    for day in sorted(closes, reverse=True):
        if day <= last:
            days.append((day - _EPOCH_DATE).days)
            close_at.append(closes[day])
            next_close_at.append(following)
        if closes[day] is not None:
            following = closes[day]
    stamp = pa.timestamp("us", tz="UTC")
    return pa.table({"day": pa.array(days, pa.int64()), "close_at": pa.array(close_at, stamp),
                     "next_close_at": pa.array(next_close_at, stamp)})


def epoch_seconds(timestamp: ir.TimestampValue) -> ir.IntegerValue:
    """Whole UTC epoch seconds of a timestamp, as int64 on every backend."""
    return timestamp.epoch_seconds().floor().cast("int64")


@dataclass(frozen=True)
class Window:
    """What a metric is computed over: the kind of period, its zone, the local days asked."""

    period: PeriodSpec
    tz: ZoneInfo
    start: date | None = None  # first local day asked
    end: date | None = None  # last local day asked, included
    tenant: str | None = None

    def bounds(self, t: ir.Table, first: str, last: str) -> tuple[datetime, datetime] | None:
        """UTC instants covering the days asked, or where not asked, ``t``'s data.

        ``first`` and ``last`` are the columns holding the earliest and latest instants of
        a row. None when nothing is asked and ``t`` is empty.
        """
        lower = local_midnight(self.start, self.tz) if self.start else None
        upper = local_midnight(self.end + timedelta(days=1), self.tz) if self.end else None
        if lower is None or upper is None:
            if self.tenant is not None:
                t = t.filter(t.tenant == self.tenant)
            found = t.aggregate(lo=t[first].min(), hi=t[last].max()).to_pyarrow().to_pylist()[0]
            if found["lo"] is None:
                return None
            lower = lower or _as_utc(found["lo"])
            upper = upper or _as_utc(found["hi"]) + timedelta(microseconds=1)
        return lower.astimezone(UTC), upper.astimezone(UTC)

    def grid(self, lower: datetime, upper: datetime) -> ir.Table:
        """The periods from the one holding ``lower`` to the one holding ``upper`` − 1 µs.

        Columns: ``_period_at`` / ``_period_end`` (UTC instants, end exclusive),
        ``_period_s`` (its length in seconds), ``_first_day`` / ``_end_day`` (local day
        numbers it covers, end exclusive; one day for intervals within a day).
        """
        starts = periods_between(self.period, lower, upper - timedelta(microseconds=1), self.tz)
        ends = [next_period_start(self.period, s, self.tz) for s in starts]
        stamp = pa.timestamp("us", tz="UTC")
        first_days = [(s.date() - _EPOCH_DATE).days for s in starts]
        end_days = [
            max((e.date() - _EPOCH_DATE).days, f + 1) if self.period.seconds is None else f + 1
            for e, f in zip(ends, first_days, strict=True)
        ]
        return ibis.memtable(pa.table({
            "_period_at": pa.array([s.astimezone(UTC) for s in starts], stamp),
            "_period_end": pa.array([e.astimezone(UTC) for e in ends], stamp),
            "_period_s": pa.array([int((e - s).total_seconds()) for s, e in
                                   zip(starts, ends, strict=True)], pa.int64()),
            "_first_day": pa.array(first_days, pa.int64()),
            "_end_day": pa.array(end_days, pa.int64()),
        }))


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def split_by_period(t: ir.Table, start: str, end: str, grid: ir.Table) -> ir.Table:
    """``t``'s spans ``[start, end)`` cut at period boundaries.

    One row per span and period it overlaps, with ``t``'s columns, ``period_at`` (the
    period's start) and ``overlap_s`` (seconds of the span in that period) and
    ``span_s`` (the whole span's seconds, for spreading an amount pro rata).
    """
    joined = t.join(grid, [t[start] < grid._period_end, t[end] > grid._period_at])
    begin = ibis.greatest(epoch_seconds(joined[start]), epoch_seconds(joined._period_at))
    finish = ibis.least(epoch_seconds(joined[end]), epoch_seconds(joined._period_end))
    return joined.mutate(
        period_at=joined._period_at,
        overlap_s=(finish - begin).cast("float64"),
        span_s=(epoch_seconds(joined[end]) - epoch_seconds(joined[start])).cast("float64"),
    ).drop("_period_at", "_period_end", "_period_s", "_first_day", "_end_day")


def assign_period(t: ir.Table, column: str, grid: ir.Table) -> ir.Table:
    """``t`` with ``period_at``: the start of the period holding ``column``'s instant."""
    joined = t.join(grid, [t[column] >= grid._period_at, t[column] < grid._period_end])
    return joined.mutate(period_at=joined._period_at).drop(
        "_period_at", "_period_end", "_period_s", "_first_day", "_end_day"
    )
