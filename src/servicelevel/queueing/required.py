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
    a = as_float_array(traffic)
    shape = np.broadcast_shapes(
        a.shape, np.shape(aht), threshold.shape,
        *(np.shape(getattr(targets, f)) for f in targets.__dataclass_fields__
          if getattr(targets, f) is not None),
        () if patience is None else np.shape(patience),
    )
    a = np.broadcast_to(a, shape)
    if np.any(~(a >= 0.0)):
        raise InputError("traffic: every value must be >= 0")

    def meets(agents: FloatArray) -> BoolArray:
        perf = fn(a, agents, aht, threshold, patience=patience, abandons=abandons,
                  answered_wait=targets.asa is not None)
        return np.broadcast_to(targets.met(perf), shape)

    failing = np.full(shape, -1.0)
    if model == "erlang_c":
        failing = np.where(a > 0.0, np.ceil(a) - 1.0, failing)
    if model == "erlang_c" and targets.max_occupancy is not None:
        # without abandonment occupancy is exactly traffic / agents; under Erlang A the
        # abandons lower it, so no such bound holds there
        by_occupancy = np.ceil(a / as_float_array(targets.max_occupancy) * (1.0 - 1e-12)) - 1.0
        failing = np.maximum(failing, by_occupancy)
    guess = np.ceil(a + np.sqrt(a))  # square-root staffing: usually a few agents away
    return _smallest(meets, failing, guess)


def required_lines(traffic: ArrayLike, blocking: ArrayLike) -> IntArray:
    """The smallest number of lines (agents without a queue) with Erlang B blocking at
    most ``blocking``."""
    a = as_float_array(traffic)
    p = as_float_array(blocking)
    if np.any(~((p > 0.0) & (p <= 1.0))):
        raise InputError("blocking: a share in (0, 1] is needed")
    shape = np.broadcast_shapes(a.shape, p.shape)

    def meets(agents: FloatArray) -> BoolArray:
        return np.broadcast_to(erlang_b(a, agents) <= p, shape)

    return _smallest(meets, np.full(shape, -1.0), np.ceil(a + np.sqrt(a)))


def _smallest(meets: Callable[[FloatArray], BoolArray], failing: FloatArray,
              guess: FloatArray) -> IntArray:
    """Smallest integer above ``failing`` where the monotone predicate ``meets`` holds.

    From ``guess``: gallop up (doubling steps) while the targets fail, or down while they
    hold, until the answer is bracketed by a failing and a meeting number; then bisect.
    """
    lo = failing.astype(np.float64)
    hi = np.maximum(np.broadcast_to(guess, lo.shape), lo + 1.0)
    ok = meets(hi)
    step = np.ones_like(lo)
    down = ok & (hi - lo > 1.0)
    while down.any():
        candidate = np.where(down, np.maximum(hi - step, lo + 1.0), hi)
        holds = meets(candidate)
        lo = np.where(down & ~holds, candidate, lo)
        hi = np.where(down & holds, candidate, hi)
        step = np.where(down & holds, step * 2.0, step)
        down = down & holds & (hi - lo > 1.0)
    gap = np.ones_like(lo)
    while not ok.all():
        if np.any(hi[~ok] > _LIMIT):
            raise InputError(
                "targets cannot be met with any number of agents; relax them (e.g. a "
                "service level below 1 or a longer threshold)"
            )
        lo = np.where(ok, lo, hi)
        gap = np.where(ok, gap, gap * 2.0)
        hi = np.where(ok, hi, lo + gap)
        ok = meets(hi)
    while True:
        active = hi - lo > 1.0
        if not active.any():
            break
        mid = np.where(active, np.floor(0.5 * (lo + hi)), hi)
        ok = meets(mid)
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid, lo)
    return hi.astype(np.int64)
