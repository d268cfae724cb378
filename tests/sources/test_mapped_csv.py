"""The mapped-csv format: the shipped example mappings end to end, real bank columns through
a mapping, mapping validation, and bad rows and files."""

from __future__ import annotations

import gzip
import io
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from servicelevel.errors import SourceFormatError
from servicelevel.model.tables import CONTACTS
from servicelevel.sources import get_format
from servicelevel.sources.anonymous_bank import FORMAT as BANK
from servicelevel.sources.base import ParseResult, SourceChunk
from servicelevel.sources.mapped_csv import FORMAT, NAME, Mapping, load_mapping
from tests.conftest import REPO_ROOT, shared_data

EXAMPLES = REPO_ROOT / "examples" / "mappings"
FIXTURES = Path(__file__).parent / "fixtures" / "mapped"
GENESYS = EXAMPLES / "genesys_cloud_interactions"
FIVE9 = EXAMPLES / "five9_call_log"


def mapping_of(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def parse(data: bytes | str, mapping: dict[str, Any] | Mapping, *, tz: ZoneInfo | None = None,
          path: str = "export.csv", tenant: str = "acme") -> ParseResult:
    raw = data.encode() if isinstance(data, str) else data
    chunk = SourceChunk(path=path, data=raw, first_line=1, tenant=tenant, tz=tz,
                        options={"mapping": mapping, "mapping_path": "map.yaml"})
    return FORMAT.parse(chunk, None)


def by_id(result: ParseResult) -> dict[str, dict[str, Any]]:
    return {row["contact_id"]: row for row in result.tables["contacts"].to_pylist()}


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def minimal(**extra: Any) -> dict[str, Any]:
    """A small mapping for hand-made CSV: id, start (ISO), outcome, wait in seconds."""
    base: dict[str, Any] = {
        "tz": "Europe/Paris",
        "columns": {"contact_id": "id", "arrived_at": "start", "outcome": "result",
                    "wait_s": "wait"},
        "outcome_values": {"ok": "answered", "gone": "abandoned"},
    }
    base.update(extra)
    return base


CSV = "id,start,result,wait\n1,2024-03-04 09:00:00,ok,12\n2,2024-03-04 09:01:00,gone,40\n"


# -- the shipped examples ----------------------------------------------------------------


@pytest.fixture(scope="module")
def genesys() -> ParseResult:
    return parse(GENESYS.with_suffix(".csv").read_bytes(),
                 mapping_of(GENESYS.with_suffix(".yaml")))


def test_genesys_example_loads_every_row(genesys: ParseResult) -> None:
    assert (genesys.rows_read, genesys.excluded, genesys.quarantined) == (6, 0, [])
    contacts = genesys.tables["contacts"]
    assert contacts.schema == CONTACTS.schema
    assert set(contacts["source"].to_pylist()) == {"mapped-csv:genesys-cloud"}
    assert contacts["outcome"].to_pylist() == ["answered", "abandoned", "answered",
                                               "abandoned", "answered", "answered"]


def test_genesys_example_values(genesys: ParseResult) -> None:
    rows = list(by_id(genesys).values())
    first, _, third, _, chat, late = rows
    assert {k: first[k] for k in ("arrived_at", "ended_at", "wait_s", "ring_s", "talk_s",
                                  "hold_s", "acw_s", "agent_id", "queue", "channel",
                                  "direction", "transferred", "customer_id")} == {
        "arrived_at": utc(2024, 3, 4, 13, 59, 41),  # 8:59:41 AM EST = UTC-5
        "ended_at": utc(2024, 3, 4, 14, 6, 12), "wait_s": 12.345, "ring_s": 4.21,
        "talk_s": 312.4, "hold_s": 15.0, "acw_s": 21.0, "agent_id": "Ana Ortiz",
        "queue": "Billing", "channel": "voice", "direction": "inbound",
        "transferred": False, "customer_id": "tel:+12025550101",
    }
    assert third["agent_id"] == "Lee, Sam;Priya Nair"  # a quoted comma
    assert third["transferred"] is True
    assert chat["channel"] == "chat"
    assert late["arrived_at"] == utc(2024, 3, 5, 4, 58, 20)  # 11:58:20 PM, 12 h clock


def test_five9_example_loads_inbound_calls_across_the_dst_change() -> None:
    result = parse(FIVE9.with_suffix(".csv").read_bytes(), mapping_of(FIVE9.with_suffix(".yaml")))
    assert (result.rows_read, result.excluded, result.quarantined) == (6, 1, [])  # 1 outbound
    rows = by_id(result)
    assert "300000000000004" not in rows
    assert {k: rows["300000000000003"][k] for k in (
        "arrived_at", "wait_s", "talk_s", "hold_s", "acw_s", "transferred", "queue",
        "outcome", "channel", "direction", "service_type")} == {
        "arrived_at": utc(2024, 3, 9, 16, 10, 5), "wait_s": 3.0, "talk_s": 730.0,
        "hold_s": 90.0, "acw_s": 120.0, "transferred": True, "queue": "Support",
        "outcome": "answered", "channel": "voice", "direction": "inbound",
        "service_type": "Inbound Support",
    }
    # 10 March 2024, Los Angeles: 01:59:30 is PST (UTC-8), 03:01:02 is PDT (UTC-7).
    assert rows["300000000000005"]["arrived_at"] == utc(2024, 3, 10, 9, 59, 30)
    assert rows["300000000000006"]["arrived_at"] == utc(2024, 3, 10, 10, 1, 2)
    assert rows["300000000000002"]["outcome"] == "abandoned"
    assert rows["300000000000002"]["wait_s"] == 112.0


def test_parquet_export_gives_the_same_contacts(genesys: ParseResult) -> None:
    table = pacsv.read_csv(io.BytesIO(GENESYS.with_suffix(".csv").read_bytes()),
                           convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    mapping = mapping_of(GENESYS.with_suffix(".yaml")) | {"file_type": "parquet"}
    result = parse(buffer.getvalue(), mapping, path="export.parquet")
    assert result.quarantined == []
    assert result.tables["contacts"] == genesys.tables["contacts"]


def test_parquet_typed_columns() -> None:
    table = pa.table({
        "id": ["a", "b"],
        "start": pa.array([datetime(2024, 1, 1, 12, 0, tzinfo=UTC),
                           datetime(2024, 1, 1, 13, 0, tzinfo=UTC)], pa.timestamp("ms", "UTC")),
        "result": ["ok", "gone"],
        "wait": pa.array([1500, 2000], pa.int64()),
    })
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    mapping = minimal(durations={"wait_s": "ms"})
    rows = by_id(parse(buffer.getvalue(), mapping))  # recognised by its PAR1 magic
    assert rows["a"]["arrived_at"] == utc(2024, 1, 1, 12, 0, 0)
    assert rows["b"]["wait_s"] == 2.0


# -- real columns: the bank data through a mapping ------------------------------------------


def test_bank_month_through_a_mapping_matches_the_bank_format() -> None:
    data = gzip.decompress(shared_data("anonymous_bank", "01_January.txt.gz").read_bytes())
    via_mapping = parse(data, mapping_of(FIXTURES / "anonymous_bank.yaml"), path="jan.txt")
    assert (via_mapping.rows_read, via_mapping.excluded, via_mapping.quarantined) == (
        31599, 240, [])
    contacts = via_mapping.tables["contacts"]
    outcomes = pc.value_counts(contacts["outcome"]).to_pylist()
    # Without the bank format's rule, every HANG is an abandon (3,080 + 1,219 in VRU).
    assert {d["values"]: d["counts"] for d in outcomes} == {"answered": 27060,
                                                            "abandoned": 4299}
    bank = BANK.parse(SourceChunk(path="jan.txt", data=data, first_line=1, tenant="acme",
                                  tz=None), None).tables["contacts"]
    answered = [bank.filter(pc.equal(bank["outcome"], "answered")),
                contacts.filter(pc.equal(contacts["outcome"], "answered"))]
    same = [t.sort_by("contact_id").select(["contact_id", "wait_s", "talk_s", "agent_id",
                                            "priority", "service_type"]) for t in answered]
    assert same[0] == same[1]
    # NO_SERVER mapped to "" is no agent: 4,788 non-PHANTOM January lines (awk).
    assert contacts["agent_id"].null_count == 4788


# -- options --------------------------------------------------------------------------------


def test_tz_option_overrides_the_mapping() -> None:
    paris = by_id(parse(CSV, minimal()))["1"]["arrived_at"]
    tokyo = by_id(parse(CSV, minimal(), tz=ZoneInfo("Asia/Tokyo")))["1"]["arrived_at"]
    assert paris == utc(2024, 3, 4, 8, 0, 0)
    assert tokyo == utc(2024, 3, 4, 0, 0, 0)


def test_local_times_without_a_zone_are_one_clear_error() -> None:
    mapping = minimal()
    del mapping["tz"]
    with pytest.raises(SourceFormatError, match=r"arrived_at: .*add 'tz: .*map.yaml or pass --tz"):
        parse(CSV, mapping)


def test_absolute_times_need_no_zone() -> None:
    mapping = minimal()
    del mapping["tz"]
    text = "id,start,result,wait\n1,2024-03-04T09:00:00Z,ok,1\n2,2024-03-04T09:00:00+01:00,ok,1\n"
    rows = by_id(parse(text, mapping))
    assert rows["1"]["arrived_at"] == utc(2024, 3, 4, 9, 0, 0)
    assert rows["2"]["arrived_at"] == utc(2024, 3, 4, 8, 0, 0)
    epoch = minimal(times={"arrived_at": "epoch_ms"})
    del epoch["tz"]
    rows = by_id(parse("id,start,result,wait\n1,1709542800000,ok,1\n", epoch))
    assert rows["1"]["arrived_at"] == utc(2024, 3, 4, 9, 0, 0)


def test_no_header_semicolons_skip_lines_and_cp1252() -> None:
    mapping = minimal(csv={"delimiter": ";", "header": False, "skip_lines": 2,
                           "encoding": "cp1252",
                           "column_names": ["id", "start", "result", "wait", "agent"]},
                      columns={"contact_id": "id", "arrived_at": "start", "outcome": "result",
                               "wait_s": "wait", "agent_id": "agent"})
    text = "Call report\nMarch 2024\n1;2024-03-04 09:00:00;ok;12;Zoë\n"
    result = parse(text.encode("cp1252"), mapping)
    assert by_id(result)["1"]["agent_id"] == "Zoë"


def test_integers_booleans_constants_and_tenant_column() -> None:
    mapping = minimal(columns={"contact_id": "id", "arrived_at": "start", "outcome": "result",
                               "priority": "prio", "reopened": "reopens", "sla_met": "sla",
                               "tenant": "client"},
                      constants={"channel": "email"})
    text = ("id,start,result,prio,reopens,sla,client\n"
            "1,2024-03-04 09:00:00,ok,2 - High,0,Yes,north\n"
            "2,2024-03-04 09:00:00,ok,,3,no,\n")
    rows = by_id(parse(text, mapping))
    assert {k: rows["1"][k] for k in ("priority", "reopened", "sla_met", "tenant", "channel")} == {
        "priority": 2, "reopened": False, "sla_met": True, "tenant": "north", "channel": "email"}
    assert {k: rows["2"][k] for k in ("priority", "reopened", "sla_met", "tenant")} == {
        "priority": None, "reopened": True, "sla_met": False, "tenant": "acme"}


def test_windows_line_endings_bom_and_quoted_newlines() -> None:
    text = 'id,start,result,wait,note\r\n1,2024-03-04 09:00:00,ok,1,"two\r\nlines"\r\n2,x,ok,1,\r\n'
    mapping = minimal(columns={"contact_id": "id", "arrived_at": "start", "outcome": "result",
                               "wait_s": "wait", "service_type": "note"})
    result = parse(b"\xef\xbb\xbf" + text.encode(), mapping)
    assert by_id(result)["1"]["service_type"] == "two\r\nlines"
    (bad,) = result.quarantined
    assert (bad.line, bad.field) == (4, "arrived_at")  # the record after the 2-line one


# -- bad rows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ("3,2024-02-30 09:00:00,ok,1", "arrived_at", "'2024-02-30 09:00:00' is not valid"),
        ("3,2024-03-04 09:00:00,ok,-5", "wait_s", "0 or more"),
        ("3,2024-03-04 09:00:00,ok,soon", "wait_s", "'soon'"),
        ("3,2024-03-04 09:00:00,lost,1", "outcome", "add this value there"),
        (",2024-03-04 09:00:00,ok,1", "contact_id", "missing"),
        ("1,2024-03-04 09:00:00,ok,1", "contact_id", "already appears on line 2"),
        ("3,2024-03-04 09:00:00,ok", None, "3 fields, expected 4"),
    ],
)
def test_bad_row_is_quarantined_and_the_rest_loads(
    row: str, field: str | None, words: str
) -> None:
    result = parse(CSV + row + "\n", minimal())
    (bad,) = result.quarantined
    assert (bad.line, bad.field, bad.text) == (4, field, row)
    assert words in bad.reason
    assert result.tables["contacts"].num_rows == 2


