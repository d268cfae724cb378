"""ServiceNow incident event logs (CSV) as canonical ticket contacts.

The log has one line per update of an incident (the UCI "Incident management process
enriched event log", Amaral et al. 2018, has this shape). Each incident ``number`` becomes
one contact, built from its latest event (highest ``sys_mod_count``, then latest
``sys_updated_at``, then the later line):

- arrived_at = ``opened_at``; answered_at (first response) = the first update that moves
  the incident out of ``New``; resolved_at = ``resolved_at`` and ended_at = ``closed_at``
  once the latest state is Resolved / Closed;
- outcome: Resolved or Closed → resolved, Canceled → canceled, any open state → waiting;
- sla_met = ``made_sla``; priority ``"2 - High"`` → 2; reassignments =
  ``reassignment_count``; escalated = reassigned at least once; reopened =
  ``reopen_count > 0``; queue = ``assignment_group``; agent = ``assigned_to``;
  service_type = ``category``; customer = ``caller_id``; channel ``ticket``.

``?`` marks a missing value. Times are ``dd-mm-YYYY HH:MM``; the export carries no zone,
so they are read as UTC unless ``--tz`` names the instance's zone.
"""

from __future__ import annotations

import csv
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servicelevel.errors import SourceFormatError
from servicelevel.model.enums import Channel, Outcome
from servicelevel.model.tables import CONTACTS, UTC_TIMESTAMP
from servicelevel.sources import register_format
from servicelevel.sources.base import Carry, ParseResult, QuarantinedLine, SourceChunk
from servicelevel.sources.columns import IntArray, local_to_utc, parse_times, text_lines

NAME = "servicenow-incidents"
DEFAULT_ZONE = ZoneInfo("UTC")
TIME_FORMAT = "%d-%m-%Y %H:%M"
MISSING = "?"

#: Columns without which a file is not an incident event log.
REQUIRED: tuple[str, ...] = ("number", "incident_state", "opened_at", "sys_updated_at")
#: Columns read when present (a list export may leave some out): null when absent.
OPTIONAL: tuple[str, ...] = (
    "sys_mod_count", "made_sla", "resolved_at", "closed_at", "priority",
    "reassignment_count", "reopen_count", "assignment_group", "assigned_to", "caller_id",
    "category",
)

#: Incident states (lower case) and the outcome of an incident whose latest event has it.
STATES: dict[str, Outcome] = {
    "resolved": Outcome.RESOLVED,
    "closed": Outcome.RESOLVED,
    "canceled": Outcome.CANCELED,
    "cancelled": Outcome.CANCELED,
    **{
        state: Outcome.WAITING
        for state in (
            "new", "active", "in progress", "on hold", "awaiting user info",
            "awaiting problem", "awaiting vendor", "awaiting evidence", "awaiting change",
        )
    },
}
_RESOLVED = ("resolved", "closed")
_ENDED = ("closed", "canceled", "cancelled")
_TIME_VALID = "a date and time written dd-mm-YYYY HH:MM, like 29-02-2016 01:16"
_COUNT_VALID = "a whole number, 0 or more"

#: Per column: pattern of a present value (``?`` and empty are missing) and what is valid.
_CHECKS: dict[str, tuple[str, str]] = {
    "sys_mod_count": (r"^\d{1,9}$", _COUNT_VALID),
    "reassignment_count": (r"^\d{1,9}$", _COUNT_VALID),
    "reopen_count": (r"^\d{1,9}$", _COUNT_VALID),
    "made_sla": (r"(?i)^(true|false)$", "TRUE or FALSE"),
    "priority": (r"^\d{1,4}(\s*-.*)?$", "a number and a label, like '2 - High'"),
}
_TIMES = ("opened_at", "sys_updated_at", "resolved_at", "closed_at")


def _header(chunk: SourceChunk, lines: pa.StringArray) -> list[str]:
    if len(lines) == 0 or not str(lines[0].as_py()).strip():
        raise SourceFormatError(
            chunk.path, f"empty file; a {NAME} export starts with a header line naming its "
            f"columns, among them {', '.join(REQUIRED)}", line=chunk.first_line,
        )
    names = [name.strip().lower() for name in next(csv.reader([str(lines[0].as_py())]))]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        shown = str(lines[0].as_py())[:120]
        raise SourceFormatError(
            chunk.path,
            f"this is not a {NAME} export: its header lacks {', '.join(missing)} (the "
            f"first line is {shown!r}); export the incident table as CSV with at least "
            f"the columns {', '.join(REQUIRED)}",
            line=chunk.first_line,
        )
    return names


