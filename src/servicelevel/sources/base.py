"""The contract between the ingest layer and a source adapter.

An adapter translates the bytes of one input format into rows of the canonical tables,
nothing more: it never opens files or touches the store. The ingest layer
(``servicelevel.store.ingest``) reads the files, keeps the ledger of what was read,
hands each adapter only the new part of a file, and writes the result in one
transaction.

Adapters of append-only logs (``append_only = True``, e.g. the Asterisk queue_log) are
given only complete lines, starting where the last read stopped, and may return a
``carry``: JSON-serialisable state (such as the events of calls still open) that is
handed back with the next chunk of the same tenant and format, so a call that spans two
reads or two files is completed when its last line arrives. Rows are upserted by the
table's key, so a contact first stored as ``waiting`` is replaced when it ends.

Adapters of whole-file exports (``append_only = False``) are given the whole file each
time it changes; their rows replace earlier rows with the same key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pyarrow as pa

Carry = dict[str, Any]


@dataclass(frozen=True)
class SourceChunk:
    """The part of one file an adapter is asked to translate."""

    path: str  # as the user named it, for messages
    # Decompressed content: for append-only formats, complete lines only. A piece of a
    # larger read is a view into a buffer a later piece reuses: keep copies, not views.
    data: bytes | memoryview
    first_line: int  # 1-based line number of the first line of ``data`` in the file
    tenant: str
    tz: ZoneInfo | None  # zone of clock times given by the user (--tz); None: format default
    options: dict[str, Any] = field(default_factory=dict)  # format-specific (parsed mapping, …)
    # More of the same file follows in this load: a large read is cut into pieces for a
    # format that says ``reads_in_pieces = True``; such a format keeps rows still open in
    # its carry instead of emitting them, so each piece's rows are final and the pieces'
    # rows never overlap.
    more_follows: bool = False


@dataclass(frozen=True)
class QuarantinedLine:
    """A line that could not be loaded, and why."""

    line: int
    reason: str  # says what is wrong and what would be valid
    text: str
    field: str | None = None


@dataclass
class ParseResult:
    """What an adapter made of a chunk."""

    tables: dict[str, pa.Table]  # canonical table name -> rows (conforming to its schema)
    rows_read: int  # lines (records) read, header excluded
    quarantined: list[QuarantinedLine] = field(default_factory=list)
    excluded: int = 0  # records deliberately not loaded (e.g. the bank's PHANTOM rows)
    carry: Carry | None = None  # state for the next chunk of this tenant and format


class SourceFormat(Protocol):
    """One input format. Built-in formats register exactly as extensions do."""

    name: str  # as typed on the command line: ``slm ingest NAME``
    description: str  # one line for ``slm ingest --help`` and the docs
    append_only: bool  # a log that grows (read incrementally) or a whole-file export

    def parse(self, chunk: SourceChunk, carry: Carry | None) -> ParseResult:
        """Translate ``chunk``; ``carry`` is what the previous chunk returned.

        Each format documents the zone it assumes when ``chunk.tz`` is None (the bank
        data: Asia/Jerusalem; queue_log epochs are absolute) or raises SourceFormatError
        saying that --tz is needed.
        """
        ...
