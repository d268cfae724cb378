"""The common case of a queue_log, compiled: one pass over the bytes, no strings per line.

Almost every call in a queue_log is one ENTERQUEUE followed either by one exit that is not
an answer (ABANDON, EXITWITHTIMEOUT, …) or by a CONNECT and one end (COMPLETE*,
TRANSFER, BLINDTRANSFER), each line well formed. Those calls are paired here, in a
numba-compiled pass over the chunk's bytes:

1. ``_scan`` cuts each line into fields, checks it exactly as the SQL of ``events.py``
   would (digits-only epoch in range, known verb, layout, whole numbers, callid and queue
   present, no control bytes) and files each call event under its (callid, queue) in an
   open-addressing table keyed by a 64-bit hash; a hash match is confirmed on the bytes,
   so a collision only makes a new group.
2. A group is *fast* when it is exactly one of the two shapes above, in order (the
   ENTERQUEUE first in the file and not later in time than the others), and not named
   by the carried open calls. ``_emit`` builds its contact and on-call row straight into
   Arrow buffers from what the pass noted per call (spans into the bytes, times, seconds).

Every other line (agent events, rare verbs, bad lines, open or unusual calls and every
line of their (callid, queue)) is handed back to the reference path, which therefore sees
complete groups and gives the same rows and quarantine reasons as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from servicelevel.model.tables import UTC_TIMESTAMP
from servicelevel.sources.asterisk.events import LAYOUTS, ROLE_FIELDS

# Event codes: the verbs the compiled pass knows (0: any other verb, left to SQL).
VERBS: tuple[str, ...] = (
    "ENTERQUEUE",  # 1
    "CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "LEAVEEMPTY",
    "WITHDRAW",  # 2-8: exits
    "COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "BLINDTRANSFER",  # 9-12: ends
    "ATTENDEDTRANSFER",  # 13: an end, always left to SQL (LINK shifts its fields)
    "RINGNOANSWER", "RINGCANCELED",  # 14-15: checked, then not needed
)
_ENTER, _CONNECT, _FIRST_EXIT, _LAST_EXIT = 1, 2, 2, 8
_FIRST_END, _TRANSFER, _BLIND, _ATTENDED, _FIRST_QUIET = 9, 11, 12, 13, 14
#: Outcome of a contact per exit code (0: answered).
OUTCOMES: tuple[str, ...] = (
    "answered", "abandoned", "timeout", "exit_key", "leave_empty", "withdrawn",
)
_EXIT_OUTCOME = np.array([0, 0, 0, 1, 2, 3, 4, 4, 5], dtype=np.int8)
_ROLES = ("wait", "ring", "talk", "hold")
_MAX_FIELDS = 11  # epoch|callid|queue|agent|event|d1…d6: the fields the SQL reads
# Columns of a call's record: queue start, caller span, exit code and time, agent span,
# wait and ring seconds, end code and time, talk seconds (-1: none).
_R_QUEUE, _R_CALLER, _R_EXIT, _R_EXIT_TS, _R_AGENT = 0, 1, 3, 4, 5
_R_WAIT, _R_RING, _R_END, _R_END_TS, _R_TALK = 7, 8, 9, 10, 11
_RECORD = 12


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Verb bytes, lengths, allowed data-field counts (bitmask, -1: any) and role fields."""
    width = max(len(verb) for verb in VERBS)
    verbs = np.zeros((len(VERBS) + 1, width), dtype=np.uint8)
    lengths = np.zeros(len(VERBS) + 1, dtype=np.int64)
    masks = np.full(len(VERBS) + 1, -1, dtype=np.int64)
    roles = np.zeros((len(VERBS) + 1, len(_ROLES)), dtype=np.int64)
    for code, verb in enumerate(VERBS, start=1):
        verbs[code, : len(verb)] = np.frombuffer(verb.encode(), dtype=np.uint8)
        lengths[code] = len(verb)
        if verb in LAYOUTS:
            masks[code] = sum(1 << count for count in LAYOUTS[verb].counts)
        for index, role in enumerate(_ROLES):
            roles[code, index] = ROLE_FIELDS[role].get(verb, 0)
    return verbs, lengths, masks, roles


_VERBS, _VERB_LENGTHS, _LAYOUT_MASKS, _ROLE_INDEX = _tables()


