"""The servicenow-incidents format on the shared UCI sample and on hand-made event logs.

Counts on the real sample were first taken with awk on its last line per incident:
zcat F | tr -d '\\r' | awk -F, 'NR>1{last[$1]=$0} END{...}'.
"""

from __future__ import annotations

import gzip
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicelevel.errors import SourceFormatError
from servicelevel.model.tables import CONTACTS
from servicelevel.sources import get_format
from servicelevel.sources.base import ParseResult, SourceChunk
from servicelevel.sources.servicenow_incidents import FORMAT, NAME
from tests.conftest import shared_data

EVENTS = Path(__file__).parent / "fixtures" / "servicenow" / "events.csv"


def parse(data: bytes | str, *, tz: ZoneInfo | None = None, path: str = "incidents.csv"
          ) -> ParseResult:
    raw = data.encode() if isinstance(data, str) else data
    chunk = SourceChunk(path=path, data=raw, first_line=1, tenant="desk", tz=tz)
    return FORMAT.parse(chunk, None)


def by_id(result: ParseResult) -> dict[str, dict[str, Any]]:
    return {row["contact_id"]: row for row in result.tables["contacts"].to_pylist()}


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def count(table: pa.Table, column: str, value: object) -> int:
    return int(pc.sum(pc.equal(table[column], value).cast(pa.int64())).as_py() or 0)


# -- the real sample ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> ParseResult:
    path = shared_data("tickets", "servicenow_incident_event_log_sample.csv.gz")
    return parse(gzip.decompress(path.read_bytes()), path=path.name)


def test_sample_gives_one_ticket_per_incident(sample: ParseResult) -> None:
    contacts = sample.tables["contacts"]
    assert (sample.rows_read, contacts.num_rows, sample.quarantined) == (5998, 890, [])
    assert contacts.schema == CONTACTS.schema
    assert pc.count_distinct(contacts["contact_id"]).as_py() == 890
    assert set(pc.unique(contacts["channel"]).to_pylist()) == {"ticket"}
    assert set(pc.unique(contacts["source"]).to_pylist()) == {NAME}


def test_sample_outcomes_and_flags(sample: ParseResult) -> None:
    contacts = sample.tables["contacts"]
    assert count(contacts, "outcome", "resolved") == 890  # every latest event is Closed
    assert count(contacts, "sla_met", True) == 495
    assert count(contacts, "sla_met", False) == 395
    assert count(contacts, "escalated", True) == 391
    assert count(contacts, "reopened", True) == 10
    assert {p: count(contacts, "priority", p) for p in (1, 2, 3, 4)} == {
        1: 15, 2: 33, 3: 757, 4: 85}
    assert contacts["resolved_at"].null_count == 29  # closed with resolved_at "?"
    assert contacts["queue"].null_count == 17
    assert contacts["agent_id"].null_count == 217


def test_sample_times_are_ordered(sample: ParseResult) -> None:
    contacts = sample.tables["contacts"]
    for later in ("answered_at", "resolved_at", "ended_at"):
        assert pc.all(pc.greater_equal(contacts[later], contacts["arrived_at"])).as_py(), later
    assert pc.min(contacts["arrived_at"]).as_py() == utc(2016, 2, 29, 1, 16)
    assert pc.max(contacts["arrived_at"]).as_py() == utc(2016, 3, 2, 15, 33)


def test_sample_first_incident(sample: ParseResult) -> None:
    row = by_id(sample)["INC0000045"]
    assert {k: row[k] for k in ("arrived_at", "answered_at", "resolved_at", "ended_at",
                                "priority", "queue", "agent_id", "customer_id",
                                "service_type", "sla_met", "reassignments")} == {
        "arrived_at": utc(2016, 2, 29, 1, 16),
        "answered_at": utc(2016, 2, 29, 8, 53),  # first update out of New: Resolved
        "resolved_at": utc(2016, 2, 29, 11, 29),
        "ended_at": utc(2016, 3, 5, 12, 0),
        "priority": 3, "queue": "Group 56", "agent_id": None, "customer_id": "Caller 2403",
        "service_type": "Category 55", "sla_met": True, "reassignments": 0,
    }


def test_sample_latest_event_by_mod_count_then_update_time(sample: ParseResult) -> None:
    # INC0000135 has two events with sys_mod_count 7: Active on 29 Feb and Closed on 5 Mar.
    row = by_id(sample)["INC0000135"]
    assert (row["outcome"], row["ended_at"]) == ("resolved", utc(2016, 3, 5, 17, 0))


# -- hand-made event logs -----------------------------------------------------------------


@pytest.fixture(scope="module")
def events() -> ParseResult:
    return parse(EVENTS.read_bytes(), path=str(EVENTS))


EXPECTED: dict[str, dict[str, Any]] = {
    "INC1": dict(outcome="resolved", arrived_at=utc(2016, 2, 29, 1, 16),
                 answered_at=utc(2016, 2, 29, 2, 5), resolved_at=utc(2016, 2, 29, 11, 29),
                 ended_at=utc(2016, 3, 5, 12, 0), priority=1, sla_met=False, reassignments=1,
                 escalated=True, reopened=False, queue="Group 2", agent_id="Smith, Jane",
                 customer_id="Caller 1", service_type="Category 1"),
    # Still open: the export's look-ahead resolved_at / closed_at are not used.
    "INC2": dict(outcome="waiting", arrived_at=utc(2016, 3, 1, 23, 50),
                 answered_at=utc(2016, 3, 2, 0, 10), resolved_at=None, ended_at=None,
                 agent_id="Resolver 7", sla_met=True),
    "INC3": dict(outcome="canceled", answered_at=utc(2016, 3, 1, 9, 0), resolved_at=None,
                 ended_at=utc(2016, 3, 1, 9, 0), sla_met=None, priority=4),
    # Events out of file order; reopened; closed without resolved_at.
    "INC4": dict(outcome="resolved", answered_at=utc(2016, 2, 29, 10, 30), resolved_at=None,
                 ended_at=utc(2016, 3, 6, 10, 0), reopened=True, reassignments=2,
                 escalated=True, priority=2),
    "INC5": dict(outcome="waiting", answered_at=None, queue=None, priority=None,
                 customer_id=None, escalated=False),
}


