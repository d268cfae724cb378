"""``slm hire`` on a DuckDB store with a roster built here, and a staffing plan CSV."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from servicelevel.cli import get_app
from servicelevel.model.tables import AGENTS
from servicelevel.store import Store

runner = CliRunner()


def _agent(agent_id: str, left_on: date | None = None, **columns: Any) -> dict[str, Any]:
    row = {"tenant": "acme", "agent_id": agent_id, "role": "agent", "team": "blue",
           "site": "north", "hired_on": date(2025, 1, 6), "left_on": left_on}
    row.update(columns)
    return row


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Ten agents on team blue; two left in the four weeks before 23 November 2026;
    a team lead and an agent of another team who are not counted."""
    agents = [_agent(f"a{i}") for i in range(10)]
    agents += [_agent("gone1", date(2026, 11, 1)), _agent("gone2", date(2026, 11, 15))]
    agents += [_agent("lead", role="team_lead"), _agent("red1", team="red")]
    path = tmp_path / "s.duckdb"
    with Store.open(path) as opened:
        opened.upsert("agents", pa.Table.from_pylist(agents, schema=AGENTS.schema))
    return path


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    """Eight weeks from 4 January 2027, Monday to Friday 08:00-17:00, 30-minute
    intervals, 12 seated agents: 12 × 9 h × 5 days = 540 agent hours a week."""
    days = [date(2027, 1, 4) + timedelta(days=d) for d in range(56)]
    times = [pd.Timestamp(day) + pd.Timedelta(hours=8) + i * pd.Timedelta(minutes=30)
             for day in days if day.weekday() < 5 for i in range(18)]
    path = tmp_path / "plan.csv"
    pd.DataFrame({"interval_start": [t.isoformat() for t in times],
                  "required_agents": 12}).to_csv(path, index=False)
    return path


def _hire(store: Path, plan: Path, *options: str) -> dict[str, Any]:
    result = runner.invoke(get_app(), [
        "hire", "--plan", str(plan), "--db", str(store), "--tenant", "acme", "--team", "blue",
        "--as-of", "2026-11-23", "--attrition-window", "4w", "--format", "json", *options])
    assert result.exit_code == 0, result.output
    printed: dict[str, Any] = json.loads(result.output)
    return printed


def test_hires_for_a_plan_against_the_roster(store: Path, plan: Path) -> None:
    printed = _hire(store, plan, "--hours-per-fte", "36", "--shrinkage", "0.25",
                    "--training-weeks", "6")
    # 540 h ÷ 0.75 ÷ 36 h = 20 FTE a week. Attrition: 2 leavers over 4 weeks with 11 on
    # average (the lead and team red left out): 2 / 4 / 11 a week.
    assert printed["attrition"]["weekly"] == pytest.approx(2 / 4 / 11)
    weeks = {w["week_start"]: w for w in printed["weeks"]}
    assert weeks["2027-01-04"]["required_fte"] == pytest.approx(20.0)
    assert weeks["2026-11-23"]["required_fte"] is None  # before the plan
    assert weeks["2026-11-23"]["projected_headcount"] == pytest.approx(10.0)
    # Six weeks of lead time from 23 November: the first class goes live 4 January.
    first = weeks["2026-11-23"]
    assert first["goes_live"] == "2027-01-04"
    survivors = 10 * (1 - 2 / 44) ** 6
    assert weeks["2027-01-04"]["projected_headcount"] == pytest.approx(survivors, abs=1e-3)
    assert first["trainees"] == -(-(20 - survivors) // 1)  # 20 − 7.56 → 13
    assert first["initial_hires"] == 10 and first["replacement_hires"] == 3
    assert printed["too_late"] == []
    assert printed["initial_hires"] == 10
    later = [w for w in printed["weeks"] if w["week_start"] > "2026-11-23" and w["trainees"]]
    assert later and all(w["initial_hires"] == 0 for w in later)  # replacements only


def test_a_given_monthly_rate_and_too_late_weeks(store: Path, plan: Path) -> None:
    printed = _hire(store, plan, "--attrition", "0.03", "--training-weeks", "8",
                    "--hours-per-fte", "45")
    assert printed["attrition"]["monthly"] == pytest.approx(0.03)
    assert printed["attrition"]["source"].startswith("given")
    # 540 h ÷ 45 h = 12 FTE against 10 agents; classes start no earlier than 23 November,
    # so they go live on 18 January: the two weeks before are too late.
    assert printed["too_late"] == ["2027-01-04", "2027-01-11"]
    assert printed["weeks"][0]["goes_live"] == "2027-01-18"


def test_table_and_csv(store: Path, plan: Path) -> None:
    base = ["hire", "--plan", str(plan), "--db", str(store), "--as-of", "2026-11-23"]
    table = runner.invoke(get_app(), base)
    assert table.exit_code == 0, table.output
    assert "Hiring plan per week" in table.output and "Attrition" in table.output
    csv = runner.invoke(get_app(), [*base, "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    header = csv.output.splitlines()[0].split(",")
    assert header[:3] == ["week_start", "required_fte", "required_agents"]
    assert {"trainees", "initial_hires", "replacement_hires", "too_late"} <= set(header)


def test_a_plan_without_required_agents_says_what_to_write(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("interval_start,calls\n2027-01-04T08:00,3\n", encoding="utf-8")
    result = runner.invoke(get_app(), ["hire", "--plan", str(bad), "--db", str(store)])
    assert result.exit_code != 0
    assert "required_agents" in str(result.exception)
