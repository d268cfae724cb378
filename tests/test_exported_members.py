"""The public API is what ``servicelevel.__all__`` lists: every name resolves, none drifts."""

from __future__ import annotations

import subprocess
import sys

import servicelevel

EXPECTED = {
    "AgentState", "Attrition", "BusinessHours", "CANONICAL_TABLES", "CanonicalTable", "Channel",
    "Contract", "ContractError", "IngestSummary", "InputError", "KpiQuery", "KpiRow",
    "Metric", "MetricRequest", "Outcome", "Parameter", "ParseResult", "PeriodSpec",
    "QuarantinedLine", "ServiceLevelError", "SourceChunk", "SourceFormat",
    "SourceFormatError", "Store", "StoreError", "Targets", "UnknownNameError",
    "__version__", "check", "compute", "compute_table", "cost_curve", "erlang_b", "erlang_c",
    "formats",
    "get_format", "get_metric", "hiring_plan", "ingest_paths", "load_contract", "metrics",
    "parse_duration", "performance", "register_format", "required_agents", "scorecard",
    "staff", "staffing_plan", "weekly_attrition", "weekly_required_fte",
}


def test_the_public_names_are_exactly_the_expected_ones() -> None:
    assert set(servicelevel.__all__) == EXPECTED
    assert len(servicelevel.__all__) == len(EXPECTED)


def test_every_public_name_resolves() -> None:
    for name in servicelevel.__all__:
        assert getattr(servicelevel, name) is not None, name


def test_public_objects_say_where_they_live() -> None:
    for name in servicelevel.__all__:
        value = getattr(servicelevel, name)
        module = getattr(value, "__module__", "servicelevel") or "servicelevel"
        assert module.startswith("servicelevel"), f"{name} comes from {module}"


def test_importing_the_package_stays_light() -> None:
    code = ("import sys, servicelevel; "
            "print(sorted(m for m in ('ibis', 'duckdb', 'numba', 'scipy', 'pandas') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
