"""``slm forecast`` on the shipped demo data (rows in ``forecasts``, WAPE against actuals,
required agents and the staffing plan), and intraday re-forecasts on stores built here."""

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
from servicelevel.model.tables import CANONICAL_TABLES
from servicelevel.planning import staff
from servicelevel.planning.forecasting import MODELS
from servicelevel.queueing import Targets
from servicelevel.store import Store
from tests.metrics.helpers import at, contact, row

runner = CliRunner()
BANK = ["--tenant", "anonymous-bank", "--tz", "Asia/Jerusalem"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("forecast") / "servicelevel.duckdb"
    result = runner.invoke(get_app(), ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def test_forecast_stores_a_week_of_30_minute_intervals(demo_db: Path) -> None:
    result = runner.invoke(get_app(), [
        "forecast", "--db", str(demo_db), "--queue", "bank", "--horizon", "7d",
        "--interval", "30m", "--to", "1999-03-07", "--holidays", "IL", "--format", "json",
        *BANK,
    ])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    (summary,) = printed["models"]
    assert summary["model"] in MODELS and summary["baseline_wape"] is not None
    assert len(printed["forecast"]) == 7 * 48
    assert printed["forecast"][0]["interval_start"] == "1999-03-08T00:00:00+02:00"

    with Store.open(demo_db, read_only=True) as store:
        rows = store.table("forecasts").to_pylist()
    assert len(rows) == 7 * 48
    assert {(r["tenant"], r["queue"], r["interval_s"], r["model"]) for r in rows} == {
        ("anonymous-bank", "bank", 1800, summary["model"])}
    assert all(r["backtest_wape"] == summary["backtest_wape"] for r in rows)
    assert all(r["contacts"] >= 0 and r["created_at"] is not None for r in rows)

    # The forecast week is in the data: its accuracy can be measured.
    kpi = runner.invoke(get_app(), [
        "kpi", "--db", str(demo_db), "--metrics", "wape", "--period", "week",
        "--from", "1999-03-08", "--to", "1999-03-14", "--format", "json", *BANK,
    ])
    assert kpi.exit_code == 0, kpi.output
    values = [row["value"] for row in json.loads(kpi.output) if row["value"] is not None]
    assert values and all(0 <= v < 100 for v in values)


def test_forecast_of_an_unknown_queue_says_so(demo_db: Path) -> None:
    result = runner.invoke(get_app(), ["forecast", "--db", str(demo_db), "--queue", "nope",
                                       "--horizon", "1d", *BANK])
    assert result.exit_code != 0
    assert "nope" in str(result.exception)


# Intraday re-forecast on a store built here: a forecast of 10 contacts an hour from 08:00
# to 17:00 on Monday 23 November 2026 (UTC), and a day running 30% above it.
DAY = "2026-11-23"
ACME = ["--tenant", "acme", "--queue", "q1", "--interval", "60m", "--tz", "UTC"]


def _forecast_row(hour: int, contacts: float, model: str, made: str) -> dict[str, object]:
    return row("forecasts", queue="q1", interval_start=at(f"{DAY} {hour:02d}:00"),
               interval_s=3600, contacts=contacts, aht_s=180.0, model=model,
               created_at=at(made))


def _store(path: Path, forecasts: list[dict[str, object]],
           contacts: list[dict[str, object]]) -> Path:
    with Store.open(path) as store:
        for name, rows in (("forecasts", forecasts), ("contacts", contacts)):
            if rows:
                schema = CANONICAL_TABLES[name].schema
                store.upsert(name, pa.Table.from_pylist(rows, schema=schema))
    return path


def _so_far() -> list[dict[str, object]]:
    """13 contacts in each of 08:00, 09:00 and 10:00; one at 11:10, in a running interval."""
    return [contact(f"c{h}-{i}", f"{DAY} {h:02d}:{i * 4:02d}") for h in (8, 9, 10)
            for i in range(13)] + [contact("late", f"{DAY} 11:10")]


@pytest.fixture
def running_hot(tmp_path: Path) -> Path:
    forecasts = [_forecast_row(h, 10.0, "seasonal_average", "2026-11-22 18:00")
                 for h in range(8, 17)]
    # An older forecast by another model: the latest made is the one adjusted.
    forecasts += [_forecast_row(h, 50.0, "mstl", "2026-11-20 18:00") for h in range(8, 17)]
    return _store(tmp_path / "s.duckdb", forecasts, _so_far())


def _intraday(db: Path, *options: str) -> dict[str, Any]:
    result = runner.invoke(get_app(), ["forecast", "--db", str(db), *ACME, "--intraday",
                                       "--as-of", f"{DAY}T11:00", "--format", "json",
                                       *options])
    assert result.exit_code == 0, result.output
    printed: dict[str, Any] = json.loads(result.output)
    return printed


def _stored(db: Path, model: str) -> list[dict[str, Any]]:
    with Store.open(db, read_only=True) as store:
        rows = store.table("forecasts").to_pylist()
    return sorted((r for r in rows if r["model"] == model), key=lambda r: r["interval_start"])


def test_intraday_raises_the_rest_of_a_day_running_hot(running_hot: Path) -> None:
    printed = _intraday(running_hot)
    # 39 offered against 30 forecast in the three elapsed open hours: ratio 1.3;
    # factor 1 + 0.5 × (1.3 − 1) = 1.15, so 10 an hour becomes 11.5.
    assert printed["model"] == "intraday:seasonal_average"
    assert printed["elapsed"] == 11  # 00:00 to 10:00; 11:00 is still running
    assert printed["factor"] == pytest.approx(1.15)
    by_hour = {r["interval_start"][11:13]: r for r in printed["intervals"]}
    assert len(by_hour) == 24
    assert by_hour["09"] == {"interval_start": f"{DAY}T09:00:00+00:00", "queue": "q1",
                             "actual": 13.0, "original": 10.0, "adjusted": 13.0,
                             "aht_s": 180.0}
    assert by_hour["07"]["actual"] == 0.0 and by_hour["07"]["adjusted"] == 0.0
    assert by_hour["11"]["actual"] is None  # the contact at 11:10 is not counted yet
    assert [by_hour[f"{h:02d}"]["adjusted"] for h in range(11, 17)] == [11.5] * 6
    assert by_hour["17"]["adjusted"] == 0.0

    stored = _stored(running_hot, "intraday:seasonal_average")
    assert [r["interval_start"].hour for r in stored] == list(range(11, 17))  # rest of day
    assert [r["contacts"] for r in stored] == [11.5] * 6
    assert all(r["backtest_wape"] is None and r["required_agents"] is None for r in stored)
    # The forecasts stored before are untouched.
    assert [r["contacts"] for r in _stored(running_hot, "seasonal_average")] == [10.0] * 9


def test_intraday_damping_and_bounds(running_hot: Path) -> None:
    assert _intraday(running_hot, "--damping", "1")["factor"] == pytest.approx(1.3)
    capped = _intraday(running_hot, "--damping", "1", "--bounds", "0.5,1.2")
    assert capped["factor"] == pytest.approx(1.2)
    assert [r["contacts"] for r in _stored(running_hot, "intraday:seasonal_average")] == [
        pytest.approx(12.0)] * 6  # the later run replaces the earlier one


def test_intraday_staffs_the_rest_of_the_day(running_hot: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.csv"
    printed = _intraday(running_hot, "--sl", "0.8", "--within", "20s", "--plan-out", str(plan))
    # 11.5 contacts an hour of 180 s is 0.575 erlang: 2 agents answer 80% within 20 s.
    expected = staff(11.5, 3600, 180, Targets(service_level=0.8, threshold=20)).agents
    assert expected == 2
    eleven = next(r for r in printed["intervals"] if r["interval_start"].startswith(f"{DAY}T11"))
    assert eleven["required_agents"] == expected
    stored = _stored(running_hot, "intraday:seasonal_average")
    assert [r["required_agents"] for r in stored] == [expected] * 6
    written = pd.read_csv(plan)
    assert list(written.columns) == PLAN_COLUMNS
    assert list(written["required_agents"]) == [expected] * 6
    assert written["interval_start"].iloc[0] == f"{DAY}T11:00:00"


def test_intraday_without_a_stored_forecast_fits_one(tmp_path: Path) -> None:
    # Three weeks of 10 contacts an hour, 08:00 to 17:00, then today as above.
    weeks = [contact(f"h{d}-{h}-{i}", f"{date(2026, 11, 2) + timedelta(days=d)} "
                     f"{h:02d}:{i * 6:02d}")
             for d in range(21) for h in range(8, 17) for i in range(10)]
    db = _store(tmp_path / "s.duckdb", [], weeks + _so_far())
    printed = _intraday(db, "--history-weeks", "3")
    assert printed["model"].startswith("intraday:")
    assert printed["model"].removeprefix("intraday:") in MODELS
    noon = next(r for r in printed["intervals"] if r["interval_start"].startswith(f"{DAY}T12"))
    assert noon["original"] == pytest.approx(10.0, abs=0.5)
    assert printed["factor"] == pytest.approx(1.15, abs=0.03)
    assert noon["adjusted"] == pytest.approx(noon["original"] * printed["factor"])


def test_intraday_rejects_a_bad_time(running_hot: Path) -> None:
    result = runner.invoke(get_app(), ["forecast", "--db", str(running_hot), *ACME,
                                       "--intraday", "--as-of", "eleven"])
    assert result.exit_code != 0
    assert "--as-of" in str(result.exception)


PLAN_COLUMNS = ["interval_start", "queue", "contacts", "aht_s", "required_agents"]


def test_forecast_staffs_each_interval_and_writes_a_plan(demo_db: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.csv"
    result = runner.invoke(get_app(), [
        "forecast", "--db", str(demo_db), "--queue", "bank", "--horizon", "1d",
        "--interval", "30m", "--to", "1999-03-07", "--format", "json", "--sl", "0.8",
        "--within", "20s", "--shrinkage", "0.3", "--plan-out", str(plan), *BANK,
    ])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)["forecast"]
    assert len(printed) == 48

    # The plan is what slm schedule reads: interval_start, required_agents (and more).
    written = pd.read_csv(plan)
    assert list(written.columns) == PLAN_COLUMNS
    starts = pd.to_datetime(written["interval_start"])
    assert starts.iloc[0] == pd.Timestamp("1999-03-08 00:00")  # local wall-clock time
    assert not starts.duplicated().any()
    assert ((starts - starts.iloc[0]) % pd.Timedelta(minutes=30) == pd.Timedelta(0)).all()
    assert (written["required_agents"] >= 0).all()
    assert written["required_agents"].dtype.kind == "i"
    assert list(written["required_agents"]) == [r["required_agents"] for r in printed]

    # Each interval's agents are staff()'s scheduled agents for its contacts and AHT.
    busy = written.loc[written["contacts"].idxmax()]
    expected = staff(busy["contacts"], 1800, busy["aht_s"],
                     Targets(service_level=0.8, threshold=20), shrinkage=0.3)
    assert busy["required_agents"] == expected.scheduled_agents > expected.agents > 0
    assert (written.loc[written["contacts"] == 0, "required_agents"] == 0).all()

    with Store.open(demo_db, read_only=True) as store:
        rows = store.table("forecasts").to_pylist()
    stored = {pd.Timestamp(r["interval_start"]): r["required_agents"] for r in rows}
    instants = starts.dt.tz_localize("Asia/Jerusalem").dt.tz_convert("UTC")
    assert [stored[t] for t in instants] == [float(v) for v in written["required_agents"]]


def test_a_plan_needs_a_target(demo_db: Path, tmp_path: Path) -> None:
    result = runner.invoke(get_app(), ["forecast", "--db", str(demo_db), "--queue", "bank",
                                       "--horizon", "1d", "--plan-out",
                                       str(tmp_path / "p.csv"), *BANK])
    assert result.exit_code != 0
    assert "--plan-out" in str(result.exception)
