"""The Anonymous Bank call files (Technion SEE lab, 1999) as canonical contacts.

One file per month, tab-separated, one header line, 17 columns (see
``docs/sources/anonymous_bank.md``). Each line is one call: it enters the voice response
unit (VRU), may wait in the queue, and ends served by an agent (``AGENT``), hung up
(``HANG``) or as a ``PHANTOM`` record the lab says to ignore.

Mapping to ``contacts``:

- ``PHANTOM`` lines are not contacts: counted in ``ParseResult.excluded``.
- ``AGENT`` → answered. ``HANG`` with ``q_time > 0`` → abandoned. ``HANG`` with
  ``q_time = 0`` → ended_in_vru (never offered to the agent queue), arrival = VRU entry.
- arrival = ``date`` + ``q_start`` when the call queued, else the VRU exit; the wait is
  ``q_time`` (the VRU and agent clocks are skewed by seconds, so durations are trusted and
  clock differences are not): answered = arrival + ``q_time``, ended = answered +
  ``ser_time``.
- queue = ``"bank"`` (one pool of agents serves every call type, as in Brown et al. 2005);
  service_type = ``type``; agent = ``server`` (none for ``NO_SERVER``).
- Clock times are local to Asia/Jerusalem unless ``--tz`` says otherwise; stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servicelevel.errors import SourceFormatError
from servicelevel.model.enums import Channel, Outcome
from servicelevel.model.tables import CONTACTS, UTC_TIMESTAMP
from servicelevel.sources import register_format
from servicelevel.sources.base import Carry, ParseResult, QuarantinedLine, SourceChunk
from servicelevel.sources.columns import (
    BoolArray,
    IntArray,
    local_to_utc,
    parse_times,
    text_lines,
)

NAME = "anonymous-bank"
DEFAULT_ZONE = ZoneInfo("Asia/Jerusalem")
QUEUE = "bank"
NO_SERVER = "NO_SERVER"

#: The small extract of the bank data that ``slm demo`` loads (see its README.md).
DEMO_DATA_DIR: Path = Path(
    str(resources.files("servicelevel").joinpath("data", "demo", "anonymous_bank"))
)

COLUMNS: tuple[str, ...] = (
    "vru+line", "call_id", "customer_id", "priority", "type", "date",
    "vru_entry", "vru_exit", "vru_time", "q_start", "q_exit", "q_time",
    "outcome", "ser_start", "ser_exit", "ser_time", "server",
)

_CLOCK = r"^([01]?\d|2[0-3]):[0-5]\d:[0-5]\d$"
_CLOCK_VALID = "a clock time H:MM:SS or HH:MM:SS, like 7:05:09"
_SECONDS = r"^\d{1,9}$"
_SECONDS_VALID = "whole seconds, 0 or more, like 153"

#: Per column: the pattern a value must match (after trimming) and how to say what is valid.
#: ``customer_id`` takes any text (``0`` or empty means unknown).
_CHECKS: dict[str, tuple[str, str]] = {
    "vru+line": (r"^\S+$", "a VRU line id like AA0101"),
    "call_id": (r"^\d+$", "a whole number like 33116"),
    "priority": (r"^\d{1,4}$", "a whole number: 0 or 1 regular, 2 high"),
    "type": (r"^\S+$", "a service type code like PS, PE, IN, NE, NW or TT"),
    "date": (r"^\d{6}$", "the date of the VRU entry written YYMMDD, like 990101"),
    "vru_entry": (_CLOCK, _CLOCK_VALID),
    "vru_exit": (_CLOCK, _CLOCK_VALID),
    "vru_time": (r"^-?\d{1,9}$", "whole seconds, like 5 (may be negative)"),
    "q_start": (_CLOCK, _CLOCK_VALID),
    "q_exit": (_CLOCK, _CLOCK_VALID),
    "q_time": (_SECONDS, _SECONDS_VALID),
    "outcome": (r"^(AGENT|HANG|PHANTOM)$", "AGENT, HANG or PHANTOM"),
    "ser_start": (_CLOCK, _CLOCK_VALID),
    "ser_exit": (_CLOCK, _CLOCK_VALID),
    "ser_time": (_SECONDS, _SECONDS_VALID),
    "server": (r"^\S+$", f"an agent's name or {NO_SERVER}"),
}

_DAY_S = 86_400
_US = 1_000_000
_HOUR_US = 3_600 * _US
_EPOCH = datetime(1970, 1, 1)



def _split_fields(lines: pa.StringArray) -> pa.ListArray:
    """Fields of each line: split on tabs; a line with no tab splits on runs of spaces."""
    has_tab = pc.match_substring(lines, "\t")
    spaced = pc.replace_substring_regex(pc.utf8_trim_whitespace(lines), r"\s+", "\t")
    return pc.split_pattern(pc.if_else(has_tab, lines, spaced), "\t")


def _check_header(chunk: SourceChunk, lines: pa.StringArray) -> None:
    expected = "\t".join(COLUMNS)
    if len(lines) == 0:
        raise SourceFormatError(
            chunk.path, f"empty file; an {NAME} file starts with the header line {expected!r}",
            line=chunk.first_line,
        )
    header = _split_fields(lines.slice(0, 1))[0].as_py()
    names = tuple(str(name).strip().lower() for name in header)
    if names != COLUMNS:
        shown = str(lines[0].as_py())[:120]
        raise SourceFormatError(
            chunk.path,
            f"this is not an {NAME} file: its first line should be the header of 17 "
            f"tab-separated columns {expected!r}, but it is {shown!r}; "
            "check the file and the input format",
            line=chunk.first_line,
        )


@dataclass
class _Fields:
    """The 17 columns of the well-formed lines, trimmed, and those lines' numbers."""

    values: dict[str, pa.StringArray]
    line_numbers: IntArray
    texts: pa.StringArray