def _fields(body: pa.StringArray) -> pa.ListArray:
    """Comma-separated fields; lines with a quote go through the csv module."""
    quoted = pc.match_substring(body, '"').to_numpy(zero_copy_only=False)
    if not quoted.any():
        return pc.split_pattern(body, ",")
    split = pc.split_pattern(body, ",").to_pylist()
    for row in np.flatnonzero(quoted).tolist():
        split[row] = next(csv.reader([str(body[row].as_py())]))
    return pa.array(split, pa.list_(pa.string()))


class ServiceNowIncidentsFormat:
    """ServiceNow incident event log (CSV): one contact per incident."""

    name = NAME
    description = "ServiceNow incident event log (CSV, one line per update): one ticket each."
    append_only = False

    def parse(self, chunk: SourceChunk, carry: Carry | None) -> ParseResult:
        lines = text_lines(chunk.data)
        names = _header(chunk, lines)
        body = lines.slice(1)
        numbers = np.arange(len(body), dtype=np.int64) + chunk.first_line + 1
        blank = pc.equal(pc.utf8_trim_whitespace(body), "").to_numpy(zero_copy_only=False)
        body = body.filter(pa.array(~blank))
        numbers = numbers[~blank]

        fields = _fields(body)
        counts = pc.list_value_length(fields).to_numpy(zero_copy_only=False)
        wrong = counts != len(names)
        quarantined = [
            QuarantinedLine(
                line=int(numbers[row]),
                reason=(f"line has {counts[row]} fields, expected {len(names)} like the "
                        "header; a cut-off line, or a value with a comma not in quotes?"),
                text=str(body[row].as_py()),
            )
            for row in np.flatnonzero(wrong).tolist()
        ]
        keep = pa.array(~wrong)
        fields = fields.filter(keep)
        texts = body.filter(keep)
        numbers = numbers[~wrong]
        values: dict[str, pa.Array] = {}
        for column in REQUIRED + OPTIONAL:
            if column in names:
                raw = pc.utf8_trim_whitespace(pc.list_element(fields, names.index(column)))
                values[column] = pc.if_else(pc.is_in(raw, pa.array([MISSING, ""])), None, raw)
            else:
                values[column] = pa.nulls(len(numbers), pa.string())

        events, bad = _valid_events(values, numbers, texts, chunk.tz or DEFAULT_ZONE)
        quarantined.extend(bad)
        quarantined.sort(key=lambda q: q.line)
        contacts = _contacts(events, chunk.tenant)
        return ParseResult(
            tables={CONTACTS.name: contacts}, rows_read=len(body), quarantined=quarantined
        )


def _valid_events(
    values: dict[str, pa.Array], numbers: IntArray, texts: pa.StringArray, zone: ZoneInfo
) -> tuple[pa.Table, list[QuarantinedLine]]:
    """The events whose every value is usable, typed; and the others, quarantined."""
    n = len(numbers)
    valid = np.ones(n, dtype=np.bool_)
    bad: list[QuarantinedLine] = []

    def reject(column: str, ok: pa.Array, what: str) -> None:
        nonlocal valid
        ok_np = ok.fill_null(False).to_numpy(zero_copy_only=False)
        for row in np.flatnonzero(valid & ~ok_np).tolist():
            value = values[column][row].as_py()
            shown = "a missing value" if value is None else repr(value)
            bad.append(QuarantinedLine(
                line=int(numbers[row]), reason=f"{column}: {shown} is not valid; expected {what}",
                text=str(texts[row].as_py()), field=column,
            ))
        valid &= ok_np

    reject("number", pc.is_valid(values["number"]), "the incident number, like INC0000045")
    state = pc.utf8_lower(values["incident_state"])
    known = ", ".join(sorted({s.title() for s in STATES}))
    reject("incident_state", pc.is_in(state, pa.array(list(STATES))), f"one of {known}")
    times: dict[str, pa.Array] = {}
    for column in _TIMES:
        parsed = parse_times(values[column], TIME_FORMAT)
        ok = pc.is_valid(parsed)
        if column in ("resolved_at", "closed_at"):  # may be missing
            ok = pc.or_kleene(ok, pc.is_null(values[column]))
        reject(column, ok, _TIME_VALID)
        times[column] = parsed
    for column, (pattern, what) in _CHECKS.items():
        present_ok = pc.match_substring_regex(values[column], pattern)
        reject(column, pc.or_kleene(pc.is_null(values[column]), present_ok), what)

    rows = pa.array(valid)
    take = {column: array.filter(rows) for column, array in values.items()}
    utc = {column: _to_utc(times[column].filter(rows), zone) for column in _TIMES}
    priority = pc.extract_regex(take["priority"], r"^(?P<p>\d+)")
    events = pa.table({
        "line": pa.array(numbers[valid]),
        "number": take["number"],
        "state": state.filter(rows),
        "mod": pc.cast(take["sys_mod_count"], pa.int64()),
        "updated": utc["sys_updated_at"],
        "opened": utc["opened_at"],
        "resolved": utc["resolved_at"],
        "closed": utc["closed_at"],
        "made_sla": pc.equal(pc.utf8_lower(take["made_sla"]), "true"),
        "priority": pc.cast(pc.struct_field(priority, [0]), pa.int32()),
        "reassignments": pc.cast(take["reassignment_count"], pa.int32()),
        "reopens": pc.cast(take["reopen_count"], pa.int32()),
        "group": take["assignment_group"],
        "agent": take["assigned_to"],
        "caller": take["caller_id"],
        "category": take["category"],
    })
    return events, bad


