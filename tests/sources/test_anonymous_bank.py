"""The anonymous-bank format on the real nine months, on hand-made edge cases, and fuzzed.

Every count asserted on the real data was first counted with awk on the decompressed
files (see docs/sources/anonymous_bank.md, "Figures").
"""

from __future__ import annotations

import gzip
import importlib.util
import re
import string
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicelevel.errors import SourceFormatError
from servicelevel.model.tables import CONTACTS
from servicelevel.sources import get_format
from servicelevel.sources.anonymous_bank import (
    COLUMNS,
    DEMO_DATA_DIR,
    FORMAT,
    NAME,
)
from servicelevel.sources.base import ParseResult, SourceChunk
from servicelevel.sources.columns import local_to_utc
from tests.conftest import REPO_ROOT, shared_data

FIXTURES = Path(__file__).parent / "fixtures" / "bank"
EDGE_CASES = FIXTURES / "edge_cases.txt"
HEADER = "\t".join(COLUMNS)

# (file, lines read, answered, abandoned, ended_in_vru, PHANTOM), counted with awk:
# zcat F | awk -F'\t' 'NR>1{o[$13]++; if($13=="HANG"&&$12>0)a++; if($13=="HANG"&&$12==0)v++}'
MONTHS = [
    ("01_January.txt.gz", 31599, 27060, 3080, 1219, 240),
    ("02_February.txt.gz", 33344, 27162, 3932, 1972, 278),
    ("03_March.txt.gz", 38801, 27847, 8581, 1966, 407),
    ("04_April.txt.gz", 32036, 23583, 5659, 2489, 305),
    ("05_May.txt.gz", 39553, 29923, 7073, 2139, 418),
    ("06_June.txt.gz", 37935, 31193, 4635, 1785, 322),
    ("07_July.txt.gz", 39022, 29596, 6787, 2261, 378),
    ("09_September.txt.gz", 31371, 27062, 2555, 1591, 163),
    ("10_October.txt.gz", 34625, 30861, 2089, 1528, 147),
]


def parse(data: bytes | str, *, path: str = "calls.txt", tz: ZoneInfo | None = None,
          first_line: int = 1) -> ParseResult:
    raw = data.encode() if isinstance(data, str) else data
    chunk = SourceChunk(path=path, data=raw, first_line=first_line, tenant="bank", tz=tz)
    return FORMAT.parse(chunk, None)


def by_id(result: ParseResult) -> dict[str, dict[str, Any]]:
    return {row["contact_id"]: row for row in result.tables["contacts"].to_pylist()}


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- the real data -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def months() -> dict[str, ParseResult]:
    folder = shared_data("anonymous_bank")
    results = {}
    started = time.perf_counter()
    for name, *_ in MONTHS:
        data = gzip.decompress((folder / name).read_bytes())
        results[name] = parse(data, path=name)
    elapsed = time.perf_counter() - started
    # Generous bound (about 3 s on a laptop): catches a fall back to per-row Python.
    assert elapsed < 30, f"loading the nine months took {elapsed:.1f}s"
    return results


@pytest.fixture(scope="module")
def all_contacts(months: dict[str, ParseResult]) -> pa.Table:
    return pa.concat_tables(r.tables["contacts"] for r in months.values())


@pytest.mark.parametrize(
    ("name", "lines", "answered", "abandoned", "in_vru", "phantom"), MONTHS
)
def test_each_month_loads_every_call(
    months: dict[str, ParseResult], name: str, lines: int, answered: int, abandoned: int,
    in_vru: int, phantom: int,
) -> None:
    result = months[name]
    outcomes = dict(zip(*pc.value_counts(result.tables["contacts"]["outcome"]).flatten(),
                        strict=True))
    assert result.rows_read == lines
    assert result.quarantined == []
    assert result.excluded == phantom
    assert {k.as_py(): v.as_py() for k, v in outcomes.items()} == {
        "answered": answered, "abandoned": abandoned, "ended_in_vru": in_vru,
    }