def test_truncated_last_line_is_quarantined() -> None:
    text = FIVE9.with_suffix(".csv").read_text()
    cut = text[: text.rstrip().rindex(",0:00:40,")]
    result = parse(cut, mapping_of(FIVE9.with_suffix(".yaml")))
    (bad,) = result.quarantined
    assert bad.line == 7
    assert len(result.tables["contacts"]) == 4


# -- not what the mapping says -------------------------------------------------------------


def test_a_file_without_the_mapped_columns_is_one_clear_error() -> None:
    five9 = mapping_of(FIVE9.with_suffix(".yaml"))
    with pytest.raises(SourceFormatError, match=r"export.csv:1: this file lacks the columns "
                                                r"the mapping names: 'CALL ID'"):
        parse(GENESYS.with_suffix(".csv").read_bytes(), five9)


def test_near_miss_column_names_are_suggested() -> None:
    with pytest.raises(SourceFormatError, match=r"'wait'; did you mean 'Wait'"):
        parse(CSV.replace("wait", "Wait"), minimal())


def test_a_queue_log_given_as_csv_is_one_clear_error() -> None:
    queue_log = shared_data("asterisk_queue_log", "pbxware_2018", "queue_log").read_bytes()
    with pytest.raises(SourceFormatError, match="lacks the columns"):
        parse(queue_log, mapping_of(GENESYS.with_suffix(".yaml")))


