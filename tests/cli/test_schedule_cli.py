"""``slm schedule``: a plan and rules in, shifts and the intervals left short out."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from servicelevel.cli import get_app

RULES = """\
interval_minutes: 30
max_agents: 2
time_limit_seconds: 5
templates:
  - name: day
    starts: ["08:00"]
    length: 16
    break: {length: 1, earliest: 6, latest: 9}
"""


def test_schedule_json_table_and_csv(tmp_path: Path) -> None:
    times = pd.date_range("2026-01-05 08:00", periods=16, freq="30min")
    plan = tmp_path / "plan.csv"
    pd.DataFrame({"interval_start": times, "required_agents": [1] * 14 + [3] * 2}).to_csv(
        plan, index=False)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    runner = CliRunner()
    args = ["schedule", "--plan", str(plan), "--rules", str(rules)]

    result = runner.invoke(get_app(), [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["shifts"]) == 2
    assert data["shortfalls"] == [t.isoformat() for t in times[-2:]]
    assert data["under_staffing"] == 2

    table = runner.invoke(get_app(), args)
    assert table.exit_code == 0, table.output
    assert "Short: 2026-01-05T15:00:00" in table.output

    out = runner.invoke(get_app(), [*args, "--format", "csv"])
    header = "interval_start,required_agents,scheduled_agents,short,over"
    assert out.output.splitlines()[0].startswith(header)
