"""Scheduling rules: shift templates with their breaks, opening hours, agents per interval
and the named agents with their availability. Pure declarations, validated on load.

Times of day are wall-clock ``HH:MM`` (``24:00`` ends a day); lengths and offsets are
counted in intervals of ``interval_minutes``; weekdays are ``mon`` … ``sun``.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = {"monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
               "friday": "fri", "saturday": "sat", "sunday": "sun"}
MAX_PATTERNS = 5_000
_DAY_MINUTES = 24 * 60


def clock_minutes(text: str, *, end: bool = False) -> int:
    """Minutes after midnight of ``HH:MM``; ``24:00`` is allowed when ``end``."""
    if end and text.strip() == "24:00":
        return _DAY_MINUTES
    try:
        time = dt.time.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day; write e.g. 08:00") from None
    return time.hour * 60 + time.minute


def weekday_name(text: object) -> str | None:
    """``mon`` … ``sun`` for a weekday written short or in full, None if it is not one."""
    name = str(text).strip().lower()
    return name if name in WEEKDAYS else _FULL_NAMES.get(name)


def _weekdays(value: list[str]) -> list[str]:
    days = [weekday_name(d) for d in value]
    unknown = [v for d, v in zip(days, value, strict=True) if d is None]
    if unknown:
        raise ValueError(f"days {unknown}: write mon, tue, wed, thu, fri, sat or sun")
    return [d for d in days if d is not None]


class WeeklyHours(BaseModel):
    """Hours per weekday: ``{default: ["08:00", "20:00"], sat: ["09:00", "17:00"], sun: null}``.

    A weekday not named takes ``default``; without a default it is closed (unavailable).
    ``null`` closes a day.
    """

    model_config = ConfigDict(extra="forbid")

    days: dict[str, tuple[int, int] | None]

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: object) -> object:
        if isinstance(data, dict) and set(data) == {"days"}:
            return data
        if isinstance(data, list | tuple):  # one window for every day
            data = {"default": data}
        if not isinstance(data, dict):
            raise ValueError('write {default: ["08:00", "20:00"], sat: null, …}')
        days: dict[str, tuple[int, int] | None] = {}
        for key, window in data.items():
            day = "default" if str(key).strip().lower() == "default" else weekday_name(key)
            if day is None:
                raise ValueError(f"{key!r} is not a weekday; write mon … sun or default")
            if window is None:
                days[day] = None
                continue
            if not isinstance(window, list | tuple) or len(window) != 2:
                raise ValueError(f'{key}: write a window as ["08:00", "20:00"] or null')
            start, end = clock_minutes(str(window[0])), clock_minutes(str(window[1]), end=True)
            if end <= start:
                raise ValueError(f"{key}: {window[1]} is not after {window[0]}")
            days[day] = (start, end)
        return {"days": days}

    def window(self, weekday: int) -> tuple[int, int] | None:
        """Open (start, end) minutes of the day ``weekday`` (0 = Monday), or None if closed."""
        name = WEEKDAYS[weekday]
        if name in self.days:
            return self.days[name]
        return self.days.get("default")


class Spacing(BaseModel):
    """Intervals between consecutive breaks, and from the shift start to the first break
    and from the last break to the shift end: at least ``min``, at most ``max``."""

    model_config = ConfigDict(extra="forbid")

    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _order(self) -> Spacing:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"spacing: max {self.max} < min {self.min}")
        return self


class BreakRule(BaseModel):
    """One break (or lunch): ``length`` intervals, starting between ``earliest`` and
    ``latest`` intervals after the shift start (both included). ``paid`` defaults to
    false for ``kind: lunch`` and true otherwise."""

    model_config = ConfigDict(extra="forbid")

    kind: str = "break"
    length: int = Field(gt=0)
    earliest: int = Field(ge=1)
    latest: int = Field(ge=1)
    paid: bool | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        kind = value.strip().lower()
        if not kind or kind == "shift":
            raise ValueError(f"kind {value!r}: name the activity, e.g. break or lunch")
        return kind

    @model_validator(mode="after")
    def _window(self) -> BreakRule:
        if self.latest < self.earliest:
            raise ValueError(f"break window: latest {self.latest} < earliest {self.earliest}")
        return self

    @property
    def is_paid(self) -> bool:
        """Whether the break's intervals are paid (and so cost)."""
        return self.kind != "lunch" if self.paid is None else self.paid


