"""Contracts judged over a small in-memory contacts table through the metric engine.

Calls (UTC), each answered: ``met`` within 20 s, the others after 60 s.
- January: 10 calls, 9 met → 90 %
- 1–14 February: 10 calls, 8 met; 15–28 February: 10 calls, 9 met → month 17/20 = 85 %
- March: 10 calls, 8 met → 80 %
Version 1 (from 2024-01-01) asks 80 %; the amendment "2" from 2024-02-15 asks 90 %.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from servicelevel.model.tables import CONTACTS
from servicelevel.sla import Selection, check, load_contract

CONTRACT = """\
contract: small
title: Small contract
version: "1"
parties: {provider: P, client: C}
effective_from: 2024-01-01
fee: {monthly: 10000, currency: EUR}
scope: {tenants: [t]}
objectives:
  - id: monthly
    metric: service_level
    comparison: ">="
    target: 80
    owner: Ops
    consequences: {per_point: {amount: 100}}
  - id: daily
    metric: service_level
    params: {threshold: 20s}
    comparison: ">="
    target: 80
    period: day
    owner: Ops
amendments:
  - version: "2"
    effective_from: 2024-02-15
    description: targets raised to 90 %
    objectives:
      - {id: monthly, target: 90}
      - {id: daily, target: 90}
"""


def _calls(day: date, met: int, total: int, every: int = 1) -> list[dict[str, Any]]:
    start = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    return [{"arrived_at": start + timedelta(minutes=every * i),
             "wait_s": 5.0 if i < met else 60.0} for i in range(total)]


def table_source(calls: list[dict[str, Any]]) -> Any:
    rows = []
    for index, call in enumerate(calls):
        record: dict[str, Any] = dict.fromkeys(CONTACTS.schema.names)
        record.update(tenant="t", source="s", contact_id=str(index), channel="voice",
                      queue="q", outcome="answered", **call)
        rows.append(record)
    contacts = ibis.memtable(pa.Table.from_pylist(rows, schema=CONTACTS.schema))

    def tables(name: str) -> ir.Table:
        assert name == "contacts"
        return contacts

    return tables


CALLS = (_calls(date(2024, 1, 10), 9, 10) + _calls(date(2024, 2, 14), 8, 10)
         + _calls(date(2024, 2, 15), 9, 10) + _calls(date(2024, 3, 5), 8, 10))


def test_a_month_is_judged_by_the_version_in_force_on_its_first_day() -> None:
    loaded = load_contract(CONTRACT, "small.yaml")
    evaluation = check(table_source(CALLS), loaded, Selection.parse("2024-01..2024-03"))
    monthly = {r.period: r for r in evaluation.results if r.objective == "monthly"}
    # February started under version 1: 85 % ≥ 80 % is met although "2" asks 90 % from the 15th
    assert [(p, r.version, r.target, r.verdict) for p, r in monthly.items()] == [
        ("2024-01", "1", 80, "met"), ("2024-02", "1", 80, "met"), ("2024-03", "2", 90, "missed"),
    ]
    assert monthly["2024-02"].actual == 85.0  # 17 / 20
    # March: 80 % against 90 %: 10 points × 100 per point
    assert monthly["2024-03"].consequence == 1000.0
    assert evaluation.total == 1000.0
    assert evaluation.any_missed


def test_daily_objective_switches_version_on_the_amendment_day() -> None:
    loaded = load_contract(CONTRACT, "small.yaml")
    evaluation = check(table_source(CALLS), loaded, Selection.parse("2024-02"))
    daily = {r.period: r for r in evaluation.results if r.objective == "daily"
             and r.verdict != "insufficient data"}
    assert [(p, r.version, r.actual, r.verdict) for p, r in daily.items()] == [
        ("2024-02-14", "1", 80.0, "met"),  # 8/10 against 80 %
        ("2024-02-15", "2", 90.0, "met"),  # 9/10 against 90 %
    ]
    every_day = [r.period for r in evaluation.results if r.objective == "daily"]
    assert len(every_day) == 29  # every day of February 2024 has a verdict


def test_exclusion_of_a_time_range_through_the_engine() -> None:
    text = CONTRACT.replace("amendments:", """exclusions:
  - reason: carrier outage
    kind: outage
    start: 2024-03-05T10:00
    end: 2024-03-05T10:15
    objectives: [monthly]
amendments:""")
    # March calls every 3 minutes from 10:00: 10:00–10:12 (5 calls, all met) are out;
    # 10:15–10:27 are left: 3 met of 5 = 60 %, against 100 × 8/10 = 80 % without exclusion
    calls = CALLS[:-10] + _calls(date(2024, 3, 5), 8, 10, every=3)
    loaded = load_contract(text, "small.yaml")
    evaluation = check(table_source(calls), loaded, Selection.parse("2024-03"))
    [march] = [r for r in evaluation.results if r.objective == "monthly"]
    assert (march.numerator, march.denominator, march.actual) == (3, 5, 60.0)
    assert march.excluded == ("carrier outage",)
    [daily] = [r for r in evaluation.results if r.period == "2024-03-05"]
    assert daily.actual == 80.0  # the exclusion names only the monthly objective


def test_running_month_has_a_projection() -> None:
    calls = [c for day in range(1, 32) for c in _calls(date(2024, 1, 1) + timedelta(days=day - 1),
                                                        9, 10)]
    calls += [c for day in range(1, 15) for c in _calls(date(2024, 2, day), 7, 10)]
    evaluation = check(table_source(calls), load_contract(CONTRACT, "small.yaml"),
                       Selection.parse("2024-02"), as_of=datetime(2024, 2, 15, tzinfo=UTC))
    [february] = [r for r in evaluation.results if r.objective == "monthly"]
    assert february.running and february.projection is not None
    assert february.consequence == 0.0  # nothing is owed before the month is over
    # so far 98 of 140 (70 %). Rest 15–29 Feb (15 days): each weekday's last four before
    # the 15th are two February days (7/10) and two January days (9/10) → 8 of 10 a day:
    # 120 of 150. Projected (98 + 120) / 290 = 75.17 %; needed (0.8 × 290 − 98) / 150 = 89.3 %
    assert february.actual == 70.0
    assert february.projection.days_left == 15
    assert round(february.projection.projected or 0, 2) == round(100 * 218 / 290, 2)
    assert round(february.projection.required_rest or 0, 2) == round(100 * 134 / 150, 2)
    assert february.projection.status == "at risk"
