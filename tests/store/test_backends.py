"""Engines and sources: the store file and the Parquet lake, on DuckDB and on Spark."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from servicelevel.cli import get_app
from servicelevel.errors import InputError, StoreError
from servicelevel.metrics import KpiQuery, MetricRequest, PeriodSpec, compute
from servicelevel.model.tables import CANONICAL_TABLES
from servicelevel.store.backends import (
    duckdb_tables,
    open_tables,
    spark_session,
    spark_tables,
)
from servicelevel.store.catalog import Store
from servicelevel.store.lake import MARKER, export_lake
from tests.metrics.test_engines import SMALL_SPARK, assert_same_rows, generate

EFFICIENCY = ["service_level", "offered", "answered", "abandoned", "asa", "awt",
              "average_time_to_abandon", "longest_wait", "abandon_rate", "aht"]


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with rows in every canonical table but ``costs`` (left empty on purpose)."""
    path = tmp_path_factory.mktemp("backends") / "store.duckdb"
    rng = np.random.default_rng(11)
    with Store.open(path) as store, store.transaction():
        for name in CANONICAL_TABLES:
            if name != "costs":
                store.upsert(name, generate(name, 400, rng))
    return path


@pytest.fixture(scope="module")
def lake(store_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lake") / "lake"
    export_lake(store_file, folder)
    return folder


def _rows(tables: Any, name: str) -> pa.Table:
    table = tables(name).to_pyarrow()
    key = [(k, "ascending") for k in CANONICAL_TABLES[name].key]
    return table.sort_by(key)


def test_an_unknown_engine_names_the_known_ones(store_file: Path) -> None:
    with pytest.raises(InputError, match=r"--engine: 'trino' is not available; .*duckdb, spark"):
        open_tables("trino", store_file)


def test_the_lake_is_partitioned_by_tenant_and_date(lake: Path) -> None:
    assert (lake / MARKER).exists()
    partitions = {p.relative_to(lake / "contacts").parts[:2]
                  for p in (lake / "contacts").rglob("*.parquet")}
    tenants = {tenant for tenant, _ in partitions}
    assert tenants == {"tenant=acme", "tenant=globex", "tenant=007"}
    assert all(day.startswith("date=2024-") for _, day in partitions)
    # The roster has no instant: by tenant only.
    assert all(len(p.relative_to(lake / "agents").parts) == 2
               for p in (lake / "agents").rglob("*.parquet"))


def test_duckdb_reads_the_lake_as_the_store(store_file: Path, lake: Path) -> None:
    from_store, from_lake = duckdb_tables(store_file), duckdb_tables(lake)
    for name, table in CANONICAL_TABLES.items():
        got, want = _rows(from_lake, name), _rows(from_store, name)
        assert got.column_names == table.schema.names, name
        assert got.num_rows == want.num_rows, name
        assert got.to_pylist() == want.to_pylist(), name  # the lake keeps no NOT NULL
    assert _rows(from_lake, "costs").num_rows == 0
    # A tenant that looks like a number stays text.
    tenants = set(_rows(from_lake, "contacts").column("tenant").to_pylist())
    assert "007" in tenants


def test_metrics_agree_on_store_and_lake_and_both_engines(store_file: Path, lake: Path) -> None:
    query = KpiQuery(metrics=[MetricRequest.of(k) for k in EFFICIENCY],
                     period=PeriodSpec.parse("day"), tz=ZoneInfo("Europe/Paris"),
                     by=["tenant", "queue"], start=date(2024, 3, 25), end=date(2024, 4, 2))
    expected = compute(duckdb_tables(store_file), query)
    assert any(r.value for r in expected)
    assert_same_rows(expected, compute(duckdb_tables(lake), query), "duckdb lake")
    assert {dict(r.group)["tenant"] for r in expected} == {"acme", "globex", "007"}


@pytest.mark.spark
def test_spark_reads_the_lake_and_the_store(store_file: Path, lake: Path) -> None:
    session = spark_session("local[2]", SMALL_SPARK)
    query = KpiQuery(metrics=[MetricRequest.of(k) for k in EFFICIENCY],
                     period=PeriodSpec.parse("week"), tz=ZoneInfo("America/New_York"),
                     by=["tenant"], tenant="007", start=date(2024, 3, 1),
                     end=date(2024, 11, 30))
    expected = compute(duckdb_tables(store_file), query)
    assert any(r.value for r in expected)
    assert_same_rows(expected, compute(spark_tables(session, lake), query), "spark lake")
    lake_tables = spark_tables(session, lake)
    assert lake_tables("costs").to_pyarrow().num_rows == 0
    assert lake_tables("contacts").to_pyarrow().column_names == \
        CANONICAL_TABLES["contacts"].schema.names


def test_exporting_again_replaces_the_tables(store_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "lake"
    first = export_lake(store_file, folder)
    stale = folder / "contacts" / "tenant=gone" / "date=2020-01-01"
    stale.mkdir(parents=True)
    (stale / "data_0.parquet").write_bytes(b"")
    second = export_lake(store_file, folder)
    assert first == second
    assert not stale.exists()
    assert sum(t.rows for t in second) == sum(
        _rows(duckdb_tables(store_file), name).num_rows for name in CANONICAL_TABLES)


def test_a_folder_of_other_files_is_refused(store_file: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(StoreError, match="holds other files"):
        export_lake(store_file, tmp_path)
    with pytest.raises(StoreError, match="not a lake"):
        duckdb_tables(tmp_path)("contacts")


def test_slm_export_lake_then_kpi_on_the_lake(store_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "lake"
    done = runner.invoke(get_app(), ["export-lake", "--db", str(store_file), "--to", str(folder)])
    assert done.exit_code == 0, done.output
    assert "contacts: 400 rows" in done.output
    kpi = ["kpi", "--metrics", "offered,service_level", "--period", "month", "--format", "csv"]
    on_store = runner.invoke(get_app(), [*kpi, "--db", str(store_file)])
    on_lake = runner.invoke(get_app(), [*kpi, "--db", str(folder)])
    assert on_store.exit_code == 0 and on_lake.exit_code == 0, on_store.output + on_lake.output
    assert on_lake.output == on_store.output