@pytest.mark.parametrize(
    ("data", "mapping_extra", "words"),
    [
        (b"\xff\xfe\x00\x01bad", {}, "not utf-8 text"),
        (b"", {}, "empty file"),
        (CSV.encode(), {"file_type": "parquet"}, "not a Parquet file"),
    ],
)
def test_unreadable_files(data: bytes, mapping_extra: dict[str, Any], words: str) -> None:
    with pytest.raises(SourceFormatError, match=words):
        parse(data, minimal(**mapping_extra))


def test_no_mapping_is_one_clear_error() -> None:
    chunk = SourceChunk(path="x.csv", data=CSV.encode(), first_line=1, tenant="t", tz=None)
    with pytest.raises(SourceFormatError, match="--mapping"):
        FORMAT.parse(chunk, None)


# -- mapping validation ---------------------------------------------------------------------


def test_every_problem_of_a_mapping_is_reported_at_once() -> None:
    data = {
        "tz": "Europe/Pariss",
        "timezone": "UTC",
        "columns": {"contact_id": "id", "arived_at": "start", "outcome": "result",
                    "wait_s": ["a", "b"]},
        "times": {"arrived_at": "%Q"},
        "durations": {"wait_s": "minutes"},
        "outcome_values": {"ok": "answerd"},
        "constants": {"direction": "sideways"},
    }
    with pytest.raises(SourceFormatError) as caught:
        load_mapping(data, "genesys.yaml")
    message = str(caught.value)
    assert message.startswith("genesys.yaml: invalid mapping (1 problem)")  # pydantic first
    assert "timezone: unknown setting" in message
    assert "(known: name, file_type, csv, tz, columns," in message
    del data["timezone"]
    with pytest.raises(SourceFormatError) as caught:
        load_mapping(data, "genesys.yaml")
    problems = caught.value.args[0].splitlines()[1:]
    expected = [
        "columns.arived_at: unknown canonical field; did you mean 'arrived_at'?",
        "columns.wait_s: only contact_id and times may join several columns",
        "constants.direction: 'sideways': write inbound or outbound",
        "columns.arrived_at: required",
        "outcome_values.ok: 'answerd' is not an outcome; did you mean 'answered'?",
        "times.arrived_at: arrived_at is not in columns",
        "times.arrived_at: '%Q'",
        "durations.wait_s: 'minutes' is not a unit",
        "tz: ",
    ]
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.strip().startswith(start), (problem, start)


