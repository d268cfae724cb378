"""``slm demo``: real call-center data in, service level per month out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from servicelevel.cli import console
from servicelevel.cli.kpi import pivot_table
from servicelevel.cli.options import DbOption, db_path
from servicelevel.errors import InputError
from servicelevel.metrics import KpiQuery, MetricRequest, PeriodSpec, compute
from servicelevel.model.time import zone
from servicelevel.sources.anonymous_bank import DEMO_DATA_DIR
from servicelevel.store import Store, ingest_paths
from servicelevel.store.backends import open_tables

DEMO_TENANT = "anonymous-bank"
DEMO_TZ = "Asia/Jerusalem"
SERVICE_LEVEL_TARGET = 80.0  # % answered within 20 s: the classic 80/20 objective


def demo_requests() -> list[MetricRequest]:
    return [
        MetricRequest.of("offered"),
        MetricRequest.of("answered"),
        MetricRequest.of("abandoned"),
        MetricRequest.of("service_level", {"threshold": "20s", "abandons": "negative"}),
        MetricRequest.of("asa"),
    ]


def demo(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Folder of Anonymous Bank files (*.txt or *.txt.gz) "
                                    "[default: the extract shipped with servicelevel]."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Load the Anonymous Bank call-center data and show service level per month."""
    folder = data or DEMO_DATA_DIR
    files = sorted(p for p in folder.glob("*.txt*") if p.is_file())
    if not files:
        raise InputError(f"--data: {folder} holds no *.txt or *.txt.gz files of the bank data")
    store_path = db_path(db)
    with Store.open(store_path) as store:
        summary = ingest_paths(store, "anonymous-bank", files, tenant=DEMO_TENANT)
    console.print(
        f"Loaded {len(files)} file(s) from {folder} into {store_path}: "
        f"{summary.total('contacts_loaded'):,} new contacts, "
        f"{summary.total('already_present'):,} already present, "
        f"{summary.total('excluded'):,} excluded (PHANTOM), "
        f"{summary.total('quarantined'):,} quarantined."
    )
    query = KpiQuery(
        metrics=demo_requests(), period=PeriodSpec.parse("month"), tz=zone(DEMO_TZ),
        tenant=DEMO_TENANT,
    )
    rows = compute(open_tables("duckdb", store_path), query)
    console.print(pivot_table(rows, title="Anonymous Bank call center, 1999 — per month"))
    missed = [
        r.period_start.strftime("%Y-%m") for r in rows
        if r.metric == "service_level" and r.value is not None and r.value < SERVICE_LEVEL_TARGET
    ]
    console.print(
        f"Service level = answered within 20 s ÷ offered (abandons count against). "
        f"Target {SERVICE_LEVEL_TARGET:.0f}%: missed in {len(missed)} month(s)"
        + (f" ({', '.join(missed)})." if missed else ".")
    )


def register(app: typer.Typer) -> None:
    app.command()(demo)
