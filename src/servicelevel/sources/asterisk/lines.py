"""Bytes of a queue_log chunk → one Arrow string per line, without a per-line Python loop.

Lines are cut at the newline bytes (found in one compiled pass, with the byte census the
checks need) and handed to Arrow without copying: line
*i* spans from the newline that ends line *i − 1* to the one that ends it, so every line
but the first starts with ``\\n`` (the SQL strips it from the epoch field). That keeps
the Arrow offsets contiguous, which is what lets the file's own buffer be the data buffer.

Only bytes that cannot become text are handled here (invalid UTF-8): those lines are
quarantined and blanked so that the rest stays one valid UTF-8 buffer for DuckDB.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from servicelevel.sources.asterisk.fast import byte_census
from servicelevel.sources.base import QuarantinedLine

_NOT_TEXT = (
    "the line is not UTF-8 text (binary data?); a queue_log line is text: "
    "epoch|callid|queue|agent|EVENT|data…"
)


@dataclass(frozen=True)
class Lines:
    """The lines of a chunk and what the byte level already knows about them."""

    table: pa.Table  # seq (int64, 0-based index in the chunk), line (large_string)
    has_cr: bool  # a carriage return occurs: lines are right-trimmed of \r in SQL
    has_control: bool  # control bytes other than \t \n \r occur: checked per line in SQL
    quarantined: list[QuarantinedLine]  # lines that are not text
    blanked: frozenset[int]  # seq of those lines (blank in ``table``)


def split_lines(data: bytes | memoryview, first_line: int) -> Lines:
    """Cut ``data`` into lines; a last line without a newline is still a line."""
    quarantined: list[QuarantinedLine] = []
    blanked: set[int] = set()
    # One compiled pass: newlines, and whether there are control bytes, \r, non-ASCII.
    newlines, control, has_cr, ascii_only = byte_census(data)
    try:
        table = _table(data, newlines)
        if not ascii_only:  # ASCII is UTF-8 already
            table.column("line").chunk(0).validate(full=True)  # UTF-8, vectorised
    except pa.ArrowInvalid:
        data = _blank_non_text(data, newlines, first_line, quarantined, blanked)
        table = _table(data, newlines)
        _, control, has_cr, _ = byte_census(data)
    # Control bytes other than \t \n \r mean binary data somewhere; only then check per line.
    return Lines(table, has_cr, control, quarantined, frozenset(blanked))


def _table(data: bytes | memoryview, newlines: np.ndarray) -> pa.Table:
    size = len(data)
    # Offsets 0, each newline, and the end of a last line that has none.
    tail = size > 0 and data[-1] != 0x0A
    offsets = np.empty(len(newlines) + 1 + int(tail), dtype=np.int64)
    offsets[0] = 0
    offsets[1 : len(newlines) + 1] = newlines
    if tail:
        offsets[-1] = size
    count = len(offsets) - 1 if size else 0
    if count == 0:
        lines = pa.array([], type=pa.large_string())
    else:
        lines = pa.LargeStringArray.from_buffers(
            count, pa.py_buffer(offsets), pa.py_buffer(data)
        )
    seq = pa.array(np.arange(count, dtype=np.int64))
    return pa.table({"seq": seq, "line": lines})


def _blank_non_text(
    data: bytes | memoryview,
    newlines: np.ndarray,
    first_line: int,
    quarantined: list[QuarantinedLine],
    blanked: set[int],
) -> bytes:
    """Quarantine every line holding invalid UTF-8 and overwrite it with spaces.

    Each decode error is found by decoding on from the line after the previous bad one,
    so the cost stays linear in the chunk however many bad lines there are.
    """
    buffer = bytearray(data)
    view = memoryview(data)
    position = 0
    while position < len(data):
        try:
            codecs.utf_8_decode(view[position:], "strict", True)
            break
        except UnicodeDecodeError as error:
            bad = position + error.start
        index = int(np.searchsorted(newlines, bad))  # line holding byte ``bad``
        start = int(newlines[index - 1]) + 1 if index > 0 else 0
        end = int(newlines[index]) if index < len(newlines) else len(data)
        text = bytes(data[start:end]).decode("utf-8", errors="replace").rstrip("\r")
        quarantined.append(QuarantinedLine(first_line + index, _NOT_TEXT, text[:500]))
        blanked.add(index)
        buffer[start:end] = b" " * (end - start)
        position = end + 1
    return bytes(buffer)
