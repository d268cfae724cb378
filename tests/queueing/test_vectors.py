"""Every row of ../shared/data/queueing/erlang_vectors.csv, to its stated precision.

Published values are matched to their rounding (half a unit of their last digit);
``our_check`` (the same figure recomputed at 40 digits) to 1e-9 relative. The metric name
of each row says what to compute; it is parsed, not looked up in a table of answers.
"""

from __future__ import annotations

import csv
import math
import re
from decimal import Decimal
from pathlib import Path

import pytest

from servicelevel.planning import scheduled_agents
from servicelevel.queueing import (
    Targets,
    erlang_b,
    max_traffic,
    offered_traffic,
    performance,
    required_agents,
    required_lines,
)

VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "queueing" / (
    "erlang_vectors.csv"
)

#: Published figures that are wrong beyond their rounding, and why. The test below checks
#: that they do differ, so this list cannot go stale.
ERRATA = {
    ("gurpreetsawhney.com square-root staffing note", "required_agents_SL80"):
        "square-root staffing approximation gives 39; the exact Erlang C answer is 40 "
        "(39 agents give 79.2% within 20 s)",
    ("pyworkforce 0.5.4 ErlangA regression test", "asa_all_callers_s"):
        "published 4.19514; exactly P(abandon) × patience = 4.195123 (pyworkforce's own "
        "p_abandon 0.013984 × 300 s gives 4.1952): the published digits are off by 2e-5",
}


def load_rows() -> list[dict[str, str]]:
    if not VECTORS.exists():
        pytest.fail(f"shared data not found: {VECTORS} (clone the project next to its "
                    "'shared' folder; see ../shared/data/README.md)", pytrace=False)
    with VECTORS.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _num(row: dict[str, str], key: str) -> float | None:
    return float(row[key]) if row[key] else None


def compute(row: dict[str, str], rows: list[dict[str, str]]) -> float:
    """The figure a row names, computed from its inputs."""
    metric, model = row["expected_metric"], row["model"]
    calls, interval = _num(row, "calls"), float(row["interval_s"])
    aht, patience = float(row["aht_s"]), _num(row, "patience_s")
    agents, target = _num(row, "agents"), _num(row, "target_s")
    traffic = float(offered_traffic(calls, interval, aht)) if calls is not None else math.nan
    threshold = target if target is not None else 0.0

    def perf(name: str) -> float:
        p = performance(traffic, agents, aht, threshold, model=model, patience=patience)
        return float(getattr(p, name))

    if metric == "traffic_erlangs":
        return traffic
    if m := re.fullmatch(r"max_traffic_erlangs_at_(B|p_wait)=([\d.]+)", metric):
        kind = "erlang_b" if m[1] == "B" else "erlang_c"
        return float(max_traffic(agents, float(m[2]), model=kind))
    if m := re.fullmatch(r"required_agents_B<=([\d.]+)", metric):
        return float(required_lines(traffic, float(m[1])))
    if m := re.fullmatch(r"required_agents_for_p_wait<=([\d.]+)", metric):
        return float(required_agents(traffic, aht, Targets(wait_probability=float(m[1]))))
    if m := re.fullmatch(r"required(?:_raw)?_agents_SL(\d+)(?:_(\d+)s)?(?:_maxocc(\d+))?",
                         metric):
        occupancy = float(m[3]) / 100 if m[3] else None
        targets = Targets(service_level=float(m[1]) / 100,
                          threshold=float(m[2]) if m[2] else threshold,
                          max_occupancy=occupancy)
        return float(required_agents(traffic, aht, targets, model=model, patience=patience))
    if m := re.fullmatch(r"agents_with_shrinkage_(\d+)pct", metric):
        sibling = next(r for r in rows if r["source"] == row["source"]
                       and r["expected_metric"].startswith("required"))
        return float(scheduled_agents(compute(sibling, rows), float(m[1]) / 100))
    if metric == "blocking":
        return float(erlang_b(traffic, agents))
    if metric.startswith("p_wait_gt_target"):
        return 1.0 - perf("service_level")
    if metric in ("service_level", "service_level_answered_within_t_over_all_arrivals"):
        return perf("service_level")
    simple = {"p_wait": "wait_probability", "p_abandon": "abandon_probability",
              "occupancy": "occupancy", "asa_s": "asa", "asa_all_callers_s": "average_wait"}
    return perf(simple[metric])


ROWS = load_rows() if VECTORS.exists() else []


def _id(row: dict[str, str]) -> str:
    return f"{row['source'][:40]}|{row['expected_metric']}|n={row['agents']}"


def test_vectors_file_is_there_and_complete() -> None:
    rows = load_rows()
    assert len(rows) >= 60
    assert {r["model"] for r in rows} == {"erlang_b", "erlang_c", "erlang_a"}


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_matches_our_check(row: dict[str, str]) -> None:
    value = compute(row, ROWS)
    assert value == pytest.approx(float(row["our_check"]), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("row", [r for r in ROWS if r["expected_value"]], ids=_id)
def test_matches_published_value_to_its_rounding(row: dict[str, str]) -> None:
    value = compute(row, ROWS)
    published = Decimal(row["expected_value"])
    exponent = published.as_tuple().exponent
    assert isinstance(exponent, int)
    tolerance = max(0.5 * 10.0**exponent, 1e-12 * abs(float(published)))
    key = (row["source"], row["expected_metric"])
    if key in ERRATA:
        assert abs(value - float(published)) > tolerance, f"erratum no longer needed: {key}"
    else:
        assert abs(value - float(published)) <= tolerance, (value, row)
