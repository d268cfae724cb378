"""``slm ingest``: load files of one input format into the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from servicelevel.cli import console
from servicelevel.cli.options import DbOption, JsonOption, TenantOption, TzOption, db_path
from servicelevel.errors import InputError
from servicelevel.sources import formats
from servicelevel.store import IngestSummary, Store, ingest_paths


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"{path}: cannot read the mapping file ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(loaded, dict):
        raise InputError(f"{path}: a mapping file is a YAML mapping of settings, not {loaded!r}")
    return {"mapping": loaded, "mapping_path": str(path)}


def ingest(
    format_name: Annotated[str, typer.Argument(metavar="FORMAT", help="Input format.")],
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="Files to load.")],
    db: DbOption = None,
    tenant: TenantOption = None,
    tz: TzOption = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="Mapping file (mapped-csv).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Load files into the store: idempotent, incremental, one transaction per load."""
    options = _read_mapping(mapping) if mapping else {}
    with Store.open(db_path(db)) as store, _progress(as_json) as progress:
        task = progress.add_task("ingest", total=len(paths), what="")

        def report(path: str, step: str, done: float, total: int) -> None:
            progress.update(task, completed=done, what=f"{step} {Path(path).name}")

        summary = ingest_paths(
            store, format_name, paths, tenant=tenant or "default", tz=tz, options=options,
            progress=report,
        )
    if as_json:
        console.print_json(json.dumps(summary.to_dict()))
    else:
        console.print(_summary_table(summary))


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[what]}"),
        console=console,
        transient=True,
        disable=quiet,
    )


def _summary_table(summary: IngestSummary) -> Table:
    table = Table(title=f"ingest {summary.format} → tenant {summary.tenant}")
    headers = ("file", "status", "rows read", "contacts loaded", "updated",
               "already present", "quarantined", "excluded")
    for header in headers:
        table.add_column(header, justify="left" if header in ("file", "status") else "right")
    for f in summary.files:
        table.add_row(
            Path(f.path).name, f.status, f"{f.rows_read:,}", f"{f.contacts_loaded:,}",
            f"{f.contacts_updated:,}", f"{f.already_present:,}", f"{f.quarantined:,}",
            f"{f.excluded:,}",
        )
    if len(summary.files) > 1:
        table.add_row(
            "total", "", *(f"{summary.total(n):,}" for n in (
                "rows_read", "contacts_loaded", "contacts_updated", "already_present",
                "quarantined", "excluded")),
            style="bold",
        )
    return table


def register(app: typer.Typer) -> None:
    names = ", ".join(sorted(formats()))
    app.command(help=f"Load files into the store. FORMAT is one of: {names}.")(ingest)