def test_nine_months_hold_the_318286_calls_of_the_data_readme(
    months: dict[str, ParseResult], all_contacts: pa.Table
) -> None:
    assert sum(r.rows_read for r in months.values()) == 318_286
    assert all_contacts.num_rows + sum(r.excluded for r in months.values()) == 318_286
    assert all_contacts.schema == CONTACTS.schema


def test_contact_ids_are_unique_over_all_months(all_contacts: pa.Table) -> None:
    assert pc.count_distinct(all_contacts["contact_id"]).as_py() == all_contacts.num_rows


def test_real_data_invariants(all_contacts: pa.Table) -> None:
    t = all_contacts
    offered = pc.not_equal(t["outcome"], "ended_in_vru")
    assert pc.all(pc.greater_equal(t["ended_at"], t["arrived_at"])).as_py()
    waits = pc.subtract(t["answered_at"], t["arrived_at"]).cast(pa.int64())
    answered = pc.equal(t["outcome"], "answered")
    assert pc.all(pc.equal(waits.filter(answered), pc.multiply(
        t["wait_s"].filter(answered), 1_000_000).cast(pa.int64()))).as_py()
    assert pc.min(t["wait_s"]).as_py() == 0
    # The README's longest q_time, 28,693 s, is on a PHANTOM line; of the contacts it is
    # 2,902 s (awk: max $12 where $13 != "PHANTOM").
    assert pc.max(t["wait_s"]).as_py() == 2_902
    assert t["wait_s"].filter(offered).null_count == 0
    assert t["wait_s"].filter(pc.invert(offered)).null_count == t.num_rows - pc.sum(
        offered.cast(pa.int64())).as_py()
    assert set(pc.unique(t["channel"]).to_pylist()) == {"voice"}
    assert set(pc.unique(t["queue"]).to_pylist()) == {"bank"}


def test_real_data_quirks_survive(all_contacts: pa.Table) -> None:
    t = all_contacts
    answered = t.filter(pc.equal(t["outcome"], "answered"))
    # 4,119 AGENT rows name no agent; 1,017 have ser_time 0; 76 AGENT rows talk > 1 h.
    assert answered["agent_id"].null_count == 4_119
    assert pc.sum(pc.equal(answered["talk_s"], 0).cast(pa.int64())).as_py() == 1_017
    assert pc.sum(pc.greater(answered["talk_s"], 3600).cast(pa.int64())).as_py() == 76
    # 180 customer ids in spreadsheet notation, of which 2 are on PHANTOM lines: kept as text.
    sci = pc.match_substring(t["customer_id"], "E+")
    assert pc.sum(sci.cast(pa.int64())).as_py() == 178
    assert "0" not in pc.unique(t["customer_id"]).to_pylist()
    # The undocumented type AA: 5 rows, all hang-ups.
    aa = t.filter(pc.equal(t["service_type"], "AA"))
    assert aa.num_rows == 5
    assert set(aa["outcome"].to_pylist()) <= {"abandoned", "ended_in_vru"}


def test_missing_and_anomalous_days(all_contacts: pa.Table) -> None:
    day = pc.utf8_slice_codeunits(all_contacts["contact_id"], -6)
    days = set(pc.unique(day).to_pylist())
    assert "990111" not in days
    assert "990112" not in days
    # 1999-05-23: 1,462 HANG of 3,064 lines (47.7% with the 21 PHANTOM lines).
    may23 = all_contacts.filter(pc.equal(day, "990523"))
    hang = pc.not_equal(may23["outcome"], "answered")
    assert may23.num_rows == 3_043
    assert pc.sum(hang.cast(pa.int64())).as_py() == 1_462


def test_midnight_queue_start_in_the_real_data(all_contacts: pa.Table) -> None:
    # q_start 0:00:00 with q_time 27: queued at midnight, not "never queued".
    row = all_contacts.filter(pc.equal(all_contacts["contact_id"], "AA0102-31056-990215"))
    (contact,) = row.to_pylist()
    assert contact["arrived_at"] == utc(1999, 2, 15, 22, 0, 0)  # 16 Feb 00:00 in Israel
    assert contact["answered_at"] == utc(1999, 2, 15, 22, 0, 27)
    assert contact["wait_s"] == 27


# -- hand-made edge cases -----------------------------------------------------------------


