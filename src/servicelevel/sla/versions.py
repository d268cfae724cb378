"""The versions of a contract: the base text and each amendment, resolved in full.

Rule: a period is judged by the version in force on the period's first day. An
amendment effective in the middle of a month therefore judges monthly objectives from
the next month on, and daily objectives from its own day on (see docs/contracts.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from servicelevel.sla.schema import (
    Calendar,
    Contract,
    Exclusion,
    Fee,
    Objective,
    ObjectiveChange,
    Scope,
)


@dataclass(frozen=True)
class Version:
    """The contract as in force from ``effective_from`` to ``effective_until`` (excluded)."""

    version: str
    effective_from: date
    effective_until: date | None  # first day no longer in force; None = open
    objectives: tuple[Objective, ...]
    calendar: Calendar
    scope: Scope
    fee: Fee | None
    cap_fee_percent: float | None
    exclusions: tuple[Exclusion, ...]

    def objective(self, objective_id: str) -> Objective | None:
        return next((o for o in self.objectives if o.id == objective_id), None)


def apply_change(objective: Objective | None, change: ObjectiveChange) -> Objective:
    """``objective`` with the fields ``change`` sets; params merge key by key."""
    fields = change.model_dump(exclude_unset=True)
    if objective is None:
        return Objective.model_validate(fields)
    merged = objective.model_dump(exclude_unset=True)
    params = {**objective.params, **fields.pop("params", {})}
    merged.update(fields)
    merged["params"] = params
    return Objective.model_validate(merged)


def versions(contract: Contract) -> list[Version]:
    """Every version in order of its effective date."""
    end = None if contract.effective_to is None else contract.effective_to + timedelta(days=1)
    current = Version(
        contract.version, contract.effective_from, end, tuple(contract.objectives),
        contract.calendar, contract.scope, contract.fee, contract.cap_fee_percent,
        tuple(contract.exclusions),
    )
    result = [current]
    for amendment in sorted(contract.amendments, key=lambda a: a.effective_from):
        objectives = {o.id: o for o in current.objectives}
        for change in amendment.objectives:
            objectives[change.id] = apply_change(objectives.get(change.id), change)
        for removed in amendment.remove_objectives:
            objectives.pop(removed, None)
        following = Version(
            amendment.version, amendment.effective_from, end, tuple(objectives.values()),
            amendment.calendar or current.calendar, current.scope,
            amendment.fee or current.fee,
            amendment.cap_fee_percent or current.cap_fee_percent,
            current.exclusions + tuple(amendment.exclusions),
        )
        result[-1] = _until(result[-1], amendment.effective_from)
        result.append(following)
        current = following
    return result


def _until(version: Version, day: date) -> Version:
    return Version(
        version.version, version.effective_from, day, version.objectives, version.calendar,
        version.scope, version.fee, version.cap_fee_percent, version.exclusions,
    )


def version_on(all_versions: list[Version], day: date) -> Version | None:
    """The version in force on ``day``, or None outside the contract's dates."""
    for version in all_versions:
        if version.effective_from <= day and (
            version.effective_until is None or day < version.effective_until
        ):
            return version
    return None
