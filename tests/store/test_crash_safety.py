"""A load killed with SIGKILL leaves the store as it was; re-running gives the same rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from servicelevel.store import Store
from tests.conftest import shared_data

KILL_AFTER_SECONDS = (1.0, 2.0, 3.0, 4.5)


def _ingest_command(db: Path, files: list[Path]) -> list[str]:
    return [sys.executable, "-m", "servicelevel", "ingest", "anonymous-bank",
            *map(str, files), "--db", str(db), "--json"]


def _contacts(db: Path) -> pa.Table:
    with Store.open(db) as store:
        return store.table("contacts")


@pytest.fixture(scope="module")
def bank_files() -> list[Path]:
    return sorted(shared_data("anonymous_bank").glob("*.txt.gz"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, bank_files: list[Path]) -> pa.Table:
    db = tmp_path_factory.mktemp("reference") / "store.duckdb"
    subprocess.run(_ingest_command(db, bank_files), check=True, capture_output=True)
    return _contacts(db)


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", KILL_AFTER_SECONDS)
def test_sigkill_mid_load_then_rerun_gives_exactly_the_same_contacts(
    tmp_path: Path, bank_files: list[Path], reference: pa.Table, kill_after: float
) -> None:
    db = tmp_path / "store.duckdb"
    process = subprocess.Popen(_ingest_command(db, bank_files), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    killed_mid_load = process.poll() is None
    if killed_mid_load:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if kill_after <= 2.0:
        assert killed_mid_load, "the load finished before the kill: use more data"

    after_kill = _contacts(db) if db.exists() else reference.schema.empty_table()
    # One transaction per load: all of it or none of it, never a part.
    assert after_kill.num_rows in (0, reference.num_rows)

    subprocess.run(_ingest_command(db, bank_files), check=True, capture_output=True)
    assert _contacts(db).equals(reference)
    with Store.open(db) as store:
        ledger_reads = store.count("ingest_ledger")
    assert ledger_reads == len(bank_files)  # every file read once, none twice
