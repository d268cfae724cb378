"""servicelevel: service level management for contact centers.

The public API is listed here, and ``tests/test_exported_members.py`` fails when it
drifts. Names load on first use, so ``import servicelevel`` (and the ``slm`` command)
stays fast: the metric engine, the store and the queueing maths import only when asked.
"""

from __future__ import annotations

import importlib
from typing import Any

from servicelevel.errors import (
    ContractError,
    InputError,
    ServiceLevelError,
    SourceFormatError,
    StoreError,
    UnknownNameError,
)

__version__ = "0.1.0"

#: Public name -> module that defines it.
_LAZY: dict[str, str] = {
    # model
    "CANONICAL_TABLES": "servicelevel.model",
    "CanonicalTable": "servicelevel.model",
    "Outcome": "servicelevel.model",
    "AgentState": "servicelevel.model",
    "Channel": "servicelevel.model",
    "parse_duration": "servicelevel.model.time",
    # sources
    "SourceFormat": "servicelevel.sources",
    "SourceChunk": "servicelevel.sources",
    "ParseResult": "servicelevel.sources",
    "QuarantinedLine": "servicelevel.sources",
    "register_format": "servicelevel.sources",
    "get_format": "servicelevel.sources",
    "formats": "servicelevel.sources",
    # store
    "Store": "servicelevel.store",
    "IngestSummary": "servicelevel.store",
    "ingest_paths": "servicelevel.store",
    # metrics
    "Metric": "servicelevel.metrics",
    "Parameter": "servicelevel.metrics",
    "KpiQuery": "servicelevel.metrics",
    "KpiRow": "servicelevel.metrics",
    "MetricRequest": "servicelevel.metrics",
    "PeriodSpec": "servicelevel.metrics",
    "BusinessHours": "servicelevel.metrics",
    "compute": "servicelevel.metrics",
    "compute_table": "servicelevel.metrics",
    "get_metric": "servicelevel.metrics",
    "metrics": "servicelevel.metrics",
    # contracts
    "Contract": "servicelevel.sla",
    "load_contract": "servicelevel.sla",
    "check": "servicelevel.sla",
    "scorecard": "servicelevel.sla",
    # queueing and planning
    "erlang_b": "servicelevel.queueing",
    "erlang_c": "servicelevel.queueing",
    "performance": "servicelevel.queueing",
    "required_agents": "servicelevel.queueing",
    "Targets": "servicelevel.queueing",
    "staff": "servicelevel.planning",
    "staffing_plan": "servicelevel.planning",
    "cost_curve": "servicelevel.planning",
    "Attrition": "servicelevel.planning",
    "hiring_plan": "servicelevel.planning",
    "weekly_attrition": "servicelevel.planning",
    "weekly_required_fte": "servicelevel.planning",
}

__all__ = [
    "ContractError",
    "InputError",
    "ServiceLevelError",
    "SourceFormatError",
    "StoreError",
    "UnknownNameError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'servicelevel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
