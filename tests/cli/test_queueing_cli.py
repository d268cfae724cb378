"""``slm staff``, ``plan``, ``cost-curve``, ``simulate``: the real app, and once a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicelevel.cli import get_app
from servicelevel.errors import InputError
from servicelevel.queueing import Targets, erlang_a_performance, required_agents

runner = CliRunner()

STAFF = ["staff", "--calls", "100", "--interval", "30m", "--aht", "180", "--sl", "0.8",
         "--within", "20"]


def run(*args: str) -> tuple[int, str]:
    """Exit code and output; an ``InputError`` counts as exit 2 with its message, as the
    ``slm`` entry point makes it (checked through a real process below)."""
    result = runner.invoke(get_app(), list(args))
    if isinstance(result.exception, InputError):
        return 2, str(result.exception)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_staff_json_contract_matches_the_published_example() -> None:
    code, out = run(*STAFF, "--max-occupancy", "0.85", "--shrinkage", "0.3", "--json")
    assert code == 0, out
    data = json.loads(out)
    for key in ("agents", "scheduled_agents", "traffic", "service_level", "asa",
                "abandon_probability", "occupancy"):
        assert key in data
    assert data["agents"] == 14
    assert data["scheduled_agents"] == 20
    assert data["traffic"] == pytest.approx(10.0)
    assert data["service_level"] == pytest.approx(0.888350019179, rel=1e-9)
    assert data["occupancy"] == pytest.approx(10 / 14)
    assert data["abandon_probability"] == 0.0


def test_staff_durations_in_any_unit_give_the_same_answer() -> None:
    outs = [json.loads(run("staff", "--calls", "100", "--interval", interval, "--aht", aht,
                           "--sl", "0.8", "--within", within, "--json")[1])
            for interval, aht, within in (("30m", "180", "20"), ("1800s", "3m", "20s"),
                                          ("0.5h", "180s", "20s"))]
    assert outs[0] == outs[1] == outs[2]


def test_staff_erlang_a_shows_the_abandon_rate_it_implies() -> None:
    code, out = run(*STAFF, "--model", "erlang_a", "--patience", "2m")
    assert code == 0, out
    agents = int(required_agents(10.0, 180.0, Targets(service_level=0.8, threshold=20.0),
                                 model="erlang_a", patience=120.0))
    implied = float(erlang_a_performance(10.0, agents, 180.0, 20.0,
                                         patience=120.0).abandon_probability)
    assert f"Implied abandon rate: {implied:.1%}" in out
    data = json.loads(run(*STAFF, "--model", "erlang_a", "--patience", "120", "--json")[1])
    assert data["agents"] == agents
    assert data["abandon_probability"] == pytest.approx(implied)


@pytest.mark.parametrize(("extra", "message"), [
    (["--sl", "80"], "--sl"),
    (["--interval", "30x"], "--interval"),
    (["--model", "erlang_x"], "--model"),
    (["--model", "erlang_a"], "--patience"),
    (["--shrinkage", "1.2"], "--shrinkage"),
])
def test_staff_bad_values_exit_2_with_a_message_naming_the_option(
    extra: list[str], message: str
) -> None:
    args = [*STAFF]
    for i in range(0, len(extra), 2):
        if extra[i] in args:
            args[args.index(extra[i]) + 1] = extra[i + 1]
        else:
            args += extra[i:i + 2]
    code, out = run(*args)
    assert code == 2
    assert message in out


def test_plan_from_csv(tmp_path: Path) -> None:
    table = tmp_path / "forecast.csv"
    table.write_text("start,calls,aht\n08:00,100,180\n08:30,200,180\n09:00,0,180\n")
    code, out = run("plan", "--from", str(table), "--interval", "30m", "--sl", "0.8",
                    "--within", "20s", "--shrinkage", "0.3", "--cost-per-hour", "20", "--json")
    assert code == 0, out
    rows = json.loads(out)
    assert [r["start"] for r in rows] == ["08:00", "08:30", "09:00"]
    assert rows[0]["agents"] == 14
    assert rows[2]["agents"] == 0
    assert rows[0]["fte_hours"] == pytest.approx(10.0)
    assert rows[0]["cost"] == pytest.approx(200.0)


def test_plan_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    table = tmp_path / "bad.csv"
    table.write_text("start,volume\n08:00,100\n")
    code, out = run("plan", "--from", str(table), "--sl", "0.8")
    assert code == 2
    assert "calls" in out


def test_cost_curve_costs_rise_with_the_target() -> None:
    code, out = run("cost-curve", "--calls", "100", "--interval", "30m", "--aht", "180",
                    "--within", "20", "--sl-from", "0.5", "--sl-to", "0.95", "--step", "0.05",
                    "--json")
    assert code == 0, out
    rows = json.loads(out)
    costs = [r["cost"] for r in rows]
    assert len(rows) == 10
    assert costs == sorted(costs)


def test_simulate_sets_simulation_beside_formula() -> None:
    code, out = run("simulate", "--calls", "100", "--interval", "30m", "--aht", "180",
                    "--agents", "14", "--intervals", "20", "--seed", "7", "--json")
    assert code == 0, out
    rows = {r["measure"]: r for r in json.loads(out)}
    assert rows["service_level"]["formula"] == pytest.approx(0.888350019179)
    assert 0.7 < rows["service_level"]["simulated"] <= 1.0
    again = json.loads(run("simulate", "--calls", "100", "--interval", "30m", "--aht", "180",
                           "--agents", "14", "--intervals", "20", "--seed", "7", "--json")[1])
    assert {r["measure"]: r for r in again} == rows


def test_real_slm_process() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from servicelevel.cli import main; main()", *STAFF, "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["agents"] == 14
    bad = subprocess.run(
        [sys.executable, "-c", "from servicelevel.cli import main; main()", *STAFF,
         "--within", "soon"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert bad.returncode == 2
    assert "--within" in bad.stderr