class AnonymousBankFormat:
    """The Technion Anonymous Bank call files: ``.txt`` or ``.txt.gz``, one month each."""

    name = NAME
    description = "Anonymous Bank call center data (Technion SEE lab, 1999): one call a line."
    append_only = False

    def parse(self, chunk: SourceChunk, carry: Carry | None) -> ParseResult:
        lines = text_lines(chunk.data)
        _check_header(chunk, lines)
        body = lines.slice(1)
        numbers = np.arange(len(body), dtype=np.int64) + chunk.first_line + 1
        blank = pc.equal(pc.utf8_trim_whitespace(body), "").to_numpy(zero_copy_only=False)
        body = body.filter(pa.array(~blank))
        numbers = numbers[~blank]
        quarantined: list[QuarantinedLine] = []

        fields = _split_fields(body)
        counts = pc.list_value_length(fields).to_numpy(zero_copy_only=False)
        wrong_count = counts != len(COLUMNS)
        for row in np.flatnonzero(wrong_count).tolist():
            quarantined.append(QuarantinedLine(
                line=int(numbers[row]),
                reason=(f"line has {counts[row]} fields, expected {len(COLUMNS)} separated by "
                        "tabs (or spaces); a cut-off or merged line?"),
                text=str(body[row].as_py()),
            ))
        keep = pa.array(~wrong_count)
        well_formed = _Fields(
            values={
                column: pc.utf8_trim_whitespace(pc.list_element(fields.filter(keep), i))
                for i, column in enumerate(COLUMNS)
            },
            line_numbers=numbers[~wrong_count],
            texts=body.filter(keep),
        )
        contacts, excluded, bad = _contacts(well_formed, chunk)
        quarantined.extend(bad)
        quarantined.sort(key=lambda q: q.line)
        return ParseResult(
            tables={CONTACTS.name: contacts},
            rows_read=len(body),
            quarantined=quarantined,
            excluded=excluded,
        )


def _contacts(
    fields: _Fields, chunk: SourceChunk
) -> tuple[pa.Table, int, list[QuarantinedLine]]:
    values = fields.values
    n = len(fields.line_numbers)
    valid = np.ones(n, dtype=np.bool_)
    first_bad: dict[int, tuple[str, str]] = {}  # row -> (column, what is valid)

    def reject(column: str, ok: BoolArray, what: str) -> None:
        nonlocal valid
        for row in np.flatnonzero(valid & ~ok).tolist():
            first_bad[row] = (column, what)
        valid &= ok

    for column, (pattern, what) in _CHECKS.items():
        ok = pc.match_substring_regex(values[column], pattern)
        reject(column, ok.to_numpy(zero_copy_only=False), what)
    dates = parse_times(values["date"], "%y%m%d")
    reject("date", pc.is_valid(dates).to_numpy(zero_copy_only=False), _CHECKS["date"][1])

    # Column values are only read on rows that passed every check above.
    rows = pa.array(valid)
    clean = {column: array.filter(rows) for column, array in values.items()}
    line_numbers = fields.line_numbers[valid]
    contact_ids = _contact_ids(clean)
    duplicate = _duplicates(contact_ids, line_numbers)

    quarantined = [
        QuarantinedLine(
            line=int(fields.line_numbers[row]),
            reason=(f"{column}: {values[column][row].as_py()!r} is not valid; "
                    f"expected {what}"),
            text=str(fields.texts[row].as_py()),
            field=column,
        )
        for row, (column, what) in first_bad.items()
    ]
    good_texts = fields.texts.filter(rows)
    for row, earlier in duplicate.items():
        quarantined.append(QuarantinedLine(
            line=int(line_numbers[row]),
            reason=(f"contact {contact_ids[row].as_py()!r} (vru+line, call_id, date) already "
                    f"appears on line {earlier}; each call is one line"),
            text=str(good_texts[row].as_py()),
            field="call_id",
        ))
    keep = np.ones(len(line_numbers), dtype=np.bool_)
    keep[list(duplicate)] = False

    phantom = pc.equal(clean["outcome"], "PHANTOM").to_numpy(zero_copy_only=False)
    excluded = int(np.count_nonzero(phantom & keep))
    keep &= ~phantom
    mask = pa.array(keep)
    clean = {column: array.filter(mask) for column, array in clean.items()}
    contact_ids = contact_ids.filter(pa.array(keep))
    day_us = pc.cast(dates.filter(rows).filter(mask), pa.int64()).to_numpy()
    table = _build(clean, contact_ids, day_us, chunk)
    return table, excluded, quarantined


