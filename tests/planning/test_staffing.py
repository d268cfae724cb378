"""Staffing plans, the cost of service level, patience estimation, recovery staffing."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from servicelevel.errors import InputError
from servicelevel.planning import (
    cost_curve,
    estimate_patience,
    recovery_plan,
    scheduled_agents,
    staff,
    staffing_plan,
)
from servicelevel.queueing import Targets, erlang_c_performance
from servicelevel.queueing.simulation import simulate


def test_scheduled_agents_rounds_up_without_float_noise() -> None:
    # 14 / 0.7 is 20.000000000000004 in floating point; 20 seats are enough
    assert scheduled_agents([14, 15, 11, 17], 0.3).tolist() == [20, 22, 16, 25]
    assert int(scheduled_agents(10, 0.0)) == 10
    with pytest.raises(InputError):
        scheduled_agents(10, 1.0)


def test_staff_one_interval_reports_everything() -> None:
    result = staff(100, 1800, 180, Targets(service_level=0.8, threshold=20.0,
                                           max_occupancy=0.85), shrinkage=0.3)
    assert (result.agents, result.scheduled_agents) == (14, 20)
    assert result.service_level == pytest.approx(0.888350019179, rel=1e-9)
    assert result.abandon_probability == 0.0


def test_plan_per_interval_hours_and_cost() -> None:
    table = pd.DataFrame({"start": ["08:00", "08:30", "09:00"], "calls": [100, 360, 0],
                          "aht": [180, 240, 200]})
    plan = staffing_plan(table, Targets(service_level=0.8, threshold=20.0), interval=1800,
                         shrinkage=0.25, cost_per_hour=30.0)
    assert plan["start"].tolist() == ["08:00", "08:30", "09:00"]
    assert plan["traffic"].tolist() == pytest.approx([10.0, 48.0, 0.0])
    agents = plan["agents"].to_numpy()
    assert agents[2] == 0
    # each row is the smallest meeting 80% within 20 s
    assert agents[0] == 14
    sl = erlang_c_performance(48.0, [agents[1] - 1, agents[1]], 240.0, 20.0).service_level
    assert sl[0] < 0.8 <= sl[1]
    assert plan["scheduled_agents"].tolist() == [math.ceil(n / 0.75) for n in agents]
    assert plan["fte_hours"].tolist() == pytest.approx(plan["scheduled_agents"] * 0.5)
    assert plan["cost"].tolist() == pytest.approx(plan["fte_hours"] * 30.0)


def test_plan_rejects_a_table_without_calls() -> None:
    with pytest.raises(InputError, match="calls"):
        staffing_plan(pd.DataFrame({"volume": [1]}), Targets(service_level=0.8, threshold=20),
                      interval=1800)


def test_cost_curve_last_points_cost_most() -> None:
    levels = np.round(np.arange(0.50, 0.991, 0.01), 2)
    curve = cost_curve(2000, 1800, 300, 20.0, levels, cost_per_hour=20.0)
    assert curve["agents"].is_monotonic_increasing
    marginal = curve["marginal_cost_per_point"].to_numpy()[1:]
    # a point near 99% costs several times a point near 60%
    assert marginal[-5:].mean() > 3 * marginal[5:15].mean()
    assert (curve["service_level"] >= curve["level"]).all()


def test_cost_curve_under_erlang_a_shows_abandonment() -> None:
    curve = cost_curve(100, 1800, 180, 20.0, [0.6, 0.8], model="erlang_a", patience=60.0)
    assert (curve["abandon_probability"] > 0).all()
    assert curve["abandon_probability"].is_monotonic_decreasing


def test_patience_estimate_recovers_a_simulated_mean() -> None:
    result = simulate(np.full(400, 100.0), 1800.0, np.full(400, 10), aht=180.0,
                      patience=240.0, seed=11)
    estimate = estimate_patience(result.wait, ~result.answered)
    assert estimate == pytest.approx(240.0, rel=0.05)
    assert estimate_patience([1.0, 2.0], [False, False]) == math.inf
    with pytest.raises(InputError):
        estimate_patience([1.0], [True, False])


def test_recovery_plan_asks_more_of_the_rest_of_the_month() -> None:
    remaining = pd.DataFrame({"calls": [100.0] * 4, "aht": [180.0] * 4})
    # 1,000 offered so far, 700 within 20 s (70%): the remaining 400 need 87.5%
    rec = recovery_plan(1000, 700, 0.75, remaining, interval=1800, threshold=20.0)
    assert rec.needed_service_level == pytest.approx((0.75 * 1400 - 700) / 400)
    assert rec.feasible
    usual = staffing_plan(remaining, Targets(service_level=0.75, threshold=20.0),
                          interval=1800)
    assert (rec.plan["agents"] >= usual["agents"]).all()
    assert (rec.plan["service_level"] >= rec.needed_service_level).all()
    hopeless = recovery_plan(1000, 100, 0.9, remaining, interval=1800, threshold=20.0)
    assert not hopeless.feasible