class ShiftTemplate(BaseModel):
    """Shifts of ``length`` intervals starting at any of ``starts`` (``HH:MM``), on
    ``days`` (every day when empty), with ``breaks`` taken in the order listed."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    starts: list[str] = Field(min_length=1)
    length: int = Field(gt=0)
    days: list[str] = Field(default_factory=list)
    cost_per_interval: float = Field(default=1.0, ge=0.0)
    break_: BreakRule | None = Field(default=None, alias="break",
                                     description="One break; the same as a one-item breaks.")
    breaks: list[BreakRule] = Field(default_factory=list)
    spacing: Spacing = Field(default_factory=Spacing)

    @field_validator("starts")
    @classmethod
    def _starts(cls, value: list[str]) -> list[str]:
        for start in value:
            clock_minutes(start)
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        return _weekdays(value)

    @model_validator(mode="after")
    def _breaks_fit(self) -> ShiftTemplate:
        if self.break_ is not None:
            if self.breaks:
                raise ValueError(f"template {self.name!r}: write either break or breaks")
            self.breaks = [self.break_]
            self.break_ = None
        for n, b in enumerate(self.breaks):
            if b.latest + b.length > self.length:
                raise ValueError(
                    f"template {self.name!r}: breaks[{n}] starting at {b.latest} of "
                    f"{b.length} intervals does not end within {self.length} intervals")
        if self.breaks and not self.break_patterns():
            raise ValueError(
                f"template {self.name!r}: no placement of the breaks satisfies their windows "
                f"and spacing (min {self.spacing.min}, max {self.spacing.max}); widen a "
                "window or loosen the spacing")
        return self

    def break_patterns(self) -> list[tuple[int, ...]]:
        """Every tuple of break start offsets that respects the windows and the spacing."""
        return break_patterns(self.length, self.breaks, self.spacing)

    @property
    def paid_length(self) -> int:
        """Paid intervals of one shift: its length less its unpaid breaks."""
        return self.length - sum(b.length for b in self.breaks if not b.is_paid)


def break_patterns(length: int, breaks: list[BreakRule],
                   spacing: Spacing) -> list[tuple[int, ...]]:
    """Start offsets of ``breaks`` in a shift of ``length`` intervals, in order, each in its
    window, with the gaps (start → first, between breaks, last → end) within ``spacing``."""
    if not breaks:
        return [()]
    found: list[tuple[int, ...]] = []

    def ok(gap: int) -> bool:
        return gap >= spacing.min and (spacing.max is None or gap <= spacing.max)

    def extend(prefix: tuple[int, ...], free_from: int) -> None:
        if len(found) > MAX_PATTERNS:
            return
        n = len(prefix)
        if n == len(breaks):
            if ok(length - free_from):
                found.append(prefix)
            return
        rule = breaks[n]
        for start in range(rule.earliest, rule.latest + 1):
            if ok(start - free_from) and start + rule.length <= length:
                extend((*prefix, start), start + rule.length)

    extend((), 0)
    if len(found) > MAX_PATTERNS:
        raise ValueError(f"more than {MAX_PATTERNS} break placements; narrow the windows")
    return found


class StaffingLimit(BaseModel):
    """Agents working per interval on ``days`` (all when empty) between ``from`` and ``to``
    (the whole day when not set): at least ``min``, at most ``max``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    days: list[str] = Field(default_factory=list)
    start: str | None = Field(default=None, alias="from")
    end: str | None = Field(default=None, alias="to")
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        return _weekdays(value)

    @model_validator(mode="after")
    def _check(self) -> StaffingLimit:
        lo = 0 if self.start is None else clock_minutes(self.start)
        hi = _DAY_MINUTES if self.end is None else clock_minutes(self.end, end=True)
        if hi <= lo:
            raise ValueError(f"to {self.end} is not after from {self.start}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}")
        return self

    def applies(self, weekday: int, minute: int) -> bool:
        """Whether the interval starting ``minute`` after midnight of ``weekday`` is in it."""
        lo = 0 if self.start is None else clock_minutes(self.start)
        hi = _DAY_MINUTES if self.end is None else clock_minutes(self.end, end=True)
        return (not self.days or WEEKDAYS[weekday] in self.days) and lo <= minute < hi


