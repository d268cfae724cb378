"""Ingest: read files, hand their new part to an adapter, store the result safely.

Safe means:

- **idempotent**: the ledger records which bytes of which file were read, with a hash of
  the content. Bytes already read are never read again, whatever the file is now called
  (a rotated log keeps its content);
- **incremental**: for an append-only log that has grown, only the new complete lines are
  read, and calls left open by the earlier read are completed (the adapter's carry);
- **atomic**: one transaction per load. A crash or kill leaves the store as it was before
  the load; re-running it then gives exactly the same rows;
- **forgiving**: a malformed line is quarantined with file, line and reason; the rest loads.
"""

from __future__ import annotations

import gzip
import hashlib
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from servicelevel.errors import SourceFormatError
from servicelevel.model.tables import CANONICAL_TABLES, CONTACTS
from servicelevel.model.time import zone
from servicelevel.sources import SourceChunk, SourceFormat, get_format
from servicelevel.store.catalog import AppendLog, Store

_HEAD_BYTES = 4096
#: A larger read of an append-only log is parsed and stored in pieces of about this size.
PIECE_BYTES = 96 * 2**20
#: DuckDB's rows per row group.
_ROW_GROUP_ROWS = 122_880

#: Called as (path, step, files_done, files_total) while a load runs; files_done counts
#: the part of a large file already read as a fraction.
ProgressCallback = Callable[[str, str, float, int], None]


@dataclass
class FileSummary:
    """What one file gave in one load."""

    path: str
    status: str  # new, grown, changed, unchanged
    rows_read: int = 0
    contacts_loaded: int = 0  # contacts new to the store
    contacts_updated: int = 0  # contacts completed or corrected (an open call that ended)
    already_present: int = 0  # contacts the store already held exactly
    quarantined: int = 0
    excluded: int = 0
    other_rows: dict[str, int] = field(default_factory=dict)  # agent_states, surveys, …


@dataclass
class IngestSummary:
    """What one ``slm ingest`` load did, file by file and in total."""

    format: str
    tenant: str
    load_id: str
    files: list[FileSummary] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        totals = {
            name: self.total(name)
            for name in (
                "rows_read",
                "contacts_loaded",
                "contacts_updated",
                "already_present",
                "quarantined",
                "excluded",
            )
        }
        return {
            "format": self.format,
            "tenant": self.tenant,
            "load_id": self.load_id,
            **totals,
            "files": [asdict(f) for f in self.files],
        }


@dataclass(frozen=True)
class _LedgerEntry:
    path: str
    offset_end: int
    line_end: int
    prefix_sha256: str
    contacts: int


def read_file_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it is gzip (by magic number, not by name)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SourceFormatError(str(path), "no such file; check the path") from None
    except IsADirectoryError:
        raise SourceFormatError(str(path), "is a directory; name the files in it") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise SourceFormatError(
                str(path), f"is gzip-compressed but cannot be decompressed ({error})"
            ) from None
    return raw


