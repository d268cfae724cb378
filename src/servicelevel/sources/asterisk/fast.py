"""The common case of a queue_log, compiled: one pass over the bytes, no strings per line.

Almost every call in a queue_log is one ENTERQUEUE followed either by one exit that is not
an answer (ABANDON, EXITWITHTIMEOUT, …) or by a CONNECT and one end (COMPLETE*,
TRANSFER, BLINDTRANSFER), each line well formed. Those calls are paired here, in a
numba-compiled pass over the chunk's bytes:

1. ``_scan`` cuts each line into fields, checks it exactly as the SQL of ``events.py``
   would (digits-only epoch in range, known verb, layout, whole numbers, callid and queue
   present, no control bytes) and files each call event under its (callid, queue) in a
   small open-addressing table of the *open* calls keyed by a 64-bit hash (a hash match
   is confirmed on the bytes); a call leaves the table once no further line could leave
   it one of the two shapes below, and a key whose hash occurs again later (or is a
   carried call's) sends every group of that hash to the reference path, so a collision
   only costs speed.
2. A group is *fast* when it is exactly one of the two shapes above, in order (the
   ENTERQUEUE first in the file and not later in time than the others), and not named
   by the carried open calls. ``_emit`` builds its contact and on-call row straight into
   Arrow buffers from what the pass noted per call (spans into the bytes, times, seconds).

Every other line (agent events, rare verbs, bad lines, open or unusual calls and every
line of their (callid, queue)) is handed back to the reference path, which therefore sees
complete groups and gives the same rows and quarantine reasons as before.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from numba.cpython.unsafe.numbers import trailing_zeros as _ctz_intrinsic

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
#: The count of trailing zero bits of a word (an LLVM intrinsic), typed for mypy.
_ctz = cast("Callable[[np.uint64], np.uint64]", _ctz_intrinsic)


# Eight bytes at a time (SWAR): masks with the high bit of each byte of a word that …
_LOWS = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGHS = np.uint64(0x8080808080808080)
_PIPES = np.uint64(0x7C7C7C7C7C7C7C7C)
_TABS = np.uint64(0x0909090909090909)
_TO_SPACE = np.uint64(0x6060606060606060)  # + a byte under 0x80: bit 7 set from 0x20 on


@numba.njit(cache=True, nogil=True)
def _word(data: np.ndarray, at: int) -> np.uint64:
    """``data[at:at + 8]`` as a little-endian word (unsigned indices: one load)."""
    i = np.uint64(at)
    return (
        np.uint64(data[i]) | (np.uint64(data[i + np.uint64(1)]) << np.uint64(8))
        | (np.uint64(data[i + np.uint64(2)]) << np.uint64(16))
        | (np.uint64(data[i + np.uint64(3)]) << np.uint64(24))
        | (np.uint64(data[i + np.uint64(4)]) << np.uint64(32))
        | (np.uint64(data[i + np.uint64(5)]) << np.uint64(40))
        | (np.uint64(data[i + np.uint64(6)]) << np.uint64(48))
        | (np.uint64(data[i + np.uint64(7)]) << np.uint64(56))
    )


@numba.njit(cache=True, nogil=True)
def _zero_bytes(x: np.uint64) -> np.uint64:
    """… is zero (exact: no borrow between bytes)."""
    return ~(((x & _LOWS) + _LOWS) | x | _LOWS)


@numba.njit(cache=True, nogil=True)
def _unsafe_bytes(x: np.uint64) -> np.uint64:
    """… is a control byte other than tab (under 0x20, or 0x7F)."""
    below = ~(((x & _LOWS) + _TO_SPACE) | x) & _HIGHS
    return (below & ~_zero_bytes(x ^ _TABS)) | _zero_bytes(x ^ _LOWS)


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
    i = start
    while i + 8 <= end:
        word = _word(data, i)
        if checked and _unsafe_bytes(word):
            return -1
        pipes = _zero_bytes(word ^ _PIPES)
        while pipes:
            at = i + (np.int64(_ctz(pipes)) >> 3)
            if nf < _MAX_FIELDS:
                fe[nf] = at
            nf += 1
            if nf < _MAX_FIELDS:
                fs[nf] = at + 1
            pipes &= pipes - np.uint64(1)
        i += 8
    for k in range(i, end):
        b = data[k]
        if b == 0x7C:  # |
            if nf < _MAX_FIELDS:
                fe[nf] = k
            nf += 1
            if nf < _MAX_FIELDS:
                fs[nf] = k + 1
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
def _verb_code(
    data: np.ndarray, start: int, end: int, verbs: np.ndarray, verb_lengths: np.ndarray,
    last: int,
) -> int:
    """Code of the verb ``data[start:end]`` among codes 1 … ``last`` − 1; 0 if none."""
    length = end - start
    for candidate in range(1, last):
        if verb_lengths[candidate] != length:
            continue
        same = True
        for k in range(length):
            if data[start + k] != verbs[candidate, k]:
                same = False
                break
        if same:
            return candidate
    return 0


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
    code = _verb_code(data, fs[4], fe[4], verbs, verb_lengths, len(verb_lengths))
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


_MIX = np.uint64(0x9E3779B97F4A7C15)
_FMIX1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX2 = np.uint64(0xC4CEB93FE53C5A65)


@numba.njit(cache=True, nogil=True)
def _hash(data: np.ndarray, start: int, end: int) -> np.uint64:
    """A 64-bit hash of ``data[start:end]``, eight bytes a step (high bits well mixed)."""
    h = np.uint64(end - start) * _MIX
    i = start
    while i + 8 <= end:
        word = _word(data, i)
        h = (h ^ word) * _MIX
        h ^= h >> np.uint64(32)
        i += 8
    word = np.uint64(0)
    shift = np.uint64(0)
    while i < end:
        word |= np.uint64(data[i]) << shift
        shift += np.uint64(8)
        i += 1
    h = (h ^ word) * _MIX
    return _mixed(h ^ (h >> np.uint64(33)))


@numba.njit(cache=True, nogil=True)
def _mixed(h: np.uint64) -> np.uint64:
    """``h`` with every bit spread over the others (MurmurHash3's finaliser)."""
    h *= _FMIX1
    h ^= h >> np.uint64(33)
    h *= _FMIX2
    h ^= h >> np.uint64(33)
    return h


@numba.njit(cache=True, nogil=True)
def _same_bytes(data: np.ndarray, a: int, b: int, length: int) -> bool:
    k = 0
    if max(a, b) + length + 8 <= len(data):  # whole words, the last one masked
        while k + 8 <= length:
            if _word(data, a + k) != _word(data, b + k):
                return False
            k += 8
        tail = (np.uint64(1) << np.uint64(8 * (length - k))) - np.uint64(1)
        return bool(((_word(data, a + k) ^ _word(data, b + k)) & tail) == 0)
    for k in range(length):  # noqa: SIM110 - a loop numba compiles
        if data[a + k] != data[b + k]:
            return False
    return True


# A group's state bits, and the width of its row (the record, then enter time and key span).
_S_ENTER, _S_EXIT, _S_END, _S_CONNECT, _S_BAD = 1, 2, 4, 8, 16
_ROW = _RECORD + 3
_OPEN_BITS = 12  # the table of open groups starts with 4096 slots and doubles when half full


@numba.njit(cache=True, nogil=True)
def _home(key: np.uint64, bits: int) -> int:
    """A key's first slot in a table of 2**bits slots: its top bits."""
    return int(np.int64(key >> np.uint64(64 - bits)))


@numba.njit(cache=True, nogil=True)
def _open_grow(table: np.ndarray, bits: int) -> np.ndarray:
    """The table of open groups with twice the slots (``bits + 1``), entries re-placed."""
    grown = np.zeros((2 * len(table), 2), dtype=np.uint64)
    mask = len(grown) - 1
    for old in range(len(table)):
        if table[old, 1] != 0:
            slot = _home(table[old, 0], bits + 1)
            while grown[slot, 1] != 0:
                slot = (slot + 1) & mask
            grown[slot, 0] = table[old, 0]
            grown[slot, 1] = table[old, 1]
    return grown


@numba.njit(cache=True, nogil=True)
def _open_remove(table: np.ndarray, slot: int, bits: int) -> None:
    """Empty ``slot`` of the linear-probing table, shifting back the entries after it."""
    mask = len(table) - 1
    hole = slot
    at = slot
    while True:
        at = (at + 1) & mask
        if table[at, 1] == 0:
            break
        # The entry may fill the hole when the hole lies on its probe path.
        if ((at - _home(table[at, 0], bits)) & mask) >= ((at - hole) & mask):
            table[hole, 0] = table[at, 0]
            table[hole, 1] = table[at, 1]
            hole = at
    table[hole, 1] = 0


@numba.njit(cache=True, nogil=True)
def _repeated(
    g_hash: np.ndarray, groups: int, carried: np.ndarray, suspects: np.ndarray, count: int,
) -> np.ndarray:
    """Per group: its key hash is also another group's or a carried key's.

    Only hashes in ``suspects`` (seen again by the scan's filter) can repeat; they are
    counted over all groups and carried keys in a small table.
    """
    repeated = np.zeros(groups, dtype=np.bool_)
    if count == 0:
        return repeated
    bits = 4
    while (1 << bits) < 4 * count:
        bits += 1
    mask = (1 << bits) - 1
    keys = np.zeros(1 << bits, dtype=np.uint64)
    seen = np.full(1 << bits, -1, dtype=np.int64)  # -1: empty slot; else occurrences
    for index in range(count):
        slot = _home(suspects[index], bits)
        while seen[slot] >= 0 and keys[slot] != suspects[index]:
            slot = (slot + 1) & mask
        keys[slot] = suspects[index]
        seen[slot] = 0
    hits = np.empty(groups, dtype=np.int64)  # groups whose hash is a suspect, and its slot
    hit_slots = np.empty(groups, dtype=np.int64)
    found = 0
    for group in range(groups):
        key = g_hash[group]
        slot = _home(key, bits)
        while seen[slot] >= 0:
            if keys[slot] == key:
                seen[slot] += 1
                hits[found] = group
                hit_slots[found] = slot
                found += 1
                break
            slot = (slot + 1) & mask
    for key in carried:
        slot = _home(key, bits)
        while seen[slot] >= 0:
            if keys[slot] == key:
                seen[slot] += 1
                break
            slot = (slot + 1) & mask
    for index in range(found):
        if seen[hit_slots[index]] > 1:
            repeated[hits[index]] = True
    return repeated


def _scan(
    data: np.ndarray, offsets: np.ndarray, carried: np.ndarray, checked: bool,
    verbs: np.ndarray, verb_lengths: np.ndarray, masks: np.ndarray, roles: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per line: whether SQL must see it; per fast group: its record (``_R_*`` columns,
    then the entry time and the callid|queue span).

    The large arrays come from numpy, whose allocator asks for huge pages: first touching
    them costs several times less than memory allocated inside compiled code.
    """
    n = len(offsets) - 1
    slow = np.empty(n, dtype=np.bool_)
    group_of = np.empty(n, dtype=np.int32)
    # Per group, at most one per line: pages are only touched as groups appear.
    rows = np.empty((n, _ROW), dtype=np.int64)
    g_hash = np.empty(n, dtype=np.uint64)
    g_state = np.empty(n, dtype=np.uint8)
    filter_bits = 12
    while (1 << filter_bits) < 16 * n:
        filter_bits += 1
    seen = np.zeros((1 << filter_bits) >> 6, dtype=np.uint64)
    fast = _scan_lines(
        data, offsets, carried, checked, verbs, verb_lengths, masks, roles,
        slow, group_of, rows, g_hash, g_state, seen, filter_bits,
    )
    return slow, rows[:fast]


@numba.njit(cache=True, nogil=True)
def _scan_lines(
    data: np.ndarray, offsets: np.ndarray, carried: np.ndarray, checked: bool,
    verbs: np.ndarray, verb_lengths: np.ndarray, masks: np.ndarray, roles: np.ndarray,
    slow: np.ndarray, group_of: np.ndarray, rows: np.ndarray, g_hash: np.ndarray,
    g_state: np.ndarray, seen: np.ndarray, filter_bits: int,
) -> int:
    """``_scan``'s pass: fills ``slow`` and the first rows of ``rows`` (the fast groups'
    records, in order); the number of fast groups.

    Only the open groups are in the hash table (small enough to stay in cache): a group
    leaves it when it can no longer be one of the two shapes whatever follows (exited
    unanswered, answered and ended, or bad). A later line of the same key then opens a
    new group; a filter of the key hashes seen so far notes such a hash, and after the
    pass every group whose hash repeats (or is a carried key's) goes to SQL, as the one
    group of the key would have. A true hash collision only sends lines to SQL too.
    """
    n = len(offsets) - 1
    fs = np.zeros(_MAX_FIELDS, dtype=np.int64)
    fe = np.zeros(_MAX_FIELDS, dtype=np.int64)
    values = np.zeros(5, dtype=np.int64)
    groups = 0
    # The open groups: (key hash, group + 1) per slot, 0: empty.
    bits = _OPEN_BITS
    table = np.zeros((1 << bits, 2), dtype=np.uint64)
    open_count = 0
    # ``seen``: the key hashes met so far, one bit each (about 16 bits per line); a hash
    # whose bit is already set is a suspect, checked exactly after the pass.
    suspects = np.empty(64, dtype=np.uint64)
    count = 0
    for key in carried:
        bit = _home(key, filter_bits)
        seen[bit >> 6] |= np.uint64(1) << np.uint64(bit & 63)
    for line in range(n):
        slow[line] = False
        group_of[line] = -1
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
            if _verb_code(data, fs[4], fe[4], verbs, verb_lengths, _FIRST_QUIET) == 0:
                continue  # not a call event
        key_start, key_end = fs[1], fe[2]
        key = _hash(data, key_start, key_end)
        mask = (1 << bits) - 1
        slot = _home(key, bits)
        while True:
            entry = table[slot, 1]
            if entry == 0:
                break
            if table[slot, 0] == key:
                group = int(np.int64(entry)) - 1
                if rows[group, _RECORD + 2] - rows[group, _RECORD + 1] == (
                    key_end - key_start
                ) and _same_bytes(data, rows[group, _RECORD + 1], key_start, key_end - key_start):
                    break
            slot = (slot + 1) & mask
        if entry == 0:  # a new group
            if 2 * (open_count + 1) > (1 << bits):
                table = _open_grow(table, bits)
                bits += 1
                mask = (1 << bits) - 1
                slot = _home(key, bits)
                while table[slot, 1] != 0:
                    slot = (slot + 1) & mask
            group = groups
            groups += 1
            table[slot, 0] = key
            table[slot, 1] = np.uint64(group + 1)
            open_count += 1
            g_hash[group] = key
            g_state[group] = 0
            rows[group, :] = -1
            rows[group, _RECORD + 1] = key_start
            rows[group, _RECORD + 2] = key_end
            bit = _home(key, filter_bits)
            word = np.uint64(1) << np.uint64(bit & 63)
            if seen[bit >> 6] & word:
                if count == len(suspects):
                    suspects = np.concatenate((suspects, np.empty_like(suspects)))
                suspects[count] = key
                count += 1
            seen[bit >> 6] |= word
        group_of[line] = group
        state = g_state[group]
        record = rows[group]
        if code == 0:
            state |= _S_BAD
        elif code == _ENTER:
            if state & (_S_ENTER | _S_EXIT | _S_END):
                state |= _S_BAD  # entered again, or events before the entry
            state |= _S_ENTER
            record[_RECORD] = ts
            record[_R_QUEUE] = fs[2]
            record[_R_CALLER] = -1
            if values[4] >= 7 and fe[6] > fs[6]:
                record[_R_CALLER], record[_R_CALLER + 1] = fs[6], fe[6]
        else:
            if not (state & _S_ENTER) or ts < record[_RECORD]:
                state |= _S_BAD  # no entry before it, in the file and in time
            if code <= _LAST_EXIT:
                if state & _S_EXIT:
                    state |= _S_BAD
                state |= _S_EXIT
                if code == _CONNECT:
                    state |= _S_CONNECT
                else:
                    state &= ~_S_CONNECT
                record[_R_EXIT] = code
                record[_R_EXIT_TS] = ts
                record[_R_AGENT] = -1
                if not _is_none(data, fs[3], fe[3]):
                    record[_R_AGENT], record[_R_AGENT + 1] = fs[3], fe[3]
                record[_R_WAIT] = values[0]
                record[_R_RING] = values[1]
            else:
                if state & _S_END:
                    state |= _S_BAD
                state |= _S_END
                record[_R_END] = code
                record[_R_END_TS] = ts
                record[_R_TALK] = values[2]
        g_state[group] = state
        # Done: bad, or exited and either unanswered or ended. Whatever line of the key
        # comes next would keep it from the two shapes, as a repeated hash does.
        if (state & _S_BAD) or (
            (state & _S_EXIT) and (not (state & _S_CONNECT) or (state & _S_END))
        ):
            _open_remove(table, slot, bits)
            open_count -= 1
    # The two shapes taken here; every other group goes to SQL with all its lines.
    repeated = _repeated(g_hash, groups, carried, suspects, count)
    keep = np.empty(groups, dtype=np.bool_)
    for group in range(groups):
        state = g_state[group]
        # Not answered and not ended, or answered and ended: nothing left open.
        keep[group] = (
            (state & (_S_BAD | _S_ENTER | _S_EXIT)) == (_S_ENTER | _S_EXIT)
            and ((state & _S_CONNECT) != 0) == ((state & _S_END) != 0)
            and not repeated[group]
        )
    for line in range(n):
        group = group_of[line]
        if group >= 0 and not keep[group]:
            slow[line] = True
    fast = 0
    for group in range(groups):
        if keep[group]:
            if fast != group:
                rows[fast, :] = rows[group, :]
            fast += 1
    return fast


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


@numba.njit(cache=True, nogil=True)
def _interval_key(agent: np.uint64, queue: np.uint64, start: int) -> np.uint64:
    """A 64-bit key of an on-call interval's (agent, queue, start µs)."""
    return _mixed((agent ^ (queue * _MIX)) ^ np.uint64(start))


@numba.njit(cache=True, nogil=True)
def _span_interval_keys(
    data: np.ndarray, spans: np.ndarray, times: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Keys of the on-call intervals of these emitted rows (agent and queue spans,
    answered time), equal to ``interval_keys`` of the same strings and instants."""
    keys = np.empty(len(rows), dtype=np.uint64)
    for index in range(len(rows)):
        row = rows[index]
        keys[index] = _interval_key(
            _hash(data, spans[row, 2], spans[row, 3]), _hash(data, spans[row, 0], spans[row, 1]),
            times[row, 1],
        )
    return keys


@numba.njit(cache=True, nogil=True)
def _string_interval_keys(
    agent_offsets: np.ndarray, agent_data: np.ndarray, queue_offsets: np.ndarray,
    queue_data: np.ndarray, starts: np.ndarray,
) -> np.ndarray:
    keys = np.empty(len(starts), dtype=np.uint64)
    for row in range(len(starts)):
        keys[row] = _interval_key(
            _hash(agent_data, agent_offsets[row], agent_offsets[row + 1]),
            _hash(queue_data, queue_offsets[row], queue_offsets[row + 1]), starts[row],
        )
    return keys


def _string_parts(strings: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (int64, from 0) and bytes of a string array (a null is empty)."""
    array = strings.combine_chunks() if isinstance(strings, pa.ChunkedArray) else strings
    array = pc.fill_null(array, "").cast(pa.large_string())
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None \
        else np.zeros(0, dtype=np.uint8)
    return offsets, data


def interval_keys(
    agent: pa.Array | pa.ChunkedArray, queue: pa.Array | pa.ChunkedArray,
    started_us: npt.NDArray[np.int64],
) -> npt.NDArray[np.uint64]:
    """The 64-bit key of each on-call interval (agent, queue, start µs): equal intervals
    have equal keys, as the compiled pass's ``FastCalls.on_contact_keys``."""
    agent_offsets, agent_data = _string_parts(agent)
    queue_offsets, queue_data = _string_parts(queue)
    return cast("npt.NDArray[np.uint64]", _string_interval_keys(
        agent_offsets, agent_data, queue_offsets, queue_data,
        np.ascontiguousarray(started_us, dtype=np.int64)))


@dataclass(frozen=True)
class FastCalls:
    """What the compiled pass paired, and the lines it leaves to the reference path."""

    slow: npt.NDArray[np.bool_]  # per line of the chunk: SQL must read it
    contacts: pa.Table  # CONTACTS columns of the fast calls (not yet conformed)
    on_contact: pa.Table  # agent_id, queue, started_at, ended_at (one per answered call)
    on_contact_keys: npt.NDArray[np.uint64]  # interval_keys of the on_contact rows
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
    keys = _span_interval_keys(data, spans, times, on_call)
    return FastCalls(slow, contacts, on_contact, keys, latest)


_NEWLINES = np.uint64(0x0A0A0A0A0A0A0A0A)


@numba.njit(cache=True, nogil=True)
def _census_words(
    words: np.ndarray, first: int, newlines: np.ndarray, at: int, flags: np.ndarray
) -> tuple[int, int]:
    """From word ``first`` of the chunk (eight bytes each): newline positions into
    ``newlines[at:]``, until the last word or until ``newlines`` is nearly full; adds to
    ``flags`` (control bytes, a \\r, a byte ≥ 0x80). The next word and the next ``at``.

    Branch-free for the usual word (none or one newline, no other byte under 0x20).
    """
    room = len(newlines) - 8
    high = np.uint64(0)
    control = 0
    has_cr = False
    word_at = first
    while word_at < len(words) and at <= room:
        word = words[word_at]
        found = _zero_bytes(word ^ _NEWLINES)
        high |= word
        below = ~(((word & _LOWS) + _TO_SPACE) | word) & _HIGHS
        if below & ~found:  # a byte under 0x20 other than \n: look at each
            for k in range(8):
                b = (word >> np.uint64(8 * k)) & np.uint64(0xFF)
                if b == 0x0D:
                    has_cr = True
                elif b < 0x20 and b != 0x09 and b != 0x0A:
                    control += 1
        base = word_at * 8
        # The first newline (written anyway, kept when there is one), then any others.
        newlines[at] = base + (np.int64(_ctz(found)) >> 3)
        at += found != 0
        found &= found - np.uint64(1)
        while found:
            newlines[at] = base + (np.int64(_ctz(found)) >> 3)
            at += 1
            found &= found - np.uint64(1)
        word_at += 1
    flags[0] += control
    if has_cr:
        flags[1] = 1
    if high & _HIGHS:
        flags[2] = 1
    return word_at, at


def _census(raw: np.ndarray) -> tuple[np.ndarray, int, bool, bool]:
    """Newline positions, control bytes (not \\t \\n \\r), a \\r, a byte ≥ 0x80: one pass.

    The positions go into a numpy array (huge pages: cheap to touch) sized for lines of 24
    bytes on average, grown when the lines are shorter.
    """
    full = len(raw) // 8 if sys.byteorder == "little" else 0  # words read little-endian
    words = raw[: full * 8].view(np.uint64)
    newlines = np.empty(len(raw) // 24 + 64, dtype=np.int64)
    flags = np.zeros(3, dtype=np.int64)
    word_at, at = 0, 0
    while True:
        word_at, at = _census_words(words, word_at, newlines, at, flags)
        if word_at >= full:
            break
        grown = np.empty(2 * len(newlines), dtype=np.int64)
        grown[:at] = newlines[:at]
        newlines = grown
    control, has_cr, high = int(flags[0]), bool(flags[1]), bool(flags[2])
    tail = raw[full * 8 :]
    if len(tail):
        ends = np.flatnonzero(tail == 0x0A) + full * 8
        if at + len(ends) > len(newlines):
            newlines = np.concatenate((newlines[:at], ends))
        else:
            newlines[at : at + len(ends)] = ends
        at += len(ends)
        below = tail < 0x20
        control += int(np.count_nonzero(below & (tail != 0x09) & (tail != 0x0A) & (tail != 0x0D)))
        has_cr = has_cr or bool((tail == 0x0D).any())
        high = high or bool((tail >= 0x80).any())
    return newlines[:at], control, has_cr, high


def byte_census(
    data: bytes | memoryview,
) -> tuple[npt.NDArray[np.int64], bool, bool, bool]:
    """(newline positions, control bytes other than tab occur, a \\r occurs, all ASCII)."""
    newlines, control, has_cr, high = _census(np.frombuffer(data, dtype=np.uint8))
    return newlines, bool(control), bool(has_cr), not high
