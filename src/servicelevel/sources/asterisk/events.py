"""queue_log events: their vocabulary, the layouts each Asterisk version writes, and the
SQL that splits lines into fields and says what is wrong with a bad one.

Everything here is vectorised: one DuckDB expression per line, evaluated over the Arrow
lines of ``lines.py``. Python only formats the reasons of the (few) bad lines.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Events that end a caller's stay in the queue (the first one decides the outcome).
EXIT_EVENTS: tuple[str, ...] = (
    "CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "LEAVEEMPTY",
    "WITHDRAW",
)
#: Events that end an answered call.
END_EVENTS: tuple[str, ...] = (
    "COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER",
)
TRANSFER_EVENTS: tuple[str, ...] = ("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER")
#: Events paired per (callid, queue) with the latest ENTERQUEUE at or before them.
CALL_EVENTS: tuple[str, ...] = ("ENTERQUEUE", *EXIT_EVENTS, *END_EVENTS)
#: Call events that need no row of their own (the ring time comes from CONNECT).
QUIET_EVENTS: tuple[str, ...] = ("RINGNOANSWER", "RINGCANCELED")
#: Wazo dialplan events written instead of entering the queue: one contact each.
REFUSAL_EVENTS: dict[str, str] = {
    "FULL": "full",
    "JOINEMPTY": "join_empty",
    "CLOSED": "closed",
    "DIVERT_CA_RATIO": "overflow",
    "DIVERT_HOLDTIME": "overflow",
}


@dataclass(frozen=True)
class Layout:
    """The data layouts one event has had across Asterisk versions."""

    counts: tuple[int, ...]  # numbers of data fields some version writes (0: none written)
    written: str  # the layouts in words, for the quarantine reason
    numbers: tuple[tuple[int, str], ...]  # (data field, meaning) that must be whole numbers


LAYOUTS: dict[str, Layout] = {
    "CONNECT": Layout(
        (0, 1, 2, 3),
        "holdtime (1.2), holdtime|uniqueid (1.4) or holdtime|uniqueid|ringtime (1.6+)",
        ((1, "holdtime"), (3, "ringtime")),
    ),
    "COMPLETECALLER": Layout((0, 3), "holdtime|calltime|origposition", ((1, "holdtime"),
                                                                       (2, "calltime"))),
    "COMPLETEAGENT": Layout((0, 3), "holdtime|calltime|origposition", ((1, "holdtime"),
                                                                      (2, "calltime"))),
    "ABANDON": Layout((0, 3), "position|origposition|waittime", ((3, "waittime"),)),
    "EXITWITHTIMEOUT": Layout(
        (0, 1, 3), "position (1.2/1.4) or position|origposition|waittime (1.6+)",
        ((3, "waittime"),),
    ),
    "EXITWITHKEY": Layout(
        (0, 2, 4), "key|position (1.2–1.6) or key|position|origposition|waittime (1.8+)",
        ((4, "waittime"),),
    ),
    "EXITEMPTY": Layout((0, 3), "position|origposition|waittime", ((3, "waittime"),)),
    "WITHDRAW": Layout(
        (0, 3, 4), "position|origposition|waittime[|withdraw info] (16+)", ((3, "waittime"),)
    ),
    "TRANSFER": Layout(
        (0, 2, 4, 5),
        "extension|context (1.2), +holdtime|calltime (1.4), +origposition (1.6–11)",
        ((3, "holdtime"), (4, "calltime")),
    ),
    "BLINDTRANSFER": Layout(
        (0, 5), "extension|context|holdtime|calltime|origposition (12+)",
        ((3, "holdtime"), (4, "calltime")),
    ),
    # LINK puts two channel names in the method data: 6 parts, numbers one field later.
    "ATTENDEDTRANSFER": Layout(
        (0, 5, 6), "method|method data|holdtime|calltime|origposition (12+; 6 parts for LINK)",
        ((3, "holdtime"), (4, "calltime")),
    ),
    "RINGNOANSWER": Layout((0, 1), "ringtime in milliseconds", ((1, "ringtime (ms)"),)),
    "RINGCANCELED": Layout((0, 1), "ringtime in milliseconds", ((1, "ringtime (ms)"),)),
}

LINE_SHAPE = "epoch|callid|queue|agent|EVENT[|data…]"
EPOCH_VALID = (
    "Unix seconds like 1543602677 (optionally with .ffffff), or a local time "
    "'YYYY-MM-DD HH:MM:SS[.ffffff]'"
)


def sql_list(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


#: The data field that holds each role's seconds, per event (ATTENDEDTRANSFER LINK: +1).
ROLE_FIELDS: dict[str, dict[str, int]] = {
    "wait": {"CONNECT": 1, "EXITWITHKEY": 4, "ABANDON": 3, "EXITWITHTIMEOUT": 3,
             "EXITEMPTY": 3, "LEAVEEMPTY": 3, "WITHDRAW": 3},
    "ring": {"CONNECT": 3},
    "talk": {"COMPLETECALLER": 2, "COMPLETEAGENT": 2, "TRANSFER": 4, "BLINDTRANSFER": 4,
             "ATTENDEDTRANSFER": 4},
    "hold": {"COMPLETECALLER": 1, "COMPLETEAGENT": 1, "TRANSFER": 3, "BLINDTRANSFER": 3,
             "ATTENDEDTRANSFER": 3},
}


def _role_raw(role: str) -> str:
    """The raw text of a role's data field (NULL for events without that role)."""
    cases = []
    for event, index in ROLE_FIELDS[role].items():
        if event == "ATTENDEDTRANSFER":
            cases.append(
                f"WHEN event = '{event}' THEN CASE WHEN d1 = 'LINK' THEN d{index + 1} "
                f"ELSE d{index} END"
            )
        else:
            cases.append(f"WHEN event = '{event}' THEN d{index}")
    return "CASE " + " ".join(cases) + " END"