@numba.njit(cache=True, nogil=True)
def _fields(
    data: np.ndarray, start: int, end: int, fs: np.ndarray, fe: np.ndarray, checked: bool
) -> int:
    """Field spans of line ``data[start:end]`` into fs/fe; the field count, -1 if unsafe.

    Unsafe (when ``checked``: the chunk holds such bytes): a control byte other than tab,
    or a carriage return inside the line.
    """
    nf = 0
    fs[0] = start
    for i in range(start, end):
        b = data[i]
        if b == 0x7C:  # |
            if nf < _MAX_FIELDS:
                fe[nf] = i
            nf += 1
            if nf < _MAX_FIELDS:
                fs[nf] = i + 1
        elif checked and ((b < 0x20 and b != 0x09) or b == 0x7F):
            return -1
    if nf < _MAX_FIELDS:
        fe[nf] = end
    return nf + 1


@numba.njit(cache=True, nogil=True)
def _number(data: np.ndarray, start: int, end: int) -> int:
    """A data field as whole seconds: -1 when empty, -2 when not digits only (left to SQL)."""
    if end == start:
        return -1
    if end - start > 18:
        return -2
    value = 0
    for i in range(start, end):
        b = data[i]
        if b < 0x30 or b > 0x39:
            return -2
        value = value * 10 + (b - 0x30)
    return value


@numba.njit(cache=True, nogil=True)
def _is_none(data: np.ndarray, start: int, end: int) -> bool:
    """'' or 'NONE'."""
    return end == start or (
        end - start == 4 and data[start] == 0x4E and data[start + 1] == 0x4F
        and data[start + 2] == 0x4E and data[start + 3] == 0x45
    )


@numba.njit(cache=True, nogil=True)
def _line_bounds(data: np.ndarray, offsets: np.ndarray, line: int) -> tuple[int, int]:
    """The line without its leading newline and trailing carriage returns."""
    start = offsets[line]
    end = offsets[line + 1]
    if start < end and data[start] == 0x0A:
        start += 1
    while end > start and data[end - 1] == 0x0D:
        end -= 1
    return start, end


@numba.njit(cache=True, nogil=True)
def _read_line(
    data: np.ndarray, start: int, end: int, fs: np.ndarray, fe: np.ndarray,
    verbs: np.ndarray, verb_lengths: np.ndarray, masks: np.ndarray, roles: np.ndarray,
    values: np.ndarray, checked: bool,
) -> tuple[int, int]:
    """(event code, epoch µs) of a line the compiled pass can take, else (0, 0).

    ``values`` receives the wait, ring, talk and hold seconds (-1: absent or empty) and
    the number of fields.
    """
    nf = _fields(data, start, end, fs, fe, checked)
    values[4] = nf
    if nf < 5:
        return 0, 0
    # The epoch: 1 to 11 digits, in the SQL's range.
    digits = fe[0] - fs[0]
    if digits < 1 or digits > 11:
        return 0, 0
    epoch = 0
    for i in range(fs[0], fe[0]):
        b = data[i]
        if b < 0x30 or b > 0x39:
            return 0, 0
        epoch = epoch * 10 + (b - 0x30)
    if epoch < 100_000_000 or epoch > 9_999_999_999:
        return 0, 0
    # The verb.
    length = fe[4] - fs[4]
    code = 0
    for candidate in range(1, len(verb_lengths)):
        if verb_lengths[candidate] != length:
            continue
        same = True
        for k in range(length):
            if data[fs[4] + k] != verbs[candidate, k]:
                same = False
                break
        if same:
            code = candidate
            break
    if code == 0 or code == _ATTENDED:
        return 0, 0
    if code < _FIRST_QUIET and (
        _is_none(data, fs[1], fe[1]) or _is_none(data, fs[2], fe[2])
    ):
        return 0, 0
    if nf > _MAX_FIELDS:
        return 0, 0  # more fields than the SQL names: leave it there
    # The layout: the data-field count, with or without a trailing empty field.
    mask = masks[code]
    if mask >= 0:
        total = nf - 5
        nd = total - 1 if total > 0 and fe[nf - 1] == fs[nf - 1] else total
        if not ((mask >> nd) & 1) and not ((mask >> total) & 1):
            return 0, 0
    # Whole numbers where the event has them.
    for role in range(4):
        index = roles[code, role]
        values[role] = -1
        if index == 0 or 4 + index >= nf:
            continue
        value = _number(data, fs[4 + index], fe[4 + index])
        if value == -2:
            return 0, 0
        values[role] = value
    return code, epoch * 1_000_000


