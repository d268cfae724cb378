"""Discrete-event simulation of a multi-agent queue, compiled with Numba.

What it models: Poisson arrivals whose rate varies by interval; agents per interval
(an agent leaving at an interval boundary finishes the contact in hand); service times
exponential or drawn from real data; patience exponential, drawn from real data, or
infinite; priority classes (a free agent takes the longest-waiting contact of the most
urgent class; no pre-emption); an explicit seed.

How: all random draws are made up front with a ``numpy.random.Generator``; one compiled
loop then walks the events (arrivals, completions, interval boundaries) with a binary heap
of completion times. A waiting contact whose patience has run out is dropped, as
abandoned, when an agent next looks at its queue. No object per contact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from servicelevel.errors import InputError
from servicelevel.queueing.result import FloatArray

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class SimulationResult:
    """Every simulated contact (in arrival order) and the agents' time.

    ``wait`` is the time to answer for answered contacts and the time to abandon for the
    others; ``answered`` says which. ``staffed_time`` and ``busy_time`` (agent-seconds
    within the simulated intervals) give the occupancy.
    """

    arrival: FloatArray
    wait: FloatArray
    answered: BoolArray
    priority: IntArray
    service: FloatArray
    threshold: float
    staffed_time: float
    busy_time: float

    def summary(self) -> dict[str, float]:
        """Offered, answered, service level (abandons negative), probability of waiting,
        ASA (answered), average wait (all), abandon probability, occupancy."""
        offered = float(self.arrival.size)
        answered = float(self.answered.sum())
        met = float((self.answered & (self.wait <= self.threshold)).sum())
        return {
            "offered": offered,
            "answered": answered,
            "service_level": met / offered if offered else float("nan"),
            "wait_probability": float(((self.wait > 0.0) | ~self.answered).mean())
            if offered else float("nan"),
            "asa": float(self.wait[self.answered].mean()) if answered else float("nan"),
            "average_wait": float(self.wait.mean()) if offered else float("nan"),
            "abandon_probability": 1.0 - answered / offered if offered else float("nan"),
            "occupancy": self.busy_time / self.staffed_time if self.staffed_time else 0.0,
        }


def simulate(
    calls: ArrayLike,
    interval: float,
    agents: ArrayLike,
    *,
    aht: float | None = None,
    service_times: ArrayLike | None = None,
    patience: float | None = None,
    patience_times: ArrayLike | None = None,
    priority_shares: ArrayLike | None = None,
    threshold: float = 20.0,
    seed: int | np.random.Generator = 0,
) -> SimulationResult:
    """Simulate consecutive intervals of ``interval`` seconds.

    ``calls[i]`` is the expected number of arrivals in interval ``i`` (the count is
    Poisson), ``agents[i]`` the agents seated. Service: exponential with mean ``aht`` or
    resampled from ``service_times``; patience: exponential with mean ``patience``,
    resampled from ``patience_times``, or infinite when both are ``None``.
    ``priority_shares[k]`` is the share of contacts in class ``k`` (0 most urgent).
    """
    lam = np.asarray(calls, dtype=np.float64)
    staff = np.asarray(agents, dtype=np.int64)
    if lam.ndim != 1 or lam.shape != staff.shape or lam.size == 0:
        raise InputError("calls and agents: one value per interval, same length")
    if np.any(~(lam >= 0.0)) or np.any(staff < 0) or not interval > 0:
        raise InputError("calls and agents must be >= 0 and the interval > 0")
    if (aht is None) == (service_times is None):
        raise InputError("give exactly one of aht (exponential) or service_times (data)")
    if patience is not None and patience_times is not None:
        raise InputError("give at most one of patience (exponential) or patience_times")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    counts = rng.poisson(lam)
    starts = np.repeat(np.arange(lam.size) * float(interval), counts)
    arrival = np.sort(starts + rng.uniform(0.0, float(interval), starts.size))
    n = arrival.size
    service = _draw(rng, n, aht, service_times, "service_times")
    wait_limit = _draw(rng, n, patience, patience_times, "patience_times")
    if priority_shares is None:
        priority = np.zeros(n, dtype=np.int64)
    else:
        shares = np.asarray(priority_shares, dtype=np.float64)
        if shares.ndim != 1 or np.any(shares < 0.0) or shares.sum() <= 0.0:
            raise InputError("priority_shares: non-negative shares, one per class")
        priority = rng.choice(shares.size, size=n, p=shares / shares.sum()).astype(np.int64)
    n_classes = int(priority.max()) + 1 if n else 1

    order = np.argsort(priority, kind="stable")
    class_start = np.searchsorted(priority[order], np.arange(n_classes + 1))
    boundaries = np.arange(lam.size + 1, dtype=np.float64) * float(interval)
    start, busy = _run(arrival, service, arrival + wait_limit, order, class_start.astype(np.int64),
                       boundaries, staff)
    answered = ~np.isnan(start)
    wait = np.where(answered, start - arrival, np.minimum(wait_limit, np.inf))
    return SimulationResult(
        arrival=arrival, wait=wait, answered=answered, priority=priority, service=service,
        threshold=float(threshold), staffed_time=float((staff * float(interval)).sum()),
        busy_time=float(busy),
    )


def _draw(rng: np.random.Generator, n: int, mean: float | None, sample: ArrayLike | None,
          name: str) -> FloatArray:
    if mean is not None:
        if not mean > 0:
            raise InputError(f"{name}: the mean must be > 0")
        return rng.exponential(mean, n)
    if sample is None:
        return np.full(n, np.inf)
    data = np.asarray(sample, dtype=np.float64)
    if data.ndim != 1 or data.size == 0 or np.any(~(data >= 0.0)):
        raise InputError(f"{name}: at least one value, every value >= 0 seconds")
    return rng.choice(data, size=n, replace=True)


@numba.njit(cache=True)
def _heap_push(heap: FloatArray, size: int, value: float) -> int:  # pragma: no cover
    i = size
    heap[i] = value
    while i > 0:
        parent = (i - 1) // 2
        if heap[parent] <= heap[i]:
            break
        heap[parent], heap[i] = heap[i], heap[parent]
        i = parent
    return size + 1


@numba.njit(cache=True)
def _heap_pop(heap: FloatArray, size: int) -> int:  # pragma: no cover
    size -= 1
    heap[0] = heap[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and heap[left + 1] < heap[left]:
            child = left + 1
        if heap[i] <= heap[child]:
            break
        heap[i], heap[child] = heap[child], heap[i]
        i = child
    return size


@numba.njit(cache=True)
def _run(arrival: FloatArray, service: FloatArray, deadline: FloatArray, order: IntArray,
         class_start: IntArray, boundaries: FloatArray,
         staff: IntArray) -> tuple[FloatArray, float]:  # pragma: no cover
    n = arrival.size
    n_classes = class_start.size - 1
    start = np.full(n, np.nan)
    head = class_start[:-1].copy()
    heap = np.empty(max(1, int(staff.max()) if staff.size else 1) + n_classes + 1)
    size = 0
    free = 0
    leaving = 0  # busy agents who leave when they finish
    horizon = boundaries[-1]
    busy = 0.0
    next_arrival = 0
    next_boundary = 0
    on_duty = 0
    while True:
        t_arr = arrival[next_arrival] if next_arrival < n else np.inf
        t_done = heap[0] if size > 0 else np.inf
        t_bound = boundaries[next_boundary] if next_boundary < staff.size else np.inf
        now = min(t_arr, t_done, t_bound)
        if now == np.inf:
            break
        seekers = 0
        if t_bound == now:
            target = staff[next_boundary]
            next_boundary += 1
            change = target - on_duty
            on_duty = target
            if change > 0:
                back = min(change, leaving)
                leaving -= back
                change -= back
                free += change
                seekers = free
            else:
                drop = min(-change, free)
                free -= drop
                leaving += -change - drop
        elif t_done == now:
            size = _heap_pop(heap, size)
            if leaving > 0:
                leaving -= 1
            else:
                free += 1
                seekers = free
        else:
            next_arrival += 1
            seekers = free
        # free agents take waiting contacts, most urgent class first
        while seekers > 0 and free > 0:
            taken = False
            for c in range(n_classes):
                while head[c] < class_start[c + 1]:
                    i = order[head[c]]
                    if arrival[i] > now:
                        break
                    if deadline[i] < now:
                        head[c] += 1  # abandoned before an agent was free
                        continue
                    start[i] = now
                    head[c] += 1
                    end = now + service[i]
                    busy += min(end, horizon) - min(now, horizon)
                    size = _heap_push(heap, size, end)
                    free -= 1
                    taken = True
                    break
                if taken:
                    break
            if not taken:
                break
            seekers -= 1
        if next_arrival >= n and size == 0 and next_boundary >= staff.size:
            break
    return start, busy
