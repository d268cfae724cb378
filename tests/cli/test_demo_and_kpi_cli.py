"""``slm demo``, ``slm ingest`` and ``slm kpi`` through the real command line.

Figures of the shipped extract were counted independently with awk over the raw files
(offered = AGENT rows + HANG rows with q_time > 0; met = AGENT rows with q_time <= 20):

    January  offered 14,740 answered 13,093 abandoned 1,647 met 7,275 wait sum 504,041 s
    February offered 16,273 answered 14,405 abandoned 1,868 met 9,163 wait sum 495,609 s
    March    offered 17,731 answered 13,366 abandoned 4,365 met 5,407 wait sum 1,211,096 s
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicelevel.cli import get_app
from servicelevel.sources.anonymous_bank import DEMO_DATA_DIR

runner = CliRunner()

EXPECTED = {
    "1999-01-01T00:00:00+02:00": (14_740, 13_093, 1_647, 7_275, 504_041),
    "1999-02-01T00:00:00+02:00": (16_273, 14_405, 1_868, 9_163, 495_609),
    "1999-03-01T00:00:00+02:00": (17_731, 13_366, 4_365, 5_407, 1_211_096),
}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "servicelevel.duckdb"
    result = runner.invoke(get_app(), ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def test_demo_prints_month_by_month_service_level(tmp_path: Path) -> None:
    db = tmp_path / "servicelevel.duckdb"
    completed = subprocess.run(
        [sys.executable, "-m", "servicelevel", "demo", "--db", str(db)],
        capture_output=True, text=True, check=True,
    )
    out = completed.stdout
    assert "51,257 new contacts" in out
    assert "14,740" in out and "49.36" in out and "38.50" in out  # January
    assert "missed in 3 month(s)" in out
    again = subprocess.run(
        [sys.executable, "-m", "servicelevel", "demo", "--db", str(db)],
        capture_output=True, text=True, check=True,
    )
    assert "0 new contacts, 51,257 already present" in again.stdout


def test_kpi_json_rows_follow_the_contract(demo_db: Path) -> None:
    result = runner.invoke(get_app(), [
        "kpi", "--db", str(demo_db), "--metrics", "offered,answered,abandoned,service_level,asa",
        "--param", "service_level.threshold=20", "--param", "service_level.abandons=negative",
        "--period", "month", "--tz", "Asia/Jerusalem", "--format", "json",
    ])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    by_key = {(r["period_start"], r["metric"]): r for r in rows}
    for start, (offered, answered, abandoned, met, wait_sum) in EXPECTED.items():
        assert by_key[(start, "offered")]["value"] == offered
        assert by_key[(start, "answered")]["value"] == answered
        assert by_key[(start, "abandoned")]["value"] == abandoned
        level = by_key[(start, "service_level")]
        assert (level["numerator"], level["denominator"]) == (met, offered)
        assert level["value"] == pytest.approx(100 * met / offered)
        asa = by_key[(start, "asa")]
        assert (asa["numerator"], asa["denominator"]) == (wait_sum, answered)
    assert set(rows[0]) == {"period_start", "metric", "value"}
    assert set(by_key[(start, "asa")]) == {
        "period_start", "metric", "value", "numerator", "denominator"}


def test_kpi_groups_and_csv(demo_db: Path) -> None:
    result = runner.invoke(get_app(), [
        "kpi", "--db", str(demo_db), "--metrics", "offered", "--period", "day",
        "--by", "service_type", "--from", "1999-01-03", "--to", "1999-01-03",
        "--tz", "Asia/Jerusalem", "--format", "csv",
    ])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "period_start,service_type,metric,value,numerator,denominator"
    total = sum(float(line.split(",")[3]) for line in lines[1:])
    # awk: 1999-01-03 rows with AGENT or HANG q_time>0 in the January extract
    assert total == pytest.approx(_offered_on("990103"))


def _offered_on(day: str) -> int:
    import gzip

    count = 0
    with gzip.open(DEMO_DATA_DIR / "01_January.txt.gz", "rt") as lines:
        next(lines)
        for line in lines:
            fields = line.split()
            if fields[5] != day:
                continue
            if fields[12] == "AGENT" or (fields[12] == "HANG" and int(fields[11]) > 0):
                count += 1
    return count


def test_empty_periods_have_no_value(demo_db: Path) -> None:
    result = runner.invoke(get_app(), [
        "kpi", "--db", str(demo_db), "--metrics", "service_level", "--period", "month",
        "--from", "1999-04-01", "--to", "1999-04-30", "--tz", "Asia/Jerusalem",
        "--format", "json",
    ])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows == [{"period_start": "1999-04-01T00:00:00+02:00", "metric": "service_level",
                     "value": None, "numerator": 0.0, "denominator": 0.0}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metrics", "service_levle"], "did you mean 'service_level'"),
        (["--metrics", "asa", "--period", "fortnight"], "write 15m, 30m, 60m, day, week"),
        (["--metrics", "asa", "--tz", "Mars/Olympus"], "is not an IANA time zone"),
        (["--metrics", "service_level", "--param", "service_level.abandons=sometimes"],
         "is not one of negative, ignored"),
        (["--metrics", "service_level", "--param", "threshold=20"],
         "is not metric.parameter=value"),
        (["--metrics", "asa", "--from", "01/02/1999"], "write YYYY-MM-DD"),
        (["--metrics", "asa", "--by", "color"], "is not a dimension"),
    ],
)
def test_kpi_bad_options_say_what_to_write(demo_db: Path, args: list[str], message: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "servicelevel", "kpi", "--db", str(demo_db), *args],
        capture_output=True, text=True,
    )
    assert completed.returncode == 2
    assert message in " ".join(completed.stderr.split())


def test_kpi_on_a_missing_store_says_how_to_make_one(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "servicelevel", "kpi", "--db", str(tmp_path / "none.duckdb"),
         "--metrics", "asa"], capture_output=True, text=True,
    )
    assert completed.returncode == 2
    assert "no store here" in completed.stderr


def test_ingest_json_summary_and_quarantine(tmp_path: Path) -> None:
    bad = tmp_path / "bank.txt"
    header = ("vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\t"
              "vru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver")
    good = "AA0101\t1\t0\t0\tPS\t990101\t7:41:16\t7:41:26\t10\t7:41:26\t7:41:30\t4\tAGENT\t" \
           "7:41:30\t7:44:53\t203\tBASCH"
    broken = "AA0101\t2\t0\t0\tPS\t991399\t7:41:16\t7:41:26\t10\t7:41:26\t7:41:30\t4\tAGENT\t" \
             "7:41:30\t7:44:53\t203\tBASCH"
    bad.write_text("\n".join([header, good, broken]) + "\n")
    db = tmp_path / "s.duckdb"
    result = runner.invoke(get_app(), ["ingest", "anonymous-bank", str(bad), "--db", str(db),
                                       "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows_read"] == 2
    assert summary["contacts_loaded"] == 1
    assert summary["quarantined"] == 1
    again = json.loads(runner.invoke(get_app(), [
        "ingest", "anonymous-bank", str(bad), "--db", str(db), "--json"]).output)
    assert (again["contacts_loaded"], again["already_present"]) == (0, 1)


def test_slm_db_environment_variable_names_the_store(tmp_path: Path) -> None:
    db = tmp_path / "from-env.duckdb"
    result = runner.invoke(get_app(), ["demo"], env={"SLM_DB": str(db)})
    assert result.exit_code == 0, result.output
    assert db.exists()
