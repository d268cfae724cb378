"""The nine Anonymous Bank months through ``slm kpi``: are the figures plausible against
the published description of that center?

Brown et al. (2005) describe a center where about a fifth of the callers who queued
abandoned. Our figures, PHANTOM calls excluded (2,658 of 318,286 rows; 315,628 contacts):
298,678 offered (254,287 answered, 44,391 abandoned; 16,950 ended in the VRU), abandon
rate 14.86 % overall: 18.7–23.6 % in March, April, May and July (about a fifth, as
published), 6.3–12.9 % in the other months.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from servicelevel.cli import get_app
from servicelevel.store import Store, ingest_paths
from tests.conftest import shared_data


@pytest.fixture(scope="module")
def bank_db(tmp_path_factory):
    files = sorted(shared_data("anonymous_bank").glob("*.txt.gz"))
    assert len(files) == 9, f"expected the nine months in ../shared/data, found {files}"
    path = tmp_path_factory.mktemp("bank") / "bank.duckdb"
    with Store.open(path) as store:
        summary = ingest_paths(store, "anonymous-bank", files, tenant="bank")
    assert summary.total("contacts_loaded") == 315_628
    return path


def _kpi(db, *args):
    result = CliRunner().invoke(get_app(), [
        "kpi", "--db", str(db), "--format", "json", "--tz", "Asia/Jerusalem", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def months(bank_db):
    rows = _kpi(bank_db, "--metrics", "offered,answered,abandoned,abandon_rate",
                "--period", "month")
    return {(r["period_start"][:7], r["metric"]): r for r in rows}


def test_volumes(months):
    total = {m: sum(r["value"] or 0 for (_, key), r in months.items() if key == m)
             for m in ("offered", "answered", "abandoned")}
    assert total == {"offered": 298_678, "answered": 254_287, "abandoned": 44_391}
    assert months[("1999-08", "offered")]["value"] == 0  # August is not in the data


def test_abandon_rate_is_plausible(months):
    rates = {month: r for (month, key), r in months.items() if key == "abandon_rate"}
    abandoned = sum(r["numerator"] for r in rates.values())
    offered = sum(r["denominator"] for r in rates.values())
    overall = 100 * abandoned / offered
    assert round(overall, 2) == 14.86  # 44,391 / 298,678
    assert 10 < overall < 25  # "about a fifth", over the nine months
    busy = [rates[f"1999-0{m}"]["value"] for m in (3, 4, 5, 6, 7)]
    assert [round(v, 1) for v in busy] == [23.6, 19.4, 19.1, 12.9, 18.7]
    assert rates["1999-08"]["value"] is None  # no data: no value, never 0 %
