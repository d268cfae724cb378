"""Required agents: the smallest number of agents meeting every target together.

Each target is monotone in the number of agents (more agents never lower the service
level nor raise the ASA, abandonment, occupancy or blocking), so the smallest feasible
number is found by growing an upper bound and bisecting, for every case of the arrays at
once. The search starts from a number of agents known to fail — under Erlang C the
largest integer not above the traffic, under Erlang A zero agents — never from a guess
that could sit above the optimum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from servicelevel.errors import InputError
from servicelevel.queueing.erlang import erlang_b
from servicelevel.queueing.models import get_model
from servicelevel.queueing.result import FloatArray, Performance, as_float_array

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

_LIMIT = 1e9  # more agents than this means the targets cannot be met


@dataclass(frozen=True)
class Targets:
    """Targets met together; ``None`` means "not set". Times in seconds.

    ``service_level`` is the share answered within ``threshold`` (under Erlang A counted
    as the model's ``abandons`` treatment says); ``asa`` the largest average speed of
    answer; ``abandon_probability``, ``max_occupancy`` and ``wait_probability`` upper
    bounds. Every field may be an array, broadcast against the traffic.
    """

    service_level: ArrayLike | None = None
    threshold: ArrayLike | None = None
    asa: ArrayLike | None = None
    abandon_probability: ArrayLike | None = None
    max_occupancy: ArrayLike | None = None
    wait_probability: ArrayLike | None = None

    def check(self) -> list[str]:
        """Every problem with these targets (empty when they are valid)."""
        problems = []
        if self.service_level is not None:
            sl = as_float_array(self.service_level)
            if np.any(~((sl > 0.0) & (sl < 1.0))):
                problems.append("service level: a share between 0 and 1 (e.g. 0.8) is needed")
            if self.threshold is None:
                problems.append("service level: a threshold (answer within, e.g. 20s) is needed")
        if self.threshold is not None and np.any(~(as_float_array(self.threshold) >= 0.0)):
            problems.append("threshold: a duration >= 0 is needed")
        if self.asa is not None and np.any(~(as_float_array(self.asa) > 0.0)):
            problems.append("asa: a duration > 0 is needed")
        for name in ("abandon_probability", "max_occupancy", "wait_probability"):
            value = getattr(self, name)
            if value is not None and np.any(~(as_float_array(value) > 0.0)
                                            | ~(as_float_array(value) <= 1.0)):
                problems.append(f"{name.replace('_', ' ')}: a share in (0, 1] is needed")
        if all(getattr(self, f) is None for f in self.__dataclass_fields__ if f != "threshold"):
            problems.append("no target set: give a service level, ASA, abandon rate, "
                            "occupancy or probability of waiting")
        return problems

    def met(self, perf: Performance) -> BoolArray:
        """Where ``perf`` meets every target set."""
        ok = np.ones(perf.shape, dtype=bool)
        if self.service_level is not None:
            ok &= perf.service_level >= as_float_array(self.service_level)
        if self.asa is not None:
            ok &= perf.asa <= as_float_array(self.asa)
        if self.abandon_probability is not None:
            ok &= perf.abandon_probability <= as_float_array(self.abandon_probability)
        if self.max_occupancy is not None:
            ok &= perf.occupancy <= as_float_array(self.max_occupancy)
        if self.wait_probability is not None:
            ok &= perf.wait_probability <= as_float_array(self.wait_probability)
        return ok


def required_agents(
    traffic: ArrayLike,
    aht: ArrayLike,
    targets: Targets,
    *,
    model: str = "erlang_c",
    patience: ArrayLike | None = None,
    abandons: str = "negative",
) -> IntArray:
    """The smallest whole number of agents meeting every target in ``targets``."""
    problems = targets.check()
    if problems:
        raise InputError("; ".join(problems))
    fn = get_model(model)
    threshold = as_float_array(targets.threshold if targets.threshold is not None else 0.0)
    limits = {f: as_float_array(getattr(targets, f)) for f in targets.__dataclass_fields__
              if f != "threshold" and getattr(targets, f) is not None}
    shape = np.broadcast_shapes(
        np.shape(traffic), np.shape(aht), threshold.shape,
        *(v.shape for v in limits.values()),
        () if patience is None else np.shape(patience),
    )

    def flat(value: ArrayLike) -> FloatArray:
        return np.broadcast_to(as_float_array(value), shape).ravel()

    a, h, t = flat(traffic), flat(aht), flat(threshold)
    wait_limit = None if patience is None else flat(patience)
    limits = {f: flat(v) for f, v in limits.items()}
    if np.any(~(a >= 0.0)):
        raise InputError("traffic: every value must be >= 0")

    def meets(agents: FloatArray, idx: IntArray) -> BoolArray:
        perf = fn(a[idx], agents, h[idx], t[idx],
                  patience=None if wait_limit is None else wait_limit[idx],
                  abandons=abandons, answered_wait=targets.asa is not None)
        subset = Targets(threshold=t[idx], **{f: v[idx] for f, v in limits.items()})
        return np.broadcast_to(subset.met(perf), idx.shape)

    failing = np.full(a.shape, -1.0)
    if model == "erlang_c":
        failing = np.where(a > 0.0, np.ceil(a) - 1.0, failing)
    if model == "erlang_c" and "max_occupancy" in limits:
        # without abandonment occupancy is exactly traffic / agents; under Erlang A the
        # abandons lower it, so no such bound holds there
        by_occupancy = np.ceil(a / limits["max_occupancy"] * (1.0 - 1e-12)) - 1.0
        failing = np.maximum(failing, by_occupancy)
    guess = np.ceil(a + np.sqrt(a))  # square-root staffing: usually a few agents away
    return _smallest(meets, failing, guess).reshape(shape)


def required_lines(traffic: ArrayLike, blocking: ArrayLike) -> IntArray:
    """The smallest number of lines (agents without a queue) with Erlang B blocking at
    most ``blocking``."""
    a, p = np.broadcast_arrays(as_float_array(traffic), as_float_array(blocking))
    if np.any(~((p > 0.0) & (p <= 1.0))):
        raise InputError("blocking: a share in (0, 1] is needed")
    a_flat, p_flat = a.ravel(), p.ravel()

    def meets(agents: FloatArray, idx: IntArray) -> BoolArray:
        return np.asarray(erlang_b(a_flat[idx], agents) <= p_flat[idx])

    return _smallest(meets, np.full(a_flat.shape, -1.0),
                     np.ceil(a_flat + np.sqrt(a_flat))).reshape(a.shape)


def _smallest(meets: Callable[[FloatArray, IntArray], BoolArray], failing: FloatArray,
              guess: FloatArray) -> IntArray:
    """Smallest integer above ``failing`` where the monotone predicate ``meets`` holds.

    From ``guess``: gallop down (doubling steps) while the targets hold, or up while they
    fail, until the answer is bracketed by a failing and a meeting number; then bisect.
    ``meets(agents, idx)`` evaluates only the cases ``idx`` still searched.
    """
    lo = failing.astype(np.float64)
    hi = np.maximum(guess, lo + 1.0)
    ok = meets(hi, np.arange(lo.size))
    idx = np.flatnonzero(ok & (hi - lo > 1.0))
    step = np.ones(idx.size)
    while idx.size:
        candidate = np.maximum(hi[idx] - step, lo[idx] + 1.0)
        holds = meets(candidate, idx)
        lo[idx[~holds]] = candidate[~holds]
        hi[idx[holds]] = candidate[holds]
        idx, step = idx[holds], step[holds] * 2.0
        keep = hi[idx] - lo[idx] > 1.0
        idx, step = idx[keep], step[keep]
    idx = np.flatnonzero(~ok)
    gap = np.ones(idx.size)
    while idx.size:
        if np.any(hi[idx] > _LIMIT):
            raise InputError(
                "targets cannot be met with any number of agents; relax them (e.g. a "
                "service level below 1 or a longer threshold)"
            )
        lo[idx] = hi[idx]
        gap = gap * 2.0
        hi[idx] = lo[idx] + gap
        holds = meets(hi[idx], idx)
        idx, gap = idx[~holds], gap[~holds]
    idx = np.flatnonzero(hi - lo > 1.0)
    while idx.size:
        mid = np.floor(0.5 * (lo[idx] + hi[idx]))
        holds = meets(mid, idx)
        hi[idx[holds]] = mid[holds]
        lo[idx[~holds]] = mid[~holds]
        idx = idx[hi[idx] - lo[idx] > 1.0]
    return hi.astype(np.int64)