@pytest.fixture(scope="module")
def edge() -> ParseResult:
    return parse(EDGE_CASES.read_bytes(), path=str(EDGE_CASES))


def test_edge_cases_all_load(edge: ParseResult) -> None:
    assert edge.rows_read == 16
    assert edge.quarantined == []
    assert edge.excluded == 1  # the PHANTOM line
    assert edge.tables["contacts"].num_rows == 15


EXPECTED: dict[str, dict[str, Any]] = {
    # A plain answered call, 5 January (UTC+2).
    "AA0101-1-990105": dict(outcome="answered", arrived_at=utc(1999, 1, 5, 8, 0, 10),
                            answered_at=utc(1999, 1, 5, 8, 0, 40),
                            ended_at=utc(1999, 1, 5, 8, 5, 40), wait_s=30.0, talk_s=300.0,
                            agent_id="MICHAL", priority=2, customer_id="9664491"),
    # The queue crosses midnight: the exit clock 0:08:48 is on the next day.
    "AA0101-2-990316": dict(outcome="abandoned", arrived_at=utc(1999, 3, 16, 21, 58, 37),
                            answered_at=None, ended_at=utc(1999, 3, 16, 22, 8, 48),
                            wait_s=611.0, talk_s=None, agent_id=None, service_type="NE"),
    # The queue starts at 0:00:00 of the next day (q_time > 0, so it did queue).
    "AA0102-3-990215": dict(outcome="answered", arrived_at=utc(1999, 2, 15, 22, 0, 0),
                            answered_at=utc(1999, 2, 15, 22, 0, 27),
                            ended_at=utc(1999, 2, 15, 22, 1, 34), wait_s=27.0),
    # Served straight from the VRU; the service crosses midnight.
    "AA0102-4-990105": dict(outcome="answered", arrived_at=utc(1999, 1, 5, 21, 59, 34),
                            answered_at=utc(1999, 1, 5, 21, 59, 34),
                            ended_at=utc(1999, 1, 5, 22, 3, 41), wait_s=0.0, talk_s=247.0),
    # Negative vru_time: the queue start (= VRU exit) reads before the VRU entry.
    "AA0101-5-990113": dict(outcome="abandoned", arrived_at=utc(1999, 1, 13, 13, 45, 24),
                            ended_at=utc(1999, 1, 13, 13, 46, 41), wait_s=77.0),
    # AGENT with NO_SERVER: answered, agent unknown.
    "AA0104-6-990113": dict(outcome="answered", agent_id=None, talk_s=41.0,
                            arrived_at=utc(1999, 1, 13, 7, 44, 58)),
    # AGENT with ser_time 0 and no service clock: answered, talk 0 as the source says.
    "AA0102-7-990104": dict(outcome="answered", talk_s=0.0, agent_id="GILI",
                            ended_at=utc(1999, 1, 4, 11, 39, 30)),
    # Spreadsheet-notation customer id kept as written; H:MM:SS clocks.
    "AA0101-8-990107": dict(customer_id="6.02E+11", service_type="IN", priority=1,
                            arrived_at=utc(1999, 1, 7, 6, 0, 5)),
    # HANG with q_time 0: ended in the VRU, arrival = VRU entry, no wait.
    "AA0101-9-990101": dict(outcome="ended_in_vru", arrived_at=utc(1998, 12, 31, 22, 34, 12),
                            ended_at=utc(1998, 12, 31, 22, 34, 23), wait_s=None,
                            customer_id=None),
    # ... also when a queue start is written with q_time 0.
    "AA0101-10-990104": dict(outcome="ended_in_vru", arrived_at=utc(1999, 1, 4, 16, 23, 45)),
    "AA0105-12-990101": dict(outcome="ended_in_vru", service_type="AA"),
    # Space-separated line (as in some copies of the October file); October is UTC+2.
    "AA0101-13-991007": dict(outcome="answered", arrived_at=utc(1999, 10, 7, 11, 37, 25),
                             ended_at=utc(1999, 10, 7, 11, 42, 1), agent_id="SHARON",
                             service_type="PE"),
    # Summer time (UTC+3) from 2 April to 3 September 1999.
    "AA0101-14-990405": dict(arrived_at=utc(1999, 4, 5, 7, 0, 5)),
    # 1:07:50 on 3 September happened twice; the first (summer time) is taken.
    "AA0103-15-990903": dict(arrived_at=utc(1999, 9, 2, 22, 7, 50)),
    # 2:30 on 2 April never happened (clocks went 2:00 -> 3:00): the winter offset is kept.
    "AA0103-16-990402": dict(arrived_at=utc(1999, 4, 2, 0, 30, 0)),
}


