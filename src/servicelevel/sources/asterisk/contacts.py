"""Pairing call events into contacts, in DuckDB.

A contact is one stay of one call in one queue: an ENTERQUEUE and the events of the same
(callid, queue) up to the next ENTERQUEUE, i.e. every event is paired with the latest
ENTERQUEUE at or before it (ordered by time, then by position in the file), as Wazo
pairs. The first exit event (CONNECT, ABANDON, EXITWITH*, EXITEMPTY/LEAVEEMPTY,
WITHDRAW) decides the outcome; the first COMPLETE* or *TRANSFER ends an answered call.

Almost every (callid, queue) holds one ENTERQUEUE followed by at most one exit and one
end event, so one hash aggregation pairs the bulk with no ordering at all; only the other
keys (entered more than once, events before the ENTERQUEUE, several exits such as
Wazo's EXITEMPTY + LEAVEEMPTY) go through a window that numbers the stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from servicelevel.sources.asterisk.events import (
    CALL_EVENTS,
    END_EVENTS,
    EXIT_EVENTS,
    TRANSFER_EVENTS,
    sql_list,
)

#: Open calls older than this (before the chunk's last event) are no longer carried.
CARRY_MAX_AGE_US = 24 * 3600 * 1_000_000

#: Columns of a call event, as carried between chunks (JSON lists in this order): the
#: ENTERQUEUE keeps the caller number (d2); a CONNECT its wait and ring seconds.
EVENT_COLUMNS: tuple[str, ...] = (
    "ts", "callid", "queue", "agent", "event", "d2", "wait_v", "ring_v",
)
EVENT_SCHEMA = pa.schema(
    [("seq", pa.int64()), ("ts", pa.int64())]
    + [(name, pa.string()) for name in EVENT_COLUMNS[1:6]]
    + [("wait_v", pa.float64()), ("ring_v", pa.float64())]
)

_EXIT = f"event IN ({sql_list(EXIT_EVENTS)})"
_END = f"event IN ({sql_list(END_EVENTS)})"
_ENTER_STRUCT = "{'ts': ts, 'caller': d2, 'seq': seq}"
_EXIT_STRUCT = "{'event': event, 'ts': ts, 'agent': agent, 'wait': wait_v, 'ring': ring_v}"
_END_STRUCT = "{'event': event, 'ts': ts, 'agent': agent, 'talk': talk_v, 'hold': hold_v}"

# The bulk: a key with one ENTERQUEUE first, at most one exit and one end event needs
# no ordering at all (any_value is exact, and cheaper than arg_min).
_BULK_AGGREGATES = f"""
    count_if(event = 'ENTERQUEUE') AS n_enter, count_if({_EXIT}) AS n_exit,
    count_if({_END}) AS n_end, min(ts) AS first_ts, min(seq) AS first_seq,
    any_value({_ENTER_STRUCT}) FILTER (event = 'ENTERQUEUE') AS enter,
    any_value({_EXIT_STRUCT}) FILTER ({_EXIT}) AS ex,
    any_value({_END_STRUCT}) FILTER ({_END}) AS fin
"""
# Nothing before the ENTERQUEUE (earliest time and earliest position), one of each.
_BULK = (
    "n_enter = 1 AND n_exit <= 1 AND n_end <= 1 "
    "AND first_ts = enter.ts AND first_seq = enter.seq"
)
# The rest, per stay: the first of each kind by (time, position).
_ORD = "(ts::HUGEINT * 4294967296 + seq)"
_STAY_AGGREGATES = f"""
    arg_min({_ENTER_STRUCT}, {_ORD}) FILTER (event = 'ENTERQUEUE') AS enter,
    arg_min({_EXIT_STRUCT}, {_ORD}) FILTER ({_EXIT}) AS ex,
    arg_min({_END_STRUCT}, {_ORD}) FILTER ({_END}) AS fin