def _bad(raw: str, number: str) -> str:
    # Present, not empty, and not a whole number of 0 or more.
    return f"({raw} <> '' AND coalesce({number} < 0, true))"


def _check_expression() -> str:
    """SQL giving NULL for a good line, else 'code:detail' (formatted in Python).

    Nested per event family so that the common lines (ENTERQUEUE, RINGNOANSWER) pass
    after a few comparisons.
    """
    layout_cases = []
    for event, layout in LAYOUTS.items():
        counts = ", ".join(str(count) for count in layout.counts)
        layout_cases.append(
            f"WHEN event = '{event}' AND nd NOT IN ({counts}) AND nf - 5 NOT IN ({counts}) "
            "THEN 'layout:'"
        )
    number_cases = [
        f"WHEN {_bad(f'{role}_raw', f'{role}_n')} THEN 'number:{role}'" for role in ROLE_FIELDS
    ]
    no_key = "(callid IN ('', 'NONE') OR queue IN ('', 'NONE'))"
    wrapup_raw = "CASE WHEN event = 'WRAPUPSTART' THEN d1 END"
    return f"""
        CASE
            WHEN nf < 5 OR ts IS NULL THEN CASE
                WHEN nf = 1 AND trim(f1, chr(10)) = '' THEN 'blank:'
                WHEN starts_with(ltrim(f1, chr(10)), '#') THEN 'comment:'
                WHEN nf < 5 THEN 'fields:'
                ELSE 'epoch:' END
            WHEN event = 'ENTERQUEUE' THEN CASE WHEN {no_key} THEN 'key:' END
            WHEN event IN ({sql_list((*CALL_EVENTS, *QUIET_EVENTS))}) THEN CASE
                WHEN event <> 'RINGNOANSWER' AND event <> 'RINGCANCELED' AND {no_key}
                    THEN 'key:'
                {' '.join(layout_cases)}
                {' '.join(number_cases)}
            END
            WHEN NOT regexp_full_match(event, '[A-Z][A-Z0-9_]*') THEN 'event:'
            WHEN event = 'WRAPUPSTART' AND agent NOT IN ('', 'NONE')
                 AND (d1 IS NULL OR d1 = '' OR
                      {_bad(wrapup_raw, f"try_cast({wrapup_raw} AS BIGINT)")})
                THEN 'number:wrapup'
        END"""


