"""Building blocks of metric formulas, shared by every metric family."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir


def count_where(condition: ir.BooleanValue) -> ir.IntegerScalar:
    """How many rows meet ``condition``."""
    return condition.cast("int64").sum()


def sum_where(condition: ir.BooleanValue, value: ir.NumericValue) -> ir.NumericScalar:
    """Sum of ``value`` over the rows that meet ``condition``."""
    return ibis.ifelse(condition, value, 0.0).sum()


def prepared_ratio(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    """The ratio of rows a metric's ``prepare`` step made: sums of ``_num`` and ``_den``."""
    return {"numerator": t._num.sum(), "denominator": t._den.sum()}