class AgentsPerInterval(BaseModel):
    """Agents working (on shift, not on a break) in every open interval: at least ``min``,
    at most ``max``; ``limits`` override them on some days and times (the last one wins)."""

    model_config = ConfigDict(extra="forbid")

    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=0)
    limits: list[StaffingLimit] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> AgentsPerInterval:
        if self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}")
        return self

    def bounds(self, weekday: int, minute: int) -> tuple[int, int | None, str]:
        """(min, max, the rule that set the min) for one interval."""
        lo, hi, where = self.min, self.max, "agents_per_interval"
        for n, limit in enumerate(self.limits):
            if limit.applies(weekday, minute):
                if limit.min is not None:
                    lo, where = limit.min, f"agents_per_interval.limits[{n}]"
                hi = limit.max if limit.max is not None else hi
        return lo, hi, where


class AgentRule(BaseModel):
    """A named agent: the templates they may work (all when empty), when they are
    ``available`` (weekly hours; always when not set), dates they are ``unavailable``, and
    their weekly limits. Weeks run Monday to Sunday."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    templates: list[str] = Field(default_factory=list)
    available: WeeklyHours | None = None
    unavailable: list[dt.date] = Field(default_factory=list)
    max_shifts_per_week: int | None = Field(default=None, ge=0)
    min_hours_per_week: float | None = Field(default=None, ge=0.0)
    max_hours_per_week: float | None = Field(default=None, ge=0.0)
    min_rest_hours: float | None = Field(default=None, ge=0.0)
    max_consecutive_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> AgentRule:
        lo, hi = self.min_hours_per_week, self.max_hours_per_week
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"agent {self.id!r}: min_hours_per_week {lo} > "
                             f"max_hours_per_week {hi}")
        return self

    def limits_key(self) -> str:
        """Everything but the id: agents with equal keys are interchangeable."""
        return repr(self.model_dump(exclude={"id"}))


class ScheduleRules(BaseModel):
    """Everything a schedule must respect."""

    model_config = ConfigDict(extra="forbid")

    interval_minutes: int = Field(default=30, gt=0)
    templates: list[ShiftTemplate] = Field(min_length=1)
    opening_hours: WeeklyHours | None = Field(
        default=None, description="No shift outside them; not set: always open.")
    agents_per_interval: AgentsPerInterval = Field(default_factory=AgentsPerInterval)
    max_agents: int | None = Field(default=None, ge=0, description="Most shifts in one day.")
    agents: list[AgentRule] = Field(
        default_factory=list, description="Named agents; not set: anonymous shifts.")
    time_limit_seconds: float = Field(default=10.0, gt=0.0)

    @model_validator(mode="after")
    def _check(self) -> ScheduleRules:
        names = [t.name for t in self.templates]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"templates: the name(s) {twice} appear twice")
        for t in self.templates:
            for s in t.starts:
                if clock_minutes(s) % self.interval_minutes:
                    raise ValueError(f"template {t.name!r}: start {s} is not on the "
                                     f"{self.interval_minutes}-minute grid")
        ids = [a.id for a in self.agents]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"agents: the id(s) {twice} appear twice")
        problems = [f"agent {a.id!r}: unknown template(s) {sorted(set(a.templates) - set(names))}"
                    for a in self.agents if set(a.templates) - set(names)]
        if problems:
            raise ValueError("; ".join(problems) + f"; templates are {names}")
        return self

    def template(self, name: str) -> ShiftTemplate:
        """The template called ``name``."""
        return next(t for t in self.templates if t.name == name)


def expand_starts(template: ShiftTemplate) -> list[int]:
    """The template's start minutes after midnight, sorted, each once."""
    return sorted({clock_minutes(s) for s in template.starts})


__all__ = ["WEEKDAYS", "AgentRule", "AgentsPerInterval", "BreakRule", "ScheduleRules",
           "ShiftTemplate", "Spacing", "StaffingLimit", "WeeklyHours", "break_patterns",
           "clock_minutes", "expand_starts"]