CHECK = _check_expression()


def events_sql(*, has_cr: bool, has_control: bool, zone: str, offset: int = 0) -> str:
    """SQL over the registered ``lines`` table: one row per line, fields split and checked.

    ``seq`` is the line's index in the chunk plus ``offset`` (the carried events come
    first); ``ts`` is microseconds since the epoch (UTC); ``nd`` the number of data fields
    not counting a trailing empty one (a layout matches with or without it, since a final
    ``|`` can mean "no data" or "last field empty"); ``bad`` as in CHECK; ``wait_v``,
    ``ring_v``, ``talk_v``, ``hold_v`` the seconds the data fields give (null when absent).
    """
    line = "rtrim(line, chr(13))" if has_cr else "line"
    extra = []
    if has_cr:
        extra.append("WHEN contains(line_text, chr(13)) THEN 'cr:'")
    if has_control:
        extra.append(
            "WHEN regexp_matches(line_text, '[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]') "
            "THEN 'control:'"
        )
    zone_sql = zone.replace("'", "''")
    line_text = "rtrim(line, chr(13)) AS line_text," if extra else ""
    check = CHECK
    if extra:
        check = check.replace("CASE", "CASE " + " ".join(extra), 1)
    roles = ",\n".join(f"{_role_raw(role)} AS {role}_raw" for role in ROLE_FIELDS)
    numbers = ",\n".join(
        f"try_cast({role}_raw AS BIGINT) AS {role}_n" for role in ROLE_FIELDS
    )
    # Casts skip the leading newline each line keeps (see lines.py): no trim needed.
    return f"""
        WITH split AS (
            SELECT seq + {int(offset)} AS seq, line AS raw, {line_text}
                   string_split({line}, '|') AS f
            FROM lines
        ), fields AS (
            SELECT seq, {'line_text,' if extra else ''} raw,
                   f[1] AS f1, f[2] AS callid, f[3] AS queue,
                   f[4] AS agent, f[5] AS event, f[6] AS d1, f[7] AS d2, f[8] AS d3,
                   f[9] AS d4, f[10] AS d5, f[11] AS d6, len(f) AS nf,
                   len(f) - 5 - CASE WHEN len(f) > 5 AND f[-1] = '' THEN 1 ELSE 0 END AS nd
            FROM split
        ), timed AS (
            SELECT *,
                CASE
                    WHEN contains(f1, '-') THEN epoch_us(timezone('{zone_sql}',
                        try_strptime(trim(f1, chr(10)),
                                     ['%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M:%S'])))
                    -- casts would also take ' 12', '+12' or '1e9': digits only
                    WHEN NOT regexp_full_match(f1, '\\n?[0-9]{{1,11}}([.][0-9]{{1,6}})?') THEN NULL
                    -- a BIGINT cast would round '….559080' to the next second
                    WHEN contains(f1, '.')
                        THEN try_cast(round(try_cast(f1 AS DOUBLE) * 1000000) AS BIGINT)
                    ELSE try_cast(f1 AS BIGINT) * 1000000
                END AS ts0,
                {roles}
            FROM fields
        ), valued AS (
            SELECT * EXCLUDE (ts0),
                CASE WHEN ts0 BETWEEN 100000000000000 AND 9999999999000000 THEN ts0 END AS ts,
                {numbers}
            FROM timed
        )
        SELECT *, {check} AS bad,
            wait_n::DOUBLE AS wait_v, ring_n::DOUBLE AS ring_v,
            talk_n::DOUBLE AS talk_v, hold_n::DOUBLE AS hold_v
        FROM valued
    """