"""

_CALLS = f"""(
    SELECT seq, ts, callid, queue, agent, event, d2, wait_v, ring_v, talk_v, hold_v
    FROM events WHERE event IN ({sql_list(CALL_EVENTS)}) AND bad IS NULL
    UNION ALL
    SELECT seq, ts, callid, queue, agent, event, d2, wait_v, ring_v, NULL, NULL FROM carried
)"""

# One pass over the lines: good call events are grouped per (callid, queue); every line
# Python must see (bad lines, member and refusal events) is a group of its own, keyed by
# its position, so that the lines are split and checked once. Their fields are read
# afterwards from those few lines only.
_ONE_PASS = f"""
    SELECT callid, queue, own AS key_seq, {{aggregates}}
    FROM (
        SELECT seq, ts, callid, queue, agent, event, d2, wait_v, ring_v, talk_v, hold_v,
               CASE WHEN bad IS NULL AND event IN ({sql_list(CALL_EVENTS)}) THEN NULL
                    ELSE seq END AS own
        FROM events
        WHERE bad IS NOT NULL OR event IN ({{wanted}})
        UNION ALL
        SELECT seq, ts, callid, queue, agent, event, d2, wait_v, ring_v, NULL, NULL, NULL
        FROM carried
    )
    GROUP BY callid, queue, own
"""

_CONTACTS = f"""
WITH base AS (
    SELECT callid, queue, enter, ex, fin, superseded,
           ex.event = 'CONNECT' OR (ex IS NULL AND fin IS NOT NULL) AS answered
    FROM stays
), timed AS (
    SELECT *,
        CASE WHEN NOT answered THEN NULL
             WHEN ex.event = 'CONNECT' THEN ex.ts
             ELSE coalesce(fin.ts - round(fin.talk * 1000000)::BIGINT,
                           enter.ts + round(fin.hold * 1000000)::BIGINT)
        END AS answered_us
    FROM base
)
SELECT
    $tenant AS tenant, $source AS source,
    callid || '|' || queue || '|' || enter.ts AS contact_id,
    'voice' AS channel, queue, 'inbound' AS direction,
    make_timestamp(enter.ts) AS arrived_at,
    make_timestamp(answered_us) AS answered_at,
    make_timestamp(CASE WHEN answered THEN fin.ts ELSE ex.ts END) AS ended_at,
    CASE WHEN answered THEN 'answered'
         WHEN ex.event = 'ABANDON' THEN 'abandoned'
         WHEN ex.event = 'EXITWITHTIMEOUT' THEN 'timeout'
         WHEN ex.event = 'EXITWITHKEY' THEN 'exit_key'
         WHEN ex.event IN ('EXITEMPTY', 'LEAVEEMPTY') THEN 'leave_empty'
         WHEN ex.event = 'WITHDRAW' THEN 'withdrawn'
         ELSE 'waiting' END AS outcome,
    CASE WHEN ex.event = 'CONNECT' OR NOT answered THEN
              coalesce(ex.wait, (ex.ts - enter.ts) / 1e6)
         ELSE coalesce(fin.hold, (answered_us - enter.ts) / 1e6) END AS wait_s,
    CASE WHEN ex.event = 'CONNECT' THEN ex.ring END AS ring_s,
    CASE WHEN answered THEN coalesce(fin.talk, (fin.ts - answered_us) / 1e6) END AS talk_s,
    nullif(nullif(CASE WHEN answered THEN coalesce(ex.agent, fin.agent) ELSE ex.agent END,
                  'NONE'), '') AS agent_id,
    nullif(enter.caller, '') AS customer_id,
    CASE WHEN answered THEN
              CASE WHEN fin IS NULL THEN NULL ELSE fin.event IN ({sql_list(TRANSFER_EVENTS)}) END
         WHEN ex IS NULL THEN NULL
         ELSE false END AS transferred
FROM timed
"""


@dataclass
class Pairing:
    """Contacts of a chunk, the call events to carry, and events with no ENTERQUEUE."""

    contacts: pa.Table  # CONTACTS columns (not yet conformed)
    carry: list[list[Any]]  # call events of still-open stays (EVENT_COLUMNS order)
    orphans: int  # call events with no ENTERQUEUE before them in the data or the carry
    others: list[int]  # seq of bad lines and wanted non-call events, in file order


def carried_table(carry_events: list[list[Any]]) -> pa.Table:
    """The carried call events as rows before the chunk's own (seq 0..n-1)."""
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for event in carry_events:
        for name, value in zip(EVENT_COLUMNS, event, strict=True):
            columns[name].append(value)
    return pa.table(
        {"seq": list(range(len(carry_events))), **columns}, schema=EVENT_SCHEMA
    )


