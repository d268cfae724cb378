"""``slm contract validate|schema``, ``slm check`` and ``slm scorecard`` on the real data.

The full Anonymous Bank data (nine months of 1999, August missing) is ingested once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicelevel.cli import get_app
from servicelevel.store import Store, ingest_paths
from tests.conftest import REPO_ROOT, shared_data

runner = CliRunner()
BANK = REPO_ROOT / "examples" / "contracts" / "anonymous_bank.yaml"
MONTHS = [f"1999-{m:02d}" for m in range(1, 11)]


@pytest.fixture(scope="module")
def bank_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = sorted(shared_data("anonymous_bank").glob("*.txt.gz"))
    assert len(files) == 9
    db = tmp_path_factory.mktemp("bank") / "bank.duckdb"
    with Store.open(db) as store:
        ingest_paths(store, "anonymous-bank", files, tenant="anonymous-bank")
    return db


@pytest.fixture(scope="module")
def bank_check(bank_db: Path) -> tuple[int, dict[str, object]]:
    result = runner.invoke(get_app(), ["check", str(BANK), "--db", str(bank_db),
                                       "--period", "1999-01..1999-10", "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def test_every_month_has_a_verdict_and_the_consequences_add_up(
        bank_check: tuple[int, dict[str, object]]) -> None:
    exit_code, report = bank_check
    assert exit_code == 1  # objectives are missed
    results = report["results"]
    assert isinstance(results, list)
    for objective in ("service-level", "abandon-rate", "asa"):
        periods = [r["period"] for r in results if r["objective"] == objective]
        assert periods == MONTHS
    verdicts = {(r["period"], r["objective"]): r["verdict"] for r in results}
    assert verdicts[("1999-08", "service-level")] == "insufficient data"  # no August file
    assert verdicts[("1999-10", "asa")] == "met"
    assert verdicts[("1999-03", "service-level")] == "missed"
    total = sum(r["consequence"] for r in results)
    assert round(total, 2) == report["total_consequences"]
    assert report["total_consequences"] > 0
    assert all(r["contract_sha256"] == report["sha256"] for r in results)
    assert all(r["version"] == "1.0" for r in results)


def test_month_caps_hold(bank_check: tuple[int, dict[str, object]]) -> None:
    _, report = bank_check
    results = report["results"]
    assert isinstance(results, list)
    for month in MONTHS:
        owed = sum(r["consequence"] for r in results if r["period"] == month)
        assert owed <= 0.12 * 250_000 + 0.01  # cap_fee_percent 12 of the monthly fee


def test_table_output_prints_the_total_as_the_sum_of_rows(bank_db: Path) -> None:
    result = runner.invoke(get_app(), ["check", str(BANK), "--db", str(bank_db),
                                       "--period", "1999-10"])
    assert result.exit_code == 1, result.output
    # October 1999: service level 71.44 % missed by 8.56 points (tier over 5: 4 % of
    # 250,000 = 10,000); abandon rate 6.32 % and ASA 23.25 s met
    assert "10,000.00" in result.stdout
    match = re.search(r"Total consequences: ([\d,.]+) ILS", result.stdout)
    assert match and match.group(1) == "10,000.00"
    assert "sha256" in result.stdout


def test_exit_status_zero_when_all_met(bank_db: Path, tmp_path: Path) -> None:
    lenient = tmp_path / "lenient.yaml"
    text = BANK.read_text().replace("target: 80\n", "target: 50\n")
    lenient.write_text(text)
    result = runner.invoke(get_app(), ["check", str(lenient), "--db", str(bank_db),
                                       "--period", "1999-10"])
    assert result.exit_code == 0, result.output


def test_invalid_contract_exits_2_with_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BANK.read_text().replace("threshold: 20s", "threshold: 20 sec")
                   .replace("metric: asa", "metric: asaa"))
    result = runner.invoke(get_app(), ["contract", "validate", str(bad)])
    assert result.exit_code == 2
    assert f'{bad}:33:25: objectives[0].params.threshold: "20 sec" is not a duration' \
        in result.stderr
    assert "did you mean 'asa'?" in result.stderr
    assert "2 problem(s)" in result.stderr


def test_validate_and_schema() -> None:
    result = runner.invoke(get_app(), ["contract", "validate", str(BANK)])
    assert result.exit_code == 0, result.output
    assert "valid contract 'anonymous-bank-voice'" in result.stdout
    schema = runner.invoke(get_app(), ["contract", "schema"])
    assert json.loads(schema.stdout)["title"] == "Contract"


def test_scorecards(bank_db: Path) -> None:
    result = runner.invoke(get_app(), ["scorecard", "--role", "ops_manager", "--contract",
                                       str(BANK), "--db", str(bank_db), "--period", "1999-10",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = json.loads(result.stdout)
    assert [(line["kpi"], line["verdict"]) for line in lines] == [
        ("80% of calls answered within 20 seconds", "missed"),
        ("At most 10% of calls abandoned", "met"),
        ("Average speed of answer at most 30 seconds", "met"),
    ]
    agents = runner.invoke(get_app(), ["scorecard", "--role", "agent", "--contract",
                                       str(BANK), "--db", str(bank_db), "--period", "1999-10",
                                       "--format", "json"])
    assert agents.exit_code == 0, agents.output
    people = {line["who"] for line in json.loads(agents.stdout)}
    assert len(people) > 5
    one = sorted(people)[0]
    only = runner.invoke(get_app(), ["scorecard", "--role", "agent", "--contract", str(BANK),
                                     "--db", str(bank_db), "--period", "1999-10", "--who", one,
                                     "--format", "json"])
    assert {line["who"] for line in json.loads(only.stdout)} == {one}
