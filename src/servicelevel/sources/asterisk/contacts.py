"""Pairing call events into contacts, in DuckDB.

A contact is one stay of one call in one queue: an ENTERQUEUE and the events of the same
(callid, queue) up to the next ENTERQUEUE, i.e. every event is paired with the latest
ENTERQUEUE at or before it (ordered by time, then by position in the file), as Wazo
pairs. The first exit event (CONNECT, ABANDON, EXITWITH*, EXITEMPTY/LEAVEEMPTY,
WITHDRAW) decides the outcome; the first COMPLETE* or *TRANSFER ends an answered call.

Almost every (callid, queue) holds one ENTERQUEUE, so one hash aggregation pairs the
bulk; only keys entered more than once, or with events before their ENTERQUEUE, go
through a window that numbers the stays.
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

#: Columns of a call event, as carried between chunks (JSON lists in this order).
EVENT_COLUMNS: tuple[str, ...] = (
    "ts", "callid", "queue", "agent", "event", "d1", "d2", "d3", "d4", "d5", "d6", "nd",
)
EVENT_SCHEMA = pa.schema(
    [("seq", pa.int64()), ("ts", pa.int64())]
    + [(name, pa.string()) for name in EVENT_COLUMNS[1:-1]]
    + [("nd", pa.int64())]
)

_ORD = "(ts::HUGEINT * 4294967296 + seq)"
_AGGREGATES = f"""
    count_if(event = 'ENTERQUEUE') AS n_enter,
    min({_ORD}) AS first_ord,
    min({_ORD}) FILTER (event = 'ENTERQUEUE') AS enter_ord,
    arg_min({{'ts': ts, 'agent': agent, 'd1': d1, 'd2': d2, 'd3': d3, 'd4': d4, 'nd': nd}},
            {_ORD}) FILTER (event = 'ENTERQUEUE') AS enter,
    arg_min({{'event': event, 'ts': ts, 'agent': agent, 'd1': d1, 'd2': d2, 'd3': d3,
              'd4': d4, 'nd': nd}}, {_ORD}) FILTER (event IN ({sql_list(EXIT_EVENTS)})) AS ex,
    arg_min({{'event': event, 'ts': ts, 'agent': agent, 'd1': d1, 'd2': d2, 'd3': d3,
              'd4': d4, 'd5': d5}}, {_ORD}) FILTER (event IN ({sql_list(END_EVENTS)})) AS fin
"""

_CALLS = f"""
    SELECT seq, ts, callid, queue, agent, event, d1, d2, d3, d4, d5, d6, nd FROM events
    WHERE bad IS NULL AND event IN ({sql_list(CALL_EVENTS)})
    UNION ALL
    SELECT seq, ts, callid, queue, agent, event, d1, d2, d3, d4, d5, d6, nd FROM carried
