"""Invariants of the Erlang formulas, and checks against independent computations."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from servicelevel.queueing import (
    Targets,
    erlang_a_performance,
    erlang_b,
    erlang_c,
    erlang_c_performance,
    performance,
    required_agents,
)

traffic_st = st.floats(0.05, 3000.0)
aht_st = st.floats(10.0, 1200.0)
threshold_st = st.floats(0.0, 300.0)
patience_st = st.floats(5.0, 2000.0)


def erlang_b_recursion(traffic: float, agents: int) -> float:
    """The textbook recursion B(k) = A B(k-1) / (k + A B(k-1)), an independent oracle."""
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


@given(traffic_st, st.integers(0, 400))
def test_erlang_b_equals_the_recursion(traffic: float, agents: int) -> None:
    assert float(erlang_b(traffic, agents)) == pytest.approx(
        erlang_b_recursion(traffic, agents), rel=1e-11, abs=1e-300)


@given(st.floats(0.1, 200.0), st.floats(0.0, 300.0), st.floats(0.0, 1.0))
def test_fractional_agents_lie_between_their_neighbours(
    traffic: float, whole: float, fraction: float
) -> None:
    n = math.floor(whole)
    lo, mid, hi = (float(erlang_b(traffic, x)) for x in (n, n + fraction, n + 1))
    assert hi * (1 - 1e-12) <= mid <= lo * (1 + 1e-12)


@given(traffic_st, aht_st, threshold_st, st.integers(1, 60))
def test_erlang_c_more_agents_never_hurt(
    traffic: float, aht: float, threshold: float, extra: int
) -> None:
    n = np.floor(traffic) + np.arange(1, extra + 2)
    p = erlang_c_performance(traffic, n, aht, threshold)
    assert np.all(np.diff(p.service_level) >= -1e-12)
    assert np.all(np.diff(p.asa) <= 1e-12 * p.asa[:-1])
    assert np.all(np.diff(p.wait_probability) <= 1e-15)
    assert np.all(np.diff(p.occupancy) < 0)


@given(traffic_st, aht_st, threshold_st, patience_st)
def test_erlang_a_more_agents_never_hurt(
    traffic: float, aht: float, threshold: float, patience: float
) -> None:
    n = np.arange(0, int(traffic * 1.5) + 5)
    p = erlang_a_performance(traffic, n, aht, threshold, patience=patience)
    tol = 1e-10
    assert np.all(np.diff(p.service_level) >= -tol)
    assert np.all(np.diff(p.abandon_probability) <= tol)
    assert np.all(np.diff(p.average_wait) <= tol * patience)
    assert np.all(np.diff(p.asa[1:]) <= tol * patience)
    assert np.all(np.diff(p.wait_probability) <= tol)
    assert np.all((p.service_level >= 0) & (p.service_level <= 1))
    # the service level (abandons negative) can never exceed the share answered
    assert np.all(p.service_level <= 1 - p.abandon_probability + tol)


@settings(max_examples=40)
@given(st.floats(0.5, 500.0), aht_st, threshold_st, st.floats(1.01, 1.5))
def test_erlang_a_tends_to_erlang_c_as_patience_grows(
    traffic: float, aht: float, threshold: float, headroom: float
) -> None:
    n = math.ceil(traffic * headroom + 1)
    c = erlang_c_performance(traffic, n, aht, threshold)
    gaps = []
    for patience in (1e2 * aht, 1e4 * aht, 1e6 * aht):
        a = erlang_a_performance(traffic, n, aht, threshold, patience=patience)
        gaps.append(abs(float(a.service_level - c.service_level))
                    + abs(float(a.wait_probability - c.wait_probability))
                    + abs(float(a.asa - c.asa)) / aht)
    assert gaps[2] <= gaps[0] + 1e-12
    assert gaps[2] < 1e-3


def erlang_a_by_states(traffic: float, agents: int, aht: float, threshold: float,
                       patience: float) -> dict[str, float]:
    """Erlang A from its truncated birth-death chain, state by state (independent route):
    the answered-within share per state from the Beta law of e^{-θV} (scipy.betainc)."""
    lam, mu, theta = traffic / aht, 1 / aht, 1 / patience
    mean_queue = max(0.0, lam - agents * mu) / theta
    size = agents + int(mean_queue + 40 * math.sqrt(lam / theta + 10) + 200)
    logp = np.zeros(size)
    for k in range(1, size):
        death = min(k, agents) * mu + max(k - agents, 0) * theta
        logp[k] = logp[k - 1] + math.log(lam / death)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    j = np.arange(size - agents)
    a = agents * mu / theta
    u0 = math.exp(-theta * threshold)
    served_within = a / (a + j + 1) * special.betaincc(a + 1, j + 1, u0)
    served = a / (a + j + 1)
    return {
        "wait_probability": float(p[agents:].sum()),
        "abandon_probability": float((p[agents:] * (1 - served)).sum()),
        "service_level": float(p[:agents].sum() + (p[agents:] * served_within).sum()),
    }


@settings(max_examples=40)
@given(st.floats(0.2, 60.0), aht_st, threshold_st, patience_st, st.floats(0.3, 1.6))
def test_erlang_a_matches_the_birth_death_chain(
    traffic: float, aht: float, threshold: float, patience: float, ratio: float
) -> None:
    agents = max(1, round(traffic * ratio))
    expected = erlang_a_by_states(traffic, agents, aht, threshold, patience)
    got = erlang_a_performance(traffic, agents, aht, threshold, patience=patience)
    for name, value in expected.items():
        # abs 1e-12: in deep overload the answered-within share is a difference of two
        # numbers near e^500, whose logs carry an absolute error of about 1e-13
        assert float(getattr(got, name)) == pytest.approx(value, rel=1e-8, abs=1e-12), name


@settings(max_examples=60)
@given(
    traffic_st, aht_st, st.floats(1.0, 120.0), st.floats(0.3, 0.99),
    st.sampled_from(["erlang_c", "erlang_a"]), patience_st,
    st.one_of(st.none(), st.floats(0.6, 1.0)),
)
def test_required_agents_is_the_smallest_meeting_every_target(
    traffic: float, aht: float, threshold: float, level: float, model: str,
    patience: float, occupancy: float | None,
) -> None:
    targets = Targets(service_level=level, threshold=threshold, max_occupancy=occupancy)
    n = int(required_agents(traffic, aht, targets, model=model, patience=patience))
    at = performance(traffic, [n, max(n - 1, 0)], aht, threshold, model=model,
                     patience=patience)
    met = targets.met(at)
    assert met[0]
    assert n == 0 or not met[1]


def test_erlang_a_can_need_fewer_agents_than_the_traffic() -> None:
    # impatient callers: 80% answered within 20 s needs fewer agents than erlangs offered
    n = int(required_agents(100.0, 300.0, Targets(service_level=0.5, threshold=20.0),
                            model="erlang_a", patience=30.0))
    assert n < 100
    p = erlang_a_performance(100.0, [n - 1, n], 300.0, 20.0, patience=30.0)
    assert p.service_level[0] < 0.5 <= p.service_level[1]


def test_asa_and_abandon_targets_together() -> None:
    targets = Targets(service_level=0.8, threshold=20.0, asa=5.0, abandon_probability=0.01)
    n = int(required_agents(40.0, 240.0, targets, model="erlang_a", patience=90.0))
    p = erlang_a_performance(40.0, [n - 1, n], 240.0, 20.0, patience=90.0)
    assert p.asa[1] <= 5.0 and p.abandon_probability[1] <= 0.01
    assert p.service_level[1] >= 0.8
    assert not (p.asa[0] <= 5.0 and p.abandon_probability[0] <= 0.01
                and p.service_level[0] >= 0.8)


@pytest.mark.parametrize("model", ["erlang_c", "erlang_a"])
def test_one_hundred_thousand_agents_without_overflow(model: str) -> None:
    traffic = np.array([9.5e4, 1e5 - 1, 1e5, 1.2e5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = performance(traffic, 1e5, 180.0, 20.0, model=model, patience=120.0)
        n = required_agents(traffic, 180.0, Targets(service_level=0.8, threshold=20.0),
                            model=model, patience=120.0)
    for field in ("wait_probability", "service_level", "abandon_probability", "occupancy"):
        values = np.asarray(getattr(p, field))
        assert np.all(np.isfinite(values)) and np.all((values >= 0) & (values <= 1)), field
    assert np.all(np.isfinite(p.asa[:2]))
    assert np.all(n > 0)
    big = float(erlang_c(1e5 - 300, 1e5))
    assert 0 < big < 1
    assert float(erlang_b(1e5, 1e5)) == pytest.approx(
        erlang_b_recursion(1e5, 100_000), rel=1e-10)


@pytest.mark.parametrize("model", ["erlang_c", "erlang_a"])
def test_required_agents_for_many_cases_equals_one_case_at_a_time(model: str) -> None:
    rng = np.random.default_rng(21)
    size = 60
    traffic = np.exp(rng.uniform(np.log(0.2), np.log(2000.0), size))
    aht = rng.uniform(30.0, 900.0, size)
    patience = rng.uniform(10.0, 900.0, size)
    level = rng.uniform(0.3, 0.95, size)
    threshold = rng.uniform(0.0, 60.0, size)
    abandon = np.where(rng.random(size) < 0.3, rng.uniform(0.01, 0.2, size), 1.0)
    together = required_agents(
        traffic, aht, Targets(service_level=level, threshold=threshold,
                              abandon_probability=abandon),
        model=model, patience=patience)
    one_by_one = [
        int(required_agents(traffic[i], aht[i], Targets(
            service_level=level[i], threshold=threshold[i],
            abandon_probability=abandon[i]), model=model, patience=patience[i]))
        for i in range(size)
    ]
    np.testing.assert_array_equal(together, one_by_one)
