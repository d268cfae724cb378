"""The metric engine: one registry of metric definitions, run as Ibis expressions."""

from servicelevel.metrics.engine import (
    GROUPS,
    KpiQuery,
    KpiRow,
    MetricRequest,
    compute,
    compute_table,
)
from servicelevel.metrics.periods import BusinessHours, PeriodSpec
from servicelevel.metrics.registry import (
    Direction,
    Kind,
    Metric,
    Parameter,
    Unit,
    get_metric,
    metrics,
    register,
)

__all__ = [
    "GROUPS",
    "BusinessHours",
    "Direction",
    "Kind",
    "KpiQuery",
    "KpiRow",
    "Metric",
    "MetricRequest",
    "Parameter",
    "PeriodSpec",
    "Unit",
    "compute",
    "compute_table",
    "get_metric",
    "metrics",
    "register",
]
