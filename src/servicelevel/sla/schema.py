"""The contract file as typed models: what an outsourcer and its client signed.

A contract is a living document: the base text is version ``version`` from
``effective_from``; each amendment is a later version with its own ``effective_from``
that changes objectives, the calendar, the fee or adds exclusions. ``Contract.model_json_schema()``
is the JSON Schema the project publishes (``slm contract schema``).

Percent targets are written in points (``80`` means 80 %), durations like ``20s``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Comparison = Literal[">=", ">", "<=", "<"]
PeriodName = Literal["day", "week", "month"]
AttainmentRule = Literal["aggregate", "intervals_met", "interval_mean"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Role = Literal["agent", "team_lead", "qa", "trainer", "ops_manager"]
ExclusionKind = Literal["outage", "force_majeure", "maintenance", "client_caused", "other"]
ParamValue = str | int | float | bool

WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]

_ID = r"^[a-z0-9][a-z0-9_-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parties(_Model):
    """Who signed: the provider (the contact center) and its client."""

    provider: str = Field(description="The contact center that delivers the service.")
    client: str = Field(description="The company whose customers are served.")


class Holidays(_Model):
    """Days the service is closed: public holidays of countries, and custom dates."""

    countries: list[str] = Field(
        default_factory=list,
        description="ISO 3166 country codes, optionally with a subdivision: IL, FR, US-CA.",
    )
    dates: list[date] = Field(default_factory=list, description="Further closed days.")


class Calendar(_Model):
    """Where and when the service is measured."""

    time_zone: str = Field("UTC", description="IANA zone the periods are cut in.")
    business_hours: dict[Weekday, list[str]] | None = Field(
        None,
        description='Opening hours per weekday, like {monday: ["07:00-24:00"]}; a weekday '
        "not listed is closed. Absent: every hour counts.",
    )
    holidays: Holidays = Field(default_factory=Holidays)


class Scope(_Model):
    """Which contacts the contract (or one objective) covers; an empty list is 'all'."""

    tenants: list[str] = Field(default_factory=list)
    queues: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    service_types: list[str] = Field(default_factory=list)


class Amount(_Model):
    """A sum of money: a fixed amount, or a share of the monthly fee (in percent)."""

    amount: float | None = Field(None, ge=0)
    fee_percent: float | None = Field(None, ge=0, le=100)

    @model_validator(mode="after")
    def _exactly_one(self) -> Amount:
        if (self.amount is None) == (self.fee_percent is None):
            raise ValueError("write exactly one of 'amount' or 'fee_percent'")
        return self


class PerPoint(Amount):
    """So much per step of shortfall (1 point by default, or a fraction of a point)."""

    step: float = Field(1.0, gt=0, description="Size of one step, in the metric's unit.")
    rounding: Literal["prorate", "up", "down"] = Field(
        "up", description="A partial step: counted as a whole (up), dropped (down) or "
        "prorated.")


class Tier(Amount):
    """Applies when the shortfall is more than ``shortfall_over`` (in the metric's unit)."""

    shortfall_over: float = Field(ge=0)


class EarnBack(_Model):
    """A consequence is waived when each of the following periods beats the target."""

    following_periods: int = Field(ge=1)
    margin: float = Field(0.0, ge=0, description="By how much each must beat the target.")


class Consequences(_Model):
    """What a missed period costs the provider: exactly one of per_point, tiers, fixed."""

    kind: Literal["penalty", "credit"] = "credit"
    per_point: PerPoint | None = None
    tiers: list[Tier] | None = None
    fixed: Amount | None = None
    cap_fee_percent: float | None = Field(
        None, gt=0, le=100, description="At most this share of the monthly fee per period.")
    earn_back: EarnBack | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Consequences:
        given = [n for n in ("per_point", "tiers", "fixed") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("write exactly one of 'per_point', 'tiers' or 'fixed'")
        if self.tiers is not None:
            if not self.tiers:
                raise ValueError("tiers: list at least one tier")
            bounds = [t.shortfall_over for t in self.tiers]
            if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
                raise ValueError("tiers: list them by increasing 'shortfall_over', each once")
        return self


class Objective(_Model):
    """One measurable promise: a registry metric compared with a target, per period."""

    id: str = Field(pattern=_ID, description="Short name, unique in the contract.")
    name: str | None = None
    metric: str = Field(description="A metric key of the registry (slm metrics).")
    params: dict[str, ParamValue] = Field(default_factory=dict)
    comparison: Comparison
    target: float = Field(description="In the metric's unit: points for percentages.")
    period: PeriodName = "month"
    attainment: AttainmentRule = Field(
        "aggregate",
        description="aggregate: the period's exact ratio; intervals_met: share of "
        "intervals meeting the target must reach intervals_share; interval_mean: mean "
        "of the interval values.",
    )
    interval: Literal["15m", "30m", "60m"] = "30m"
    intervals_share: float | None = Field(None, gt=0, le=100)
    minimum_volume: int = Field(
        0, ge=0, description="Below this denominator a period is 'insufficient data'.")
    business_hours_only: bool = True
    scope: Scope | None = None
    owner: str = Field(description="Who answers for this objective.")
    consequences: Consequences | None = None

    @model_validator(mode="after")
    def _rule_needs(self) -> Objective:
        if self.attainment == "intervals_met" and self.intervals_share is None:
            raise ValueError("attainment intervals_met needs 'intervals_share' (percent)")
        if self.attainment != "intervals_met" and self.intervals_share is not None:
            raise ValueError("'intervals_share' goes only with attainment intervals_met")
        return self


class ObjectiveChange(_Model):
    """An amendment to one objective: its id, and the fields that change."""

    id: str = Field(pattern=_ID)
    name: str | None = None
    metric: str | None = None
    params: dict[str, ParamValue] | None = None
    comparison: Comparison | None = None
    target: float | None = None
    period: PeriodName | None = None
    attainment: AttainmentRule | None = None
    interval: Literal["15m", "30m", "60m"] | None = None
    intervals_share: float | None = Field(None, gt=0, le=100)
    minimum_volume: int | None = Field(None, ge=0)
    business_hours_only: bool | None = None
    scope: Scope | None = None
    owner: str | None = None
    consequences: Consequences | None = None


class Exclusion(_Model):
    """Contacts that do not count, with the reason (outage, force majeure …)."""

    reason: str
    kind: ExclusionKind = "other"
    dates: list[date] = Field(default_factory=list, description="Whole local days.")
    start: datetime | None = Field(None, description="Local time, on a quarter hour.")
    end: datetime | None = Field(None, description="Local time, on a quarter hour, excluded.")
    queues: list[str] = Field(default_factory=list)
    objectives: list[str] = Field(
        default_factory=list, description="Objective ids it applies to; empty: all.")

    @model_validator(mode="after")
    def _says_what(self) -> Exclusion:
        if (self.start is None) != (self.end is None):
            raise ValueError("write both 'start' and 'end' for a time range")
        if not self.dates and self.start is None and not self.queues:
            raise ValueError("say what is excluded: 'dates', 'start'/'end' or 'queues'")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("'end' must come after 'start'")
        return self


class Fee(_Model):
    monthly: float = Field(gt=0)
    currency: str = "EUR"


class ScorecardItem(_Model):
    """One KPI of a role: a contract objective cascaded, or a metric and a target."""

    objective: str | None = Field(None, description="Id of a contract objective to cascade.")
    metric: str | None = None
    params: dict[str, ParamValue] = Field(default_factory=dict)
    comparison: Comparison | None = None
    target: float | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> ScorecardItem:
        if self.objective is None and (
            self.metric is None or self.comparison is None or self.target is None
        ):
            raise ValueError("write 'objective', or 'metric' with 'comparison' and 'target'")
        return self


class Amendment(_Model):
    """A later version of the contract, in force from its ``effective_from``."""

    version: str
    effective_from: date
    description: str
    objectives: list[ObjectiveChange] = Field(
        default_factory=list, description="Changed objectives by id; a new id adds one.")
    remove_objectives: list[str] = Field(default_factory=list)
    calendar: Calendar | None = None
    fee: Fee | None = None
    cap_fee_percent: float | None = Field(None, gt=0, le=100)
    exclusions: list[Exclusion] = Field(default_factory=list, description="Added.")


Scorecards = dict[Role, list[ScorecardItem]]


class Contract(_Model):
    """A service level agreement, executable."""

    contract: str = Field(pattern=_ID, description="Short name of the contract.")
    title: str
    version: str = Field(description="Version of the base text.")
    parties: Parties
    effective_from: date
    effective_to: date | None = Field(None, description="Last day in force; absent: open.")
    fee: Fee | None = None
    cap_fee_percent: float | None = Field(
        None, gt=0, le=100, description="All consequences of a month together at most "
        "this share of the monthly fee.")
    calendar: Calendar = Field(default_factory=lambda: Calendar.model_validate({}))
    scope: Scope = Field(default_factory=Scope)
    objectives: list[Objective] = Field(min_length=1)
    exclusions: list[Exclusion] = Field(default_factory=list)
    amendments: list[Amendment] = Field(default_factory=list)
    scorecards: Scorecards = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dates(self) -> Contract:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("'effective_to' comes before 'effective_from'")
        return self


class ScorecardFile(_Model):
    """Role scorecards in their own file, for a tenant."""

    tenant: str | None = None
    time_zone: str = "UTC"
    scorecards: Scorecards