@numba.njit(cache=True, nogil=True)
def _hash(data: np.ndarray, start: int, end: int) -> np.uint64:
    h = np.uint64(0xCBF29CE484222325)
    prime = np.uint64(0x100000001B3)
    for i in range(start, end):
        h = (h ^ np.uint64(data[i])) * prime
    return h


@numba.njit(cache=True, nogil=True)
def _same_bytes(data: np.ndarray, a: int, b: int, length: int) -> bool:
    for k in range(length):  # noqa: SIM110 - a loop numba compiles
        if data[a + k] != data[b + k]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _scan(
    data: np.ndarray, offsets: np.ndarray, carried: np.ndarray, checked: bool,
    verbs: np.ndarray, verb_lengths: np.ndarray, masks: np.ndarray, roles: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per line: whether SQL must see it; per fast group: its record (``_R_*`` columns,
    then the entry time and the callid|queue span)."""
    n = len(offsets) - 1
    fs = np.zeros(_MAX_FIELDS, dtype=np.int64)
    fe = np.zeros(_MAX_FIELDS, dtype=np.int64)
    values = np.zeros(5, dtype=np.int64)
    slow = np.zeros(n, dtype=np.bool_)
    group_of = np.full(n, -1, dtype=np.int32)
    cap = 16
    while cap < n + n // 2:
        cap *= 2
    slots = np.full(cap, -1, dtype=np.int32)
    g_key = np.zeros(n, dtype=np.uint64)
    g_span = np.zeros((n, 2), dtype=np.int64)  # callid|queue bytes of its first line
    g_enter = np.full(n, -1, dtype=np.int32)
    g_exit = np.full(n, -1, dtype=np.int32)
    g_end = np.full(n, -1, dtype=np.int32)
    g_enter_ts = np.zeros(n, dtype=np.int64)
    g_connect = np.zeros(n, dtype=np.bool_)
    g_bad = np.zeros(n, dtype=np.bool_)
    # What the rows need, noted as each line is read (columns: the _R_* constants).
    g_rec = np.empty((n, _RECORD), dtype=np.int64)
    groups = 0
    for line in range(n):
        start, end = _line_bounds(data, offsets, line)
        code, ts = _read_line(
            data, start, end, fs, fe, verbs, verb_lengths, masks, roles, values, checked
        )
        if code >= _FIRST_QUIET:
            continue  # a good RINGNOANSWER/RINGCANCELED: read, nothing to pair
        if code == 0:
            slow[line] = True
            # A call event SQL must check may still belong to a call: that call goes too.
            nf = _fields(data, start, end, fs, fe, checked)
            if nf < 5:
                continue
            length = fe[4] - fs[4]
            is_call = False
            for candidate in range(1, _FIRST_QUIET):
                if verb_lengths[candidate] == length:
                    is_call = True
                    for k in range(length):
                        if data[fs[4] + k] != verbs[candidate, k]:
                            is_call = False
                            break
                    if is_call:
                        break
            if not is_call:
                continue
        key_start, key_end = fs[1], fe[2]
        key = _hash(data, key_start, key_end)
        slot = np.int64(key & np.uint64(cap - 1))
        while True:
            group = slots[slot]
            if group < 0:
                group = np.int32(groups)
                groups += 1
                slots[slot] = group
                g_key[group] = key
                g_span[group, 0] = key_start
                g_span[group, 1] = key_end
                break
            if (
                g_key[group] == key
                and g_span[group, 1] - g_span[group, 0] == key_end - key_start
                and _same_bytes(data, g_span[group, 0], key_start, key_end - key_start)
            ):
                break
            slot = (slot + 1) & (cap - 1)
        group_of[line] = group
        if code == 0:
            g_bad[group] = True
        elif code == _ENTER:
            if g_enter[group] >= 0 or g_exit[group] >= 0 or g_end[group] >= 0:
                g_bad[group] = True  # entered again, or events before the entry
            g_enter[group] = line
            g_enter_ts[group] = ts
            g_rec[group, _R_QUEUE] = fs[2]
            g_rec[group, _R_CALLER] = -1
            if values[4] >= 7 and fe[6] > fs[6]:
                g_rec[group, _R_CALLER], g_rec[group, _R_CALLER + 1] = fs[6], fe[6]
        else:
            if g_enter[group] < 0 or ts < g_enter_ts[group]:
                g_bad[group] = True  # no entry before it, in the file and in time
            if code <= _LAST_EXIT:
                if g_exit[group] >= 0:
                    g_bad[group] = True
                g_exit[group] = line
                g_connect[group] = code == _CONNECT
                g_rec[group, _R_EXIT] = code
                g_rec[group, _R_EXIT_TS] = ts
                g_rec[group, _R_AGENT] = -1
                if not _is_none(data, fs[3], fe[3]):
                    g_rec[group, _R_AGENT], g_rec[group, _R_AGENT + 1] = fs[3], fe[3]
                g_rec[group, _R_WAIT] = values[0]
                g_rec[group, _R_RING] = values[1]
            else:
                if g_end[group] >= 0:
                    g_bad[group] = True
                g_end[group] = line
                g_rec[group, _R_END] = code
                g_rec[group, _R_END_TS] = ts
                g_rec[group, _R_TALK] = values[2]
    # The two shapes taken here; every other group goes to SQL with all its lines.
    keep = np.zeros(groups, dtype=np.bool_)
    for group in range(groups):
        if g_bad[group] or g_enter[group] < 0 or g_exit[group] < 0:
            continue
        # Not answered and not ended, or answered and ended: nothing left open.
        keep[group] = g_connect[group] == (g_end[group] >= 0)
    for key in carried:
        slot = np.int64(key & np.uint64(cap - 1))
        while slots[slot] >= 0:
            if g_key[slots[slot]] == key:
                keep[slots[slot]] = False  # an open call of the last read: SQL completes it
            slot = (slot + 1) & (cap - 1)
    for line in range(n):
        group = group_of[line]
        if group >= 0 and not keep[group]:
            slow[line] = True
    fast = np.flatnonzero(keep)
    records = np.empty((len(fast), _RECORD + 3), dtype=np.int64)
    for row in range(len(fast)):
        group = fast[row]
        records[row, :_RECORD] = g_rec[group]
        records[row, _RECORD] = g_enter_ts[group]
        records[row, _RECORD + 1] = g_span[group, 0]
        records[row, _RECORD + 2] = g_span[group, 1]
    return slow, records


@numba.njit(cache=True, nogil=True)
def _digits(value: int) -> int:
    count = 1
    limit = 10
    while value >= limit and count < 19:
        limit *= 10
        count += 1
    return count


@numba.njit(cache=True, nogil=True)
def _emit_rows(
    records: np.ndarray, first: int, last: int, spans: np.ndarray, times: np.ndarray,
    numbers: np.ndarray, codes: np.ndarray, id_lengths: np.ndarray,
) -> None:
    """Rows ``first:last`` of ``_emit``."""
    for row in range(first, last):
        record = records[row]
        enter_ts = record[_RECORD]
        spans[row, 0], spans[row, 1] = record[_R_QUEUE], record[_RECORD + 2]
        spans[row, 6], spans[row, 7] = record[_RECORD + 1], record[_RECORD + 2]
        if record[_R_CALLER] >= 0:
            spans[row, 4], spans[row, 5] = record[_R_CALLER], record[_R_CALLER + 1]
        if record[_R_AGENT] >= 0:
            spans[row, 2], spans[row, 3] = record[_R_AGENT], record[_R_AGENT + 1]
        times[row, 0] = enter_ts
        id_lengths[row] = (record[_RECORD + 2] - record[_RECORD + 1]) + 1 + _digits(enter_ts)
        exit_ts = record[_R_EXIT_TS]
        wait = record[_R_WAIT]
        numbers[row, 0] = wait if wait >= 0 else (exit_ts - enter_ts) / 1e6
        if record[_R_EXIT] == _CONNECT:
            if record[_R_RING] >= 0:
                numbers[row, 1] = record[_R_RING]
            times[row, 1] = exit_ts
            end_ts = record[_R_END_TS]
            times[row, 2] = end_ts
            talk = record[_R_TALK]
            numbers[row, 2] = talk if talk >= 0 else (end_ts - exit_ts) / 1e6
            codes[row, 1] = 1 if record[_R_END] >= _TRANSFER else 0
            if spans[row, 2] >= 0:
                codes[row, 2] = 1
                times[row, 3] = end_ts
        else:
            times[row, 2] = exit_ts
            codes[row, 0] = _EXIT_OUTCOME[record[_R_EXIT]]


@numba.njit(cache=True, nogil=True)
def _id_rows(
    data: np.ndarray, spans: np.ndarray, times: np.ndarray, id_offsets: np.ndarray,
    ids: np.ndarray, first: int, last: int,
) -> None:
    """contact_id bytes ``callid|queue|enter µs`` of rows ``first:last``."""
    for row in range(first, last):
        at = id_offsets[row]
        for i in range(spans[row, 6], spans[row, 7]):
            ids[at] = data[i]
            at += 1
        ids[at] = 0x7C
        value = np.uint64(times[row, 0])  # unsigned: division by 10 is a multiplication
        at = id_offsets[row + 1] - 1
        while True:
            ids[at] = np.uint8(0x30 + value % np.uint64(10))
            value //= np.uint64(10)
            at -= 1
            if value == 0:
                break


@numba.njit(cache=True, nogil=True)
def _emit(
    data: np.ndarray, records: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per fast group: spans (int64 [n, 8]), times (int64 [n, 4]), numbers, codes, and
    the contact_id bytes with their offsets. Single-threaded on purpose: no thread pool
    (OpenMP) inside a library that may be forked or called from threads.

    spans: queue, agent (exit line), caller (enter d2; -1 when absent), callid|queue;
    times: arrived, answered (or -1), ended, end of the on-call interval (or -1);
    numbers (float64 [n, 3]): wait, ring, talk (NaN: null); codes (int8 [n, 3]):
    outcome, transferred (0/1), on-call row wanted (0/1).
    """
    n = len(records)
    spans = np.full((n, 8), -1, dtype=np.int64)
    times = np.full((n, 4), -1, dtype=np.int64)
    numbers = np.full((n, 3), np.nan, dtype=np.float64)
    codes = np.zeros((n, 3), dtype=np.int8)
    id_lengths = np.zeros(n, dtype=np.int64)
    _emit_rows(records, 0, n, spans, times, numbers, codes, id_lengths)
    id_offsets = np.zeros(n + 1, dtype=np.int64)
    id_offsets[1:] = np.cumsum(id_lengths)
    ids = np.empty(id_offsets[n], dtype=np.uint8)
    _id_rows(data, spans, times, id_offsets, ids, 0, n)
    return spans, times, numbers, codes, id_offsets, ids


@numba.njit(cache=True, nogil=True)
def _gather(data: np.ndarray, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and bytes of the strings data[start:end] for each (start, end) row."""
    n = len(spans)
    offsets = np.zeros(n + 1, dtype=np.int64)
    for row in range(n):
        length = spans[row, 1] - spans[row, 0] if spans[row, 0] >= 0 else 0
        offsets[row + 1] = offsets[row] + length
    out = np.empty(offsets[n], dtype=np.uint8)
    for row in range(n):
        at = offsets[row]
        if spans[row, 0] < 0:
            continue
        for i in range(spans[row, 0], spans[row, 1]):
            out[at] = data[i]
            at += 1
    return offsets, out


@dataclass(frozen=True)
class FastCalls:
    """What the compiled pass paired, and the lines it leaves to the reference path."""

    slow: npt.NDArray[np.bool_]  # per line of the chunk: SQL must read it
    contacts: pa.Table  # CONTACTS columns of the fast calls (not yet conformed)
    on_contact: pa.Table  # agent_id, queue, started_at, ended_at (one per answered call)
    latest_enter: int | None  # latest ENTERQUEUE (µs) among the fast calls


def _key_hash(callid: str, queue: str) -> int:
    raw = np.frombuffer(f"{callid}|{queue}".encode(), dtype=np.uint8)
    return int(_hash(raw, 0, len(raw)))


def _strings(offsets: np.ndarray, data: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A string array over ``data`` cut at ``offsets`` (null where not ``valid``)."""
    count = len(offsets) - 1
    nulls = None
    if valid is not None and not valid.all():
        nulls = pa.py_buffer(np.packbits(valid, bitorder="little"))
    # The numpy arrays become the Arrow buffers as they are (no copy).
    if offsets[-1] < 2**31:
        return pa.StringArray.from_buffers(
            count, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data), nulls
        )
    return pa.LargeStringArray.from_buffers(  # pragma: no cover - chunks over 2 GB of ids
        count, pa.py_buffer(offsets), pa.py_buffer(data), nulls
    )


def _spans(data: np.ndarray, spans: np.ndarray) -> pa.Array:
    offsets, out = _gather(data, spans)
    return _strings(offsets, out, spans[:, 0] >= 0)


def constant_strings(text: str, count: int) -> pa.Array:
    """``count`` times ``text``, without a Python list."""
    raw = text.encode()
    offsets = np.arange(count + 1, dtype=np.int64) * len(raw)
    return _strings(offsets, np.frombuffer(raw * count, dtype=np.uint8))


def _times(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.int64(), mask=values < 0).cast(UTC_TIMESTAMP)


def pair_fast(
    data: np.ndarray, offsets: np.ndarray, carried: list[tuple[str, str]], tenant: str,
    source: str, *, checked: bool = True,
) -> FastCalls:
    """Pair the common calls of a chunk (``data``: its bytes; ``offsets``: its line ends).

    ``checked``: look for control bytes and inner carriage returns (False only when the
    chunk holds none, as ``lines.py`` tells).

    ``carried``: (callid, queue) of the calls left open by the previous read; their lines
    are left to the reference path, which completes them.
    """
    keys = np.array([_key_hash(callid, queue) for callid, queue in carried], dtype=np.uint64)
    tables = (_VERBS, _VERB_LENGTHS, _LAYOUT_MASKS, _ROLE_INDEX)
    slow, records = _scan(data, offsets, keys, checked, *tables)
    spans, times, numbers, codes, id_offsets, ids = _emit(data, records)
    count = len(records)
    contacts = pa.table(
        {
            "tenant": constant_strings(tenant, count),
            "source": constant_strings(source, count),
            "contact_id": _strings(id_offsets, ids),
            "channel": constant_strings("voice", count),
            "queue": _spans(data, spans[:, 0:2]),
            "direction": constant_strings("inbound", count),
            "arrived_at": _times(times[:, 0]),
            "answered_at": _times(times[:, 1]),
            "ended_at": _times(times[:, 2]),
            "outcome": pa.array(OUTCOMES).take(pa.array(codes[:, 0])),
            "wait_s": pa.array(numbers[:, 0], mask=np.isnan(numbers[:, 0])),
            "ring_s": pa.array(numbers[:, 1], mask=np.isnan(numbers[:, 1])),
            "talk_s": pa.array(numbers[:, 2], mask=np.isnan(numbers[:, 2])),
            "agent_id": _spans(data, spans[:, 2:4]),
            "customer_id": _spans(data, spans[:, 4:6]),
            "transferred": pa.array(codes[:, 1].astype(np.bool_)),
        }
    )
    on_call = np.flatnonzero(codes[:, 2])
    on_contact = pa.table(
        {
            "agent_id": contacts["agent_id"].take(on_call),
            "queue": contacts["queue"].take(on_call),
            "started_at": contacts["answered_at"].take(on_call),
            "ended_at": _times(times[on_call, 3]),
        }
    )
    latest = int(times[:, 0].max()) if count else None
    return FastCalls(slow, contacts, on_contact, latest)


@numba.njit(cache=True, nogil=True)
def _census(raw: np.ndarray) -> tuple[np.ndarray, int, bool, bool]:
    """Newline positions, control bytes (not \\t \\n \\r), a \\r, a byte ≥ 0x80: one pass."""
    lines = 0
    control = 0
    has_cr = False
    high = False
    for b in raw:
        if b < 0x20:
            if b == 0x0A:
                lines += 1
            elif b == 0x0D:
                has_cr = True
            elif b != 0x09:
                control += 1
        elif b >= 0x80:
            high = True
    newlines = np.empty(lines, dtype=np.int64)
    at = 0
    for i in range(len(raw)):
        if raw[i] == 0x0A:
            newlines[at] = i
            at += 1
    return newlines, control, has_cr, high


def byte_census(data: bytes) -> tuple[npt.NDArray[np.int64], bool, bool, bool]:
    """(newline positions, control bytes other than tab occur, a \\r occurs, all ASCII)."""
    newlines, control, has_cr, high = _census(np.frombuffer(data, dtype=np.uint8))
    return newlines, bool(control), bool(has_cr), not high
