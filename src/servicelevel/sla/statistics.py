"""Statistical honesty: how sure a proportion is, beside the contractual verdict.

A month's service level of 79.6 % over 1,000 calls misses an 80 % target by the contract's
arithmetic, but the same operation could as well have produced 81 %. The Wilson score
interval (Wilson 1927; recommended by Brown, Cai & DasGupta 2001 over the normal
approximation) gives the 95 % range of the underlying rate; the statistical verdict says
met, missed, or can't tell. The contractual verdict stays the deterministic one.
"""

from __future__ import annotations

import math
from typing import Literal

Z_95 = 1.959963984540054  # two-sided 95 %: the 97.5th percentile of the normal law

StatisticalVerdict = Literal["met", "missed", "can't tell"]


def wilson(successes: float, trials: float, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes / trials`` as shares; None without trials."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def statistical_verdict(interval: tuple[float, float], comparison: str,
                        target: float) -> StatisticalVerdict:
    """Met when the whole interval meets the target, missed when none of it does."""
    low, high = interval
    if comparison in (">=", ">"):
        if low >= target if comparison == ">=" else low > target:
            return "met"
        if high < target if comparison == ">=" else high <= target:
            return "missed"
        return "can't tell"
    if high <= target if comparison == "<=" else high < target:
        return "met"
    if low > target if comparison == "<=" else low >= target:
        return "missed"
    return "can't tell"
