"""Staffing plans: agents per interval, scheduled agents, FTE hours and cost.

Pure functions over arrays and data frames (no I/O):

* ``staff`` — one interval: required agents, the performance they give (always with the
  abandon rate it implies) and scheduled agents after shrinkage;
* ``staffing_plan`` — the same for every row of a per-interval table;
* ``cost_curve`` — agents and cost against the service level target: the cost of one
  more point of service level;
* ``estimate_patience`` — mean patience from real waits and abandons;
* ``recovery_plan`` — the service level the rest of a period needs to still meet its
  target, turned into agents per interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from servicelevel.errors import InputError
from servicelevel.queueing import Targets, offered_traffic, performance, required_agents

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_SECONDS_PER_HOUR = 3600.0


def scheduled_agents(agents: ArrayLike, shrinkage: ArrayLike) -> IntArray:
    """Agents to schedule so that ``agents`` are seated: ``ceil(agents / (1 - shrinkage))``.

    (Rounded to 9 decimals first, so that 14 / 0.7 gives 20, not 21.)
    """
    s = np.asarray(shrinkage, dtype=np.float64)
    if np.any(~((s >= 0.0) & (s < 1.0))):
        raise InputError("shrinkage: a share in [0, 1) is needed, e.g. 0.3")
    raw = np.asarray(agents, dtype=np.float64) / (1.0 - s)
    return np.ceil(np.round(raw, 9)).astype(np.int64)


@dataclass(frozen=True)
class Staffing:
    """The staffing of one interval and the performance it gives (times in seconds)."""

    agents: int
    scheduled_agents: int
    traffic: float
    service_level: float
    asa: float
    abandon_probability: float
    occupancy: float
    wait_probability: float
    average_wait: float
    model: str

    def as_dict(self) -> dict[str, float | int | str]:
        """Plain values, e.g. for JSON."""
        return asdict(self)


def staff(
    calls: float,
    interval: float,
    aht: float,
    targets: Targets,
    *,
    model: str = "erlang_c",
    patience: float | None = None,
    shrinkage: float = 0.0,
    abandons: str = "negative",
) -> Staffing:
    """Required agents for one interval of ``calls`` offered over ``interval`` seconds."""
    if not (calls >= 0 and interval > 0 and aht > 0):
        raise InputError("calls must be >= 0, interval and aht > 0")
    traffic = float(offered_traffic(calls, interval, aht))
    agents = int(required_agents(traffic, aht, targets, model=model, patience=patience,
                                 abandons=abandons))
    threshold = targets.threshold if targets.threshold is not None else 0.0
    perf = performance(traffic, agents, aht, threshold, model=model, patience=patience,
                       abandons=abandons).item()
    return Staffing(
        agents=agents,
        scheduled_agents=int(scheduled_agents(agents, shrinkage)),
        traffic=traffic,
        service_level=perf["service_level"],
        asa=perf["asa"],
        abandon_probability=perf["abandon_probability"],
        occupancy=perf["occupancy"],
        wait_probability=perf["wait_probability"],
        average_wait=perf["average_wait"],
        model=model,
    )


def staffing_plan(
    table: pd.DataFrame,
    targets: Targets,
    *,
    interval: float,
    model: str = "erlang_c",
    patience: float | None = None,
    shrinkage: float = 0.0,
    cost_per_hour: float | None = None,
    abandons: str = "negative",
) -> pd.DataFrame:
    """The plan for a per-interval table with columns ``calls`` and ``aht`` (seconds).

    Other columns (e.g. the interval start) are kept. Adds ``traffic``, ``agents``,
    ``scheduled_agents``, ``service_level``, ``asa``, ``abandon_probability``,
    ``occupancy``, ``fte_hours`` (scheduled agents × interval length) and, when
    ``cost_per_hour`` is given, ``cost``.
    """
    missing = [c for c in ("calls", "aht") if c not in table.columns]
    if missing:
        raise InputError(f"plan table: missing column(s) {', '.join(missing)}; "
                         "a plan needs 'calls' and 'aht' (seconds) per interval")
    calls = table["calls"].to_numpy(dtype=np.float64)
    aht = table["aht"].to_numpy(dtype=np.float64)
    if np.any(~(calls >= 0.0)) or np.any(~(aht > 0.0)):
        raise InputError("plan table: 'calls' must be >= 0 and 'aht' > 0 in every row")
    traffic = offered_traffic(calls, interval, aht)
    agents = required_agents(traffic, aht, targets, model=model, patience=patience,
                             abandons=abandons)
    threshold = targets.threshold if targets.threshold is not None else 0.0
    perf = performance(traffic, agents, aht, threshold, model=model, patience=patience,
                       abandons=abandons)
    plan = table.copy()
    plan["traffic"] = traffic
    plan["agents"] = agents
    plan["scheduled_agents"] = scheduled_agents(agents, shrinkage)
    for name in ("service_level", "asa", "abandon_probability", "occupancy"):
        plan[name] = np.broadcast_to(getattr(perf, name), agents.shape)
    plan["fte_hours"] = plan["scheduled_agents"] * interval / _SECONDS_PER_HOUR
    if cost_per_hour is not None:
        plan["cost"] = plan["fte_hours"] * cost_per_hour
    return plan


def cost_curve(
    calls: float,
    interval: float,
    aht: float,
    threshold: float,
    levels: ArrayLike,
    *,
    model: str = "erlang_c",
    patience: float | None = None,
    shrinkage: float = 0.0,
    cost_per_hour: float = 1.0,
    max_occupancy: float | None = None,
) -> pd.DataFrame:
    """Agents and cost for each service level target in ``levels`` (shares, e.g. 0.5..0.99).

    Columns: ``level``, ``agents``, ``scheduled_agents``, ``cost`` (per interval),
    ``abandon_probability`` and ``marginal_cost_per_point`` — the extra cost of each
    step divided by the points of service level it buys (the last points cost most).
    """
    lv = np.asarray(levels, dtype=np.float64)
    if lv.ndim != 1 or lv.size == 0 or np.any(np.diff(lv) <= 0.0):
        raise InputError("levels: an increasing list of service level targets is needed")
    traffic = float(offered_traffic(calls, interval, aht))
    targets = Targets(service_level=lv, threshold=threshold, max_occupancy=max_occupancy)
    agents = required_agents(traffic, aht, targets, model=model, patience=patience)
    sched = scheduled_agents(agents, shrinkage)
    cost = sched * interval / _SECONDS_PER_HOUR * cost_per_hour
    perf = performance(traffic, agents, aht, threshold, model=model, patience=patience)
    points = np.diff(lv, prepend=np.nan) * 100.0
    marginal = np.diff(cost, prepend=np.nan) / points
    return pd.DataFrame({
        "level": lv,
        "agents": agents,
        "scheduled_agents": sched,
        "cost": cost,
        "service_level": np.broadcast_to(perf.service_level, lv.shape),
        "abandon_probability": np.broadcast_to(perf.abandon_probability, lv.shape),
        "marginal_cost_per_point": marginal,
    })


def estimate_patience(waits: ArrayLike, abandoned: ArrayLike) -> float:
    """Maximum-likelihood mean patience (seconds) under exponential patience.

    Each contact's wait is its patience if it abandoned, and a lower bound of it (a
    censored observation) if it was answered; the estimate is total wait over number of
    abandons (Brown et al. 2005, JASA 100(469), §6). ``inf`` when nobody abandoned.
    """
    w = np.asarray(waits, dtype=np.float64)
    ab = np.asarray(abandoned, dtype=bool)
    if w.shape != ab.shape:
        raise InputError("waits and abandoned must have the same length")
    if w.size == 0 or np.any(~(w >= 0.0)):
        raise InputError("waits: at least one wait, every wait >= 0 seconds")
    n_ab = int(ab.sum())
    return math.inf if n_ab == 0 else float(w.sum() / n_ab)


@dataclass(frozen=True)
class Recovery:
    """What the rest of a period needs to still meet its service level target."""

    needed_service_level: float
    feasible: bool
    plan: pd.DataFrame


def recovery_plan(
    offered_so_far: float,
    met_so_far: float,
    target: float,
    remaining: pd.DataFrame,
    *,
    interval: float,
    threshold: float,
    model: str = "erlang_c",
    patience: float | None = None,
    shrinkage: float = 0.0,
    cost_per_hour: float | None = None,
) -> Recovery:
    """Staffing for the remaining intervals (table of ``calls``, ``aht``) so that the
    period ends at ``target``: ``(target × all offered − met so far) / offered remaining``
    is the service level every remaining interval is staffed to.

    Not ``feasible`` when that share exceeds what any staffing gives (above 1); the plan
    is then staffed to 0.999 to show the best effort.
    """
    if not 0.0 < target < 1.0:
        raise InputError("target: a service level share between 0 and 1 is needed")
    if not 0.0 <= met_so_far <= offered_so_far:
        raise InputError("met so far must be between 0 and the contacts offered so far")
    remaining_offered = float(remaining["calls"].sum()) if "calls" in remaining else 0.0
    if remaining_offered <= 0.0:
        raise InputError("remaining: no contacts forecast for the rest of the period")
    needed = (target * (offered_so_far + remaining_offered) - met_so_far) / remaining_offered
    feasible = needed < 1.0
    level = min(max(needed, 0.001), 0.999)
    plan = staffing_plan(
        remaining, Targets(service_level=level, threshold=threshold), interval=interval,
        model=model, patience=patience, shrinkage=shrinkage, cost_per_hour=cost_per_hour,
    )
    return Recovery(needed_service_level=needed, feasible=feasible, plan=plan)