def test_events_all_load(events: ParseResult) -> None:
    assert (events.rows_read, events.quarantined) == (13, [])
    assert sorted(by_id(events)) == sorted(EXPECTED)


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_incident(events: ParseResult, number: str) -> None:
    row = by_id(events)[number]
    assert {key: row[key] for key in EXPECTED[number]} == EXPECTED[number]
    assert (row["channel"], row["direction"], row["tenant"]) == ("ticket", "inbound", "desk")


def test_lf_line_endings_give_the_same_tickets(events: ParseResult) -> None:
    lf = EVENTS.read_bytes().replace(b"\r\n", b"\n")
    assert parse(lf).tables["contacts"] == events.tables["contacts"]


def test_tz_option_reads_times_in_that_zone() -> None:
    result = parse(EVENTS.read_bytes(), tz=ZoneInfo("Europe/Paris"))
    assert by_id(result)["INC1"]["arrived_at"] == utc(2016, 2, 29, 0, 16)  # CET = UTC+1


def test_column_order_and_extra_columns_do_not_matter(events: ParseResult) -> None:
    lines = EVENTS.read_text().splitlines()
    reordered = ["extra," + line.replace("INC", "INC", 1) for line in lines]
    reordered[0] = "note," + lines[0]
    assert parse("\n".join(reordered)).tables["contacts"] == events.tables["contacts"]


@pytest.mark.parametrize(
    ("column", "value", "hint"),
    [
        ("opened_at", "2016-02-29 01:16", "dd-mm-YYYY HH:MM"),
        ("sys_updated_at", "?", "dd-mm-YYYY HH:MM"),
        ("closed_at", "31-02-2016 10:00", "dd-mm-YYYY HH:MM"),
        ("incident_state", "-100", "Awaiting User Info"),
        ("made_sla", "yes", "TRUE or FALSE"),
        ("reassignment_count", "-1", "whole number"),
        ("priority", "High", "2 - High"),
    ],
)
def test_bad_value_is_quarantined_with_field_value_and_fix(
    column: str, value: str, hint: str
) -> None:
    lines = EVENTS.read_text().splitlines()
    header = lines[0].split(",")
    fields = lines[5].split(",")  # INC2's first event
    fields[header.index(column)] = value
    lines[5] = ",".join(fields)
    result = parse("\n".join(lines))
    (bad,) = result.quarantined
    assert (bad.line, bad.field, bad.text) == (6, column, lines[5])
    assert hint in bad.reason
    assert column in bad.reason
    assert result.tables["contacts"].num_rows == 5  # INC2 still loads from its other event


def test_truncated_last_line_is_quarantined() -> None:
    text = EVENTS.read_text()
    cut = text[: text.rstrip().rindex(",Phone,")]
    result = parse(cut)
    (bad,) = result.quarantined
    assert (bad.line, bad.field) == (14, None)
    assert "fields" in bad.reason
    assert by_id(result).keys() == {"INC1", "INC2", "INC3", "INC4"}


def test_a_bank_file_is_not_an_incident_log() -> None:
    bank = Path(__file__).parent / "fixtures" / "bank" / "edge_cases.txt"
    with pytest.raises(SourceFormatError, match=r"calls:1: this is not a servicenow-incidents "
                                                r"export: its header lacks number"):
        parse(bank.read_bytes(), path="calls")


def test_empty_file_is_one_clear_error() -> None:
    with pytest.raises(SourceFormatError, match="empty file"):
        parse(b"")


def test_header_only_gives_no_tickets() -> None:
    result = parse(EVENTS.read_text().splitlines()[0])
    assert (result.rows_read, result.tables["contacts"].num_rows) == (0, 0)


def test_registered_as_a_whole_file_format() -> None:
    assert get_format(NAME) is FORMAT
    assert FORMAT.append_only is False


# -- fuzzing -----------------------------------------------------------------------------

LINES = EVENTS.read_text().splitlines()


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, len(LINES) - 1),
    st.integers(0, 400),
    st.text(alphabet=string.printable.replace("\n", "").replace("\r", ""), max_size=15),
    st.booleans(),
)
def test_mutated_event_never_crashes_and_is_accounted_for(
    row: int, at: int, text: str, replace: bool
) -> None:
    lines = list(LINES)
    line = lines[row]
    at = min(at, len(line))
    lines[row] = line[:at] + text + line[at + (len(text) if replace else 0):]
    result = parse("\n".join(lines) + "\n")
    assert all(q.line == row + 1 and q.reason for q in result.quarantined)
    blank = not lines[row].strip()
    assert result.rows_read == len(LINES) - 1 - blank
    incidents = {cid for cid in result.tables["contacts"]["contact_id"].to_pylist()}
    # Every incident with an untouched event still loads.
    untouched = {ln.split(",")[0] for i, ln in enumerate(LINES[1:], 1) if i != row}
    assert untouched <= incidents
