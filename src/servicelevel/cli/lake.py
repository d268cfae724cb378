"""``slm export-lake``: the store's canonical tables as a Parquet lake."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from servicelevel.cli import console
from servicelevel.cli.options import DbOption, db_path


def export_lake(
    to: Annotated[Path, typer.Option("--to", help="Lake folder (empty, new, or a lake).")],
    db: DbOption = None,
) -> None:
    """Write every canonical table as Parquet, partitioned by tenant and date."""
    from servicelevel.store.lake import export_lake as write

    for table in write(db_path(db), to):
        console.print(f"{table.table}: {table.rows:,} rows in {table.files:,} files")
    console.print(f"lake: {to} (read it with slm kpi --db {to} [--engine spark])")


def register(app: typer.Typer) -> None:
    app.command("export-lake")(export_lake)