def pair_calls(
    con: duckdb.DuckDBPyConnection, tenant: str, source: str, wanted: tuple[str, ...],
    *, latest_floor: int | None = None, age_limit: bool = True,
) -> Pairing:
    """Pair the registered ``events`` (+ ``carried``) into contacts.

    ``wanted``: the non-call events to hand back in ``Pairing.others`` (with bad lines).
    ``latest_floor``: the latest ENTERQUEUE (µs) of calls paired elsewhere in the chunk
    (fast.py), which the age limit of carried calls counts from too. Without
    ``age_limit`` every open stay is carried (between pieces of one read).
    """
    con.execute(
        "CREATE OR REPLACE TEMP TABLE grouped AS "
        + _ONE_PASS.format(
            aggregates=_BULK_AGGREGATES, wanted=sql_list((*CALL_EVENTS, *wanted))
        )
    )
    own = con.execute(
        "SELECT key_seq FROM grouped WHERE key_seq IS NOT NULL ORDER BY key_seq"
    ).fetchall()
    con.execute(
        "CREATE OR REPLACE TEMP VIEW simple AS SELECT * FROM grouped WHERE key_seq IS NULL"
    )
    complex_keys = con.execute(f"SELECT count(*) FROM simple WHERE NOT ({_BULK})").fetchone()
    orphans = 0
    if complex_keys and complex_keys[0]:
        # Keys entered more than once, with events before the entry or several exits or
        # ends: number the stays and take the first of each kind in order.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE numbered AS
            SELECT c.*, sum(CASE WHEN event = 'ENTERQUEUE' THEN 1 ELSE 0 END) OVER (
                PARTITION BY callid, queue ORDER BY ts, seq ROWS UNBOUNDED PRECEDING) AS stay
            FROM {_CALLS} c SEMI JOIN (SELECT callid, queue FROM simple
                WHERE NOT ({_BULK})) k USING (callid, queue)"""
        )
        row = con.execute("SELECT count(*) FROM numbered WHERE stay = 0").fetchone()
        orphans = int(row[0]) if row else 0
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE stays AS
            SELECT callid, queue, enter, ex, fin, false AS superseded FROM simple
            WHERE {_BULK}
            UNION ALL
            SELECT callid, queue, enter, ex, fin, superseded FROM (
                SELECT callid, queue, stay, {_STAY_AGGREGATES},
                       stay < max(stay) OVER (PARTITION BY callid, queue) AS superseded
                FROM numbered WHERE stay > 0 GROUP BY callid, queue, stay
            )
            -- two entries at the same instant would share an id: keep the later one
            QUALIFY row_number() OVER (
                PARTITION BY callid, queue, struct_extract(enter, 'ts') ORDER BY stay DESC) = 1"""
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW stays AS "
            "SELECT callid, queue, enter, ex, fin, false AS superseded FROM simple"
        )
    contacts = con.sql(_CONTACTS, params={"tenant": tenant, "source": source}).to_arrow_table()
    carry = _open_events(con, latest_floor, age_limit=age_limit)
    return Pairing(contacts, carry, orphans, [int(row[0]) for row in own])


def _open_events(
    con: duckdb.DuckDBPyConnection, latest_floor: int | None, *, age_limit: bool = True
) -> list[list[Any]]:
    """ENTERQUEUE (+ CONNECT) of stays still open, recent enough to be carried on."""
    floor = "NULL::BIGINT" if latest_floor is None else str(int(latest_floor))
    max_age = CARRY_MAX_AGE_US if age_limit else 2**62
    rows = con.execute(
        f"""
        WITH open AS (
            SELECT callid, queue, enter, ex FROM stays
            WHERE NOT superseded AND (ex IS NULL OR (ex.event = 'CONNECT' AND fin IS NULL))
        ), latest AS (SELECT max(ts) AS ts FROM (
            SELECT enter.ts AS ts FROM stays UNION ALL SELECT {floor}))
        SELECT * FROM (
            SELECT enter.ts, callid, queue, 'NONE', 'ENTERQUEUE', enter.caller,
                   NULL::DOUBLE, NULL::DOUBLE, 0 AS part
            FROM open, latest WHERE enter.ts >= latest.ts - {max_age}
            UNION ALL
            SELECT ex.ts, callid, queue, ex.agent, ex.event, NULL, ex.wait, ex.ring, 1 AS part
            FROM open, latest WHERE ex IS NOT NULL AND enter.ts >= latest.ts - {max_age}
        ) ORDER BY 1, 9
        """
    ).fetchall()
    return [list(row[:-1]) for row in rows]