@pytest.mark.parametrize("contact_id", sorted(EXPECTED))
def test_edge_case(edge: ParseResult, contact_id: str) -> None:
    row = by_id(edge)[contact_id]
    assert {key: row[key] for key in EXPECTED[contact_id]} == EXPECTED[contact_id]
    assert (row["channel"], row["queue"], row["direction"], row["source"], row["tenant"]) == (
        "voice", "bank", "inbound", NAME, "bank"
    )


def test_windows_line_endings_and_bom_give_the_same_contacts(edge: ParseResult) -> None:
    crlf = b"\xef\xbb\xbf" + EDGE_CASES.read_bytes().replace(b"\n", b"\r\n")
    assert parse(crlf).tables["contacts"] == edge.tables["contacts"]


def test_blank_lines_are_skipped(edge: ParseResult) -> None:
    text = EDGE_CASES.read_text().replace("\n", "\n\n  \n", 3)
    result = parse(text)
    assert result.rows_read == 16
    assert result.tables["contacts"] == edge.tables["contacts"]


def test_truncated_last_line_is_quarantined_and_the_rest_loads() -> None:
    text = EDGE_CASES.read_text().rstrip("\n")
    cut = text[: text.rindex("\t0\tNO_SERVER") - 10]  # a file cut while being copied
    result = parse(cut)
    assert result.tables["contacts"].num_rows == 14
    (bad,) = result.quarantined
    assert bad.line == 17
    assert "expected 17" in bad.reason
    assert bad.text == cut.splitlines()[-1]


@pytest.mark.parametrize(
    ("column", "value", "hint"),
    [
        ("date", "991332", "YYMMDD"),
        ("date", "990231", "YYMMDD"),  # 31 February: not rolled over into March
        ("date", "99-1-5", "YYMMDD"),
        ("vru_entry", "25:00:00", "H:MM:SS"),
        ("q_start", "10:0:00", "H:MM:SS"),
        ("q_time", "-5", "0 or more"),
        ("ser_time", "1.5", "whole seconds"),
        ("outcome", "DROPPED", "AGENT, HANG or PHANTOM"),
        ("priority", "high", "whole number"),
        ("server", "", "NO_SERVER"),
    ],
)
def test_bad_value_is_quarantined_with_field_value_and_fix(
    column: str, value: str, hint: str
) -> None:
    lines = EDGE_CASES.read_text().splitlines()
    fields = lines[1].split("\t")
    fields[COLUMNS.index(column)] = value
    lines[1] = "\t".join(fields)
    result = parse("\n".join(lines) + "\n")
    (bad,) = result.quarantined
    assert (bad.line, bad.field, bad.text) == (2, column, lines[1])
    assert repr(value) in bad.reason
    assert hint in bad.reason
    assert result.tables["contacts"].num_rows == 14


def test_duplicate_line_is_quarantined_once() -> None:
    lines = EDGE_CASES.read_text().splitlines()
    result = parse("\n".join([*lines, lines[1]]) + "\n")
    (bad,) = result.quarantined
    assert bad.line == 18
    assert "line 2" in bad.reason
    assert result.tables["contacts"].num_rows == 15


def test_line_numbers_count_from_first_line() -> None:
    text = HEADER + "\nnot a call\n"
    (bad,) = parse(text, first_line=10).quarantined
    assert bad.line == 11


def test_tz_option_overrides_israel_time(edge: ParseResult) -> None:
    result = parse(EDGE_CASES.read_bytes(), tz=ZoneInfo("UTC"))
    assert by_id(result)["AA0101-1-990105"]["arrived_at"] == utc(1999, 1, 5, 10, 0, 10)


