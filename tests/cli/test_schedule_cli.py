"""``slm schedule``: a plan and rules in, shifts and the intervals left short out; with
``--db`` the schedule lands in the ``schedules`` table that workforce metrics read."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
from typer.testing import CliRunner

from servicelevel.cli import get_app
from servicelevel.errors import InputError
from servicelevel.metrics import KpiQuery, MetricRequest, PeriodSpec, compute
from servicelevel.model.tables import CANONICAL_TABLES
from servicelevel.store import Store
from servicelevel.store.backends import open_tables

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

NAMED = """\
interval_minutes: 30
time_limit_seconds: 5
opening_hours: {default: ["08:00", "18:00"], sun: null}
templates:
  - name: day
    starts: ["08:00", "09:00"]
    length: 17
    breaks:
      - {kind: break, length: 1, earliest: 3, latest: 5}
      - {kind: lunch, length: 1, earliest: 7, latest: 9}
      - {kind: break, length: 1, earliest: 11, latest: 13}
    spacing: {min: 2}
agents:
  - {id: ann, max_shifts_per_week: 5}
  - {id: bob, unavailable: [2026-01-06]}
  - {id: cyd, available: {default: ["08:00", "18:00"], mon: null}}
"""


def _write(tmp_path: Path, required: list[int], rules: str, days: int = 1) -> list[str]:
    frames = [pd.DataFrame({
        "interval_start": pd.date_range(f"2026-01-0{5 + d} 08:00", periods=len(required),
                                        freq="30min"),
        "required_agents": required, "calls": 10.0}) for d in range(days)]
    plan = tmp_path / "plan.csv"
    pd.concat(frames).to_csv(plan, index=False)
    path = tmp_path / "rules.yaml"
    path.write_text(rules, encoding="utf-8")
    return ["schedule", "--plan", str(plan), "--rules", str(path)]


def test_schedule_json_table_and_csv(tmp_path: Path) -> None:
    args = _write(tmp_path, [1] * 14 + [3] * 2, RULES)
    times = pd.date_range("2026-01-05 08:00", periods=16, freq="30min")
    runner = CliRunner()

    result = runner.invoke(get_app(), [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"status", "gap", "cost", "under_staffing", "shortfalls", "shifts", "coverage",
            "over_staffing", "solve_seconds", "gaps"} <= set(data)
    assert len(data["shifts"]) == 2
    assert data["shortfalls"] == [t.isoformat() for t in times[-2:]]
    assert data["under_staffing"] == 2
    shift = data["shifts"][0]
    assert shift["agent_id"] == "A001"
    assert shift["breaks"][0]["kind"] == "break" and shift["breaks"][0]["paid"] is True
    assert shift["break_start"] == shift["breaks"][0]["start"]
    assert data["stored"] is None

    table = runner.invoke(get_app(), args)
    assert table.exit_code == 0, table.output
    assert "Short: 2026-01-05T15:00:00" in table.output
    assert "Status OPTIMAL: 2 agent-interval(s) short, cost 32" in table.output

    out = runner.invoke(get_app(), [*args, "--format", "csv"])
    header = "interval_start,required_agents,scheduled_agents,short,over"
    assert out.output.splitlines()[0].startswith(header)
    assert len(out.output.splitlines()) == 17

    shifts = runner.invoke(get_app(), [*args, "--format", "shifts-csv"])
    assert shifts.output.splitlines()[0].startswith("agent_id,template,start,end")


def test_named_agents_in_a_table(tmp_path: Path) -> None:
    args = _write(tmp_path, [2] * 20, NAMED, days=3)
    result = CliRunner().invoke(get_app(), [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    worked = {(s["agent_id"], s["start"][:10]) for s in data["shifts"]}
    assert ("bob", "2026-01-06") not in worked and ("cyd", "2026-01-05") not in worked
    assert all([b["kind"] for b in s["breaks"]] == ["break", "lunch", "break"]
               for s in data["shifts"])
    table = CliRunner().invoke(get_app(), args)
    assert "lunch" in table.output and "ann" in table.output


def test_the_plan_slm_plan_prints_is_accepted(tmp_path: Path) -> None:
    times = pd.date_range("2026-01-05 08:00", periods=16, freq="30min")
    source = tmp_path / "calls.csv"
    pd.DataFrame({"interval_start": times, "calls": 40, "aht": 240}).to_csv(source, index=False)
    runner = CliRunner()
    printed = runner.invoke(get_app(), ["plan", "--from", str(source), "--sl", "0.8", "--json"])
    assert printed.exit_code == 0, printed.output
    plan = tmp_path / "plan.json"
    plan.write_text(printed.output, encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("max_agents: 2\n", ""), encoding="utf-8")
    args = ["schedule", "--plan", str(plan), "--rules", str(rules), "--format", "json"]

    refused = runner.invoke(get_app(), args)  # InputError: slm prints it and exits 2
    assert isinstance(refused.exception, InputError)
    assert "--column scheduled_agents" in str(refused.exception)

    result = runner.invoke(get_app(), [*args, "--column", "scheduled_agents"])
    assert result.exit_code == 0, result.output
    needed = max(r["scheduled_agents"] for r in json.loads(printed.output))
    assert max(c["required_agents"] for c in json.loads(result.output)["coverage"]) == needed


def test_bad_rules_name_the_file_and_field(tmp_path: Path) -> None:
    args = _write(tmp_path, [1] * 16, RULES.replace("earliest: 6", "earliest: 16"))
    result = CliRunner().invoke(get_app(), args)
    assert isinstance(result.exception, InputError)
    assert str(result.exception).endswith(
        "rules.yaml: templates.0.break: break window: latest 9 < earliest 16")


def _follow(store: Store, shifts: list[dict[str, object]]) -> None:
    """Agent states of agents who do exactly what the schedule says: logged in for the whole
    shift, paused for each break and lunch."""
    rows = []
    for s in shifts:
        base = {"tenant": "acme", "source": "test", "agent_id": s["agent_id"], "queue": ""}
        rows.append({**base, "state": "logged_in", "started_at": s["start"],
                     "ended_at": s["end"]})
        rows += [{**base, "state": "paused", "started_at": b["start"], "ended_at": b["end"]}
                 for b in s["breaks"]]  # type: ignore[attr-defined]
    frame = pd.DataFrame(rows)
    for column in ("started_at", "ended_at"):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC")
    schema = CANONICAL_TABLES["agent_states"].schema
    store.upsert("agent_states", pa.Table.from_pandas(frame, preserve_index=False).select(
        [n for n in schema.names if n in frame.columns]))


def test_stored_schedule_is_what_workforce_metrics_read(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    args = [*_write(tmp_path, [2] * 20, NAMED, days=2), "--db", str(db), "--tenant", "acme",
            "--queue", "sales"]
    runner = CliRunner()
    first = runner.invoke(get_app(), args)
    assert first.exit_code == 0, first.output
    assert "row(s) to the schedules table of" in first.output
    again = runner.invoke(get_app(), [*args, "--format", "json"])  # replaces, never doubles
    assert again.exit_code == 0, again.output
    data = json.loads(again.output)
    shifts = data["shifts"]
    rows = len(shifts) * 4  # a shift, two breaks and a lunch each
    assert data["stored"] == {"db": str(db), "tenant": "acme", "rows": rows}
    with Store.open(db) as store:
        stored = store.table("schedules").to_pandas()
        assert len(stored) == rows
        assert set(stored["activity"]) == {"shift", "break", "lunch"}
        assert set(stored["queue"]) == {"sales"}
        _follow(store, shifts)

    query = KpiQuery(metrics=[MetricRequest.of("adherence"), MetricRequest.of("attendance")],
                     period=PeriodSpec.parse("month"), tz=ZoneInfo("UTC"), tenant="acme",
                     start=date(2026, 1, 1), end=date(2026, 1, 31))
    found = {r.metric: r for r in compute(open_tables("duckdb", db), query)}
    # Agents who follow the schedule exactly adhere and attend 100 %; the denominator is
    # the scheduled shift time: 8.5 hours a shift.
    assert found["adherence"].value == 100.0
    assert found["attendance"].value == 100.0
    assert found["attendance"].denominator == len(shifts) * 8.5 * 3600


def test_the_example_rules_schedule_the_example_week(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "schedules"
    runner = CliRunner()
    printed = runner.invoke(get_app(), ["plan", "--from", str(examples / "calls.csv"),
                                        "--sl", "0.8", "--within", "20s", "--shrinkage", "0.1",
                                        "--json"])
    assert printed.exit_code == 0, printed.output
    plan = tmp_path / "plan.json"
    plan.write_text(printed.output, encoding="utf-8")
    result = runner.invoke(get_app(), [
        "schedule", "--plan", str(plan), "--column", "scheduled_agents", "--rules",
        str(examples / "rules.yaml"), "--time-limit", "4", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] in ("OPTIMAL", "FEASIBLE")
    assert data["under_staffing"] >= data["under_staffing_bound"]
    assert {s["start"][:10] for s in data["shifts"]} <= {f"2026-03-0{d}" for d in range(2, 8)}


def test_a_plan_of_several_queues_is_scheduled_one_queue_at_a_time(tmp_path: Path) -> None:
    times = pd.date_range("2026-01-05 08:00", periods=16, freq="30min")
    plan = tmp_path / "plan.csv"
    pd.concat([pd.DataFrame({"interval_start": times, "queue": q, "required_agents": n})
               for q, n in (("sales", 1), ("support", 2))]).to_csv(plan, index=False)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("max_agents: 2\n", ""), encoding="utf-8")
    args = ["schedule", "--plan", str(plan), "--rules", str(rules), "--format", "json"]
    runner = CliRunner()
    both = runner.invoke(get_app(), args)
    assert isinstance(both.exception, InputError)
    assert "holds the queues sales, support" in str(both.exception)
    support = runner.invoke(get_app(), [*args, "--queue", "support"])
    assert support.exit_code == 0, support.output
    assert len(json.loads(support.output)["shifts"]) == 3  # 2 working while one breaks
