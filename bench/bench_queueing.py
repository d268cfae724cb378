"""Queueing benchmarks: servicelevel against pyworkforce and Ciw, measured in the same run.

    python bench/bench_queueing.py            # full: 10,000 + 100 cases, a month of calls
    python bench/bench_queueing.py --quick    # smaller, for a smoke run

1. Erlang C staffing: a grid of 10,000 cases (calls × AHT × target), required agents for
   a service level within a threshold and a maximum occupancy, against
   ``pyworkforce.queuing.ErlangC.required_positions``. Answers are compared case by case;
   where they differ, the bench checks which one is the smallest number meeting the
   targets.
2. Erlang A staffing: 100 cases. pyworkforce's newest release on PyPI (0.5.1) has no
   Erlang A, so the baseline is the method of its unreleased ``ErlangA`` class written out
   here: the truncated birth-death chain per number of agents, searched upwards one agent
   at a time, with the answered-within share per queue position summed state by state.
3. Simulation: a month (30 days of 48 half-hours) of a 500-agent center, about 1M calls,
   exponential service (AHT 20 min) and patience (5 min), against Ciw.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

from servicelevel.queueing import Targets, erlang_a_performance, performance, required_agents
from servicelevel.queueing.simulation import simulate


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs, and the last result."""
    best = math.inf
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_erlang_c(cases: int) -> dict[str, float]:
    from pyworkforce.queuing import ErlangC

    side = round(cases ** (1 / 3))
    calls, aht, level = np.meshgrid(np.linspace(20, 1500, side), np.linspace(60, 600, side),
                                    np.linspace(0.6, 0.95, math.ceil(cases / side**2)))
    calls, aht, level = calls.ravel()[:cases], aht.ravel()[:cases], level.ravel()[:cases]
    interval, threshold, max_occ = 1800.0, 20.0, 0.9
    traffic = calls * aht / interval
    targets = Targets(service_level=level, threshold=threshold, max_occupancy=max_occ)

    ours_s, ours = timed(lambda: required_agents(traffic, aht, targets), repeat=3)

    def baseline() -> list[int]:
        out = []
        for c, h, s in zip(calls, aht, level, strict=True):
            erlang = ErlangC(transactions=float(c), aht=float(h) / 60, asa=threshold / 60,
                             interval=interval / 60)
            out.append(erlang.required_positions(service_level=float(s),
                                                 max_occupancy=max_occ)["raw_positions"])
        return out

    theirs_s, theirs = timed(baseline)
    theirs_arr = np.asarray(theirs, dtype=np.int64)
    differ = np.flatnonzero(theirs_arr != ours)
    right_theirs = 0
    for i in differ:
        n = theirs_arr[i]
        at = performance(traffic[i], [n - 1, n], aht[i], threshold)
        met = Targets(service_level=level[i], threshold=threshold, max_occupancy=max_occ).met(at)
        right_theirs += bool(met[1] and not met[0])
    return {"cases": float(cases), "servicelevel_s": ours_s, "pyworkforce_s": theirs_s,
            "ratio": theirs_s / ours_s, "differ": float(differ.size),
            "differ_where_pyworkforce_right": float(right_theirs)}


def _chain_required(traffic: float, aht: float, threshold: float, patience: float,
                    level: float) -> int:
    """The unreleased pyworkforce ErlangA method: per agents, the stationary distribution
    of the truncated chain, then the answered-within share per state; linear search."""
    lam, mu, theta = traffic / aht, 1 / aht, 1 / patience
    agents = 1
    while True:
        probs = [1.0]
        k = 0
        while True:
            k += 1
            death = min(k, agents) * mu + max(k - agents, 0) * theta
            probs.append(probs[-1] * lam / death)
            if k > agents and probs[-1] < 1e-15 * sum(probs):
                break
        total = sum(probs)
        a = agents * mu / theta
        u0 = math.exp(-theta * threshold)
        served = sum(probs[:agents])
        for j, p in enumerate(probs[agents:]):
            served += p * a / (a + j + 1) * float(special.betaincc(a + 1, j + 1, u0))
        if served / total >= level:
            return agents
        agents += 1


def bench_erlang_a(cases: int) -> dict[str, float]:
    rng = np.random.default_rng(5)
    calls = rng.uniform(20, 400, cases)
    aht = rng.uniform(120, 480, cases)
    patience = rng.uniform(30, 600, cases)
    level = rng.uniform(0.6, 0.9, cases)
    interval, threshold = 1800.0, 20.0
    traffic = calls * aht / interval
    targets = Targets(service_level=level, threshold=threshold)
    ours_s, ours = timed(lambda: required_agents(traffic, aht, targets, model="erlang_a",
                                                 patience=patience), repeat=3)
    theirs_s, theirs = timed(lambda: [
        _chain_required(float(t), float(h), threshold, float(p), float(s))
        for t, h, p, s in zip(traffic, aht, patience, level, strict=True)])
    differ = int((np.asarray(theirs) != ours).sum())
    return {"cases": float(cases), "servicelevel_s": ours_s, "baseline_s": theirs_s,
            "ratio": theirs_s / ours_s, "differ": float(differ)}


def bench_simulation(days: int) -> dict[str, float]:
    import ciw

    intervals, length, calls, agents = days * 48, 1800.0, 700.0, 500
    aht, patience, threshold = 1200.0, 300.0, 20.0
    compile_s, _ = timed(lambda: simulate(np.full(2, calls), length, np.full(2, agents),
                                          aht=aht, patience=patience, seed=0))
    ours_s, result = timed(lambda: simulate(
        np.full(intervals, calls), length, np.full(intervals, agents), aht=aht,
        patience=patience, threshold=threshold, seed=1), repeat=3)
    ours = result.summary()

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=calls / length)],
        service_distributions=[ciw.dists.Exponential(rate=1 / aht)],
        number_of_servers=[agents],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / patience)],
    )

    def run_ciw() -> dict[str, float]:
        ciw.seed(1)
        sim = ciw.Simulation(network)
        sim.simulate_until_max_time(intervals * length)
        records = sim.get_all_records()
        served = [r for r in records if r.record_type == "service"]
        reneged = [r for r in records if r.record_type == "renege"]
        offered = len(served) + len(reneged)
        met = sum(1 for r in served if r.waiting_time <= threshold)
        return {"offered": offered, "service_level": met / offered,
                "abandon_probability": len(reneged) / offered}

    ciw_s, theirs = timed(run_ciw)
    theory = erlang_a_performance(calls * aht / length, agents, aht, threshold,
                                  patience=patience)
    return {"calls": ours["offered"], "servicelevel_s": ours_s, "compile_s": compile_s,
            "ciw_s": ciw_s, "ratio": ciw_s / ours_s,
            "sl_ours": ours["service_level"], "sl_ciw": theirs["service_level"],
            "sl_formula": float(theory.service_level),
            "abandon_ours": ours["abandon_probability"],
            "abandon_ciw": theirs["abandon_probability"],
            "abandon_formula": float(theory.abandon_probability)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    c_cases, a_cases, days = (500, 10, 1) if args.quick else (10_000, 100, 30)
    for name, result in (("Erlang C staffing vs pyworkforce", bench_erlang_c(c_cases)),
                         ("Erlang A staffing vs state-by-state chain",
                          bench_erlang_a(a_cases)),
                         ("Simulation vs Ciw", bench_simulation(days))):
        print(f"## {name}")
        for key, value in result.items():
            print(f"  {key:32s} {value:.6g}")


if __name__ == "__main__":
    main()
