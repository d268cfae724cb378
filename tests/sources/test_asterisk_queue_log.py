"""The asterisk-queue-log format: real data (pbxware_2018, the Wazo fixtures) and edge cases.

Expected figures come from the data itself, counted independently of the adapter (awk
one-liners quoted next to each figure) or from Wazo's own test expectations
(``wazo_fixtures/EXPECTED.md`` and xivo-dao's tests). Where servicelevel's definition
deliberately differs from Wazo's, the test says so and why (see
docs/sources/asterisk_queue_log.md, "Differences from Wazo").
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicelevel.model.tables import AGENT_STATES, CONTACTS
from servicelevel.sources import get_format
from servicelevel.sources.asterisk_queue_log import FORMAT
from servicelevel.sources.base import Carry, ParseResult, SourceChunk
from tests.conftest import shared_data

WAZO = ("asterisk_queue_log", "wazo_fixtures")


def parse(
    data: str | bytes,
    carry: Carry | None = None,
    *,
    first_line: int = 1,
    tz: ZoneInfo | None = None,
) -> ParseResult:
    raw = data.encode() if isinstance(data, str) else data
    chunk = SourceChunk(path="queue_log", data=raw, first_line=first_line, tenant="t", tz=tz)
    result = FORMAT.parse(chunk, carry)
    # Every result conforms to the canonical schemas and emits each key once.
    for name, table in result.tables.items():
        canonical = {CONTACTS.name: CONTACTS, AGENT_STATES.name: AGENT_STATES}[name]
        assert table.schema.equals(canonical.schema, check_metadata=False)
        keys = [tuple(row[k] for k in canonical.key) for row in table.to_pylist()]
        assert len(keys) == len(set(keys)), f"{name}: duplicate keys"
    json.dumps(result.carry)  # the carry is JSON
    return result


def wazo(name: str) -> str:
    return shared_data(*WAZO, f"{name}.queue_log").read_text()


def contacts(result: ParseResult) -> list[dict[str, Any]]:
    rows = result.tables["contacts"].to_pylist()
    return sorted(rows, key=lambda c: (c["arrived_at"], c["contact_id"]))


def states(result: ParseResult, state: str) -> list[dict[str, Any]]:
    rows = [r for r in result.tables["agent_states"].to_pylist() if r["state"] == state]
    return sorted(rows, key=lambda r: (r["agent_id"], r["queue"], r["started_at"]))


def intervals(result: ParseResult, state: str, agent: str, queue: str = "") -> list[tuple]:
    return [
        (r["started_at"], r["ended_at"])
        for r in states(result, state)
        if r["agent_id"] == agent and r["queue"] == queue
    ]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


NEVER = datetime(2100, 1, 1, tzinfo=UTC)  # the end of a still-open interval


def union(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def paused_in_queue(result: ParseResult, agent: str, queue: str) -> list[tuple]:
    """Wazo's per-queue pause: the queue's own pauses, and PAUSEALL while a member."""
    own = intervals(result, "paused", agent, queue)
    member = [(m0, m1 or NEVER) for m0, m1 in intervals(result, "logged_in", agent, queue)]
    everywhere = [
        (max(p0, m0), min(p1, m1))
        for p0, p1 in intervals(result, "paused", agent, "")
        for m0, m1 in member
        if max(p0, m0) < min(p1, m1)
    ]
    return union(own + everywhere)


# -- registry ---------------------------------------------------------------------------


def test_registered_as_an_append_only_format() -> None:
    assert get_format("asterisk-queue-log") is FORMAT
    assert FORMAT.append_only is True


# -- Wazo A.1: an answered call ----------------------------------------------------------


def test_wazo_answered_call_pairs_enterqueue_connect_complete() -> None:
    result = parse(wazo("answered_call_swk_allemagne"))
    assert result.excluded == 2  # the two '#' comment lines of the fixture
    assert result.quarantined == []
    [call] = contacts(result)
    assert call["contact_id"] == "1404377805.6457|swk_allemagne|1404385031559080"
    assert call["outcome"] == "answered"
    assert call["arrived_at"] == at(2014, 7, 3, 10, 57, 11, 559080)  # ENTERQUEUE time
    assert call["talk_s"] == 531  # COMPLETEAGENT data2
    assert call["wait_s"] == 8  # CONNECT data1 (= COMPLETEAGENT data1)
    assert call["ring_s"] == 4  # CONNECT data3, seconds
    assert call["agent_id"] == "Agent/448"
    assert call["transferred"] is False
    assert call["customer_id"] == "00049242184770"
    # Re-reading gives the same contact (idempotent ids).
    assert contacts(parse(wazo("answered_call_swk_allemagne"))) == [call]


def test_wazo_incomplete_call_is_open_and_completed_by_the_next_chunk() -> None:
    # Wazo adds no row for ENTERQUEUE+CONNECT alone; we store the call as answered with no
    # end yet (a live wallboard needs it) and carry it until its COMPLETE arrives.
    lines = wazo("answered_call_swk_allemagne").splitlines(keepends=True)
    first = parse("".join(lines[:4]))
    [open_call] = contacts(first)
    assert open_call["outcome"] == "answered"
    assert open_call["ended_at"] is None and open_call["talk_s"] is None
    assert open_call["transferred"] is None
    second = parse(lines[4], json.loads(json.dumps(first.carry)), first_line=5)
    [done] = contacts(second)
    assert done["contact_id"] == open_call["contact_id"]
    assert done["ended_at"] == at(2014, 7, 3, 11, 6, 10, 374302)
    assert done["talk_s"] == 531
    assert second.carry is not None and second.carry["calls"] == []
    [talk] = states(second, "on_contact")
    assert (talk["started_at"], talk["ended_at"]) == (done["answered_at"], done["ended_at"])


# -- Wazo A.2: leave-empty pairing ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("test_stat_dao_extended__test_fill_leaveempty_calls_fallover", {"queue1": 1}),
        ("test_stat_dao_extended__test_fill_leaveempty_calls_reenter_same_queue",
         {"queue1": 2}),
    ],
)
def test_wazo_leave_empty_count_per_queue_equals_leaveempty_lines(
    name: str, expected: dict[str, int]
) -> None:
    text = wazo(name)
    result = parse(text)
    leave_empty = Counter(c["queue"] for c in contacts(result) if c["outcome"] == "leave_empty")
    assert leave_empty == expected
    lines = Counter(line.split("|")[2] for line in text.splitlines() if "|LEAVEEMPTY" in line)
    assert leave_empty == lines  # queue2: 0 in both


def test_wazo_leave_empty_wait_and_reentry() -> None:
    result = parse(wazo("test_stat_dao_extended__test_fill_leaveempty_calls_reenter_same_queue"))
    calls = contacts(result)
    assert [(c["queue"], c["outcome"]) for c in calls] == [
        ("queue1", "leave_empty"), ("queue2", "answered"),
        ("queue1", "leave_empty"), ("queue2", "answered"),
    ]
    # Wazo: LEAVEEMPTY time − ENTERQUEUE time rounded to whole seconds (0). We take the
    # first exit (EXITEMPTY, written by Asterisk itself) and keep the microseconds.
    assert calls[0]["wait_s"] == pytest.approx(0.716105 - 0.686525)
    assert calls[1]["transferred"] is True  # BLINDTRANSFER ends the first answered stay
    assert calls[3]["transferred"] is False
    # No CONNECT data here: wait and talk come from the timestamps.
    assert calls[3]["wait_s"] == pytest.approx(3317.877111 - 3174.163929)
    assert calls[3]["talk_s"] == pytest.approx(3733.708396 - 3317.877111)
    assert len({c["contact_id"] for c in calls}) == 4


# -- Wazo A.3 / A.4: refused calls, abandon and timeout ------------------------------------


def test_wazo_refusals_map_to_outcomes() -> None:
    text = "".join(
        f"1400000{i}00|17.{i}|q1|NONE|{event}\n"
        for i, event in enumerate(
            ["FULL", "JOINEMPTY", "CLOSED", "DIVERT_CA_RATIO", "DIVERT_HOLDTIME"]
        )
    )
    outcomes = [c["outcome"] for c in contacts(parse(text))]
    assert outcomes == ["full", "join_empty", "closed", "overflow", "overflow"]
    assert {c["wait_s"] for c in contacts(parse(text))} == {0.0}


def test_refusal_at_the_instant_of_an_entry_does_not_duplicate_the_contact() -> None:
    result = parse("1000000000|1.1|q|NONE|ENTERQUEUE||555|1\n1000000000|1.1|q|NONE|FULL\n")
    assert [c["outcome"] for c in contacts(result)] == ["waiting"]  # keys stay unique


def test_abandon_and_timeout_wait_is_data3() -> None:
    text = (
        "1000000000|1.1|q|NONE|ENTERQUEUE||555|1\n"
        "1000000050|1.1|q|NONE|ABANDON|1|1|47\n"
        "1000000000|2.2|q|NONE|ENTERQUEUE||556|1\n"
        "1000000300|2.2|q|NONE|EXITWITHTIMEOUT|1|1|299\n"
    )
    abandon, timeout = contacts(parse(text))
    assert (abandon["outcome"], abandon["wait_s"]) == ("abandoned", 47)
    assert (timeout["outcome"], timeout["wait_s"]) == ("timeout", 299)


def test_abandon_with_empty_waittime_falls_back_to_timestamps() -> None:
    # Wazo skips such a call ("seen in the wild"); we keep it and time it by the clock.
    text = "1000000000|1.1|q|NONE|ENTERQUEUE||555|1\n1000000050|1.1|q|NONE|ABANDON|1|1|\n"
    [call] = contacts(parse(text))
    assert (call["outcome"], call["wait_s"]) == ("abandoned", 50)


def test_abandon_with_non_integer_waittime_is_quarantined() -> None:
    text = "1000000000|1.1|q|NONE|ENTERQUEUE||555|1\n1000000050|1.1|q|NONE|ABANDON|1|1|4x\n"
    result = parse(text)
    [bad] = result.quarantined
    assert (bad.line, bad.field) == (2, "data3")
    assert "'4x'" in bad.reason and "whole number" in bad.reason
    [call] = contacts(result)
    assert call["outcome"] == "waiting"  # its exit was not loaded


def test_abandon_by_member_before_bridge_is_abandoned_with_the_agent() -> None:
    text = "1000000000|1.1|q|NONE|ENTERQUEUE||555|1\n1000000020|1.1|q|Agent/7|ABANDON|1|1|20\n"
    [call] = contacts(parse(text))
    assert (call["outcome"], call["agent_id"]) == ("abandoned", "Agent/7")
    assert call["answered_at"] is None


# -- Wazo A.5: logins --------------------------------------------------------------------


def test_wazo_completed_logins() -> None:
    result = parse(wazo("test_stat_dao_extended__test_get_completed_logins"))
    # Wazo clips the first interval to its query's start (2012-06-01 00:00); the store
    # keeps the real login time and clipping happens when a period is measured.
    assert [i for i in intervals(result, "logged_in", "Agent/1") if i[1]] == [
        (at(2012, 5, 31, 23), at(2012, 6, 1, 6)),
        (at(2012, 6, 1, 6, 5), at(2012, 6, 1, 6, 30)),
        (at(2012, 6, 1, 6, 40), at(2012, 6, 1, 6, 45)),
    ]
    # Wazo expects (00:00:00.000001, 06:30:00.000001): its start is shifted by 1 µs; the
    # login line says 00:00:00.000000 and so do we.
    assert intervals(result, "logged_in", "Agent/2") == [
        (at(2012, 6, 1), at(2012, 6, 1, 6, 30, 0, 1)),
    ]


def test_wazo_last_logins_and_logouts() -> None:
    result = parse(wazo("test_stat_dao_extended__test_get_last_logins"))
    last_login = {
        agent: max(r["started_at"] for r in states(result, "logged_in") if r["agent_id"] == agent)
        for agent in ("Agent/1", "Agent/2", "Agent/3")
    }
    assert last_login == {
        "Agent/1": at(2012, 6, 1, 6, 40),
        "Agent/2": at(2012, 6, 1, 9),
        "Agent/3": at(2012, 1, 1, 10),
    }
    result = parse(wazo("test_stat_dao_extended__test_get_last_logouts"))
    last_logout = {
        agent: max(r["ended_at"] for r in states(result, "logged_in") if r["agent_id"] == agent)
        for agent in ("Agent/1", "Agent/2")
    }
    assert last_logout == {"Agent/1": at(2012, 6, 1, 6, 45), "Agent/2": at(2012, 6, 1, 6, 30, 0, 1)}


def test_wazo_ongoing_logins() -> None:
    result = parse(wazo("test_stat_dao_extended__test_get_ongoing_logins"))
    ongoing = {(r["agent_id"], r["started_at"]) for r in states(result, "logged_in")
               if r["ended_at"] is None}
    # Wazo: Agent/2 from 09:00 and Agent/3 (logged in since January, line written last)
    # until the end of its range; Agent/4 logged off without a login: nothing.
    assert ongoing == {("Agent/2", at(2012, 6, 1, 9)), ("Agent/3", at(2012, 1, 1, 10))}
    assert not [r for r in states(result, "logged_in") if r["agent_id"] == "Agent/4"]
    assert sorted(o[3] for o in result.carry["agents"]["open"]) == [  # type: ignore[index]
        1325412000000000, 1338541200000000,
    ]


@pytest.mark.parametrize(
    "name",
    [
        "test_stat_dao_extended__test_get_login_intervals_in_range_per_queue_via_membername",
        "test_stat_dao_extended__test_get_login_intervals_in_range_per_queue_without_global_login",
    ],
)
def test_wazo_login_per_queue(name: str) -> None:
    result = parse(wazo(name))
    assert intervals(result, "logged_in", "Agent/52", "queue_a") == [
        (at(2012, 7, 21, 8), at(2012, 7, 21, 12))
    ]


def test_wazo_login_per_queue_open_at_start() -> None:
    result = parse(wazo(
        "test_stat_dao_extended__test_get_login_intervals_in_range_per_queue_membership_open_at_start"
    ))
    assert intervals(result, "logged_in", "Agent/52", "queue_a") == [
        (at(2012, 6, 30, 8), at(2012, 7, 21, 12))
    ]
    assert intervals(result, "logged_in", "Agent/52") == [(at(2012, 6, 30, 7, 55), None)]


def test_wazo_login_per_queue_via_interface_keeps_the_interface() -> None:
    # Wazo maps Local/id-61@agentcallback to Agent/52 through its configuration database.
    # The log alone does not link them (no shared channel uniqueid), so the interval is
    # the interface's.
    result = parse(wazo(
        "test_stat_dao_extended__test_get_login_intervals_in_range_per_queue_via_interface"
    ))
    assert intervals(result, "logged_in", "Local/id-61@agentcallback", "queue_a") == [
        (at(2012, 7, 21, 8), at(2012, 7, 21, 12))
    ]


# -- Wazo A.5: pauses --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "test_stat_dao_extended__test_get_pause_intervals_in_range",
        "test_stat_dao_extended__test_get_pause_intervals_in_range_multiple_pauseall",
    ],
)
def test_wazo_pauseall_intervals(name: str) -> None:
    result = parse(wazo(name))
    first_start = at(2012, 7, 21, 9, 59, 9, 999999)
    if name.endswith("multiple_pauseall"):
        first_start = at(2012, 7, 21, 9, 54, 9, 999999)  # the second PAUSEALL changes nothing
    assert intervals(result, "paused", "Agent/1") == [
        (first_start, at(2012, 7, 21, 10, 54, 9, 999999)),
        (at(2012, 7, 21, 23, 59, 19, 999999), at(2012, 7, 22, 2, 2, 19, 999999)),
    ]


def test_wazo_pause_per_queue() -> None:
    result = parse(wazo("test_stat_dao_extended__test_get_pause_intervals_in_range_per_queue"))
    assert intervals(result, "paused", "Agent/1", "queue_a") == [
        (at(2012, 7, 21, 9), at(2012, 7, 21, 9, 30))
    ]
    assert intervals(result, "paused", "Agent/1", "queue_b") == [
        (at(2012, 7, 22, 10), at(2012, 7, 22, 10, 15))
    ]


def test_wazo_pause_per_queue_open_at_start_is_not_clipped() -> None:
    result = parse(wazo(
        "test_stat_dao_extended__test_get_pause_intervals_in_range_per_queue_pause_open_at_start"
    ))
    assert intervals(result, "paused", "Agent/1", "queue_a") == [
        (at(2012, 6, 30, 9), at(2012, 7, 21, 10))
    ]


def test_wazo_pause_per_queue_via_interface() -> None:
    result = parse(wazo(
        "test_stat_dao_extended__test_get_pause_intervals_in_range_per_queue_via_interface"
    ))
    assert intervals(result, "paused", "Local/id-61@agentcallback", "queue_a") == [
        (at(2012, 7, 21, 9), at(2012, 7, 21, 9, 30))
    ]


def test_wazo_pause_merges_per_queue_and_pauseall() -> None:
    result = parse(wazo(
        "test_stat_dao_extended__test_get_pause_intervals_in_range_merges_per_queue_and_pauseall"
    ))
    # Rows stay as logged (queue_a 09:00–10:00, all queues 09:15–09:45); their union
    # per queue is Wazo's merged interval.
    assert paused_in_queue(result, "Agent/1", "queue_a") == [
        (at(2012, 7, 21, 9), at(2012, 7, 21, 10))
    ]
    assert intervals(result, "paused", "Agent/1") == [
        (at(2012, 7, 21, 9, 15), at(2012, 7, 21, 9, 45))
    ]


def test_wazo_pauseall_intersects_membership() -> None:
    result = parse(wazo(
        "test_stat_dao_extended__test_get_pause_intervals_in_range_pauseall_intersect_membership"
    ))
    for queue in ("queue_a", "queue_b"):
        assert paused_in_queue(result, "Agent/1", queue) == [
            (at(2012, 7, 21, 9), at(2012, 7, 21, 9, 30))
        ]


def test_wazo_pauseall_without_membership_is_in_no_queue() -> None:
    result = parse(wazo(
        "test_stat_dao_extended__test_get_pause_intervals_in_range_ignores_null_queuename"
    ))
    assert paused_in_queue(result, "Agent/1", "queue_a") == []
    assert intervals(result, "paused", "Agent/1") == [(at(2012, 7, 21, 9), at(2012, 7, 21, 9, 30))]


# -- Wazo A.5: wrap-up --------------------------------------------------------------------


def test_wazo_wrapup_time_per_hour() -> None:
    result = parse(wazo("test_queue_log_dao__test_get_wrapup_time"))
    per_hour: Counter[tuple[int, str]] = Counter()
    for row in states(result, "wrap_up"):
        start, end = row["started_at"], row["ended_at"]
        for hour in (6, 7):  # split at hour boundaries, as Wazo does
            lo, hi = max(start, at(2012, 10, 1, hour)), min(end, at(2012, 10, 1, hour + 1))
            if lo < hi:
                per_hour[(hour, row["agent_id"])] += int((hi - lo).total_seconds())
    assert per_hour == {
        (6, "Agent/1"): 45, (6, "Agent/2"): 30, (7, "Agent/1"): 35, (7, "Agent/2"): 20,
    }


# -- pbxware_2018: a real production log, loaded completely -------------------------------


@pytest.fixture(scope="module")
def pbxware() -> ParseResult:
    return parse(shared_data("asterisk_queue_log", "pbxware_2018", "queue_log").read_bytes())


def test_pbxware_loads_every_line(pbxware: ParseResult) -> None:
    assert pbxware.rows_read == 1000
    assert pbxware.quarantined == [] and pbxware.excluded == 0


def test_pbxware_outcomes(pbxware: ParseResult) -> None:
    # grep -c '|ENTERQUEUE|' = 108 stays. By (callid, queue), last event (awk): COMPLETE*
    # 89, *TRANSFER 2, CONNECT only 2 (still talking), ABANDON 12, EXITWITHTIMEOUT 1,
    # ENTERQUEUE only 2 (still waiting: lines 992 and 1000).
    calls = contacts(pbxware)
    assert len(calls) == 108
    assert Counter((c["outcome"], c["transferred"], c["ended_at"] is None) for c in calls) == {
        ("answered", False, False): 89,
        ("answered", True, False): 2,
        ("answered", None, True): 2,
        ("abandoned", False, False): 12,
        ("timeout", False, False): 1,
        ("waiting", None, True): 2,
    }
    waiting = {c["contact_id"] for c in calls if c["outcome"] == "waiting"}
    assert waiting == {"1543942788.2389|IT|1543942799000000", "1543942842.2438|IT|1543942851000000"}


def test_pbxware_durations_match_the_log(pbxware: ParseResult) -> None:
    # awk -F'|' '$5=="CONNECT"{w+=$6; r+=$8}' → wait 3599, ring 387 over 93 CONNECTs;
    # COMPLETE* data2 + BLIND/ATTENDEDTRANSFER data4 → talk 23913; ABANDON data3 → 1141.
    calls = contacts(pbxware)
    answered = [c for c in calls if c["outcome"] == "answered"]
    assert len(answered) == 93
    assert sum(c["wait_s"] for c in answered) == 3599
    assert sum(c["ring_s"] for c in answered) == 387
    assert sum(c["talk_s"] or 0 for c in answered) == 23913
    assert sum(c["wait_s"] for c in calls if c["outcome"] == "abandoned") == 1141


def test_pbxware_carries_open_calls(pbxware: ParseResult) -> None:
    assert pbxware.carry is not None
    events = Counter(event[4] for event in pbxware.carry["calls"])
    assert events == {"ENTERQUEUE": 4, "CONNECT": 2}


def test_pbxware_agent_states(pbxware: ParseResult) -> None:
    # 14 AGENTCALLBACKLOGIN, 10 AGENTCALLBACKLOGOFF: 10 sessions closed, 4 open. 26
    # ADDMEMBER of which 12 are re-adds by MANAGER of members already in IT.
    sessions = states(pbxware, "logged_in")
    overall = [s for s in sessions if s["queue"] == ""]
    assert Counter(s["ended_at"] is None for s in overall) == {False: 10, True: 4}
    in_it = [s for s in sessions if s["queue"] == "IT"]
    assert Counter(s["ended_at"] is None for s in in_it) == {False: 10, True: 4}
    # Local/1127@callback-agent is Agent/1127: same uniqueid on ADDMEMBER and LOGIN.
    assert {s["agent_id"] for s in in_it} == {s["agent_id"] for s in overall}
    assert len(states(pbxware, "on_contact")) == 93
    assert states(pbxware, "paused") == []


# -- versions of the layouts -----------------------------------------------------------------

ENTER = "1000000000|9.9|q|NONE|ENTERQUEUE||555\n"


@pytest.mark.parametrize(
    ("connect", "wait", "ring"),
    [
        ("1000000012|9.9|q|Agent/1|CONNECT|12", 12, None),  # 1.2
        ("1000000012|9.9|q|Agent/1|CONNECT|12|1000000001.2", 12, None),  # 1.4
        ("1000000012|9.9|q|Agent/1|CONNECT|12|1000000001.2|7", 12, 7),  # 1.6+
        ("1000000012|9.9|q|Agent/1|CONNECT", 12, None),  # no data (Wazo tests): by the clock
    ],
)
def test_connect_versions(connect: str, wait: int, ring: int | None) -> None:
    text = ENTER + connect + "\n1000000100|9.9|q|Agent/1|COMPLETECALLER|12|88|1\n"
    [call] = contacts(parse(text))
    assert (call["outcome"], call["wait_s"], call["ring_s"], call["talk_s"]) == (
        "answered", wait, ring, 88
    )


@pytest.mark.parametrize(
    ("exit_line", "wait"),
    [
        ("1000000030|9.9|q|NONE|EXITWITHKEY|5|1", 30),  # 1.2–1.6: key|position, by the clock
        ("1000000030|9.9|q|NONE|EXITWITHKEY|5|1|1|29", 29),  # 1.8+: waittime in data4
    ],
)
def test_exitwithkey_versions(exit_line: str, wait: int) -> None:
    [call] = contacts(parse(ENTER + exit_line + "\n"))
    assert (call["outcome"], call["wait_s"]) == ("exit_key", wait)


def test_exitwithtimeout_position_only_is_timed_by_the_clock() -> None:
    [call] = contacts(parse(ENTER + "1000000040|9.9|q|NONE|EXITWITHTIMEOUT|1\n"))
    assert (call["outcome"], call["wait_s"]) == ("timeout", 40)


@pytest.mark.parametrize(
    ("end", "talk"),
    [
        ("TRANSFER|200|default", 90),  # 1.2: by the clock
        ("TRANSFER|200|default|10|85", 85),  # 1.4
        ("TRANSFER|200|default|10|85|1", 85),  # 1.6–11
        ("BLINDTRANSFER|200|default|10|85|1", 85),  # 12+
        ("ATTENDEDTRANSFER|BRIDGE|abc-123|10|85|1", 85),
        ("ATTENDEDTRANSFER|LINK|SIP/a-1|SIP/b-2|10|85|1", 85),  # LINK: 6 parts
    ],
)
def test_transfer_versions(end: str, talk: int) -> None:
    connect = "1000000010|9.9|q|Agent/1|CONNECT|10|x.1|2\n"
    text = ENTER + connect + f"1000000100|9.9|q|Agent/1|{end}\n"
    [call] = contacts(parse(text))
    assert (call["outcome"], call["transferred"], call["talk_s"]) == ("answered", True, talk)


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ("1000000030|9.9|q|NONE|EXITWITHKEY|5|1|1", "data", "key|position"),
        ("1000000030|9.9|q|Agent/1|CONNECT|1|2|3|4|5", "data", "holdtime|uniqueid|ringtime"),
        ("1000000030|9.9|q|Agent/1|CONNECT|soon", "data1", "holdtime"),
        ("10000x0030|9.9|q|NONE|ABANDON|1|1|30", "epoch", "Unix seconds"),
        ("\t1000000030|9.9|q|NONE|ABANDON|1|1|30", "epoch", "Unix seconds"),
        ("+1000000030|9.9|q|NONE|ABANDON|1|1|30", "epoch", "Unix seconds"),
        ("1e9|9.9|q|NONE|ABANDON|1|1|30", "epoch", "Unix seconds"),
        ("99999999999999999999|9.9|q|NONE|ABANDON|1|1|30", "epoch", "Unix seconds"),
        ("1000000030|9.9|q|NONE|abandon|1|1|30", "event", "upper-case"),
        ("1000000030|9.9||NONE|ABANDON|1|1|30", "queue", "queue name"),
        ("1000000030|9.9|q", None, "at least 5"),
    ],
)
def test_bad_lines_are_quarantined_with_a_reason(line: str, field: str | None, words: str) -> None:
    result = parse(ENTER + line + "\n" + ENTER.replace("9.9", "8.8"))
    [bad] = result.quarantined
    assert (bad.line, bad.field, bad.text) == (2, field, line)
    assert words in bad.reason
    assert len(contacts(result)) == 2  # the rest loads


# -- chunks, files, line endings ------------------------------------------------------------


def test_a_call_spanning_two_files() -> None:
    first = parse(ENTER + "1000000010|9.9|q|Agent/1|CONNECT|10|x.1|2\n")
    [talking] = contacts(first)
    assert talking["outcome"] == "answered" and talking["ended_at"] is None
    # The next file starts at line 1 again; the carry completes the call.
    second = parse("1000000070|9.9|q|Agent/1|COMPLETEAGENT|10|60|1\n", first.carry)
    [done] = contacts(second)
    assert done["contact_id"] == talking["contact_id"]
    assert (done["talk_s"], done["ended_at"]) == (60, at(2001, 9, 9, 1, 47, 50))
    assert second.carry is not None and second.carry["calls"] == []


def test_waiting_call_is_carried_then_abandoned() -> None:
    first = parse(ENTER)
    assert [c["outcome"] for c in contacts(first)] == ["waiting"]
    second = parse("1000000020|9.9|q|NONE|ABANDON|1|1|20\n", first.carry, first_line=2)
    [call] = contacts(second)
    assert (call["contact_id"], call["outcome"], call["wait_s"]) == (
        contacts(first)[0]["contact_id"], "abandoned", 20
    )


def test_open_agent_intervals_are_carried() -> None:
    first = parse("1000000000|NONE|q|Agent/1|ADDMEMBER|\n1000000010|NONE|q|Agent/1|PAUSE|lunch\n")
    second = parse(
        "1000000600|NONE|q|Agent/1|UNPAUSE|\n1000000900|NONE|q|Agent/1|REMOVEMEMBER|\n",
        first.carry, first_line=3,
    )
    assert [(r["reason"], r["started_at"], r["ended_at"]) for r in states(second, "paused")] == [
        ("lunch", at(2001, 9, 9, 1, 46, 50), at(2001, 9, 9, 1, 56, 40))
    ]
    assert intervals(second, "logged_in", "Agent/1", "q") == [
        (at(2001, 9, 9, 1, 46, 40), at(2001, 9, 9, 2, 1, 40))
    ]
    assert second.carry is not None and second.carry["agents"]["open"] == []


def test_windows_line_endings_give_the_same_rows() -> None:
    text = shared_data("asterisk_queue_log", "pbxware_2018", "queue_log").read_text()
    unix = parse(text)
    windows = parse(text.replace("\n", "\r\n"))
    assert windows.quarantined == []
    for name, canonical in (("contacts", CONTACTS), ("agent_states", AGENT_STATES)):
        order = [(key, "ascending") for key in canonical.key]
        assert windows.tables[name].sort_by(order).equals(unix.tables[name].sort_by(order))


def test_truncated_last_line_is_quarantined_and_the_rest_loads() -> None:
    # The ingest layer holds an unterminated last line back until the file grows; given
    # one anyway, the adapter quarantines it when it is visibly cut short.
    result = parse(ENTER + "1000000010|9.9|q|Agen")
    [bad] = result.quarantined
    assert bad.line == 2 and "at least 5" in bad.reason
    assert [c["outcome"] for c in contacts(result)] == ["waiting"]


def test_blank_lines_keep_line_numbers() -> None:
    result = parse("\n" + ENTER + "\n\nbroken\n")
    assert result.rows_read == 2
    [bad] = result.quarantined
    assert bad.line == 5


def test_binary_garbage_is_quarantined_by_line() -> None:
    data = (
        ENTER.encode() + b"\xff\xfe\x00garbage\n" + b"1000000001|NONE|q|A\x00|PAUSE|\n"
        + b"12\r34|x\n"
    )
    result = parse(data)
    assert [(q.line, q.reason.split(" ")[0]) for q in result.quarantined] == [
        (2, "the"), (3, "control"), (4, "a"),
    ]
    assert "UTF-8" in result.quarantined[0].reason
    assert len(contacts(result)) == 1


def test_a_file_that_is_not_a_queue_log() -> None:
    text = shared_data("README.md").read_text()
    result = parse(text)
    lines = [line for line in text.splitlines() if line.strip()]
    assert result.rows_read == len([line for line in text.splitlines() if line])
    assert len(result.quarantined) + result.excluded == result.rows_read
    assert all("does not look like an Asterisk queue_log" in q.reason for q in result.quarantined)
    assert result.tables["contacts"].num_rows == 0
    assert lines  # the README is not empty


def test_datetime_times_are_local_to_the_given_zone() -> None:
    text = (
        "2012-10-01 05:59:50.000000|1.1|q|NONE|ENTERQUEUE||555|1\n"
        "2012-10-01 06:00:20.250000|1.1|q|NONE|ABANDON|1|1|30\n"
    )
    [utc] = contacts(parse(text))
    assert utc["arrived_at"] == at(2012, 10, 1, 5, 59, 50)
    [paris] = contacts(parse(text, tz=ZoneInfo("Europe/Paris")))
    assert paris["arrived_at"] == at(2012, 10, 1, 3, 59, 50)
    assert paris["ended_at"] - paris["arrived_at"] == timedelta(seconds=30.25)


def test_re_entering_the_same_queue_at_the_same_second_pairs_by_file_order() -> None:
    text = (
        "1000000000|9.9|q|NONE|ENTERQUEUE||555\n"
        "1000000005|9.9|q|NONE|EXITEMPTY|1|1|5\n"
        "1000000005|9.9|q|NONE|ENTERQUEUE||555\n"
        "1000000009|9.9|q|NONE|ABANDON|1|1|4\n"
    )
    calls = contacts(parse(text))
    assert [(c["outcome"], c["wait_s"]) for c in calls] == [("leave_empty", 5), ("abandoned", 4)]


def test_events_without_enterqueue_are_excluded() -> None:
    result = parse("1000000010|7.7|q|Agent/1|COMPLETECALLER|10|60|1\n" + ENTER)
    assert result.excluded == 1
    assert [c["outcome"] for c in contacts(result)] == ["waiting"]


# -- fuzzing ------------------------------------------------------------------------------------

_SAMPLE = (
    b"1543602677|1543602660.197|IT|NONE|ENTERQUEUE||tel_a3592e3eae|1\n"
    b"1543602687|1543602660.197|IT|Agent/1141|RINGNOANSWER|10000\n"
    b"1543602753|1543602660.197|IT|Agent/1127|CONNECT|76|1543602746.232|6\n"
    b"1543603600|1543602660.197|IT|Agent/1127|COMPLETECALLER|76|847|1\n"
    b"1543605022|1543604976.289|IT|NONE|ENTERQUEUE||tel_a2d964de37|1\n"
    b"1543605027|1543604976.289|IT|NONE|ABANDON|1|1|5\n"
    b"1543598990|1543598985.25|IT|Local/1127@callback-agent|ADDMEMBER\n"
    b"1543598991|NONE|IT|Local/1127@callback-agent|PAUSE|lunch\n"
    b"1543598990|1543598985.25|NONE|Agent/1127|AGENTCALLBACKLOGIN|hint:1127@default\n"
    b"1543833653|1543833609.335|IT|Agent/1128|ATTENDEDTRANSFER|UNKNOWN||6|30|1\n"
).splitlines(keepends=True)

_EPOCH_OK = frozenset(b"0123456789.")


@st.composite
def _mutated_sample(draw: st.DrawFn) -> bytes:
    """Real sample lines, each with a few bytes replaced at a random place."""
    edits = draw(st.lists(
        st.tuples(
            st.integers(0, len(_SAMPLE) - 1),
            st.integers(0, 200),
            st.binary(min_size=0, max_size=4),
        ),
        min_size=1,
        max_size=25,
    ))
    lines = []
    for index, position, replacement in edits:
        line = _SAMPLE[index]
        cut = position % len(line)
        lines.append(line[:cut] + replacement + line[cut + 1:])
    return b"".join(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_sample())
def test_mutated_lines_never_crash_and_bad_lines_are_quarantined(data: bytes) -> None:
    result = parse(data)  # never raises
    numbered = data.split(b"\n")
    if numbered and numbered[-1] == b"":
        numbered.pop()
    quarantined = {q.line for q in result.quarantined}
    assert quarantined <= set(range(1, len(numbered) + 1))
    for number, line in enumerate(numbered, start=1):
        fields = line.rstrip(b"\r").split(b"|")
        epoch = fields[0]
        broken = (
            len(fields) < 5
            or not epoch
            or not set(epoch) <= _EPOCH_OK
            or b"\x00" in line
        )
        if broken and line.strip() and not line.startswith(b"#"):
            assert number in quarantined, line
    total = result.rows_read
    assert len(quarantined) <= total


# -- through the store: a growing log read in two parts equals one read ---------------------


def test_growing_log_through_the_store_equals_one_read(tmp_path: Any) -> None:
    from servicelevel.store import Store
    from servicelevel.store.ingest import ingest_paths

    data = shared_data("asterisk_queue_log", "pbxware_2018", "queue_log").read_bytes()
    lines = data.splitlines(keepends=True)
    log = tmp_path / "queue_log"
    log.write_bytes(b"".join(lines[:500]) + lines[500][:20])  # the writer is mid-line
    store = Store.open(":memory:")
    ingest_paths(store, "asterisk-queue-log", [log], tenant="t")
    log.write_bytes(data)
    grown = ingest_paths(store, "asterisk-queue-log", [log], tenant="t")
    assert grown.files[0].status == "grown" and grown.total("quarantined") == 0
    whole = parse(data)
    for name, canonical in (("contacts", CONTACTS), ("agent_states", AGENT_STATES)):
        order = [(key, "ascending") for key in canonical.key]
        stored = store.table(name).cast(canonical.schema).sort_by(order)
        assert stored.equals(whole.tables[name].sort_by(order)), name


# -- the compiled pass (asterisk/fast.py) gives exactly the reference path's rows ----------


def _both_ways(chunks: list[bytes]) -> None:
    """Read ``chunks`` in turn with and without the compiled pass: every output is equal."""
    from servicelevel.sources.asterisk_queue_log import parse_chunk

    carries: dict[bool, Carry | None] = {True: None, False: None}
    first_line = 1
    for data in chunks:
        results = {}
        for compiled in (True, False):
            chunk = SourceChunk("queue_log", data, first_line, "t", None)
            results[compiled] = parse_chunk(chunk, carries[compiled], compiled=compiled)
            carries[compiled] = results[compiled].carry
        fast, reference = results[True], results[False]
        for name, canonical in (("contacts", CONTACTS), ("agent_states", AGENT_STATES)):
            order = [(key, "ascending") for key in canonical.key]
            got, want = fast.tables[name].sort_by(order), reference.tables[name].sort_by(order)
            assert got.schema.equals(canonical.schema, check_metadata=False)
            assert got.to_pylist() == want.to_pylist(), name
        assert fast.rows_read == reference.rows_read
        assert fast.excluded == reference.excluded
        assert fast.quarantined == reference.quarantined
        assert fast.carry is not None and reference.carry is not None
        assert sorted(map(repr, fast.carry["calls"])) == sorted(
            map(repr, reference.carry["calls"])
        )
        assert fast.carry["agents"] == reference.carry["agents"]
        first_line += data.count(b"\n")


def test_compiled_pass_equals_reference_on_real_logs() -> None:
    _both_ways([shared_data("asterisk_queue_log", "pbxware_2018", "queue_log").read_bytes()])
    for path in sorted(shared_data(*WAZO).glob("*.queue_log")):
        _both_ways([path.read_bytes()])
    _both_ways([b"".join(_SAMPLE)])


_CALL_SHAPES = (
    ("ENTERQUEUE||{caller}|1", "CONNECT|{wait}|{t}.9|{ring}", "COMPLETECALLER|{wait}|{talk}|1"),
    ("ENTERQUEUE||{caller}|1", "CONNECT|{wait}|{t}.9|{ring}", "COMPLETEAGENT|{wait}|{talk}|1"),
    ("ENTERQUEUE||{caller}|1", "CONNECT|{wait}", "TRANSFER|200|default|{wait}|{talk}"),
    ("ENTERQUEUE||{caller}|1", "CONNECT|{wait}|x|{ring}",
     "BLINDTRANSFER|200|default|{wait}|{talk}|1"),
    ("ENTERQUEUE||{caller}|1", "CONNECT|{wait}|x|{ring}",
     "ATTENDEDTRANSFER|LINK|a|b|{wait}|{talk}|1"),
    ("ENTERQUEUE||{caller}|1", "ABANDON|1|1|{wait}"),
    ("ENTERQUEUE||{caller}|1", "EXITWITHTIMEOUT|1|1|{wait}"),
    ("ENTERQUEUE||{caller}|1", "EXITWITHTIMEOUT|1"),
    ("ENTERQUEUE||{caller}|1", "EXITWITHKEY|5|1|1|{wait}"),
    ("ENTERQUEUE||{caller}|1", "EXITEMPTY|1|1|{wait}", "LEAVEEMPTY|1|1|{wait}"),
    ("ENTERQUEUE||{caller}|1", "WITHDRAW|1|1|{wait}|info"),
    ("ENTERQUEUE||{caller}|1", "RINGNOANSWER|{ring}000", "CONNECT|{wait}|x|{ring}"),
    ("ENTERQUEUE||{caller}", "ENTERQUEUE||{caller}|1", "ABANDON|1|1|{wait}"),
    ("ENTERQUEUE|", "COMPLETECALLER|{wait}|{talk}|1"),
    ("CONNECT|{wait}|x|{ring}", "COMPLETECALLER|{wait}|{talk}|1"),
    ("ENTERQUEUE||{caller}|1",),
    ("ENTERQUEUE||{caller}|1", "ABANDON|1|1|{wait}", "COMPLETEAGENT|{wait}|{talk}|1"),
    ("FULL||", "CLOSED"),
)
_OTHER_LINES = (
    "{t}|NONE|NONE|{agent}|AGENTLOGIN|SIP/1",
    "{t}|NONE|q1|{agent}|PAUSE|lunch",
    "{t}|NONE|q1|{agent}|UNPAUSE|",
    "{t}|NONE|NONE|NONE|QUEUESTART|",
    "{t}|c|q1|NONE|CONFIGRELOAD",
    "{t}.5|c|q1|NONE|ENTERQUEUE||1|1",
    "{t}|c|q1|NONE|ABANDON|1|1|x",
    "# a comment",
    "",
    "{t}|c|q1\r|NONE|ABANDON|1|1|4",
    "garbage",
)


@st.composite
def _queue_logs(draw: st.DrawFn) -> list[bytes]:
    """Calls of every shape on few callids and queues (re-entries, shared keys, ties)."""
    lines: list[tuple[int, str]] = []
    for _ in range(draw(st.integers(1, 30))):
        t = 1_700_000_000 + draw(st.integers(0, 40))
        callid = draw(st.sampled_from(["c", "d", f"{t}.1", "NONE", "é"]))
        queue = draw(st.sampled_from(["q1", "q2", "NONE", ""]))
        agent = draw(st.sampled_from(["Agent/1", "Agent/2", "NONE", ""]))
        shape = draw(st.sampled_from(_CALL_SHAPES))
        values = {
            "t": t, "caller": draw(st.sampled_from(["", "0123", "x"])),
            "wait": draw(st.sampled_from(["", "0", "7", "12", "x", "-1"])),
            "ring": draw(st.sampled_from(["", "3", "y"])),
            "talk": draw(st.sampled_from(["", "30", "007"])),
        }
        for step, event in enumerate(shape):
            at = t + step * draw(st.integers(-1, 20))
            who = agent if step else "NONE"
            lines.append((at, f"{at}|{callid}|{queue}|{who}|" + event.format(**values)))
        if draw(st.booleans()):
            other = draw(st.sampled_from(_OTHER_LINES))
            lines.append((t, other.format(t=t, agent=agent)))
    if draw(st.booleans()):
        lines.sort(key=lambda line: line[0])
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    data = "".join(text + ending for _, text in lines).encode()
    cuts = sorted(draw(st.lists(st.integers(0, len(lines)), max_size=2)))
    raw_lines = data.splitlines(keepends=True)
    chunks, start = [], 0
    for cut in [*cuts, len(raw_lines)]:
        chunks.append(b"".join(raw_lines[start:cut]))
        start = cut
    return [chunk for chunk in chunks if chunk] or [data]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_queue_logs())
def test_compiled_pass_equals_reference_on_generated_logs(chunks: list[bytes]) -> None:
    _both_ways(chunks)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_sample())
def test_compiled_pass_equals_reference_on_mutated_lines(data: bytes) -> None:
    _both_ways([data])


# -- the compiled pass's grouping against a plain one ----------------------------------------

_CALL_EXITS = ("CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY")
_CALL_ENDS = ("COMPLETECALLER", "COMPLETEAGENT", "BLINDTRANSFER")


def _stress_log(seed: int, calls: int) -> tuple[bytes, list[tuple[str, str]]]:
    """A queue_log that strains the compiled pass's table of open calls: thousands open at
    once, long gaps, keys entering again after their call ended (or while it is open),
    double exits, exits earlier than the entry, bad epochs, calls left open, agent lines;
    and carried keys, some of which occur."""
    import random

    rng = random.Random(seed)
    events: list[tuple[int, int, str]] = []  # (file position time, order, line)
    t = 1_700_000_000
    keys: list[tuple[str, str]] = []

    def add(at: int, key: tuple[str, str], rest: str, epoch: str | None = None) -> None:
        events.append((at, len(events), f"{epoch or at}|{key[0]}|{key[1]}|{rest}"))

    for call in range(calls):
        gap = rng.randint(30_000, 90_000) if rng.random() < 0.0004 else 0
        t += rng.choice((0, 1, 1, 2)) + gap
        key = (f"{t}.{call}", rng.choice(("sales", "support", "q")))
        if keys and rng.random() < 0.04:
            key = rng.choice(keys)  # the same callid and queue again
        keys.append(key)
        wait = rng.randint(0, 60)
        add(t, key, f"NONE|ENTERQUEUE||0{rng.randint(10**8, 10**9 - 1)}|1")
        draw = rng.random()
        if draw < 0.03:
            continue  # still waiting at the end
        if draw < 0.05:
            add(t + 1, key, "NONE|ABANDON|1|1|1", epoch="17000x0000")  # a bad line
        if rng.random() < 0.3:
            add(t + wait // 2, key, f"Agent/{rng.randint(1, 9)}|RINGNOANSWER|15000")
        exit_at = t + wait
        epoch = str(t - 5) if rng.random() < 0.01 else None  # earlier than the entry
        if rng.random() < 0.7:
            agent = f"Agent/{rng.randint(1, 9)}"
            add(exit_at, key, f"{agent}|CONNECT|{wait}|{t}.{call}9|2", epoch)
            if rng.random() < 0.03:
                continue  # talking at the end
            talk = rng.randint(1, 20_000)  # long calls: thousands open at once
            end = rng.choice(_CALL_ENDS)
            rest = f"200|default|{wait}|{talk}|1" if end == "BLINDTRANSFER" else f"{wait}|{talk}|1"
            add(exit_at + talk, key, f"{agent}|{end}|{rest}")
        else:
            verb = rng.choice(_CALL_EXITS[1:])
            rest = "5|1|1|" + str(wait) if verb == "EXITWITHKEY" else f"1|1|{wait}"
            add(exit_at, key, f"NONE|{verb}|{rest}", epoch)
        if rng.random() < 0.02:
            add(exit_at + 1, key, "NONE|ABANDON|1|1|3")  # a second exit
        if call % 500 == 0:
            add(t, ("NONE", "sales"), f"Agent/{rng.randint(1, 9)}|PAUSE|lunch")
    events.sort()
    text = "".join(line + "\n" for _, _, line in events)
    carried = [*rng.sample(keys, 20), ("1.1", "nowhere"), ("NONE", "sales")]
    return text.encode(), carried


def _plain_grouping(data: bytes, carried: list[tuple[str, str]]) -> tuple[list[bool], list[str]]:
    """The grouping rules of ``fast.py`` written plainly: SQL's lines, and the callid|queue
    of each call paired in the compiled pass, in the order of their first line. Lines are
    those of ``_stress_log`` (well formed but for the bad epochs)."""
    exits, ends = {"CONNECT", *_CALL_EXITS, "EXITWITHTIMEOUT"}, set(_CALL_ENDS)
    groups: dict[str, dict[str, Any]] = {}
    slow = []
    for number, line in enumerate(data.decode().splitlines()):
        epoch, callid, queue, _agent, verb = line.split("|")[:5]
        call_verb = verb == "ENTERQUEUE" or verb in exits or verb in ends
        good = epoch.isdigit() and callid != "NONE"
        slow.append(not (good and (call_verb or verb == "RINGNOANSWER")))
        if not call_verb:
            continue
        group = groups.setdefault(f"{callid}|{queue}", {
            "lines": [], "enter": False, "exit": False, "end": False, "connect": False,
            "bad": False, "enter_ts": 0,
        })
        group["lines"].append(number)
        ts = int(epoch) if good else 0
        if not good:
            group["bad"] = True
        elif verb == "ENTERQUEUE":
            group["bad"] |= group["enter"] or group["exit"] or group["end"]
            group["enter"], group["enter_ts"] = True, ts
        else:
            group["bad"] |= not group["enter"] or ts < group["enter_ts"]
            kind = "exit" if verb in exits else "end"
            group["bad"] |= group[kind]
            group[kind] = True
            if kind == "exit":
                group["connect"] = verb == "CONNECT"
    named = {f"{callid}|{queue}" for callid, queue in carried}
    paired = []
    for key, group in groups.items():
        if (
            not group["bad"] and group["enter"] and group["exit"]
            and group["connect"] == group["end"] and key not in named
        ):
            paired.append(key)
        else:
            for number in group["lines"]:
                slow[number] = True
    return slow, paired


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_compiled_grouping_equals_a_plain_one_under_many_open_calls(seed: int) -> None:
    import numpy as np

    from servicelevel.sources.asterisk import fast
    from servicelevel.sources.asterisk.lines import split_lines

    data, carried = _stress_log(seed, 12_000)
    expected_slow, expected_keys = _plain_grouping(data, carried)
    assert 0 < sum(expected_slow) < len(expected_slow) // 2  # both paths are exercised
    array = split_lines(data, 1).table.column("line").chunk(0)
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[: len(array) + 1]
    raw = np.frombuffer(data_buffer, dtype=np.uint8)
    keys = np.array([fast._key_hash(*key) for key in carried], dtype=np.uint64)
    tables = (fast._VERBS, fast._VERB_LENGTHS, fast._LAYOUT_MASKS, fast._ROLE_INDEX)
    for checked in (False, True):
        slow, records = fast._scan(raw, offsets, keys, checked, *tables)
        assert slow.tolist() == expected_slow
        spans = records[:, fast._RECORD + 1 :]
        assert [raw[a:b].tobytes().decode() for a, b in spans] == expected_keys
