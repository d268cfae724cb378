"""Erlang A (M/M/n+M): Erlang C with exponential patience, in exact closed form.

Notation: ``λ`` arrivals per second, ``μ = 1/aht``, ``θ = 1/patience``, ``n`` agents,
``A = λ/μ`` erlangs, and in patience units ``a = nμ/θ``, ``b = λ/θ``, ``u₀ = e^{-θT}``.

An arrival that finds ``j`` contacts queued reaches an agent after the sum of exponential
times with rates ``nμ + iθ`` (``i = 0..j``), so ``e^{-θV} ~ Beta(a, j+1)`` for its offered
wait ``V``; it is answered if ``V`` is shorter than its patience. Summing over the
stationary distribution gives integrals of ``a u^{a-1} e^{b(1-u)}`` on ``[0, 1]``, which
are incomplete gamma functions (Mandelbaum & Zeltyn, "The M/M/n+M queue: a summary of
performance measures", 2005, and Garnett, Mandelbaum & Reiman, 2002):

* ``J = 1F1(1; a+1; b)``, the weight of the waiting states relative to ``π_n``;
* ``K = (a/b)(J - 1)``, the part of it answered; ``J - K`` abandons;
* ``S = 1/B(n, A) - 1``, the weight of the states with a free agent (Erlang B);
* answered within ``T`` after waiting: ``K(a, b) - u₀^{a+1} e^{b(1-u₀)} K(a, b u₀)``.

Everything is kept in log space. The mean wait of answered contacts has no incomplete
gamma form; it is a one-dimensional integral computed by Gauss-Legendre quadrature over
the range where its integrand (log-concave) is not negligible.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from servicelevel.errors import InputError
from servicelevel.queueing._special import log_inv_erlang_b, log_kummer_m
from servicelevel.queueing.result import (
    ABANDON_TREATMENTS,
    FloatArray,
    Performance,
    as_float_array,
)

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)
_PANELS = 24
_NEGLIGIBLE = 50.0  # integrand below e^-50 of its peak is left out


def erlang_a_performance(
    traffic: ArrayLike,
    agents: ArrayLike,
    aht: ArrayLike,
    threshold: ArrayLike,
    *,
    patience: ArrayLike | None = None,
    abandons: str = "negative",
    answered_wait: bool = True,
) -> Performance:
    """Erlang A performance with exponential patience of mean ``patience`` seconds.

    ``service_level`` follows ``abandons`` (see ``ABANDON_TREATMENTS``; default
    ``negative``: answered within ``threshold`` over all offered). ``asa`` is the mean
    wait of answered contacts, ``average_wait`` that of all offered contacts
    (``abandon_probability × patience``). The ASA needs a quadrature; with
    ``answered_wait=False`` it is skipped and left NaN (the staffing search does so when
    no ASA target is set).
    """
    if patience is None:
        raise InputError("patience: Erlang A needs the mean patience, e.g. '--patience 120s'")
    if abandons not in ABANDON_TREATMENTS:
        raise InputError(
            f"abandons: {abandons!r} is not one of {', '.join(ABANDON_TREATMENTS)}"
        )
    big_a, n, h, t, p = np.broadcast_arrays(
        as_float_array(traffic), as_float_array(agents), as_float_array(aht),
        as_float_array(threshold), as_float_array(patience),
    )
    if np.any(~(p > 0.0)) or np.any(~(h > 0.0)) or np.any(~(t >= 0.0)):
        raise InputError("patience and aht must be > 0 and threshold >= 0")
    if np.any(~(big_a >= 0.0)) or np.any(~(n >= 0.0)):
        raise InputError("traffic and agents must be >= 0")

    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        busy = (n > 0.0) & (big_a > 0.0)
        a = np.where(busy, n * p / h, 1.0)
        b = np.where(busy, big_a * p / h, 1.0)
        log_u0 = -t / p
        u0 = np.exp(log_u0)

        inv_b = log_inv_erlang_b(np.where(busy, n, 1.0), np.where(busy, big_a, 1.0))
        log_s = inv_b + np.log1p(-np.exp(-inv_b))  # log(1/B - 1)
        log_m, log_n = log_kummer_m(a, b)
        log_jm1 = np.log(b) + log_m
        log_j = np.logaddexp(0.0, log_jm1)
        log_k = np.log(a) + log_m
        log_d = np.logaddexp(log_s, log_j)

        log_m_t, _ = log_kummer_m(a, b * u0)
        log_tail = (a + 1.0) * log_u0 + b * (1.0 - u0) + np.log(a) + log_m_t
        log_w = log_k + np.log1p(-np.minimum(np.exp(log_tail - log_k), 1.0))

        wait_probability = np.exp(log_j - log_d)
        abandon_probability = np.exp(log_n - log_d)
        answered_within = np.logaddexp(log_s, log_w)
        log_j_t = np.logaddexp(0.0, np.log(b * u0) + log_m_t)
        log_v_beyond = (a + 1.0) * log_u0 + b * (1.0 - u0) + log_j_t
        met_negative = np.exp(answered_within - log_d)
        met_positive = -np.expm1(log_v_beyond - log_d)  # wait (to answer or abandon) <= T
        if abandons == "negative":
            service_level = met_negative
        elif abandons == "positive":
            service_level = met_positive
        elif abandons == "ignored":
            service_level = met_negative / (1.0 - (met_positive - met_negative))
        else:
            service_level = np.exp(answered_within - np.logaddexp(log_s, log_k))
        if answered_wait:
            ratio = _mean_scaled_wait_of_answered(a, b)
            asa = ratio * p * np.exp(log_k - np.logaddexp(log_s, log_k))
        else:
            asa = np.full_like(a, np.nan)

    occupancy = np.where(n > 0.0, big_a * (1.0 - abandon_probability) / np.where(n > 0, n, 1.0),
                         0.0)
    no_traffic = big_a == 0.0
    no_agents = (n == 0.0) & ~no_traffic
    wait_probability = np.where(no_traffic, 0.0, np.where(no_agents, 1.0, wait_probability))
    abandon_probability = np.where(no_traffic, 0.0,
                                   np.where(no_agents, 1.0, abandon_probability))
    none_in_time = -np.expm1(log_u0) if abandons == "positive" else np.zeros_like(u0)
    service_level = np.where(no_traffic, 1.0, np.where(no_agents, none_in_time, service_level))
    asa = np.where(no_traffic, 0.0, np.where(no_agents, np.nan, asa))
    return Performance(
        traffic=big_a, agents=n, wait_probability=wait_probability,
        service_level=np.clip(service_level, 0.0, 1.0), asa=asa,
        average_wait=abandon_probability * p, abandon_probability=abandon_probability,
        occupancy=np.clip(occupancy, 0.0, 1.0),
    )


def _log_integrand(v: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """``φ(v) = -(a+1) v + b (1 - e^{-v})``: log of the weight of answered wait ``v/θ``."""
    return -(a + 1.0) * v - b * np.expm1(-v)


def _mean_scaled_wait_of_answered(a: FloatArray, b: FloatArray) -> FloatArray:
    """``E[θW | answered after waiting] = ∫ v e^{φ(v)} dv / ∫ e^{φ(v)} dv`` on ``v >= 0``."""
    peak = np.maximum(0.0, np.log(b / (a + 1.0)))
    top = _log_integrand(peak, a, b)
    floor = top - _NEGLIGIBLE
    hi = _edge(peak, a, b, floor, direction=1.0)
    lo = np.where(peak > 0.0, _edge(peak, a, b, floor, direction=-1.0), 0.0)
    width = (hi - lo) / _PANELS
    starts = lo[..., None] + width[..., None] * np.arange(_PANELS)
    v = (starts[..., None] + width[..., None, None] * 0.5 * (_NODES + 1.0)).reshape(
        (*lo.shape, -1)
    )
    weights = np.tile(_WEIGHTS, _PANELS)
    g = np.exp(_log_integrand(v, a[..., None], b[..., None]) - top[..., None]) * weights
    ratio: FloatArray = (g * v).sum(axis=-1) / g.sum(axis=-1)
    return ratio


def _edge(
    peak: FloatArray, a: FloatArray, b: FloatArray, floor: FloatArray, *, direction: float
) -> FloatArray:
    """Where ``φ`` falls to ``floor`` on one side of its peak (φ is concave)."""
    step = np.full_like(peak, 1.0 / np.sqrt(np.maximum(a, 1.0)))
    if direction < 0.0:
        step = np.minimum(step, peak)
    inner = peak.copy()
    outer = peak + direction * step
    for _ in range(200):
        above = _log_integrand(outer, a, b) > floor
        if direction < 0.0:
            above &= outer > 0.0
        if not above.any():
            break
        inner = np.where(above, outer, inner)
        step = np.where(above, step * 2.0, step)
        outer = np.where(above, peak + direction * step, outer)
        if direction < 0.0:
            outer = np.maximum(outer, 0.0)
    for _ in range(60):
        mid = 0.5 * (inner + outer)
        above = _log_integrand(mid, a, b) > floor
        inner = np.where(above, mid, inner)
        outer = np.where(above, outer, mid)
    return outer