def test_shipped_mappings_are_valid() -> None:
    for path in [*sorted(EXAMPLES.glob("*.yaml")), FIXTURES / "anonymous_bank.yaml"]:
        load_mapping(mapping_of(path), str(path))


def test_yaml_booleans_as_outcome_keys_are_text() -> None:
    mapping = load_mapping(yaml.safe_load(
        "columns: {contact_id: id, arrived_at: start, outcome: result}\n"
        "outcome_values: {yes: abandoned, no: answered}\n"), "m.yaml")
    assert mapping.outcome_values == {"true": "abandoned", "false": "answered"}


def test_registered_as_a_whole_file_format() -> None:
    assert get_format(NAME) is FORMAT
    assert FORMAT.append_only is False


# -- fuzzing -----------------------------------------------------------------------------

FIVE9_TEXT = FIVE9.with_suffix(".csv").read_text()
FIVE9_MAPPING = load_mapping(mapping_of(FIVE9.with_suffix(".yaml")), "five9.yaml")


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(0, 200),
    st.text(alphabet=string.printable.replace("\n", "").replace("\r", ""), max_size=12),
    st.booleans(),
)
def test_mutated_row_never_crashes_and_is_accounted_for(
    row: int, at: int, text: str, replace: bool
) -> None:
    lines = FIVE9_TEXT.splitlines()
    line = lines[row]
    at = min(at, len(line))
    lines[row] = line[:at] + text + line[at + (len(text) if replace else 0):]
    try:
        result = parse("\n".join(lines) + "\n", FIVE9_MAPPING)
    except SourceFormatError as error:
        # Only an unbalanced quote can make the rest of the file unreadable as CSV.
        assert '"' in text, error
        return
    loaded = result.tables["contacts"].num_rows
    assert loaded + result.excluded + len(result.quarantined) == result.rows_read
    assert all(q.reason for q in result.quarantined)
    untouched = {ln.split(",")[0] for i, ln in enumerate(FIVE9_TEXT.splitlines()[1:], 1)
                 if i != row and ",Outbound," not in ln}
    assert untouched <= set(by_id(result)) or '"' in text


def test_quarantined_text_is_the_right_line_after_unusual_separators() -> None:
    # \x1c is a line break for str.splitlines but not for CSV: line numbers must agree.
    result = parse(CSV + "3,2024-03-04 09:00:00,ok,\x1cx\n4,bad,ok,1\n", minimal())
    assert [(q.line, q.text) for q in result.quarantined] == [
        (4, "3,2024-03-04 09:00:00,ok,\x1cx"), (5, "4,bad,ok,1")]
