"""The Asterisk queue_log (``epoch|callid|queue|agent|EVENT|data…``) as canonical tables.

Every Asterisk version from 1.2 to 22 is read, and the Wazo/XiVO realtime export with
``YYYY-MM-DD HH:MM:SS.ffffff`` times (see ``../shared/data/asterisk_queue_log/FORMAT.md``
and ``docs/sources/asterisk_queue_log.md``).

- ``contacts``: one row per stay of a call in a queue, ``contact_id =
  "{callid}|{queue}|{ENTERQUEUE epoch in µs}"``. A call still waiting at the end of the
  data is ``waiting``; one answered and still talking is ``answered`` with no end. Both are
  carried, so the next chunk (the grown file, or the next file) completes them and the
  store replaces the row.
- ``agent_states``: ``logged_in``, ``paused`` (with reason), ``wrap_up`` and
  ``on_contact`` (CONNECT → COMPLETE*/TRANSFER) intervals.
- Epochs are absolute (UTC). Datetime strings are local time in ``--tz`` (UTC if not
  given); an ambiguous time at a DST change takes the first (summer-time) reading.

The common calls are paired by a compiled pass over the bytes (``asterisk/fast.py``);
the other lines are vectorised (numpy cuts lines, DuckDB splits, checks and pairs them);
only the few member events go through Python.
"""

from __future__ import annotations

from dataclasses import astuple
from functools import cache
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from servicelevel.model.tables import AGENT_STATES, CONTACTS
from servicelevel.sources import register_format
from servicelevel.sources.asterisk.agents import AGENT_EVENTS, AgentEvent, AgentStates
from servicelevel.sources.asterisk.contacts import carried_table, pair_calls
from servicelevel.sources.asterisk.events import (
    EPOCH_VALID,
    LAYOUTS,
    LINE_SHAPE,
    REFUSAL_EVENTS,
    ROLE_FIELDS,
    events_sql,
)
from servicelevel.sources.asterisk.fast import constant_strings, interval_keys, pair_fast
from servicelevel.sources.asterisk.lines import split_lines
from servicelevel.sources.base import Carry, ParseResult, QuarantinedLine, SourceChunk

NAME = "asterisk-queue-log"
CARRY_VERSION = 1


class AsteriskQueueLogFormat:
    """Asterisk queue_log: every call stay becomes a contact; member events agent states."""

    name = NAME
    description = "Asterisk queue_log (1.2–22, Wazo): contacts per call and queue, agent states."
    append_only = True
    reads_in_pieces = True  # honours SourceChunk.more_follows: open rows wait in the carry

    def parse(self, chunk: SourceChunk, carry: Carry | None) -> ParseResult:
        return parse_chunk(chunk, carry, compiled=True)


@cache
def _pairing_engine() -> duckdb.DuckDBPyConnection:
    """The in-memory DuckDB the reference path runs in. Opening one costs about 25 ms, so
    it is opened once; each chunk takes a cursor of its own (its own temporary tables and
    views, safe from any thread)."""
    engine = duckdb.connect()
    engine.execute("SET preserve_insertion_order = false")  # rows are keyed, not ordered
    engine.execute("SET enable_progress_bar = false")  # a library prints nothing
    return engine


