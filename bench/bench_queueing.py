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
   here: from ``max(1, ceil(traffic))`` upwards one agent at a time; per candidate the
   truncated birth-death chain summed state by state (twice, as pyworkforce's
   ``_metrics`` and ``service_level`` each do), and the answered-within share per queue
   position by uniformisation of the tagged contact's chain. A second timing replaces
   the uniformisation by the Beta law of the same chain (same answers, far faster): a
   lower bound for any state-by-state implementation of that search.
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


def _chain_probs(lam: float, mu: float, theta: float, agents: int) -> list[float]:
    """Stationary distribution of the birth-death chain with ``agents`` agents, grown
    state by state until the newest state is below 1e-15 of the mass (pyworkforce's
    ``ErlangA._stationary_distribution``)."""
    probs = [1.0]
    total = 1.0
    k = 0
    while True:
        k += 1
        death = min(k, agents) * mu + max(k - agents, 0) * theta
        term = probs[-1] * lam / death
        probs.append(term)
        total += term
        if k > agents and term < 1e-15 * total:
            break
    norm = sum(probs)
    return [p / norm for p in probs]


def _chain_metrics(lam: float, mu: float, theta: float, agents: int) -> dict[str, Any]:
    """pyworkforce's ``ErlangA._metrics``: waiting and abandon probability, occupancy."""
    probs = _chain_probs(lam, mu, theta, agents)
    queue = sum((k - agents) * probs[k] for k in range(agents, len(probs)))
    abandon = theta * queue / lam
    return {"probs": probs, "wait": sum(probs[agents:]), "abandon": abandon,
            "occupancy": lam * (1 - abandon) / (agents * mu)}


def _served_within_by_uniformisation(mu: float, theta: float, agents: int, ahead: int,
                                     threshold: float) -> list[float]:
    """pyworkforce's ``_delayed_served_within``: for each queue position ``j`` of a tagged
    contact, the chance to be answered within ``threshold`` by uniformising its absorbing
    chain (moves up at ``nμ + jθ``, abandons at ``θ``) at one rate, and summing Poisson
    weights of the jump counts step by step, one start position at a time."""
    rate = agents * mu + ahead * theta + theta
    mean = rate * threshold
    steps = int(mean + 10 * mean**0.5 + 50)
    out = []
    for start in range(ahead + 1):
        dist = [0.0] * (ahead + 1)
        dist[start] = 1.0
        served = 0.0
        weight = math.exp(-mean)
        total = 0.0
        for k in range(1, steps + 1):
            moved = [0.0] * (ahead + 1)
            for j, pj in enumerate(dist):
                if pj == 0.0:
                    continue
                if j == 0:
                    served += pj * (agents * mu / rate)
                    moved[0] += pj * ((rate - agents * mu - theta) / rate)
                else:
                    up = agents * mu + j * theta
                    moved[j - 1] += pj * (up / rate)
                    moved[j] += pj * ((rate - up - theta) / rate)
            dist = moved
            weight *= mean / k
            total += weight * served
        out.append(total)
    return out


def _chain_service_level(lam: float, mu: float, theta: float, agents: int,
                         threshold: float, beta_law: bool) -> float:
    """pyworkforce's ``ErlangA.service_level``: the chain again, then per queue position
    the answered-within share, by uniformisation as pyworkforce does, or (``beta_law``)
    from the Beta law of the tagged contact's wait — the same numbers, about 150 times
    faster: ``a/(a+j+1) · I_{1-u₀}(j+1, a+1)``, ``a = nμ/θ``, ``u₀ = e^{-θT}``."""
    probs: list[float] = _chain_metrics(lam, mu, theta, agents)["probs"]
    served = sum(probs[:agents])
    if beta_law:
        a = agents * mu / theta
        u0 = math.exp(-theta * threshold)
        for j, p in enumerate(probs[agents:]):
            served += p * a / (a + j + 1) * float(special.betaincc(a + 1, j + 1, u0))
        return served
    within = _served_within_by_uniformisation(mu, theta, agents, len(probs) - 1 - agents,
                                              threshold)
    return served + sum(p * within[j] for j, p in enumerate(probs[agents:]))


def _chain_required(traffic: float, aht: float, threshold: float, patience: float,
                    level: float, beta_law: bool = False) -> int:
    """pyworkforce's unreleased ``ErlangA.required_positions``: from
    ``max(1, ceil(traffic))`` upwards one agent at a time, per candidate ``_metrics``
    and ``service_level`` (each sums the chain state by state)."""
    lam, mu, theta = traffic / aht, 1 / aht, 1 / patience
    agents = max(1, math.ceil(traffic))
    while True:
        metrics = _chain_metrics(lam, mu, theta, agents)
        achieved = _chain_service_level(lam, mu, theta, agents, threshold, beta_law)
        if achieved >= level and metrics["occupancy"] <= 1.0 and metrics["abandon"] <= 1.0:
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

    def baseline(beta_law: bool) -> list[int]:
        return [_chain_required(float(t), float(h), threshold, float(p), float(s), beta_law)
                for t, h, p, s in zip(traffic, aht, patience, level, strict=True)]

    theirs_s, theirs = timed(lambda: baseline(False))
    beta_s, beta = timed(lambda: baseline(True))
    theirs_arr = np.asarray(theirs, dtype=np.int64)
    differ = np.flatnonzero(theirs_arr != ours)
    right_theirs = 0
    for i in differ:
        n = theirs_arr[i]
        at = erlang_a_performance(traffic[i], [n - 1, n], aht[i], threshold,
                                  patience=patience[i])
        met = Targets(service_level=level[i], threshold=threshold).met(at)
        right_theirs += bool(met[1] and not met[0])
    below_traffic = int((ours < np.maximum(1, np.ceil(traffic))).sum())
    return {"cases": float(cases), "servicelevel_s": ours_s,
            "pyworkforce_method_s": theirs_s, "ratio": theirs_s / ours_s,
            "beta_law_chain_s": beta_s, "ratio_beta_law": beta_s / ours_s,
            "differ": float(differ.size),
            "differ_where_pyworkforce_right": float(right_theirs),
            "optimum_below_traffic": float(below_traffic),
            "beta_law_differs_from_uniformisation": float((np.asarray(beta) != theirs_arr).sum())}


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
