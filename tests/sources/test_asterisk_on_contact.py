"""On-call intervals: one per agent, queue and start, whichever path paired the calls."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servicelevel.sources.asterisk.fast import interval_keys, pair_fast
from servicelevel.sources.asterisk.lines import split_lines
from servicelevel.sources.asterisk_queue_log import FORMAT, _on_contact
from servicelevel.sources.base import SourceChunk


def _intervals(text: str) -> list[tuple[str, str, int, int]]:
    result = FORMAT.parse(SourceChunk("q.log", text.encode(), 1, "t", None), None)
    rows = result.tables["agent_states"].to_pylist()
    return sorted(
        (r["agent_id"], r["queue"], int(r["started_at"].timestamp()),
         int(r["ended_at"].timestamp()))
        for r in rows if r["state"] == "on_contact"
    )


def test_calls_answered_by_one_agent_in_one_second_share_one_interval() -> None:
    # Call a is the common shape (the compiled pass pairs it); call b ends with an
    # ATTENDEDTRANSFER, which the reference path pairs. Both were answered by Agent/1 in
    # queue q at 1700000010: one interval, to the later end.
    log = (
        "1700000000|a|q|NONE|ENTERQUEUE||0501|1\n"
        "1700000001|b|q|NONE|ENTERQUEUE||0502|1\n"
        "1700000010|a|q|Agent/1|CONNECT|10|a.9|1\n"
        "1700000010|b|q|Agent/1|CONNECT|9|b.9|1\n"
        "1700000050|a|q|Agent/1|COMPLETECALLER|10|40|1\n"
        "1700000070|b|q|Agent/1|ATTENDEDTRANSFER|BRIDGE|c|9|60|1\n"
        "1700000100|c|q|NONE|ENTERQUEUE||0503|1\n"
        "1700000110|c|q|Agent/2|CONNECT|10|c.9|1\n"
        "1700000150|c|q|Agent/2|COMPLETEAGENT|10|40|1\n"
    )
    assert _intervals(log) == [
        ("Agent/1", "q", 1700000010, 1700000070),
        ("Agent/2", "q", 1700000110, 1700000150),
    ]


def test_calls_of_the_compiled_pass_in_one_second_share_one_interval() -> None:
    log = (
        "1700000000|a|q|NONE|ENTERQUEUE||0501|1\n"
        "1700000001|b|q|NONE|ENTERQUEUE||0502|1\n"
        "1700000010|a|q|Agent/1|CONNECT|10|a.9|1\n"
        "1700000010|b|q|Agent/1|CONNECT|9|b.9|1\n"
        "1700000090|b|q|Agent/1|COMPLETECALLER|9|80|1\n"
        "1700000050|a|q|Agent/1|COMPLETECALLER|10|40|1\n"
    )
    assert _intervals(log) == [("Agent/1", "q", 1700000010, 1700000090)]


def test_the_compiled_pass_keys_its_intervals_as_interval_keys_does() -> None:
    log = "".join(
        f"17000000{n:02d}|c{n}|q{n % 3}|NONE|ENTERQUEUE||05{n}|1\n"
        f"17000000{n + 1:02d}|c{n}|q{n % 3}|Agent/{n % 4}|CONNECT|1|c{n}.9|1\n"
        f"17000001{n:02d}|c{n}|q{n % 3}|Agent/{n % 4}|COMPLETEAGENT|1|99|1\n"
        for n in range(40)
    ).encode()
    lines = split_lines(log, 1).table.column("line").chunk(0)
    _, offsets, data = lines.buffers()
    fast = pair_fast(np.frombuffer(data, np.uint8),
                     np.frombuffer(offsets, np.int64)[: len(lines) + 1], [], "t", "s")
    rows = fast.on_contact
    assert rows.num_rows == 40
    expected = interval_keys(rows["agent_id"], rows["queue"],
                             rows["started_at"].cast(pa.int64()).to_numpy())
    assert fast.on_contact_keys.tolist() == expected.tolist()
    assert len(set(expected.tolist())) == 40


def test_many_intervals_from_many_chunks_keep_their_keys() -> None:
    # A table of many chunks: keys must still be matched to their rows.
    n = 600_000
    start = np.arange(n, dtype=np.int64) * 1_000_000
    start[1::1000] = start[0::1000]  # rows 1000k and 1000k+1: same agent, queue, start
    end = start + 60_000_000 + np.arange(n)
    agents = pa.array([f"Agent/{i % 7}" if i % 1000 > 1 else "Agent/x" for i in range(n)])
    table = pa.table({
        "agent_id": agents, "queue": pa.array(["q"] * n),
        "started_at": pa.array(start, pa.timestamp("us", tz="UTC")),
        "ended_at": pa.array(end, pa.timestamp("us", tz="UTC")),
    })
    fast = pa.Table.from_batches(table.to_batches(max_chunksize=100_000))
    con = duckdb.connect()
    con.execute("SET threads = 4")
    con.execute("SET preserve_insertion_order = false")
    con.execute("CREATE TABLE stays AS SELECT NULL::STRUCT(event VARCHAR, agent VARCHAR, "
                "ts BIGINT) AS ex, NULL::STRUCT(agent VARCHAR, ts BIGINT) AS fin, "
                "'q' AS queue LIMIT 0")
    fast_keys = interval_keys(fast["agent_id"], fast["queue"], start)
    rows = _on_contact(con, fast=fast, fast_keys=fast_keys, pending=[])
    assert rows.num_rows == n - n // 1000
    keys = {(a, s) for a, s in zip(rows["agent_id"].to_pylist(),
                                   rows["started_at"].cast(pa.int64()).to_pylist(),
                                   strict=True)}
    assert len(keys) == rows.num_rows
    merged = rows.filter(pc.equal(rows["agent_id"], "Agent/x"))
    assert merged.num_rows == n // 1000
    assert sorted(merged["ended_at"].cast(pa.int64()).to_pylist()) == \
        [int(end[k + 1]) for k in range(0, n, 1000)]