def parse_chunk(chunk: SourceChunk, carry: Carry | None, *, compiled: bool) -> ParseResult:
    """The adapter's work; ``compiled=False`` leaves every line to the reference path.

    With ``compiled`` the common calls are paired by ``asterisk/fast.py`` and only the
    other lines (and every line of the other calls) go through DuckDB; the rows are the
    same either way (the tests compare both).
    """
    lines = split_lines(chunk.data, chunk.first_line)
    zone = chunk.tz.key if chunk.tz is not None else "UTC"
    carry = carry if carry and carry.get("version") == CARRY_VERSION else None
    carried_calls: list[list[Any]] = carry["calls"] if carry else []
    fast = None
    sql_lines = lines.table
    if compiled and 0 < lines.table.num_rows < 2**31 - 1:  # int32 line numbers
        array = lines.table.column("line").chunk(0)
        _, offsets_buffer, data_buffer = array.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
            array.offset : array.offset + len(array) + 1
        ]
        fast = pair_fast(
            np.frombuffer(data_buffer, dtype=np.uint8), offsets,
            [(str(event[1]), str(event[2])) for event in carried_calls], chunk.tenant, NAME,
            checked=lines.has_cr or lines.has_control,
        )
        sql_lines = lines.table.filter(pa.array(fast.slow))
    con = _pairing_engine().cursor()  # its own temporary tables and views
    try:
        con.register("lines", sql_lines)
        con.register("carried", carried_table(carried_calls))
        offset = len(carried_calls)  # carried events come first
        sql = events_sql(
            has_cr=lines.has_cr, has_control=lines.has_control, zone=zone, offset=offset
        )
        con.execute("CREATE TEMP VIEW events AS " + sql)
        pairing = pair_calls(
            con, chunk.tenant, NAME, (*AGENT_EVENTS, *REFUSAL_EVENTS),
            latest_floor=fast.latest_enter if fast else None,
            age_limit=not chunk.more_follows,
        )
        on_contact = _on_contact(con, fast=fast.on_contact if fast is not None else None,
                                 fast_keys=fast.on_contact_keys if fast is not None else None,
                                 pending=(carry or {}).get("pending_on_contact", []))
        others = _lines_detail(con, lines.table, pairing.others, offset, sql)
    finally:
        con.close()

    quarantined = list(lines.quarantined)
    agent_events: list[AgentEvent] = []
    refusals: dict[str, dict[str, Any]] = {}
    excluded = pairing.orphans
    blank = 0
    bad_rows: list[dict[str, Any]] = []
    for row in others:
        seq = int(row["seq"]) - offset
        if seq in lines.blanked:
            continue
        code = row["bad"]
        if code is not None:
            kind = code.split(":", 1)[0]
            if kind == "blank":
                blank += 1
            elif kind == "comment":
                excluded += 1
            else:
                bad_rows.append(row | {"seq": seq})
            continue
        event = row["event"]
        queue = "" if row["queue"] == "NONE" else row["queue"]
        if event in AGENT_EVENTS:
            agent_events.append(
                AgentEvent(row["ts"], row["callid"], queue, row["agent"], event, row["d1"])
            )
        elif event in REFUSAL_EVENTS and queue:
            contact_id = f"{row['callid']}|{queue}|{row['ts']}"
            refusals[contact_id] = _refusal(contact_id, queue, row, chunk.tenant)

    rows_read = lines.table.num_rows - blank
    quarantined.extend(_quarantine(bad_rows, chunk, rows_read - excluded))
    quarantined.sort(key=lambda line: line.line)

    states = AgentStates.from_carry(carry["agents"] if carry else None)
    # Between pieces of one read, member events wait in the carry: aliases are learnt
    # from the whole read before any event is applied, exactly as in one piece.
    pending = [AgentEvent(*event) for event in (carry or {}).get("pending_agent_events", [])]
    agent_events = pending + agent_events  # the pending ones come first in the file
    if not chunk.more_follows:
        agent_events.sort(key=lambda event: event.ts)  # stable: file order within a time
        states.learn_aliases(agent_events)
        for agent_event in agent_events:
            states.apply(agent_event)

    contacts = pairing.contacts
    if chunk.more_follows and pairing.carry:
        # Calls still open stay in the carry; the piece that ends the read writes them
        # (completed, or still open), so no piece's rows are rewritten. Calls the
        # compiled pass paired are never open.
        contacts = contacts.filter(pc.invert(pc.is_in(
            contacts["contact_id"], value_set=_open_contact_ids(pairing.carry))))
    if fast is not None:
        contacts = pa.concat_tables(
            [CONTACTS.conform(contacts), CONTACTS.conform(fast.contacts)]
        )
    if refusals:
        extra = pa.Table.from_pylist(list(refusals.values()))
        # A refusal sharing its id with a stay (same call, queue and instant) yields.
        taken = pc.is_in(extra["contact_id"], value_set=contacts["contact_id"])
        contacts = pa.concat_tables(
            [CONTACTS.conform(contacts), CONTACTS.conform(extra.filter(pc.invert(taken)))]
        )
    agent_rows = states.table(chunk.tenant, NAME)
    if chunk.more_follows:
        on_contact, held = _hold_back_on_contact(on_contact, pairing.carry)
    new_carry: Carry = {
        "version": CARRY_VERSION,
        "calls": pairing.carry,
        "agents": states.to_carry(),
    }
    if chunk.more_follows:
        new_carry["pending_agent_events"] = [astuple(event) for event in agent_events]
        new_carry["pending_on_contact"] = held
    return ParseResult(
        tables={
            CONTACTS.name: CONTACTS.conform(contacts),
            AGENT_STATES.name: pa.concat_tables(
                [
                    AGENT_STATES.conform(agent_rows),
                    AGENT_STATES.conform(
                        on_contact.append_column(
                            "tenant", constant_strings(chunk.tenant, on_contact.num_rows)
                        ).append_column(
                            "source", constant_strings(NAME, on_contact.num_rows)
                        )
                    ),
                ]
            ),
        },
        rows_read=rows_read,
        quarantined=quarantined,
        excluded=excluded,
        carry=new_carry,
    )


