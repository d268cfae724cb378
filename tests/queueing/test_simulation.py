"""The simulation agrees with Erlang C and Erlang A within confidence bounds, and does
what the formulas cannot (priorities, real service times, staffing that changes)."""

from __future__ import annotations

import numpy as np
import pytest

from servicelevel.errors import InputError
from servicelevel.queueing import erlang_a_performance, erlang_c_performance
from servicelevel.queueing.simulation import SimulationResult, simulate

BATCHES = 40


def batch_means(result: SimulationResult, measure: str) -> tuple[float, float]:
    """Mean and standard error of ``measure`` over consecutive batches of contacts."""
    values = []
    for part in np.array_split(np.arange(result.arrival.size), BATCHES):
        answered = result.answered[part]
        wait = result.wait[part]
        if measure == "service_level":
            values.append(float((answered & (wait <= result.threshold)).mean()))
        elif measure == "wait_probability":
            values.append(float(((wait > 0) | ~answered).mean()))
        elif measure == "asa":
            values.append(float(wait[answered].mean()))
        elif measure == "abandon_probability":
            values.append(float(1 - answered.mean()))
        else:
            values.append(float(wait.mean()))
    arr = np.array(values)
    return float(arr.mean()), float(arr.std(ddof=1) / np.sqrt(arr.size))


@pytest.mark.parametrize(("model", "patience"), [("erlang_c", None), ("erlang_a", 300.0),
                                                 ("erlang_a", 60.0)])
def test_simulation_agrees_with_the_formula(model: str, patience: float | None) -> None:
    calls, interval, aht, agents, threshold = 100.0, 1800.0, 180.0, 12, 20.0
    result = simulate(np.full(3000, calls), interval, np.full(3000, agents), aht=aht,
                      patience=patience, threshold=threshold, seed=20240501)
    traffic = calls * aht / interval
    if model == "erlang_c":
        theory = erlang_c_performance(traffic, agents, aht, threshold)
    else:
        theory = erlang_a_performance(traffic, agents, aht, threshold, patience=patience)
    for measure in ("service_level", "wait_probability", "asa", "abandon_probability",
                    "average_wait"):
        mean, se = batch_means(result, measure)
        expected = float(getattr(theory, measure))
        assert abs(mean - expected) <= 4 * se + 1e-12, (measure, mean, expected, se)
    assert result.summary()["occupancy"] == pytest.approx(float(theory.occupancy), abs=0.01)


def test_the_check_can_fail() -> None:
    # one agent fewer than simulated: the formula falls outside the bounds
    result = simulate(np.full(3000, 100.0), 1800.0, np.full(3000, 12), aht=180.0,
                      threshold=20.0, seed=1)
    mean, se = batch_means(result, "service_level")
    assert abs(mean - float(erlang_c_performance(10.0, 11, 180.0, 20.0).service_level)) > 4 * se


def test_same_seed_same_result_and_generator_accepted() -> None:
    args = (np.full(10, 50.0), 900.0, np.full(10, 6))
    a = simulate(*args, aht=120.0, patience=60.0, seed=3)
    b = simulate(*args, aht=120.0, patience=60.0, seed=3)
    c = simulate(*args, aht=120.0, patience=60.0, seed=np.random.default_rng(4))
    np.testing.assert_array_equal(a.wait, b.wait)
    assert a.arrival.size != c.arrival.size or not np.array_equal(a.wait, c.wait)


def test_priority_class_waits_less() -> None:
    result = simulate(np.full(500, 100.0), 1800.0, np.full(500, 11), aht=180.0,
                      priority_shares=[0.2, 0.8], threshold=20.0, seed=5)
    urgent = result.priority == 0
    assert result.wait[urgent].mean() < 0.5 * result.wait[~urgent].mean()
    # all contacts together wait as in one FIFO queue of the same size (work-conserving)
    fifo = simulate(np.full(500, 100.0), 1800.0, np.full(500, 11), aht=180.0, seed=5)
    assert result.wait.mean() == pytest.approx(fifo.wait.mean(), rel=0.15)


def test_service_times_from_data() -> None:
    data = np.array([60.0, 120.0, 600.0])
    result = simulate(np.full(200, 60.0), 1800.0, np.full(200, 20), service_times=data,
                      seed=8)
    assert set(np.unique(result.service)) <= set(data)
    assert result.summary()["occupancy"] == pytest.approx(60 * data.mean() / 1800 / 20,
                                                          rel=0.03)


def test_nobody_answered_while_no_agent_is_seated() -> None:
    result = simulate(np.array([30.0, 30.0, 30.0]), 600.0, np.array([0, 3, 3]), aht=60.0,
                      seed=2)
    first = result.arrival < 600.0
    assert first.any()
    starts = result.arrival[first] + result.wait[first]
    assert np.all(starts >= 600.0)
    assert result.answered.all()


def test_empirical_patience_and_bad_inputs() -> None:
    result = simulate(np.full(50, 100.0), 1800.0, np.full(50, 8), aht=180.0,
                      patience_times=[5.0, 30.0], threshold=20.0, seed=1)
    gone = ~result.answered
    assert gone.any()
    assert set(np.unique(result.wait[gone])) <= {5.0, 30.0}
    with pytest.raises(InputError):
        simulate([10.0], 60.0, [1, 2], aht=10.0)
    with pytest.raises(InputError):
        simulate([10.0], 60.0, [1], aht=10.0, service_times=[1.0])
