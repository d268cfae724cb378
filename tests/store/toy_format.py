"""A tiny append-only format for testing the store, registered like any real adapter.

Lines: ``epoch|callid|EVENT`` with EVENT ``ENTER`` (the call waits) or ``END`` (answered).
A call entered but not ended is stored as waiting and carried to the next read.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from servicelevel.sources import (
    Carry,
    ParseResult,
    QuarantinedLine,
    SourceChunk,
    register_format,
)


class ToyFormat:
    name = "toy-log"
    description = "test-only: epoch|callid|ENTER/END"
    append_only = True

    def parse(self, chunk: SourceChunk, carry: Carry | None) -> ParseResult:
        open_calls: dict[str, int] = dict((carry or {}).get("open", {}))
        ended: dict[str, tuple[int, int]] = {}
        quarantined: list[QuarantinedLine] = []
        lines = chunk.data.decode("utf-8", "replace").splitlines()
        for offset, text in enumerate(lines):
            number = chunk.first_line + offset
            parts = text.split("|")
            if len(parts) != 3 or not parts[0].isdigit() or parts[2] not in ("ENTER", "END"):
                quarantined.append(QuarantinedLine(number, "not epoch|callid|ENTER/END", text))
                continue
            epoch, callid, event = int(parts[0]), parts[1], parts[2]
            if event == "ENTER":
                open_calls[callid] = epoch
            elif callid in open_calls:
                ended[callid] = (open_calls.pop(callid), epoch)
            else:
                quarantined.append(QuarantinedLine(number, "END without ENTER", text, "callid"))
        rows = [(c, s, e, "answered") for c, (s, e) in ended.items()]
        rows += [(c, s, None, "waiting") for c, s in open_calls.items()]

        def ts(epoch: int | None) -> datetime | None:
            return None if epoch is None else datetime.fromtimestamp(epoch, UTC)

        contacts = pa.table(
            {
                "tenant": [chunk.tenant] * len(rows),
                "source": [self.name] * len(rows),
                "contact_id": [r[0] for r in rows],
                "arrived_at": pa.array([ts(r[1]) for r in rows], pa.timestamp("us", tz="UTC")),
                "answered_at": pa.array([ts(r[2]) for r in rows], pa.timestamp("us", tz="UTC")),
                "outcome": [r[3] for r in rows],
                "wait_s": [None if r[2] is None else float(r[2] - r[1]) for r in rows],
            }
        )
        return ParseResult(
            tables={"contacts": contacts},
            rows_read=len(lines),
            quarantined=quarantined,
            carry={"open": open_calls},
        )


TOY_FORMAT = ToyFormat()
register_format(TOY_FORMAT)