def _hold_back_on_contact(
    on_contact: pa.Table, carried: list[list[Any]]
) -> tuple[pa.Table, list[list[Any]]]:
    """The on-call intervals a piece may write, and those the next piece must merge.

    Open intervals are left out (the carried CONNECT gives them again); so is an ended
    one that shares agent, queue and start with a carried CONNECT: one row per agent,
    queue and start is kept, and the next piece merges the two.
    """
    keep = pc.is_valid(on_contact["ended_at"]) if on_contact["ended_at"].null_count else None
    connects = {(event[3], event[2], event[0]) for event in carried if event[4] == "CONNECT"}
    held_rows = []
    if connects and on_contact.num_rows:
        # Only rows starting at a carried CONNECT's instant can clash: few, near the end.
        instants = pa.array(sorted({ts for _, _, ts in connects}), pa.int64())
        starts = on_contact["started_at"].cast(pa.int64())
        near = pc.indices_nonzero(pc.is_in(starts, value_set=instants))
        if len(near):
            rows = on_contact.take(near).to_pylist()
            clash = np.zeros(on_contact.num_rows, dtype=bool)
            for index, row in zip(near.to_pylist(), rows, strict=True):
                start = int(starts[index].as_py())
                if row["ended_at"] is not None and (
                        row["agent_id"], row["queue"], start) in connects:
                    clash[index] = True
                    held_rows.append([row["agent_id"], row["queue"], start,
                                      int(on_contact["ended_at"][index].cast(pa.int64()).as_py())])
            if clash.any():
                unclashed = pa.array(~clash)
                keep = unclashed if keep is None else pc.and_(keep, unclashed)
    return (on_contact if keep is None else on_contact.filter(keep)), held_rows


def _open_contact_ids(carried: list[list[Any]]) -> pa.Array:
    """contact_id of each carried stay (its ENTERQUEUE: ts, callid, queue, …)."""
    return pa.array(
        [f"{event[1]}|{event[2]}|{event[0]}" for event in carried if event[4] == "ENTERQUEUE"],
        pa.string(),
    )


def _lines_detail(
    con: duckdb.DuckDBPyConnection, table: pa.Table, seqs: list[int], offset: int, sql: str
) -> list[dict[str, Any]]:
    """Every field of the few lines Python handles, read again from those lines only."""
    if not seqs:
        return []
    chosen = table.take(pa.array([seq - offset for seq in seqs], pa.int64()))
    con.register("lines", chosen)
    relation = con.sql(
        f"SELECT *, ltrim(f1, chr(10)) AS ep FROM ({sql}) ORDER BY seq"
    )
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _on_contact(
    con: duckdb.DuckDBPyConnection, *, fast: pa.Table | None,
    fast_keys: npt.NDArray[np.uint64] | None, pending: list[list[Any]],
) -> pa.Table:
    """CONNECT → end of call, per agent (one interval per agent, queue and start).

    ``fast``: the intervals of the calls paired by fast.py (agent_id, queue, started_at,
    ended_at), with their ``fast_keys``. ``pending``: intervals an earlier piece of the
    read held back (agent, queue, start and end µs), because a call still open shared
    their agent, queue and start.
    Intervals sharing agent, queue and start become one, ending at the latest end; of the
    compiled pass's many intervals only those that share a key hash are grouped.
    """
    few = """SELECT nullif(nullif(CASE WHEN ex.event = 'CONNECT' THEN ex.agent
                                    ELSE fin.agent END, 'NONE'), '') AS agent_id,
                 queue, make_timestamp(ex.ts) AS started_at, make_timestamp(fin.ts) AS ended_at
          FROM stays WHERE ex.event = 'CONNECT'"""
    if pending:
        agent, queue, started, ended = zip(*pending, strict=True)
        con.register("pending_on_contact", pa.table({
            "agent_id": pa.array(agent, pa.string()), "queue": pa.array(queue, pa.string()),
            "started_at": pa.array(started, pa.int64()),
            "ended_at": pa.array(ended, pa.int64()),
        }))
        few += (" UNION ALL SELECT agent_id, queue, make_timestamp(started_at), "
                "make_timestamp(ended_at) FROM pending_on_contact")
    grouped = """SELECT agent_id, queue, 'on_contact' AS state, NULL::VARCHAR AS reason,
                        started_at, max(ended_at) AS ended_at
                 FROM ({rows}) WHERE agent_id IS NOT NULL GROUP BY agent_id, queue, started_at"""
    if fast is None or fast_keys is None:
        return con.sql(grouped.format(rows=few)).to_arrow_table()
    con.execute(f"CREATE OR REPLACE TEMP TABLE few_on_contact AS {few}")
    few_rows = con.sql(
        "SELECT agent_id, queue, epoch_us(started_at) AS started FROM few_on_contact "
        "WHERE agent_id IS NOT NULL").to_arrow_table()
    few_keys = interval_keys(few_rows["agent_id"], few_rows["queue"],
                             few_rows["started"].to_numpy())
    every = np.sort(np.concatenate([fast_keys, few_keys]))
    shared = np.unique(every[1:][every[1:] == every[:-1]])
    clash = np.isin(fast_keys, shared) if shared.size else np.zeros(len(fast_keys), bool)
    lone = fast.filter(pa.array(~clash)) if clash.any() else fast
    con.register("clashing_on_contact", fast.filter(pa.array(clash)))
    merged = con.sql(grouped.format(
        rows="SELECT * FROM few_on_contact UNION ALL SELECT * FROM clashing_on_contact"
    )).to_arrow_table()
    lone = pa.table({
        "agent_id": lone["agent_id"], "queue": lone["queue"],
        "state": constant_strings("on_contact", lone.num_rows),
        "reason": pa.nulls(lone.num_rows, pa.string()),
        "started_at": lone["started_at"], "ended_at": lone["ended_at"],
    })
    return pa.concat_tables([lone, merged.cast(lone.schema)])