def _sha256(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def _known_reads(store: Store, tenant: str, format_name: str, head: str) -> list[_LedgerEntry]:
    """Earlier reads that may be of a prefix of this content, longest first.

    The head hash (of the first 4 KiB) narrows the search; reads shorter than that are
    all candidates, and the caller checks each one's full prefix hash.
    """
    rows = store.connection.execute(
        """
        SELECT path, offset_end, line_end, prefix_sha256, contacts
        FROM ingest_ledger
        WHERE tenant = ? AND format = ? AND (head_sha256 = ? OR offset_end < ?)
        ORDER BY offset_end DESC
        """,
        [tenant, format_name, head, _HEAD_BYTES],
    ).fetchall()
    return [_LedgerEntry(*row) for row in rows]


def _complete_lines_end(data: bytes) -> int:
    """Length of ``data`` up to and including its last newline (0 if none)."""
    return data.rfind(b"\n") + 1


def ingest_paths(
    store: Store,
    format_name: str,
    paths: Sequence[str | Path],
    *,
    tenant: str = "default",
    tz: str | None = None,
    options: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
) -> IngestSummary:
    """Load ``paths`` in ``format_name`` into ``store`` as one atomic load."""
    source_format = get_format(format_name)
    tzinfo = zone(tz, option="--tz") if tz else None
    summary = IngestSummary(format=format_name, tenant=tenant, load_id=uuid.uuid4().hex)
    # Read every file before the transaction: a missing file fails the load before it starts.
    contents = [(str(p), read_file_bytes(Path(p))) for p in paths]
    appended = AppendLog()
    with store.transaction():
        carry = store.carry(tenant, format_name)
        for index, (path, data) in enumerate(contents):
            if progress:
                progress(path, "reading", index, len(contents))

            def report(share: float, index: int = index, path: str = path) -> None:
                if progress:
                    progress(path, "reading", index + share, len(contents))

            file_summary, carry = _ingest_one(
                store, source_format, path, data, tenant, tzinfo, tz, options or {}, carry,
                summary.load_id, appended, report,
            )
            summary.files.append(file_summary)
            if progress:
                progress(path, "stored", index + 1, len(contents))
        if source_format.append_only:
            store.save_carry(tenant, format_name, carry)
    return summary


def _ingest_one(
    store: Store,
    source_format: SourceFormat,
    path: str,
    data: bytes,
    tenant: str,
    tzinfo: Any,
    tz_name: str | None,
    options: dict[str, Any],
    carry: dict[str, Any] | None,
    load_id: str,
    appended: AppendLog,
    report: Callable[[float], None],
) -> tuple[FileSummary, dict[str, Any] | None]:
    end = _complete_lines_end(data) if source_format.append_only else len(data)
    head = _sha256(data[: min(_HEAD_BYTES, end)])
    view = memoryview(data)
    start, first_line, status = 0, 1, "new"
    # Reads of a prefix of this content, whatever the file was called then.
    prefix_hashes: dict[int, str] = {}

    def prefix_hash(length: int) -> str:
        if length not in prefix_hashes:
            prefix_hashes[length] = _sha256(view[:length])
        return prefix_hashes[length]

    earlier = [
        known
        for known in _known_reads(store, tenant, source_format.name, head)
        if known.offset_end <= end and prefix_hash(known.offset_end) == known.prefix_sha256
    ]
    if earlier:
        latest = earlier[0]  # longest prefix read
        if latest.offset_end == end:
            contacts = sum(known.contacts for known in earlier)
            return FileSummary(path, "unchanged", already_present=contacts), carry
        if source_format.append_only:
            start, first_line, status = latest.offset_end, latest.line_end + 1, "grown"
        else:
            status = "changed"
    # The hash of what this read covers goes in the ledger; hashlib lets go of the GIL,
    # so it is computed while the content is parsed.
    whole = _Hash(view[:end], prefix_hashes.get(end))
    file_summary = FileSummary(path, status)
    # Only a format that keeps open rows in its carry between pieces is read in pieces.
    in_pieces = source_format.append_only and getattr(source_format, "reads_in_pieces", False)
    pieces = _pieces(data, start, end) if in_pieces else [(start, end)]
    quarantined: list[Any] = []
    line = first_line
    with _Writer(store, file_summary, appended) as writer:
        for index, (piece_start, piece_end) in enumerate(pieces):
            chunk = SourceChunk(
                path=path,
                data=bytes(view[piece_start:piece_end]),
                first_line=line,
                tenant=tenant,
                tz=tzinfo,
                options=options,
                more_follows=index < len(pieces) - 1,
            )
            result = source_format.parse(chunk, carry if source_format.append_only else None)
            carry = result.carry if source_format.append_only else carry
            line += chunk.data.count(b"\n")
            file_summary.rows_read += result.rows_read
            file_summary.excluded += result.excluded
            file_summary.quarantined += len(result.quarantined)
            quarantined.extend(result.quarantined)
            writer.write(result.tables)
            report((piece_end - start) / max(end - start, 1))
    _quarantine(store, load_id, tenant, source_format.name, path, quarantined)
    line_end = line - 1
    if not source_format.append_only and end and not data.endswith(b"\n"):
        line_end += 1
    store.connection.execute(
        """
        INSERT INTO ingest_ledger (load_id, tenant, format, path, offset_start, offset_end,
            line_end, head_sha256, prefix_sha256, tz, rows_read, contacts, quarantined, excluded)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            load_id, tenant, source_format.name, path, start, end, line_end, head,
            whole.hexdigest(),
            tz_name, file_summary.rows_read, file_summary.contacts_loaded,
            file_summary.quarantined, file_summary.excluded,
        ],
    )
    return file_summary, carry


def _in_row_groups(rows: pa.Table) -> pa.Table:
    """``rows`` as Arrow chunks of exactly one DuckDB row group each (the last one may be
    short): DuckDB starts a row group at every chunk, so this leaves none part-filled.
    Only the few row groups that straddle two chunks are copied."""
    batches = []
    for start in range(0, rows.num_rows, _ROW_GROUP_ROWS):
        part = rows.slice(start, _ROW_GROUP_ROWS)
        if part.column(0).num_chunks > 1:
            part = part.combine_chunks()
        batches.extend(part.to_batches())
    return pa.Table.from_batches(batches, schema=rows.schema)


class _Hash:
    """SHA-256 of ``data``, computed on a thread of its own unless already known."""

    def __init__(self, data: memoryview, known: str | None) -> None:
        self._digest = known
        self._thread: threading.Thread | None = None
        if known is None:
            self._thread = threading.Thread(target=self._compute, args=(data,), daemon=True)
            self._thread.start()

    def _compute(self, data: memoryview) -> None:
        self._digest = _sha256(data)

    def hexdigest(self) -> str:
        if self._thread is not None:
            self._thread.join()
        assert self._digest is not None
        return self._digest


def _pieces(data: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """``data[start:end]`` (complete lines) cut at newlines into pieces of about
    ``PIECE_BYTES``, so that storing one piece overlaps reading the next."""
    pieces = []
    while end - start > PIECE_BYTES:
        cut = data.rfind(b"\n", start, start + PIECE_BYTES) + 1
        if cut <= start:  # one line longer than a piece: it stays whole
            cut = data.find(b"\n", start + PIECE_BYTES) + 1 or end
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


class _Writer:
    """Stores the pieces of a read on a second thread while the next piece is parsed.

    DuckDB releases the GIL while it inserts, and the compiled parse releases it too, so
    on two cores the two overlap. One piece waits at most: memory stays bounded. The store
    connection is only used by this thread until the writer is closed.
    """

    def __init__(self, store: Store, summary: FileSummary, appended: AppendLog) -> None:
        self._store, self._summary, self._appended = store, summary, appended
        self._queue: queue.Queue[dict[str, pa.Table] | None] = queue.Queue(maxsize=1)
        self._held: dict[str, pa.Table] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="slm-store-writer",
                                        daemon=True)

    def __enter__(self) -> _Writer:
        self._thread.start()
        return self

    def write(self, tables: dict[str, pa.Table]) -> None:
        self._raise()
        self._queue.put(tables)

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        self._queue.put(None)
        self._thread.join()
        if exc_type is None:
            self._raise()
            self._store_rows({name: _in_row_groups(rows) for name, rows in self._held.items()})

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (tables := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain: the main thread stops at its next write
            try:
                self._store_rows(self._whole_row_groups(tables))
            except BaseException as error:  # re-raised on the main thread
                self._error = error

    def _whole_row_groups(self, tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
        """The rows that fill whole row groups, a chunk per row group; the rest waits
        for the next piece. A part-filled row group per piece (or per Arrow chunk, which
        DuckDB starts a row group at) would be rewritten when the store checkpoints.
        """
        ready = {}
        for name, rows in tables.items():
            rows = CANONICAL_TABLES[name].conform(rows)
            held = self._held.pop(name, None)
            rows = rows if held is None else pa.concat_tables([held, rows])
            whole = rows.num_rows - rows.num_rows % _ROW_GROUP_ROWS
            ready[name] = _in_row_groups(rows.slice(0, whole))
            self._held[name] = rows.slice(whole)
        return ready

    def _store_rows(self, tables: dict[str, pa.Table]) -> None:
        for table_name, rows in tables.items():
            counts = self._store.upsert(table_name, rows, self._appended)
            if table_name == CONTACTS.name:
                self._summary.contacts_loaded += counts.inserted
                self._summary.contacts_updated += counts.updated
                self._summary.already_present += counts.unchanged
            else:
                self._summary.other_rows[table_name] = (
                    self._summary.other_rows.get(table_name, 0)
                    + counts.inserted + counts.updated)


def _quarantine(
    store: Store, load_id: str, tenant: str, format_name: str, path: str,
    lines: Sequence[Any],
) -> None:
    if not lines:
        return
    rows = pa.table(
        {
            "load_id": [load_id] * len(lines),
            "tenant": [tenant] * len(lines),
            "format": [format_name] * len(lines),
            "path": [path] * len(lines),
            "line": pa.array([q.line for q in lines], pa.int64()),
            "field": [q.field for q in lines],
            "reason": [q.reason for q in lines],
            "text": [q.text for q in lines],
        }
    )
    store.connection.register("_quarantine_arrow", rows)
    try:
        store.connection.execute(
            "INSERT INTO ingest_quarantine (load_id, tenant, format, path, line, field, reason, "
            "text) SELECT * FROM _quarantine_arrow"
        )
    finally:
        store.connection.unregister("_quarantine_arrow")