def test_header_only_gives_no_contacts() -> None:
    result = parse(HEADER + "\n")
    assert (result.rows_read, result.tables["contacts"].num_rows) == (0, 0)
    assert result.tables["contacts"].schema == CONTACTS.schema


def test_a_queue_log_is_not_a_bank_file() -> None:
    queue_log = shared_data("asterisk_queue_log", "pbxware_2018", "queue_log").read_bytes()
    with pytest.raises(SourceFormatError, match=r"queue_log:1: this is not an anonymous-bank"):
        parse(queue_log, path="queue_log")


@pytest.mark.parametrize(
    "data",
    [b"", b"\n", gzip.compress(HEADER.encode() + b"\n"), b"call_id\tdate\n1\t990101\n"],
    ids=["empty", "blank", "still-gzipped", "other-columns"],
)
def test_not_what_the_format_says_is_one_clear_error(data: bytes) -> None:
    with pytest.raises(SourceFormatError, match=r"calls.txt:1: .*header"):
        parse(data)


def test_registered_as_a_whole_file_format() -> None:
    fmt = get_format("anonymous-bank")
    assert fmt is FORMAT
    assert fmt.append_only is False


def test_local_to_utc_agrees_with_zoneinfo_around_both_1999_changes() -> None:
    zone = ZoneInfo("Asia/Jerusalem")
    step = timedelta(minutes=7)
    walls = [datetime(1999, 4, 2, 0, 0) + i * step for i in range(60)]  # 2:00 -> 3:00
    walls += [datetime(1999, 9, 2, 23, 0) + i * step for i in range(60)]  # 2:00 -> 1:00
    local = np.array([(w - datetime(1970, 1, 1)) // timedelta(microseconds=1) for w in walls],
                     dtype=np.int64)
    expected = [int(w.replace(tzinfo=zone).timestamp()) * 1_000_000 for w in walls]
    assert local_to_utc(local, zone).tolist() == expected


# -- the demo extract --------------------------------------------------------------------


def test_demo_extract_is_what_the_script_derives(tmp_path: Path) -> None:
    script = REPO_ROOT / "scripts" / "make_demo_extract.py"
    spec = importlib.util.spec_from_file_location("make_demo_extract", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = shared_data("anonymous_bank")
    assert module.main(["--source", str(source), "--out", str(tmp_path)]) == 0
    shipped = sorted(p.name for p in DEMO_DATA_DIR.glob("*.txt.gz"))
    assert shipped == ["01_January.txt.gz", "02_February.txt.gz", "03_March.txt.gz"]
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (DEMO_DATA_DIR / name).read_bytes(), name
    assert sum((DEMO_DATA_DIR / n).stat().st_size for n in shipped) < 1_500_000


@pytest.mark.parametrize(
    ("name", "lines", "phantom"),
    [("01_January.txt.gz", 15528, 131), ("02_February.txt.gz", 17456, 143),
     ("03_March.txt.gz", 18757, 210)],
)
def test_demo_extract_loads_clean(name: str, lines: int, phantom: int) -> None:
    result = parse(gzip.decompress((DEMO_DATA_DIR / name).read_bytes()), path=name)
    assert (result.rows_read, result.excluded, result.quarantined) == (lines, phantom, [])
    days = pc.unique(pc.utf8_slice_codeunits(result.tables["contacts"]["contact_id"], -2))
    assert max(int(d) for d in days.to_pylist()) == 14


# -- fuzzing -----------------------------------------------------------------------------

GOOD_LINES = EDGE_CASES.read_text().splitlines()[1:]
ASCII = string.ascii_letters + string.digits + string.punctuation + " \t"

_ORACLE: dict[str, str] = {  # written independently of the adapter's table of checks
    "vru+line": r"\S+", "call_id": r"\d+", "customer_id": r".*", "priority": r"\d{1,4}",
    "type": r"\S+", "date": r"\d{6}", "vru_time": r"-?\d{1,9}", "q_time": r"\d{1,9}",
    "ser_time": r"\d{1,9}", "outcome": r"AGENT|HANG|PHANTOM", "server": r"\S+",
    **{c: r"([01]?\d|2[0-3]):[0-5]\d:[0-5]\d"
       for c in ("vru_entry", "vru_exit", "q_start", "q_exit", "ser_start", "ser_exit")},
}


def oracle_is_bad(line: str) -> bool:
    fields = line.split("\t") if "\t" in line else line.split()
    if len(fields) != 17:
        return True
    for column, value in zip(COLUMNS, fields, strict=True):
        if not re.fullmatch(_ORACLE[column], value.strip()):
            return True
    try:
        datetime.strptime(fields[5].strip(), "%y%m%d")
    except ValueError:
        return True
    return False


@st.composite
def mutated_lines(draw: st.DrawFn, alphabet: st.SearchStrategy[str]) -> str:
    line = draw(st.sampled_from(GOOD_LINES))
    text = st.text(alphabet=alphabet, max_size=12)
    fields = line.split("\t") if "\t" in line else line.split(" ")
    kind = draw(st.sampled_from(["replace", "drop", "add", "cut", "insert", "swap"]))
    i = draw(st.integers(0, len(fields) - 1))
    if kind == "replace":
        fields[i] = draw(text)
    elif kind == "drop":
        del fields[i]
    elif kind == "add":
        fields.insert(i, draw(text))
    elif kind == "swap":
        j = draw(st.integers(0, len(fields) - 1))
        fields[i], fields[j] = fields[j], fields[i]
    sep = "\t" if "\t" in line else " "
    joined = sep.join(fields)
    if kind == "cut":
        joined = joined[: draw(st.integers(0, len(joined)))]
    elif kind == "insert":
        at = draw(st.integers(0, len(joined)))
        joined = joined[:at] + draw(text) + joined[at:]
    return joined


FUZZ_GOOD = [line for line in GOOD_LINES if "PHANTOM" not in line]


def _fuzz_file(mutated: str) -> tuple[str, int]:
    """The edge cases without the PHANTOM, then the mutated line; its line number."""
    return "\n".join([HEADER, *FUZZ_GOOD, mutated]) + "\n", len(FUZZ_GOOD) + 2


@settings(max_examples=200, deadline=None)
@given(mutated_lines(st.sampled_from(ASCII)))
def test_mutated_line_is_quarantined_exactly_when_bad(mutated: str) -> None:
    text, line = _fuzz_file(mutated)
    result = parse(text)
    contacts = result.tables["contacts"]
    good = len(FUZZ_GOOD)
    assert contacts.num_rows >= good  # every good line loads, whatever follows it
    if not mutated.strip():  # a blank line is not a record
        assert (result.rows_read, result.quarantined) == (good, [])
        return
    assert result.rows_read == good + 1
    assert contacts.num_rows + result.excluded + len(result.quarantined) == good + 1
    quarantined = [q for q in result.quarantined if q.line == line]
    assert len(quarantined) == len(result.quarantined)
    if oracle_is_bad(mutated):
        assert len(quarantined) == 1, mutated
        assert quarantined[0].text == mutated
    elif quarantined:  # a well-formed line is refused only as a repeat of an earlier call
        assert "already appears" in quarantined[0].reason


@settings(max_examples=150, deadline=None)
@given(mutated_lines(st.characters(exclude_characters="\n\r", exclude_categories=["Cs"])))
def test_any_unicode_mutation_never_crashes(mutated: str) -> None:
    text, line = _fuzz_file(mutated)
    result = parse(text)
    loaded = result.tables["contacts"].num_rows
    assert loaded + result.excluded + len(result.quarantined) == result.rows_read
    assert all(q.line == line and q.reason for q in result.quarantined)
    contacts = result.tables["contacts"]
    assert pc.all(pc.greater_equal(contacts["ended_at"], contacts["arrived_at"])).as_py()


def test_invalid_utf8_bytes_do_not_stop_the_load() -> None:
    data = EDGE_CASES.read_bytes().replace(b"\t990105\t", b"\t99\xff105\t", 1)
    result = parse(data)
    (bad,) = result.quarantined
    assert (bad.line, bad.field) == (2, "date")
    assert result.tables["contacts"].num_rows == 14
