"""The ingest layer: idempotent, incremental, atomic, forgiving."""

from __future__ import annotations

import gzip
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from servicelevel.errors import SourceFormatError, UnknownNameError
from servicelevel.store import Store, ingest_paths
from servicelevel.store import ingest as ingest_module
from tests.conftest import shared_data
from tests.store import toy_format

FORMAT = toy_format.TOY_FORMAT.name


@pytest.fixture
def store() -> Store:
    return Store.open(":memory:")


def outcomes(store: Store) -> dict[str, str]:
    rows = store.connection.execute("SELECT contact_id, outcome FROM contacts").fetchall()
    return dict(rows)


def test_reingesting_the_same_file_adds_nothing(store: Store, tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("100|c1|ENTER\n110|c1|END\n120|c2|ENTER\n130|c2|END\n")
    first = ingest_paths(store, FORMAT, [log])
    second = ingest_paths(store, FORMAT, [log])
    assert first.total("contacts_loaded") == 2
    assert second.files[0].status == "unchanged"
    assert second.total("contacts_loaded") == 0
    assert second.total("already_present") == 2
    assert store.count("contacts") == 2


def test_a_grown_log_is_read_from_where_it_stopped_and_finishes_open_calls(
    store: Store, tmp_path: Path
) -> None:
    log = tmp_path / "queue.log"
    log.write_text("100|c1|ENTER\n110|c1|END\n120|c2|ENTER\n")
    ingest_paths(store, FORMAT, [log])
    assert outcomes(store) == {"c1": "answered", "c2": "waiting"}
    with log.open("a") as f:
        f.write("150|c2|END\n160|c3|ENTER\n170|c3|END\n")
    grown = ingest_paths(store, FORMAT, [log])
    assert grown.files[0].status == "grown"
    assert grown.files[0].rows_read == 3  # only the new lines
    assert grown.total("contacts_loaded") == 1  # c3
    assert grown.total("contacts_updated") == 1  # c2 completed
    assert outcomes(store) == {"c1": "answered", "c2": "answered", "c3": "answered"}
    wait = store.connection.execute("SELECT wait_s FROM contacts WHERE contact_id='c2'").fetchone()
    assert wait == (30.0,)


def test_a_call_spanning_two_files_is_completed(store: Store, tmp_path: Path) -> None:
    older, newer = tmp_path / "queue.log.1", tmp_path / "queue.log"
    older.write_text("100|c1|ENTER\n")
    newer.write_text("140|c1|END\n")
    ingest_paths(store, FORMAT, [older])
    ingest_paths(store, FORMAT, [newer])
    assert outcomes(store) == {"c1": "answered"}
    assert store.carry("default", FORMAT) in (None, {"open": {}})


def test_an_unterminated_last_line_waits_for_the_rest(store: Store, tmp_path: Path) -> None:
    log = tmp_path / "queue.log"
    log.write_bytes(b"100|c1|ENTER\n110|c1|EN")
    first = ingest_paths(store, FORMAT, [log])
    assert first.total("rows_read") == 1
    assert first.total("quarantined") == 0
    log.write_bytes(b"100|c1|ENTER\n110|c1|END\n")
    second = ingest_paths(store, FORMAT, [log])
    assert second.files[0].status == "grown"
    assert outcomes(store) == {"c1": "answered"}


def test_windows_line_endings_and_gzip(store: Store, tmp_path: Path) -> None:
    log = tmp_path / "queue.log.gz"
    log.write_bytes(gzip.compress(b"100|c1|ENTER\r\n110|c1|END\r\n"))
    summary = ingest_paths(store, FORMAT, [log])
    assert summary.total("contacts_loaded") == 1
    assert summary.total("quarantined") == 0


def test_bad_lines_are_quarantined_with_file_line_and_reason(store: Store, tmp_path: Path) -> None:
    log = tmp_path / "queue.log"
    log.write_text("100|c1|ENTER\nthis is not a log line\n110|c1|END\n")
    summary = ingest_paths(store, FORMAT, [log])
    assert summary.total("quarantined") == 1
    assert summary.total("contacts_loaded") == 1
    row = store.connection.execute(
        "SELECT path, line, reason, text FROM ingest_quarantine"
    ).fetchone()
    assert row == (str(log), 2, "not epoch|callid|ENTER/END", "this is not a log line")


def test_a_failing_load_leaves_the_store_as_it_was(store: Store, tmp_path: Path) -> None:
    good = tmp_path / "good.log"
    good.write_text("100|c1|ENTER\n110|c1|END\n")
    with pytest.raises(SourceFormatError, match="no such file"):
        ingest_paths(store, FORMAT, [good, tmp_path / "missing.log"])
    assert store.count("contacts") == 0
    assert store.count("ingest_ledger") == 0


def test_an_error_inside_the_transaction_rolls_everything_back(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "1.log", tmp_path / "2.log"
    first.write_text("100|c1|ENTER\n110|c1|END\n")
    second.write_text("200|c2|ENTER\n")
    real_parse = toy_format.TOY_FORMAT.parse
    calls = []

    def parse_then_fail(chunk, carry):  # type: ignore[no-untyped-def]
        calls.append(chunk.path)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_parse(chunk, carry)

    monkeypatch.setattr(toy_format.TOY_FORMAT, "parse", parse_then_fail)
    with pytest.raises(RuntimeError):
        ingest_paths(store, FORMAT, [first, second])
    assert store.count("contacts") == 0
    assert store.count("ingest_ledger") == 0
    assert store.carry("default", FORMAT) is None


def test_tenants_are_kept_apart(store: Store, tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("100|c1|ENTER\n110|c1|END\n")
    ingest_paths(store, FORMAT, [log], tenant="acme")
    again = ingest_paths(store, FORMAT, [log], tenant="globex")
    assert again.total("contacts_loaded") == 1
    tenants = store.connection.execute("SELECT tenant FROM contacts ORDER BY 1").fetchall()
    assert tenants == [("acme",), ("globex",)]


def test_unknown_format_suggests_the_nearest(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'toy-log'"):
        ingest_paths(store, "toy-logs", [tmp_path / "x"])


def test_a_renamed_log_is_recognised_by_its_content(store: Store, tmp_path: Path) -> None:
    log = tmp_path / "queue.log"
    log.write_text("100|c1|ENTER\n110|c1|END\n")
    ingest_paths(store, FORMAT, [log])
    rotated = log.rename(tmp_path / "queue.log.1")
    summary = ingest_paths(store, FORMAT, [rotated])
    assert summary.files[0].status == "unchanged"
    assert store.count("contacts") == 1


def test_a_format_that_does_not_read_in_pieces_is_read_whole(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The toy format writes its open calls at the end of every chunk: it does not say
    # reads_in_pieces, so however small the pieces, it gets the read in one chunk.
    monkeypatch.setattr(ingest_module, "PIECE_BYTES", 16)
    monkeypatch.setattr(ingest_module, "FIRST_PIECE_BYTES", 16)
    monkeypatch.setattr(ingest_module, "LAST_PIECE_BYTES", 16)
    calls = []
    parse = toy_format.TOY_FORMAT.parse
    monkeypatch.setattr(toy_format.TOY_FORMAT, "parse",
                        lambda chunk, carry: calls.append(chunk) or parse(chunk, carry))
    log = tmp_path / "a.log"
    log.write_text("100|c1|ENTER\n110|c2|ENTER\n120|c1|END\nbad\n130|c2|END\n")
    summary = ingest_paths(store, FORMAT, [log])
    assert outcomes(store) == {"c1": "answered", "c2": "answered"}
    assert summary.total("contacts_loaded") == 2
    assert summary.total("rows_read") == 5
    lines = store.connection.execute("SELECT line FROM ingest_quarantine").fetchall()
    assert lines == [(4,)]
    assert store.connection.execute(
        "SELECT line_end, offset_end FROM ingest_ledger").fetchall() == [(5, log.stat().st_size)]
    assert [chunk.more_follows for chunk in calls] == [False]


def _asterisk_log(calls: int) -> str:
    """A chronological queue_log: answered, abandoned and open calls, a login, a pause,
    pairs of calls answered by one agent in one queue in the same second, and a
    malformed line."""
    events = [(1_700_000_000, "1700000000|NONE|NONE|Agent/1|AGENTLOGIN|SIP/1")]
    t = 1_700_000_000
    for n in range(calls):
        t += 0 if n % 10 == 5 else 2  # calls 4 and 5 (mod 10): same second, same queue
        key = f"{t}.{n}|{'q0' if n % 10 in (4, 5) else f'q{n % 2}'}"
        events.append((t, f"{t}|{key}|NONE|ENTERQUEUE||0{n}|1"))
        if n % 3 == 0:
            events.append((t + 5, f"{t + 5}|{key}|NONE|ABANDON|1|1|5"))
        else:
            events.append((t + 4, f"{t + 4}|{key}|Agent/1|CONNECT|4|{t}.9|1"))
            talk = 36 + n % 7
            events.append((t + 4 + talk, f"{t + 4 + talk}|{key}|Agent/1|COMPLETECALLER|4|"
                                         f"{talk}|1"))
        if n == calls // 2:
            events += [(t, "garbage line"), (t, f"{t}|NONE|NONE|Agent/1|PAUSE|lunch")]
    events.append((t + 50, f"{t + 50}|{t}.x|q0|NONE|ENTERQUEUE||012|1"))  # still waiting
    events.sort(key=lambda event: event[0])  # stable: file order within a second
    return "".join(line + "\n" for _, line in events)


@pytest.mark.parametrize(("name", "piece_bytes"),
                         [("generated", 997), ("generated", 2000), ("generated", 3001),
                          ("pbxware", 2000)])
def test_a_queue_log_read_in_pieces_gives_the_rows_of_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, piece_bytes: int
) -> None:
    if name == "pbxware":
        path = shared_data("asterisk_queue_log", "pbxware_2018", "queue_log")
    else:
        path = tmp_path / "queue_log"
        path.write_text(_asterisk_log(400))
    whole, pieces = Store.open(":memory:"), Store.open(":memory:")
    expected = ingest_paths(whole, "asterisk-queue-log", [path])
    monkeypatch.setattr(ingest_module, "PIECE_BYTES", piece_bytes)
    monkeypatch.setattr(ingest_module, "FIRST_PIECE_BYTES", piece_bytes // 2)
    monkeypatch.setattr(ingest_module, "LAST_PIECE_BYTES", piece_bytes // 3)
    got = ingest_paths(pieces, "asterisk-queue-log", [path])
    for table in ("contacts", "agent_states", "ingest_quarantine"):
        columns = "* EXCLUDE (load_id, quarantined_at)" if table == "ingest_quarantine" else "*"
        query = f"SELECT {columns} FROM {table} ORDER BY ALL"
        assert pieces.connection.execute(query).fetchall() == \
            whole.connection.execute(query).fetchall(), table
    for total in ("rows_read", "contacts_loaded", "quarantined", "excluded"):
        assert got.total(total) == expected.total(total), total
    assert got.total("contacts_updated") == 0  # no piece rewrote another's rows
    assert pieces.carry("default", "asterisk-queue-log") == \
        whole.carry("default", "asterisk-queue-log")


def _pieces_of(path: Path, start: int = 0) -> list[bytes]:
    content = ingest_module._Content.open(path)
    try:
        with ThreadPoolExecutor(1) as helper:
            # Each piece is copied before the next is asked for: the buffers are reused.
            return [bytes(piece)
                    for piece in content.pieces(start, content.complete_lines_end(), helper)]
    finally:
        content.close()


@pytest.mark.parametrize("compressed", [False, True])
def test_pieces_end_at_newlines_and_cover_the_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compressed: bool
) -> None:
    monkeypatch.setattr(ingest_module, "FIRST_PIECE_BYTES", 20)
    monkeypatch.setattr(ingest_module, "PIECE_BYTES", 50)
    monkeypatch.setattr(ingest_module, "LAST_PIECE_BYTES", 15)
    lines = [f"{100 + n}|c{n}|ENTER\n" for n in range(30)]
    lines[7] = "1" * 120 + "|long|ENTER\n"  # longer than any piece: it stays whole
    text = "".join(lines).encode() + b"107|partial"  # an incomplete last line is not read
    path = tmp_path / "queue_log"
    path.write_bytes(gzip.compress(text) if compressed else text)
    pieces = _pieces_of(path)
    assert b"".join(pieces) == text[: text.rfind(b"\n") + 1]
    assert all(piece.endswith(b"\n") for piece in pieces)
    assert len(pieces[0]) <= 20 and max(len(piece) for piece in pieces) > 120
    assert len(pieces[-1]) <= 50  # the last pieces are smaller
    start = len(b"".join(pieces[:2]))  # a grown log is read from where it stopped
    assert b"".join(_pieces_of(path, start)) == b"".join(pieces[2:])


def test_a_log_cut_short_while_it_is_read_fails_the_load_cleanly(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "a.log"
    log.write_text("100|c1|ENTER\n110|c1|END\n" * 50)
    opened = ingest_module._Content.open

    def open_then_truncate(path: Path) -> ingest_module._Content:
        content = opened(path)
        path.write_text("100|c1|ENTER\n")  # rotated with copytruncate, say
        return content

    monkeypatch.setattr(ingest_module._Content, "open", staticmethod(open_then_truncate))
    with pytest.raises(SourceFormatError, match="became shorter while it was read"):
        ingest_paths(store, FORMAT, [log])
    assert store.count("contacts") == 0
    assert store.connection.execute("SELECT count(*) FROM ingest_ledger").fetchone() == (0,)
