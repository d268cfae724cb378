"""``slm forecast`` on the shipped demo data: rows in ``forecasts``, WAPE against actuals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicelevel.cli import get_app
from servicelevel.planning.forecasting import MODELS
from servicelevel.store import Store

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
