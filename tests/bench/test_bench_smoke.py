"""The metric benchmark runs end to end on a small store, so it cannot rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_metrics.py"


def test_bench_metrics_runs_small_and_all_three_agree(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--rows", "20000", "--repeat", "1",
         "--db", str(tmp_path / "bench.duckdb")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "differences: 0" in done.stdout, done.stdout
    assert "slm kpi end to end" in done.stdout, done.stdout
    compared = re.search(r"figures compared: ([\d,]+)", done.stdout)
    assert compared is not None and int(compared.group(1).replace(",", "")) > 0, done.stdout


@pytest.mark.parametrize("mix", ["ringing", "dense"])
def test_bench_ingest_runs_small_and_both_sides_store_the_same_rows(mix: str) -> None:
    bench = BENCH.parent / "bench_ingest_queue_log.py"
    done = subprocess.run(
        [sys.executable, str(bench), "--lines", "20000", "--runs", "1", "--mix", mix],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr  # it asserts equal row counts
    assert "ratio end to end" in done.stdout, done.stdout
