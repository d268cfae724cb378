"""Invariants over generated contacts (Hypothesis): values in range, days add up to the
month exactly, one more contact answered within the threshold never lowers service level.

One store serves every example: each example writes its rows under a tenant of its own.
"""

from __future__ import annotations

import itertools
from datetime import date
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicelevel.metrics import KpiQuery, MetricRequest, PeriodSpec, compute
from servicelevel.metrics.efficiency import SERVICE_LEVEL_TREATMENTS
from servicelevel.store import Store
from tests.metrics.helpers import add, contact, source_of

OUTCOMES = ("answered", "answered", "abandoned", "timeout", "overflow", "ended_in_vru")
RATIOS = ("service_level", "abandon_rate", "asa", "awt", "aht", "tfr", "transfer_rate")
PERCENTS = ("service_level", "abandon_rate", "transfer_rate")

STORE = Store.open(":memory:")
SOURCE = source_of(STORE)
TENANTS = (f"t{n}" for n in itertools.count())

contacts = st.lists(
    st.tuples(
        st.integers(1, 31), st.integers(0, 23), st.sampled_from(OUTCOMES),
        st.integers(0, 90), st.booleans(),
    ),
    min_size=1, max_size=40,
)

SETTINGS = settings(max_examples=10, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _rows(drawn, tenant):
    return [
        contact(f"c{i}", f"2024-03-{day:02d} {hour:02d}:15", outcome, float(wait),
                talk_s=60.0 + wait, transferred=flag, tenant=tenant)
        for i, (day, hour, outcome, wait, flag) in enumerate(drawn)
    ]


def _query(requests, period, tenant):
    # Paris: 31 March 2024 is a 23-hour day.
    return KpiQuery(metrics=requests, period=PeriodSpec.parse(period),
                    tz=ZoneInfo("Europe/Paris"), start=date(2024, 3, 1),
                    end=date(2024, 3, 31), tenant=tenant)


@SETTINGS
@given(contacts)
def test_days_add_up_to_the_month_exactly(drawn):
    tenant = next(TENANTS)
    add(STORE, "contacts", _rows(drawn, tenant))
    requests = [MetricRequest.of(m) for m in RATIOS]
    days = compute(SOURCE, _query(requests, "day", tenant))
    month = {r.metric: r for r in compute(SOURCE, _query(requests, "month", tenant))}
    assert len(days) == 31 * len(RATIOS) and len(month) == len(RATIOS)
    for metric in RATIOS:
        parts = [r for r in days if r.metric == metric]
        numerator = sum(r.numerator or 0.0 for r in parts)
        denominator = sum(r.denominator or 0.0 for r in parts)
        assert abs(numerator - month[metric].numerator) < 1e-6
        assert denominator == month[metric].denominator
        for r in parts:
            assert (r.value is None) == (not r.denominator)
        if metric in PERCENTS:
            for r in (*parts, month[metric]):
                assert r.value is None or 0.0 <= r.value <= 100.0


@SETTINGS
@given(contacts, st.sampled_from(SERVICE_LEVEL_TREATMENTS), st.integers(0, 20))
def test_one_more_answered_within_threshold_never_lowers_service_level(drawn, abandons, wait):
    before, after = next(TENANTS), next(TENANTS)
    extra = contact("extra", "2024-03-15 12:00", "answered", float(wait), tenant=after)
    add(STORE, "contacts", [*_rows(drawn, before), *_rows(drawn, after), extra])
    request = [MetricRequest.of("service_level", {"abandons": abandons, "threshold": 20})]
    value_before = compute(SOURCE, _query(request, "month", before))[0].value
    value_after = compute(SOURCE, _query(request, "month", after))[0].value
    assert value_after is not None
    assert value_before is None or value_after >= value_before - 1e-9