def _to_utc(naive: pa.Array, zone: ZoneInfo) -> pa.Array:
    micros = pc.cast(naive, pa.int64())
    if zone.key == "UTC":
        return micros.cast(UTC_TIMESTAMP)
    filled = micros.fill_null(0).to_numpy(zero_copy_only=False)
    converted = local_to_utc(filled.astype(np.int64), zone)
    mask = pc.is_null(micros).to_numpy(zero_copy_only=False)
    return pa.array(converted, type=pa.int64(), mask=mask).cast(UTC_TIMESTAMP)


def _contacts(events: pa.Table, tenant: str) -> pa.Table:
    if events.num_rows == 0:
        return CONTACTS.empty()
    ordered = events.sort_by([
        ("number", "ascending"), ("mod", "ascending"), ("updated", "ascending"),
        ("line", "ascending"),
    ])
    number = ordered["number"].to_numpy()
    last = np.append(number[1:] != number[:-1], True)  # last event of each incident
    latest = ordered.filter(pa.array(last))

    # First response: the earliest update that took the incident out of "New".
    worked = events.filter(pc.not_equal(events["state"], "new"))
    first = worked.group_by("number").aggregate([("updated", "min")])
    latest = latest.join(first, "number", join_type="left outer").sort_by("number")
    # opened_at can be edited after creation (2 sample incidents were updated before it):
    # a first response never precedes the opening.
    first_update, opened = latest["updated_min"], latest["opened"]
    answered = pc.if_else(pc.less(first_update, opened), opened, first_update)

    n = latest.num_rows
    state = latest["state"]
    resolved = pc.is_in(state, pa.array(_RESOLVED))
    ended = pc.is_in(state, pa.array(_ENDED))
    outcome = [STATES[s].value for s in state.to_pylist()]
    reassignments = latest["reassignments"]
    table = pa.table({
        "tenant": pa.array([tenant] * n, pa.string()),
        "source": pa.array([NAME] * n, pa.string()),
        "contact_id": latest["number"],
        "channel": pa.array([Channel.TICKET.value] * n, pa.string()),
        "queue": latest["group"],
        "direction": pa.array(["inbound"] * n, pa.string()),
        "arrived_at": latest["opened"],
        "answered_at": answered,
        "ended_at": pc.if_else(ended, latest["closed"], None),
        "resolved_at": pc.if_else(resolved, latest["resolved"], None),
        "outcome": pa.array(outcome, pa.string()),
        "agent_id": latest["agent"],
        "priority": latest["priority"],
        "service_type": latest["category"],
        "customer_id": latest["caller"],
        "escalated": pc.greater(reassignments, 0),
        "reopened": pc.greater(latest["reopens"], 0),
        "reassignments": reassignments,
        "sla_met": latest["made_sla"],
    })
    return CONTACTS.conform(table)


FORMAT = register_format(ServiceNowIncidentsFormat())
