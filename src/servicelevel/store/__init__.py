"""The store: canonical tables in one DuckDB file, and safe ingest into it."""

from servicelevel.store.catalog import Store, UpsertCounts
from servicelevel.store.ingest import FileSummary, IngestSummary, ingest_paths

__all__ = ["FileSummary", "IngestSummary", "Store", "UpsertCounts", "ingest_paths"]