def _refusal(contact_id: str, queue: str, row: dict[str, Any], tenant: str) -> dict[str, Any]:
    """A call refused at the door (Wazo FULL, JOINEMPTY, CLOSED, DIVERT_*): it never waited."""
    at = pa.scalar(row["ts"], pa.int64()).cast(pa.timestamp("us", tz="UTC")).as_py()
    return {
        "tenant": tenant, "source": NAME, "contact_id": contact_id, "channel": "voice",
        "queue": queue, "direction": "inbound", "arrived_at": at, "ended_at": at,
        "outcome": REFUSAL_EVENTS[row["event"]], "wait_s": 0.0, "transferred": False,
    }


def _quarantine(
    rows: list[dict[str, Any]], chunk: SourceChunk, candidates: int
) -> list[QuarantinedLine]:
    """One QuarantinedLine per bad row, with a reason that says what would be valid."""
    good = candidates - len(rows)
    not_a_log = ""
    if rows and chunk.first_line == 1 and good * 2 < candidates:
        not_a_log = (
            f"; the file does not look like an Asterisk queue_log ({LINE_SHAPE}): "
            f"only {good} of {candidates} lines parse"
        )
    out = []
    for row in rows:
        reason, field = _reason(row)
        text = (row["raw"] or "").lstrip("\n").rstrip("\r")
        out.append(
            QuarantinedLine(chunk.first_line + row["seq"], reason + not_a_log, text[:500], field)
        )
    return out


def _reason(row: dict[str, Any]) -> tuple[str, str | None]:
    kind, _, detail = str(row["bad"]).partition(":")
    event = row["event"]
    if kind == "cr":
        return "a carriage return inside the line; lines end with \\n or \\r\\n", None
    if kind == "control":
        return (
            "control characters in the line (binary data?); a queue_log line is text: "
            + LINE_SHAPE
        ), None
    if kind == "fields":
        return (
            f"{row['nf']} field(s); a queue_log line has at least 5 pipe-separated fields: "
            + LINE_SHAPE
        ), None
    if kind == "epoch":
        return f"epoch {row['ep']!r} is not a time; write {EPOCH_VALID}", "epoch"
    if kind == "event":
        return (
            f"event {event!r} is not an event name; write an upper-case word like "
            "ENTERQUEUE or CONNECT"
        ), "event"
    if kind == "key":
        return (
            f"{event} names no call or queue (callid {row['callid']!r}, queue "
            f"{row['queue']!r}); call events carry the caller's uniqueid and the queue name"
        ), "queue" if row["callid"] not in ("", "NONE") else "callid"
    if kind == "layout":
        return (
            f"{event} with {row['nf'] - 5} data field(s) is a layout no Asterisk version writes; "
            f"expected {LAYOUTS[event].written}"
        ), "data"
    if kind == "number":
        if detail == "wrapup":
            index, meaning = 1, "wrap-up seconds"
        else:
            index = ROLE_FIELDS[detail][event]
            meaning = dict(LAYOUTS[event].numbers).get(index, "waittime") \
                if event in LAYOUTS else "waittime"
            if event == "ATTENDEDTRANSFER" and row["d1"] == "LINK":
                index += 1
        value = row.get(f"d{index}")
        return (
            f"data{index} ({meaning}) of {event} is {value!r}, not a whole number of "
            "seconds (0 or more)"
        ), f"data{index}"
    return f"unreadable line ({row['bad']})", None  # pragma: no cover - every code is above


FORMAT = register_format(AsteriskQueueLogFormat())
