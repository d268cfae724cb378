"""Special functions for the Erlang formulas, in log space so that no size overflows.

Two quantities carry every formula of this package:

* ``log_inv_erlang_b(x, a)``: ``log(1 / B(x, a))`` for the Erlang B blocking probability
  with ``x`` agents (fractional allowed) and ``a`` erlangs, from the integral form
  ``1/B = e^a a^-x Γ(x+1, a)`` (upper incomplete gamma), a continued fraction where the
  regularised function would underflow;
* ``log_kummer_m(a, b)``: ``log((J(a, b) - 1) / b)`` with ``J(a, b) = Σ_j b^j / (a+1)_j``
  (the confluent hypergeometric ``1F1(1; a+1; b)``), the queue part of Erlang A, from
  ``J = e^b b^-a Γ(a+1) P(a, b)`` or its series where that would underflow.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray
from scipy import special

FloatArray = NDArray[np.float64]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_STIRLING_FROM = 10.0
_TINY = 1e-300
_EPS = 1e-16
_CF_MAX_ITER = 100_000
_SERIES_MAX_ITER = 100_000
# compiled kernels take contiguous float64 vectors; compiled (or loaded from the cache)
# at import, so that no call pays for compilation
_KERNEL_3 = "void(float64[::1], float64[::1], float64[::1])"
_KERNEL_4 = "void(float64[::1], float64[::1], float64[::1], float64[::1])"


def log_scale(x: FloatArray, a: FloatArray) -> FloatArray:
    """``log(Γ(x+1) e^a / a^x)`` for ``x >= 0`` and ``a > 0``, accurate for large ``x``.

    For ``x >= 10`` the Stirling series is used so that the large terms
    ``x log x`` and ``x log a`` cancel exactly: ``x (r - 1 - log r) + ½ log(2πx) + s(x)``
    with ``r = a / x``.
    """
    x = np.asarray(x, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    big = x >= _STIRLING_FROM
    xs = np.where(big, x, _STIRLING_FROM)
    d = a / xs - 1.0
    inv = 1.0 / xs
    inv2 = inv * inv
    stirling = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
    with np.errstate(divide="ignore", invalid="ignore"):
        # r - 1 - log r: through log1p near r = 1 (no cancellation of r - 1), through log r
        # for small r (1 + d would lose the digits of a tiny r).
        ratio = a / xs
        gap = np.where(ratio < 0.5, ratio - 1.0 - np.log(ratio), d - np.log1p(d))
        large = xs * gap + _HALF_LOG_2PI + 0.5 * np.log(xs) + stirling
        small = special.gammaln(x + 1.0) + a - x * np.log(a)
        small = np.where(x == 0.0, a, small)
    return np.asarray(np.where(big, large, small), dtype=np.float64)


def _upper_gamma_cf(s: FloatArray, a: FloatArray) -> FloatArray:
    """``h`` with ``Γ(s, a) = e^-a a^s h``, by the modified Lentz continued fraction.

    Converges quickly for ``a > s - 1``; used only there.
    """
    s, a = np.broadcast_arrays(np.asarray(s, dtype=np.float64), np.asarray(a, dtype=np.float64))
    h = np.empty(a.shape, dtype=np.float64)
    _upper_gamma_cf_kernel(np.ascontiguousarray(s).ravel(), np.ascontiguousarray(a).ravel(),
                           h.reshape(-1))
    return h


@numba.njit(_KERNEL_3, cache=True, nogil=True)
def _upper_gamma_cf_kernel(
    s: FloatArray, a: FloatArray, out: FloatArray
) -> None:  # pragma: no cover
    """Element by element, the Lentz iteration of ``_upper_gamma_cf`` (compiled)."""
    for k in range(a.size):
        sk = s[k]
        b = a[k] + 1.0 - sk
        c = 1.0 / _TINY
        d = 1.0 / b
        h = d
        for i in range(1, _CF_MAX_ITER):
            an = -i * (i - sk)
            b = b + 2.0
            d = an * d + b
            if abs(d) < _TINY:
                d = _TINY
            c = b + an / c
            if abs(c) < _TINY:
                c = _TINY
            d = 1.0 / d
            delta = d * c
            h = h * delta
            if not abs(delta - 1.0) > _EPS:
                break
        out[k] = h


def log_inv_erlang_b(x: FloatArray, a: FloatArray) -> FloatArray:
    """``log(1 / B(x, a))``, Erlang B with ``x >= 0`` agents and ``a >= 0`` erlangs.

    ``+inf`` when ``a == 0`` and ``x > 0`` (nothing is ever blocked).
    """
    x, a = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(a, dtype=np.float64))
    out = np.empty(x.shape, dtype=np.float64)
    zero = a <= 0.0
    heavy = ~zero & (a > x + 1.0)
    light = ~zero & ~heavy
    if light.any():
        xl, al = x[light], a[light]
        q = special.gammaincc(xl + 1.0, al)
        out[light] = log_scale(xl, al) + np.log(q)
    if heavy.any():
        xh, ah = x[heavy], a[heavy]
        out[heavy] = np.log(ah * _upper_gamma_cf(xh + 1.0, ah))
    if zero.any():
        out[zero] = np.where(x[zero] > 0.0, np.inf, 0.0)
    return out


def log_kummer_m(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(log M, log N)`` with ``M = (J - 1) / b`` and ``N = J - K``.

    ``J(a, b) = Σ_j b^j/(a+1)_j`` and ``K = (a/b)(J - 1)``; in the Erlang A queue, ``J`` is
    the relative mass of the waiting states, ``K`` the part of it later served and ``J - K``
    the part that abandons. ``a > 0``, ``b >= 0``; both are computed without cancellation.
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    log_m = np.empty(a.shape, dtype=np.float64)
    log_n = np.empty(a.shape, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = log_scale(a, np.where(b > 0.0, b, 1.0))
    series = (b < 0.5 * (a + 1.0)) | ((b < a) & (scale > 600.0))
    if series.any():
        m, n = _kummer_series(a[series], b[series])
        log_m[series] = np.log(m)
        log_n[series] = np.log(n)
    direct = ~series
    if direct.any():
        ad, bd = a[direct], b[direct]
        q = special.gammaincc(ad, bd)
        p = special.gammainc(ad, bd)
        ratio = 1.0 - ad / bd
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_p = np.where(p > 0.5, np.log1p(-q), np.log(p))
            log_j = scale[direct] + log_p
            log_jm1 = log_j + np.log1p(-np.exp(-log_j))
            log_m[direct] = log_jm1 - np.log(bd)
            over = np.logaddexp(0.0, log_jm1 + np.log(np.where(ratio > 0.0, ratio, 1.0)))
            under = np.log(1.0 + np.exp(log_jm1) * ratio)
        log_n[direct] = np.where(ratio > 0.0, over, under)
    return log_m, log_n


def _kummer_series(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(J-1)/b`` and ``J-K`` by their series, for ``b`` below about ``a``."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    m = np.empty(a.shape, dtype=np.float64)
    n = np.empty(a.shape, dtype=np.float64)
    _kummer_series_kernel(np.ascontiguousarray(a).ravel(), np.ascontiguousarray(b).ravel(),
                          m.reshape(-1), n.reshape(-1))
    return m, n


@numba.njit(_KERNEL_4, cache=True, nogil=True)
def _kummer_series_kernel(a: FloatArray, b: FloatArray, m_out: FloatArray,
                          n_out: FloatArray) -> None:  # pragma: no cover
    """Element by element, the series of ``_kummer_series`` (compiled), summed until both
    terms fall below ``_EPS`` of their sums."""
    for k in range(a.size):
        ak = a[k]
        bk = b[k]
        term = 1.0 / (ak + 1.0)  # t_j / b for j = 1
        m = term
        n = 1.0 / (ak + 1.0) + bk * term * 2.0 / (ak + 2.0)  # j = 0 and 1 terms of J - K
        for j in range(1, _SERIES_MAX_ITER):
            term = term * bk / (ak + j + 1.0)
            m = m + term
            n_term = bk * term * (j + 2.0) / (ak + j + 2.0)
            n = n + n_term
            if not (term > _EPS * m or n_term > _EPS * n):
                break
        m_out[k] = m
        n_out[k] = n
