"""Erlang B (M/M/n/n) and Erlang C (M/M/n): blocking, waiting, service level, ASA.

Every function is vectorised: arguments broadcast like NumPy arrays and results are
float64 arrays (0-d for scalar inputs). Agents may be fractional (the incomplete gamma
extension of Erlang B). Nothing uses factorials: ``1/B`` is computed in log space, so the
results hold for 100,000 agents and more.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from servicelevel.errors import InputError
from servicelevel.queueing._special import log_inv_erlang_b
from servicelevel.queueing.result import FloatArray, Performance, as_float_array


def offered_traffic(calls: ArrayLike, interval: ArrayLike, aht: ArrayLike) -> FloatArray:
    """Offered traffic in erlangs: ``calls × aht / interval`` (both times in seconds)."""
    return as_float_array(calls) * as_float_array(aht) / as_float_array(interval)


def _check_nonnegative(name: str, value: FloatArray) -> None:
    if np.any(~(value >= 0.0)):
        raise InputError(f"{name}: every value must be a number >= 0, got {value.min()!r}")


def erlang_b(traffic: ArrayLike, agents: ArrayLike) -> FloatArray:
    """Blocking probability of ``agents`` lines offered ``traffic`` erlangs (Erlang B)."""
    a = as_float_array(traffic)
    n = as_float_array(agents)
    _check_nonnegative("traffic", a)
    _check_nonnegative("agents", n)
    with np.errstate(over="ignore"):
        return np.exp(-log_inv_erlang_b(n, a))


def erlang_c(traffic: ArrayLike, agents: ArrayLike) -> FloatArray:
    """Probability that a contact waits (Erlang C); 1 when ``agents <= traffic``."""
    a = as_float_array(traffic)
    n = as_float_array(agents)
    _check_nonnegative("traffic", a)
    _check_nonnegative("agents", n)
    a, n = np.broadcast_arrays(a, n)
    stable = n > a
    rho = np.where(stable, a / np.where(n > 0.0, n, 1.0), 0.0)
    with np.errstate(over="ignore"):
        inv_b = np.exp(log_inv_erlang_b(n, a))
        inv_c = (1.0 - rho) * inv_b + rho
    out: FloatArray = np.where(stable, 1.0 / inv_c, 1.0)
    return np.where(a == 0.0, 0.0, out)


def erlang_c_performance(
    traffic: ArrayLike,
    agents: ArrayLike,
    aht: ArrayLike,
    threshold: ArrayLike,
    *,
    patience: ArrayLike | None = None,
    abandons: str = "negative",
    answered_wait: bool = True,
) -> Performance:
    """Erlang C performance: nobody abandons, so ``patience`` and ``abandons`` are unused.

    Service level ``1 - C e^{-(n-A) T / aht}``, ASA ``C aht / (n - A)``, occupancy
    ``A / n``. With ``agents <= traffic`` the queue grows without bound: service level 0,
    ASA infinite, occupancy 1.
    """
    del patience, abandons, answered_wait
    a, n, h, t = np.broadcast_arrays(
        as_float_array(traffic), as_float_array(agents), as_float_array(aht),
        as_float_array(threshold),
    )
    c = erlang_c(a, n)
    stable = (n > a) | (a == 0.0)
    gap = np.where(n > a, n - a, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        service_level = np.where(stable, 1.0 - c * np.exp(-gap * t / h), 0.0)
        asa = np.where(stable, c * h / gap, np.inf)
    occupancy = np.where(n > 0.0, np.minimum(a / np.where(n > 0.0, n, 1.0), 1.0),
                         np.where(a > 0.0, 1.0, 0.0))
    return Performance(
        traffic=a, agents=n, wait_probability=c, service_level=service_level, asa=asa,
        average_wait=asa, abandon_probability=np.zeros_like(a), occupancy=occupancy,
    )


def max_traffic(
    agents: ArrayLike, target: ArrayLike, *, model: str = "erlang_b"
) -> FloatArray:
    """The largest traffic ``agents`` can take with blocking (Erlang B) or probability
    of waiting (Erlang C) at most ``target``; found by bisection to full precision."""
    n, p = np.broadcast_arrays(as_float_array(agents), as_float_array(target))
    if np.any((p <= 0.0) | (p >= 1.0)):
        raise InputError("target: a probability strictly between 0 and 1 is needed")
    if model == "erlang_b":
        def measure(a: FloatArray) -> FloatArray:
            return erlang_b(a, n)
        hi = np.maximum(n, 1.0) / (1.0 - p) + 10.0  # B(n, A) >= 1 - n/A
    elif model == "erlang_c":
        def measure(a: FloatArray) -> FloatArray:
            return erlang_c(a, n)
        hi = n.copy()
    else:
        raise InputError(f"model: {model!r} is not one of 'erlang_b', 'erlang_c'")
    lo = np.zeros_like(n)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        ok = measure(mid) <= p
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
        if np.all(hi - lo <= 4e-16 * hi):
            break
    return lo
