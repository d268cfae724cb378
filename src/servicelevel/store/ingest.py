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

import contextlib
import gc
import gzip
import hashlib
import io
import mmap
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from servicelevel.errors import SourceFormatError
from servicelevel.model.tables import CANONICAL_TABLES, CONTACTS
from servicelevel.model.time import zone
from servicelevel.sources import SourceChunk, SourceFormat, get_format
from servicelevel.store.catalog import AppendLog, Store

_HEAD_BYTES = 4096
#: A larger read of an append-only log is parsed and stored in pieces of about this size
#: (see ``_Content.pieces``).
PIECE_BYTES = 160 * 2**20
FIRST_PIECE_BYTES = 64 * 2**20
LAST_PIECE_BYTES = 40 * 2**20
_HASH_BLOCK_BYTES = 16 * 2**20
_COUNT_BLOCK_BYTES = 2**20  # numpy's temporary per block stays small and cached
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


class _Content:
    """A file's content for one load: its bytes as they were when it was opened (a log
    still being written may grow meanwhile; the growth waits for the next load).

    A plain file is read part by part as the load goes, so reading overlaps the work and
    a large log is never held twice; a gzip file (told by its magic number, not its name)
    is decompressed whole when opened.
    """

    def __init__(
        self, path: str, file: io.BufferedReader | None, data: bytes | None, size: int
    ) -> None:
        self.path, self.size = path, size
        self._file, self._data = file, data

    @classmethod
    def open(cls, path: Path) -> _Content:
        try:
            file = path.open("rb")
        except FileNotFoundError:
            raise SourceFormatError(str(path), "no such file; check the path") from None
        except IsADirectoryError:
            raise SourceFormatError(str(path), "is a directory; name the files in it") from None
        if file.read(2) != b"\x1f\x8b":
            return cls(str(path), file, None, os.fstat(file.fileno()).st_size)
        with file:
            file.seek(0)
            try:
                data = gzip.decompress(file.read())
            except (OSError, EOFError) as error:
                raise SourceFormatError(
                    str(path), f"is gzip-compressed but cannot be decompressed ({error})"
                ) from None
        return cls(str(path), None, data, len(data))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``start:end``."""
        if self._data is not None:
            return self._data[start:end]
        assert self._file is not None
        self._file.seek(start)
        data = self._file.read(end - start)
        if len(data) != end - start:
            raise self._cut_short()
        return data

    def _cut_short(self) -> SourceFormatError:
        return SourceFormatError(
            self.path, "became shorter while it was read; load it again once it is no "
            "longer being truncated or rotated")

    def complete_lines_end(self) -> int:
        """Length up to and including the last newline (0 if none)."""
        if self._data is not None:
            return self._data.rfind(b"\n") + 1
        end = self.size
        while end > 0:
            start = max(0, end - 2**20)
            found = self.read(start, end).rfind(b"\n")
            if found >= 0:
                return start + found + 1
            end = start
        return 0

    def pieces(self, start: int, end: int, helper: Executor) -> Iterator[memoryview]:
        """``start:end`` (complete lines) cut at newlines into pieces of about
        ``PIECE_BYTES``: the first one smaller, so that storing starts early, and halving
        towards the end, so that little is left to store once the last one is parsed.

        While a piece is worked on, the next one is read on ``helper`` into a second
        buffer (file reads let go of the GIL); the two buffers take turns, so a piece is
        only valid until the one after the next is asked for.
        """
        buffers = [mmap.mmap(-1, 1), mmap.mmap(-1, 1)]
        size = FIRST_PIECE_BYTES
        piece = self._next_piece(buffers, 0, start, end, size)
        turn = 0
        while True:
            source, offset, cut = piece
            after = start + cut
            reading = None
            if after < end:
                turn, size = 1 - turn, PIECE_BYTES
                reading = helper.submit(self._next_piece, buffers, turn, after, end, size)
            yield memoryview(source)[offset : offset + cut]
            if reading is None:
                return
            piece, start = reading.result(), after

    def _next_piece(
        self, buffers: list[mmap.mmap], turn: int, start: int, end: int, size: int
    ) -> tuple[Any, int, int]:
        """The piece from ``start``: (the object holding it, its offset there, its length)."""
        left = end - start
        if left < 2 * PIECE_BYTES:
            size = min(size, max(left // 2, LAST_PIECE_BYTES))
        length = min(size, left)
        # A piece ends at a newline; one line longer than a piece stays whole.
        while True:
            source, offset = self._place(buffers[turn], start, length)
            if self._data is None:
                buffers[turn] = source  # kept (grown if need be) for the next pieces
            cut = length if start + length == end else _after_last_newline(
                source, offset, length)
            if cut > 0 or start + length == end:
                return source, offset, cut
            length = min(2 * length, end - start)

    def _place(self, buffer: mmap.mmap, start: int, length: int) -> tuple[Any, int]:
        """``length`` bytes from ``start``: the object holding them and their offset in it."""
        if self._data is not None:
            return self._data, start
        if len(buffer) < length:
            # Anonymous memory, mapped as the read fills it (allocating it holds the GIL
            # no time); the old one may still be viewed, so it is not resized.
            buffer = mmap.mmap(-1, length)
        assert self._file is not None
        self._file.seek(start)
        with memoryview(buffer) as view:
            read = self._file.readinto(view[:length])
        if read != length:
            raise self._cut_short()
        return buffer, 0


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
    appended = AppendLog()
    with contextlib.ExitStack() as files, _collector_paused():
        # Open every file before the transaction: a missing one fails the load before it
        # starts.
        contents = [files.enter_context(contextlib.closing(_Content.open(Path(p))))
                    for p in paths]
        with store.transaction():
            carry = store.carry(tenant, format_name)
            for index, content in enumerate(contents):
                if progress:
                    progress(content.path, "reading", index, len(contents))

                def report(share: float, index: int = index, path: str = content.path) -> None:
                    if progress:
                        progress(path, "reading", index + share, len(contents))

                file_summary, carry = _ingest_one(
                    store, source_format, content, tenant, tzinfo, tz, options or {}, carry,
                    summary.load_id, appended, report,
                )
                summary.files.append(file_summary)
                if progress:
                    progress(content.path, "stored", index + 1, len(contents))
            if source_format.append_only:
                store.save_carry(tenant, format_name, carry)
    return summary


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for the load: its objects hold no cycles worth
    collecting, and full collections over the process's objects would cost seconds."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _prefix_states(content: _Content, lengths: Sequence[int]) -> dict[int, Any]:
    """The SHA-256 state of each of these prefixes of ``content``, in one pass."""
    states: dict[int, Any] = {}
    state, at = hashlib.sha256(), 0
    for length in sorted(set(lengths)):
        while at < length:
            block = content.read(at, min(length, at + _HASH_BLOCK_BYTES))
            state.update(block)
            at += len(block)
        states[length] = state.copy()
    return states


def _ingest_one(
    store: Store,
    source_format: SourceFormat,
    content: _Content,
    tenant: str,
    tzinfo: Any,
    tz_name: str | None,
    options: dict[str, Any],
    carry: dict[str, Any] | None,
    load_id: str,
    appended: AppendLog,
    report: Callable[[float], None],
) -> tuple[FileSummary, dict[str, Any] | None]:
    path = content.path
    end = content.complete_lines_end() if source_format.append_only else content.size
    head = hashlib.sha256(content.read(0, min(_HEAD_BYTES, end))).hexdigest()
    start, first_line, status = 0, 1, "new"
    # Reads of a prefix of this content, whatever the file was called then.
    known_reads = [known for known in _known_reads(store, tenant, source_format.name, head)
                   if known.offset_end <= end]
    states = _prefix_states(content, [known.offset_end for known in known_reads])
    earlier = [known for known in known_reads
               if states[known.offset_end].hexdigest() == known.prefix_sha256]
    if earlier:
        latest = earlier[0]  # longest prefix read
        if latest.offset_end == end:
            contacts = sum(known.contacts for known in earlier)
            return FileSummary(path, "unchanged", already_present=contacts), carry
        if source_format.append_only:
            start, first_line, status = latest.offset_end, latest.line_end + 1, "grown"
        else:
            status = "changed"
    # The hash of all the content up to ``end`` goes in the ledger: the known prefix's,
    # continued over each new part while that part is parsed (hashlib lets go of the GIL).
    whole = states[start].copy() if start else hashlib.sha256()
    file_summary = FileSummary(path, status)
    # Only a format that keeps open rows in its carry between pieces is read in pieces.
    in_pieces = source_format.append_only and getattr(source_format, "reads_in_pieces", False)
    data = None if in_pieces else content.read(start, end)
    quarantined: list[Any] = []
    line, position = first_line, start
    with _Writer(store, file_summary, appended) as writer, \
            ThreadPoolExecutor(2, thread_name_prefix="slm-read") as helper:
        pieces = content.pieces(start, end, helper) if data is None else [memoryview(data)]
        for piece in pieces:
            digest = helper.submit(_digest, whole, piece)
            position += len(piece)
            chunk = SourceChunk(
                path=path,
                data=piece if data is None else data,
                first_line=line,
                tenant=tenant,
                tz=tzinfo,
                options=options,
                more_follows=position < end,
            )
            result = source_format.parse(chunk, carry if source_format.append_only else None)
            carry = result.carry if source_format.append_only else carry
            line += digest.result()  # after which the piece's buffer may be reused
            file_summary.rows_read += result.rows_read
            file_summary.excluded += result.excluded
            file_summary.quarantined += len(result.quarantined)
            quarantined.extend(result.quarantined)
            writer.write(result.tables, last=position >= end)
            report((position - start) / max(end - start, 1))
    _quarantine(store, load_id, tenant, source_format.name, path, quarantined)
    line_end = line - 1
    if data is not None and not source_format.append_only and end and not data.endswith(b"\n"):
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


def _after_last_newline(source: Any, offset: int, length: int) -> int:
    """Length of ``source[offset:offset + length]`` up to its last newline (0 if none),
    looking back from the end in growing steps."""
    view = memoryview(source)
    end, step = offset + length, 4096
    while end > offset:
        begin = max(offset, end - step)
        found = bytes(view[begin:end]).rfind(b"\n")
        if found >= 0:
            return begin + found + 1 - offset
        end, step = begin, 4 * step
    return 0


def _digest(state: Any, piece: memoryview) -> int:
    """Adds ``piece`` to the read's hash; its newline count. Run beside the piece's parse:
    hashlib and numpy let go of the GIL."""
    state.update(piece)
    raw = np.frombuffer(piece, dtype=np.uint8)
    return sum(int(np.count_nonzero(raw[at : at + _COUNT_BLOCK_BYTES] == 0x0A))
               for at in range(0, len(raw), _COUNT_BLOCK_BYTES))


class _Writer:
    """Stores the pieces of a read on a second thread while the next piece is parsed.

    DuckDB releases the GIL while it inserts, and the compiled parse releases it too, so
    on two cores the two overlap. One piece waits at most: memory stays bounded. The store
    connection is only used by this thread until the writer is closed.
    """

    def __init__(self, store: Store, summary: FileSummary, appended: AppendLog) -> None:
        self._store, self._summary, self._appended = store, summary, appended
        self._queue: queue.Queue[tuple[dict[str, pa.Table], bool] | None] = \
            queue.Queue(maxsize=1)
        self._held: dict[str, pa.Table] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="slm-store-writer",
                                        daemon=True)

    def __enter__(self) -> _Writer:
        self._thread.start()
        return self

    def write(self, tables: dict[str, pa.Table], *, last: bool = False) -> None:
        """Store ``tables``; the ``last`` piece's rows go in whole, with the rows held."""
        self._raise()
        self._queue.put((tables, last))

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
        while (work := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain: the main thread stops at its next write
            try:
                self._store_rows(self._whole_row_groups(*work))
            except BaseException as error:  # re-raised on the main thread
                self._error = error

    def _whole_row_groups(self, tables: dict[str, pa.Table], last: bool) -> dict[str, pa.Table]:
        """The rows that fill whole row groups, a chunk per row group; the rest waits
        for the next piece (unless this is the ``last``: one insert then takes all, its
        row groups stored in parallel). A part-filled row group per piece (or per Arrow
        chunk, which DuckDB starts a row group at) would be rewritten when the store
        checkpoints.
        """
        ready = {}
        for name, rows in tables.items():
            rows = CANONICAL_TABLES[name].conform(rows)
            held = self._held.pop(name, None)
            rows = rows if held is None else pa.concat_tables([held, rows])
            whole = rows.num_rows if last else rows.num_rows - rows.num_rows % _ROW_GROUP_ROWS
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
