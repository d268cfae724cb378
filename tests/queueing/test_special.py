"""The compiled series and continued fraction equal their array (NumPy) definitions."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from servicelevel.queueing import _special

Floats = NDArray[np.float64]


def kummer_series_by_arrays(a: Floats, b: Floats) -> tuple[Floats, Floats]:
    """``(J-1)/b`` and ``J-K`` summed for all elements together until every one has
    converged (the definition the compiled kernel follows element by element)."""
    term = 1.0 / (a + 1.0)
    m = term.copy()
    n = 1.0 / (a + 1.0) + b * term * 2.0 / (a + 2.0)
    active = np.ones(a.shape, dtype=bool)
    j = 1
    while active.any():
        with np.errstate(over="ignore"):  # converged elements go on multiplying
            term = term * b / (a + j + 1.0)
            n_term = b * term * (j + 2.0) / (a + j + 2.0)
        m = m + np.where(active, term, 0.0)
        n = n + np.where(active, n_term, 0.0)
        active &= (term > _special._EPS * m) | (n_term > _special._EPS * n)
        j += 1
    return m, n


def upper_gamma_cf_by_arrays(s: Floats, a: Floats) -> Floats:
    """The modified Lentz continued fraction of ``Γ(s, a)``, for all elements together."""
    tiny, eps = _special._TINY, _special._EPS
    b = a + 1.0 - s
    c = np.full_like(a, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    active = np.ones(a.shape, dtype=bool)
    i = 1
    while active.any():
        an = -i * (i - s)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = np.where(active, h * delta, h)
        active &= np.abs(delta - 1.0) > eps
        i += 1
    return h


def test_compiled_kummer_series_is_bit_for_bit_the_array_sum() -> None:
    rng = np.random.default_rng(11)
    a = np.exp(rng.uniform(-3.0, 9.0, 4_000))
    b = a * np.exp(rng.uniform(-5.0, 0.7, a.size))
    expected_m, expected_n = kummer_series_by_arrays(a, b)
    got_m, got_n = _special._kummer_series(a, b)
    np.testing.assert_array_equal(got_m, expected_m)
    np.testing.assert_array_equal(got_n, expected_n)
    # any shape, scalars broadcast
    grid_m, _ = _special._kummer_series(a[:6].reshape(2, 3), np.float64(2.5))
    np.testing.assert_array_equal(grid_m, kummer_series_by_arrays(
        a[:6].reshape(2, 3), np.full((2, 3), 2.5))[0])


def test_compiled_continued_fraction_is_bit_for_bit_the_array_iteration() -> None:
    rng = np.random.default_rng(12)
    s = np.exp(rng.uniform(-2.0, 11.0, 4_000))
    a = np.maximum(s - 1.0, 0.0) * np.exp(rng.uniform(0.0, 2.0, s.size)) + rng.uniform(
        1e-3, 5.0, s.size)
    np.testing.assert_array_equal(_special._upper_gamma_cf(s, a),
                                  upper_gamma_cf_by_arrays(s, a))