def _contact_ids(values: dict[str, pa.StringArray]) -> pa.StringArray:
    """``vru+line-call_id-date``: unique over all nine months of 1999 (checked)."""
    joined: pa.StringArray = pc.binary_join_element_wise(
        values["vru+line"], values["call_id"], values["date"], "-"
    )
    return joined


def _duplicates(contact_ids: pa.StringArray, line_numbers: IntArray) -> dict[int, int]:
    """Rows whose contact id appeared earlier in the file -> line of the first one."""
    duplicate: dict[int, int] = {}
    if pc.count_distinct(contact_ids).as_py() == len(contact_ids):
        return duplicate  # the usual case: no need to look row by row
    seen: dict[str, int] = {}
    for row, cid in enumerate(contact_ids.to_pylist()):
        if cid in seen:
            duplicate[row] = seen[cid]
        else:
            seen[cid] = int(line_numbers[row])
    return duplicate


def _clock_seconds(clock: pa.StringArray) -> IntArray:
    parts = pc.split_pattern(clock, ":")
    h, m, s = (
        pc.cast(pc.list_element(parts, i), pa.int64()).to_numpy() for i in range(3)
    )
    result: IntArray = h * 3600 + m * 60 + s
    return result


def _ints(values: pa.StringArray) -> IntArray:
    result: IntArray = pc.cast(values, pa.int64()).to_numpy()
    return result


def _build(
    values: dict[str, pa.StringArray], contact_ids: pa.StringArray, day_us: IntArray,
    chunk: SourceChunk,
) -> pa.Table:
    n = len(contact_ids)
    vru_entry = _clock_seconds(values["vru_entry"])
    vru_time = _ints(values["vru_time"])
    q_start = _clock_seconds(values["q_start"])
    q_time = _ints(values["q_time"])
    ser_time = _ints(values["ser_time"])
    answered = pc.equal(values["outcome"], "AGENT").to_numpy(zero_copy_only=False)
    # "0:00:00" with q_time 0 means never queued; a queue start at midnight has q_time > 0.
    queued = (q_time > 0) | (q_start != 0)
    abandoned = ~answered & (q_time > 0)
    in_vru = ~answered & ~abandoned

    # The queue start is the instant nearest the VRU exit (entry + vru_time): a clock that
    # reads earlier than the entry by about a day belongs to the next day.
    vru_exit = vru_entry + vru_time
    next_days = np.rint((vru_exit - q_start) / _DAY_S).astype(np.int64)
    queue_start = q_start + next_days * _DAY_S
    arrival_s = np.where(in_vru, vru_entry, np.where(queued, queue_start, vru_exit))

    zone = chunk.tz or DEFAULT_ZONE
    arrived = local_to_utc(day_us + arrival_s * _US, zone)
    answered_at = arrived + q_time * _US
    ended = np.where(
        answered, answered_at + ser_time * _US,
        np.where(abandoned, arrived + q_time * _US, arrived + np.maximum(vru_time, 0) * _US),
    )
    outcome = np.where(
        answered, Outcome.ANSWERED.value,
        np.where(abandoned, Outcome.ABANDONED.value, Outcome.ENDED_IN_VRU.value),
    )
    server = values["server"]
    customer = values["customer_id"]
    columns: dict[str, pa.Array] = {
        "tenant": pa.array([chunk.tenant] * n, pa.string()),
        "source": pa.array([NAME] * n, pa.string()),
        "contact_id": contact_ids,
        "channel": pa.array([Channel.VOICE.value] * n, pa.string()),
        "queue": pa.array([QUEUE] * n, pa.string()),
        "direction": pa.array(["inbound"] * n, pa.string()),
        "arrived_at": _timestamps(arrived),
        "answered_at": _timestamps(answered_at, mask=~answered),
        "ended_at": _timestamps(ended),
        "outcome": pa.array(outcome.tolist(), pa.string()),
        "wait_s": pa.array(q_time.astype(np.float64), mask=in_vru),
        "talk_s": pa.array(ser_time.astype(np.float64), mask=~answered),
        "agent_id": pc.if_else(pc.equal(server, NO_SERVER), None, server),
        "priority": pc.cast(values["priority"], pa.int32()),
        "service_type": values["type"],
        # Spreadsheet notation such as "6.02E+11" has lost digits: kept as written.
        "customer_id": pc.if_else(pc.is_in(customer, pa.array(["0", ""])), None, customer),
    }
    return CONTACTS.conform(pa.table(columns))


def _timestamps(utc_us: IntArray, mask: BoolArray | None = None) -> pa.Array:
    return pa.array(utc_us, type=pa.int64(), mask=mask).cast(UTC_TIMESTAMP)


FORMAT = register_format(AnonymousBankFormat())
