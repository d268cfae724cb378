"""What a missed period costs: penalty or service credit, tiers, caps, earn-back. Pure.

Order of settlement (docs/contracts.md):
1. each missed period's amount from the objective's shape — ``per_point`` (so much per
   step of shortfall, a partial step rounded up, down or prorated), ``tiers`` (the tier of
   the largest ``shortfall_over`` below the shortfall; the first tier applies to any
   miss) or ``fixed``;
2. the objective's cap per period (``cap_fee_percent`` of the monthly fee);
3. earn-back: waived when each of the following N periods of the objective is met by at
   least the margin; pending (and counted as due) while those periods are not all known;
4. the contract's monthly cap over all objectives: when a month's due amounts exceed it,
   each is scaled down in proportion, to the cent. The total is the sum of the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from servicelevel.sla.evaluation import ObjectiveResult
from servicelevel.sla.schema import Amount, Consequences, Fee

_EPSILON = 1e-9  # shortfalls are differences of floats: 5.000000001 steps are 5


def money(amount: Amount, fee: Fee | None) -> float:
    """A fixed amount, or the share of the monthly fee."""
    if amount.amount is not None:
        return amount.amount
    if fee is None or amount.fee_percent is None:
        raise ValueError("a share of the fee needs the contract's fee")
    return fee.monthly * amount.fee_percent / 100


def period_amount(consequences: Consequences, shortfall: float, fee: Fee | None,
                  missed: bool = True) -> float:
    """The amount one missed period owes, before earn-back and the monthly cap."""
    if not missed:
        return 0.0
    if consequences.per_point is not None:
        rule = consequences.per_point
        steps = shortfall / rule.step
        if rule.rounding == "up":
            steps = math.ceil(steps - _EPSILON)
        elif rule.rounding == "down":
            steps = math.floor(steps + _EPSILON)
        owed = steps * money(rule, fee)
    elif consequences.tiers is not None:
        tier = consequences.tiers[0]
        for candidate in consequences.tiers:
            if shortfall > candidate.shortfall_over + _EPSILON:
                tier = candidate
        owed = money(tier, fee)
    else:
        assert consequences.fixed is not None
        owed = money(consequences.fixed, fee)
    if consequences.cap_fee_percent is not None and fee is not None:
        owed = min(owed, fee.monthly * consequences.cap_fee_percent / 100)
    return round(owed, 2)


def settle(results: Sequence[ObjectiveResult]) -> list[ObjectiveResult]:
    """``results`` with their consequence, status, earn-back and monthly cap applied."""
    settled = [_owed(r) for r in results]
    settled = _earn_back(settled)
    return _month_caps(settled)


def _owed(result: ObjectiveResult) -> ObjectiveResult:
    if result.consequences is None or result.verdict != "missed" or result.running:
        return replace(result, consequence=0.0, consequence_before_cap=0.0,
                       consequence_status=None)
    owed = period_amount(result.consequences, result.shortfall, result.fee)
    return replace(result, consequence=owed, consequence_before_cap=owed,
                   consequence_status="due" if owed else None)


def _earn_back(results: list[ObjectiveResult]) -> list[ObjectiveResult]:
    by_objective: dict[str, list[int]] = {}
    for index, result in enumerate(results):
        by_objective.setdefault(result.objective, []).append(index)
    out = list(results)
    for indices in by_objective.values():
        ordered = sorted(indices, key=lambda i: results[i].period_start)
        for position, index in enumerate(ordered):
            result = results[index]
            rule = result.consequences.earn_back if result.consequences else None
            if rule is None or not result.consequence:
                continue
            following = [results[i] for i in ordered[position + 1:
                                                     position + 1 + rule.following_periods]]
            if any(f.verdict == "missed" or (f.margin is not None and f.margin < rule.margin)
                   for f in following if not f.running):
                continue  # stays due
            known = [f for f in following if not f.running and f.verdict == "met"]
            if len(known) == rule.following_periods:
                out[index] = replace(result, consequence=0.0, consequence_before_cap=0.0,
                                     consequence_status="waived (earn-back)")
            else:
                out[index] = replace(result, consequence_status="due (earn-back pending)")
    return out


def _month_caps(results: list[ObjectiveResult]) -> list[ObjectiveResult]:
    months: dict[tuple[int, int], list[int]] = {}
    for index, result in enumerate(results):
        start = result.period_start
        months.setdefault((start.year, start.month), []).append(index)
    out = list(results)
    for indices in months.values():
        capped = [results[i] for i in indices if results[i].month_cap_fee_percent is not None
                  and results[i].fee is not None]
        if not capped:
            continue
        first = capped[0]
        assert first.fee is not None and first.month_cap_fee_percent is not None
        cap = first.fee.monthly * first.month_cap_fee_percent / 100
        total = sum(results[i].consequence for i in indices)
        if total <= cap + _EPSILON:
            continue
        for i in indices:
            scaled = round(results[i].consequence * cap / total, 2)
            out[i] = replace(results[i], consequence=scaled,
                             consequence_status=(results[i].consequence_status or "")
                             + " (monthly cap)" if results[i].consequence else
                             results[i].consequence_status)
    return out


def total(results: Sequence[ObjectiveResult]) -> float:
    """The amount owed over ``results``: the sum of the rows, to the cent."""
    return round(sum(r.consequence for r in results), 2)
