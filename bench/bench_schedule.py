"""Scheduling benchmark: two weeks, 30-minute intervals, 200 named agents, CP-SAT against a
greedy baseline.

    python bench/bench_schedule.py                  # 60 s limit, 2 workers
    python bench/bench_schedule.py --seconds 20     # a shorter run

The requirement is an Erlang C plan (80 % within 20 s, 30 % shrinkage) for a synthetic
contact curve with a morning and an afternoon peak, a weekly pattern (Monday busiest,
Sunday quietest) and a little noise (seed 7). The centre opens 07:00–22:00 on weekdays,
08:00–20:00 on Saturday, 09:00–18:00 on Sunday. 110 full-time agents work 8.5-hour shifts
(two paid 30-minute breaks and an unpaid 30-minute lunch, spaced 1 to 6 intervals apart),
32–40 paid hours and at most 5 shifts a week, 11 hours' rest, at most 5 days in a row;
90 part-time agents work 4.5-hour shifts with one break, up to 24 hours a week. Availability
varies: early or late agents, weekday- or weekend-only part-timers, a few days off each.

Prints, for the greedy baseline and for CP-SAT: under-staffing and over-staffing
(agent-intervals), cost, and for CP-SAT the status, optimality gap and solve time; then
CP-SAT ÷ greedy for under-staffing and cost. Exits 1 if CP-SAT exceeds the time limit
by more than 10 % or reports no gap.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from servicelevel.planning.schedule_rules import ScheduleRules
from servicelevel.planning.scheduling import Schedule, build_schedule, greedy_schedule
from servicelevel.planning.staffing import staffing_plan
from servicelevel.queueing.required import Targets

MONDAY = date(2026, 3, 2)
DAYS = 14
FULL, PART = 110, 90
WEEKLY = [1.15, 1.05, 1.0, 1.0, 0.95, 0.6, 0.4]  # Monday … Sunday
OPEN = {"default": ["07:00", "22:00"], "sat": ["08:00", "20:00"], "sun": ["09:00", "18:00"]}


def plan(seed: int = 7) -> pd.DataFrame:
    """Two weeks of required agents per 30 minutes from an Erlang C plan."""
    rng = np.random.default_rng(seed)
    hours = np.arange(48) / 2
    curve = (np.exp(-((hours - 10.5) ** 2) / 4.5) + 0.8 * np.exp(-((hours - 15) ** 2) / 6)
             + 0.25 * np.exp(-((hours - 19.5) ** 2) / 3))
    rows = []
    for d in range(DAYS):
        day = MONDAY + timedelta(days=d)
        calls = 290 * WEEKLY[day.weekday()] * curve * rng.normal(1.0, 0.05, 48)
        for slot in range(48):
            rows.append({"interval_start": pd.Timestamp(day) + pd.Timedelta(minutes=30 * slot),
                         "calls": max(float(calls[slot]), 0.0), "aht": 300.0})
    table = pd.DataFrame(rows)
    staffed = staffing_plan(table, Targets(service_level=0.8, threshold=20.0),
                            interval=1800.0, shrinkage=0.3)
    return staffed.rename(columns={"scheduled_agents": "required_agents"})[
        ["interval_start", "required_agents", "calls"]]


def rules(seconds: float) -> ScheduleRules:
    full = {"name": "full", "length": 17, "cost_per_interval": 1.0,
            "starts": [f"{h:02d}:{m:02d}" for h in range(7, 14) for m in (0, 30)],
            "breaks": [{"kind": "break", "length": 1, "earliest": 3, "latest": 5},
                       {"kind": "lunch", "length": 1, "earliest": 7, "latest": 9},
                       {"kind": "break", "length": 1, "earliest": 11, "latest": 13}],
            "spacing": {"min": 1, "max": 6}}
    part = {"name": "part", "length": 9, "cost_per_interval": 1.1,
            "starts": [f"{h:02d}:{m:02d}" for h in range(7, 18) for m in (0, 30)],
            "breaks": [{"kind": "break", "length": 1, "earliest": 3, "latest": 5}]}
    agents: list[dict[str, Any]] = []
    for n in range(FULL):
        agent: dict[str, Any] = {
            "id": f"F{n + 1:03d}", "templates": ["full"], "max_shifts_per_week": 5,
            "min_hours_per_week": 32, "max_hours_per_week": 40, "min_rest_hours": 11,
            "max_consecutive_days": 5}
        if n % 4 == 1:
            agent["available"] = {"default": ["07:00", "17:00"]}  # early
        elif n % 4 == 2:
            agent["available"] = {"default": ["11:00", "22:00"]}  # late
        if n % 7 == 3:
            agent["unavailable"] = [str(MONDAY + timedelta(days=(n % 5) + 7 * (n % 2)))]
        agents.append(agent)
    for n in range(PART):
        agent = {"id": f"P{n + 1:03d}", "templates": ["part"], "max_shifts_per_week": 5,
                 "max_hours_per_week": 24, "min_rest_hours": 11}
        if n % 3 == 0:
            agent["available"] = {"sat": ["08:00", "20:00"], "sun": ["09:00", "18:00"],
                                  "fri": ["12:00", "22:00"]}
        elif n % 3 == 1:
            agent["available"] = {"default": ["16:00", "22:00"], "sat": None, "sun": None}
        agents.append(agent)
    return ScheduleRules.model_validate({
        "interval_minutes": 30, "opening_hours": OPEN, "templates": [full, part],
        "agents_per_interval": {"min": 2, "max": 150}, "agents": agents,
        "time_limit_seconds": seconds})


def line(name: str, result: Schedule) -> str:
    return (f"{name:8s} under {result.under_staffing:5d}  over {result.over_staffing:5d}  "
            f"cost {result.cost:9.1f}  shifts {len(result.shifts):5d}  "
            f"{result.solve_seconds:6.1f} s  {result.status}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    required = plan()
    schedule_rules = rules(args.seconds)
    open_rows = required["required_agents"].sum()
    print(f"plan: {len(required)} intervals over {DAYS} days, {open_rows} agent-intervals "
          f"required (peak {required['required_agents'].max()}), "
          f"{len(schedule_rules.agents)} agents; load average {os.getloadavg()[0]:.2f}")
    greedy = greedy_schedule(required, schedule_rules)
    print(line("greedy", greedy))
    began = time.perf_counter()
    result = build_schedule(required, schedule_rules, workers=args.workers)
    wall = time.perf_counter() - began
    print(line("cp-sat", result))
    print(f"cp-sat gap {result.gap:.2%} (per pass: "
          + ", ".join(f"{k} {v:.2%}" for k, v in result.gaps.items())
          + f"), under-staffing bound {result.under_staffing_bound}, wall {wall:.1f} s")
    ratio_under = result.under_staffing / max(greedy.under_staffing, 1)
    print(f"cp-sat ÷ greedy: under-staffing {ratio_under:.2f}, "
          f"cost {result.cost / greedy.cost:.2f}; load average {os.getloadavg()[0]:.2f}")
    return 0 if wall <= args.seconds * 1.1 and result.gaps else 1


if __name__ == "__main__":
    sys.exit(main())