"""

# Seconds from a data field, or null when the field is absent or empty.
_SECONDS = "try_cast({} AS DOUBLE)"
_TALK = """CASE WHEN fin.event IN ('COMPLETECALLER', 'COMPLETEAGENT') THEN fin.d2
               WHEN fin.event = 'ATTENDEDTRANSFER' AND fin.d1 = 'LINK' THEN fin.d5
               ELSE fin.d4 END"""
_HOLD = """CASE WHEN fin.event IN ('COMPLETECALLER', 'COMPLETEAGENT') THEN fin.d1
               WHEN fin.event = 'ATTENDEDTRANSFER' AND fin.d1 = 'LINK' THEN fin.d4
               ELSE fin.d3 END"""
_WAIT_FIELD = """CASE ex.event WHEN 'CONNECT' THEN ex.d1 WHEN 'EXITWITHKEY' THEN ex.d4
                     ELSE ex.d3 END"""

_CONTACTS = f"""
WITH base AS (
    SELECT callid, queue, enter, ex, fin, superseded,
           ex.event = 'CONNECT' OR (ex IS NULL AND fin IS NOT NULL) AS answered,
           {_SECONDS.format(_TALK)} AS talk_field,
           {_SECONDS.format(_HOLD)} AS hold_field
    FROM stays
), timed AS (
    SELECT *,
        CASE WHEN NOT answered THEN NULL
             WHEN ex.event = 'CONNECT' THEN ex.ts
             ELSE coalesce(fin.ts - round(talk_field * 1000000)::BIGINT,
                           enter.ts + round(hold_field * 1000000)::BIGINT)
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
              coalesce({_SECONDS.format(_WAIT_FIELD)}, (ex.ts - enter.ts) / 1e6)
         ELSE coalesce(hold_field, (answered_us - enter.ts) / 1e6) END AS wait_s,
    CASE WHEN ex.event = 'CONNECT' THEN {_SECONDS.format('ex.d3')} END AS ring_s,
    CASE WHEN answered THEN coalesce(talk_field, (fin.ts - answered_us) / 1e6) END AS talk_s,
    nullif(nullif(CASE WHEN answered THEN coalesce(ex.agent, fin.agent) ELSE ex.agent END,
                  'NONE'), '') AS agent_id,
    nullif(enter.d2, '') AS customer_id,
    CASE WHEN answered THEN
              CASE WHEN fin IS NULL THEN NULL ELSE fin.event IN ({sql_list(TRANSFER_EVENTS)}) END
         WHEN ex IS NULL THEN NULL
         ELSE false END AS transferred,
    -- still open: to carry into the next chunk
    NOT superseded AND (ex IS NULL OR (answered AND fin IS NULL)) AS open,
    enter.ts AS enter_ts
FROM timed
"""


@dataclass
class Pairing:
    """Contacts of a chunk, the call events to carry, and events with no ENTERQUEUE."""

    contacts: pa.Table  # CONTACTS columns (not yet conformed) + open, enter_ts
    carry: list[list[Any]]  # call events of still-open stays (EVENT_COLUMNS order)
    orphans: int  # call events with no ENTERQUEUE before them in the data or the carry


def carried_table(carry_events: list[list[Any]]) -> pa.Table:
    """The carried call events as rows before the chunk's own (seq 0..n-1)."""
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for event in carry_events:
        for name, value in zip(EVENT_COLUMNS, event, strict=True):
            columns[name].append(value)
    return pa.table(
        {"seq": list(range(len(carry_events))), **columns}, schema=EVENT_SCHEMA
    )


def pair_calls(con: duckdb.DuckDBPyConnection, tenant: str, source: str) -> Pairing:
    """Pair the registered ``events`` (+ ``carried``) into contacts."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE calls AS {_CALLS}")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE simple AS
        SELECT callid, queue, {_AGGREGATES} FROM calls GROUP BY callid, queue"""
    )
    complex_keys = con.execute(
        "SELECT count(*) FROM simple WHERE n_enter <> 1 OR first_ord <> enter_ord"
    ).fetchone()
    orphans = 0
    if complex_keys and complex_keys[0]:
        # Keys entered more than once (or with events before the entry): number the stays.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE numbered AS
            SELECT c.*, sum(CASE WHEN event = 'ENTERQUEUE' THEN 1 ELSE 0 END) OVER (
                PARTITION BY callid, queue ORDER BY ts, seq ROWS UNBOUNDED PRECEDING) AS stay
            FROM calls c SEMI JOIN (SELECT callid, queue FROM simple
                WHERE n_enter <> 1 OR first_ord <> enter_ord) k USING (callid, queue)"""
        )
        row = con.execute("SELECT count(*) FROM numbered WHERE stay = 0").fetchone()
        orphans = int(row[0]) if row else 0
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE stays AS
            SELECT callid, queue, enter, ex, fin, false AS superseded FROM simple
            WHERE n_enter = 1 AND first_ord = enter_ord
            UNION ALL
            SELECT callid, queue, enter, ex, fin, superseded FROM (
                SELECT callid, queue, stay, {_AGGREGATES},
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
    carry = _open_events(con)
    return Pairing(contacts, carry, orphans)


def _open_events(con: duckdb.DuckDBPyConnection) -> list[list[Any]]:
    """ENTERQUEUE (+ CONNECT) of stays still open, recent enough to be carried on."""
    rows = con.execute(
        f"""
        WITH open AS (
            SELECT callid, queue, enter, ex FROM stays
            WHERE NOT superseded AND (ex IS NULL OR (ex.event = 'CONNECT' AND fin IS NULL))
        ), latest AS (SELECT max(ts) AS ts FROM calls)
        SELECT * FROM (
            SELECT enter.ts, callid, queue, enter.agent, 'ENTERQUEUE', enter.d1, enter.d2,
                   enter.d3, enter.d4, NULL, NULL, enter.nd, 0 AS part
            FROM open, latest WHERE enter.ts >= latest.ts - {CARRY_MAX_AGE_US}
            UNION ALL
            SELECT ex.ts, callid, queue, ex.agent, ex.event, ex.d1, ex.d2, ex.d3, ex.d4,
                   NULL, NULL, ex.nd, 1 AS part
            FROM open, latest WHERE ex IS NOT NULL AND enter.ts >= latest.ts - {CARRY_MAX_AGE_US}
        ) ORDER BY 1, 13
        """
    ).fetchall()
    return [list(row[:-1]) for row in rows]
