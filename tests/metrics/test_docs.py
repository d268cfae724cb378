"""The metric reference cannot drift: generated from the registry, every metric defined,
with a unit and a hand-computed test."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from servicelevel.metrics import metrics
from tests.conftest import REPO_ROOT

HERE = Path(__file__).resolve().parent
NOT_FIXTURE_TESTS = {"test_docs.py", "test_engines.py"}


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_metric_docs", REPO_ROOT / "scripts" / "gen_metric_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_metrics_md_is_current():
    text = (REPO_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert text == _generator().render(), (
        "docs/metrics.md is stale: run python scripts/gen_metric_docs.py")


@pytest.mark.parametrize("key", sorted(metrics()))
def test_metric_is_documented(key):
    metric = metrics()[key]
    assert metric.definition.strip(), f"{key} has no definition"
    assert metric.unit is not None, f"{key} has no unit"
    assert metric.name.strip() and metric.columns, f"{key} has no name or columns"
    for parameter in metric.parameters:
        assert parameter.description.strip(), f"{key}.{parameter.name} is undescribed"


def _tested_keys() -> set[str]:
    """Metric keys named as a string in a fixture test module that computes metrics."""
    found: set[str] = set()
    for path in HERE.glob("test_*.py"):
        if path.name in NOT_FIXTURE_TESTS:
            continue
        text = path.read_text(encoding="utf-8")
        if "value(" not in text and "values(" not in text and "kpi(" not in text:
            continue
        found.update(re.findall(r"""["']([a-z_]+)["']""", text))
    return found


@pytest.mark.parametrize("key", sorted(metrics()))
def test_metric_has_a_fixture_test(key):
    assert key in _tested_keys(), (
        f"no test in tests/metrics computes {key!r}: add a hand-computed fixture test")
