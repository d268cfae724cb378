"""Vectorised column helpers the adapters share: lines, strict time parsing, zones."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

_US = 1_000_000
_HOUR_US = 3_600 * _US
_EPOCH = datetime(1970, 1, 1)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]



def local_to_utc(local_us: IntArray, zone: ZoneInfo) -> IntArray:
    """UTC microseconds of wall-clock times ``local_us`` (microseconds since 1970, naive).

    Follows PEP 495 with ``fold=0``: a repeated wall time (DST end) is taken in its first
    occurrence; a skipped one (DST start) keeps the offset from before the change. The
    offset is looked up once per distinct hour, and per value only in the rare hour that
    contains a change of offset, so a year of calls converts in milliseconds.
    """
    if local_us.size == 0:
        return local_us.copy()
    hours, inverse = np.unique(local_us // _HOUR_US, return_inverse=True)
    offsets = np.empty(hours.size, dtype=np.int64)
    split = np.zeros(hours.size, dtype=np.bool_)
    for i, hour in enumerate(hours.tolist()):
        start = _utc_offset_us(hour * _HOUR_US, zone)
        offsets[i] = start
        split[i] = start != _utc_offset_us((hour + 1) * _HOUR_US - 1, zone)
    result = local_us - offsets[inverse]
    for row in np.flatnonzero(split[inverse]).tolist():
        result[row] = local_us[row] - _utc_offset_us(int(local_us[row]), zone)
    return result


def _utc_offset_us(local_us: int, zone: ZoneInfo) -> int:
    wall = (_EPOCH + timedelta(microseconds=local_us)).replace(tzinfo=zone)
    offset = wall.utcoffset()
    return 0 if offset is None else offset // timedelta(microseconds=1)


@cache
def compute_engine() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB used as a compute engine (opening one costs ~30 ms)."""
    return duckdb.connect()


def parse_times(values: pa.Array, time_format: str) -> pa.Array:
    """Naive ``timestamp[us]`` of ``values`` written as strptime ``time_format``.

    Strict where pyarrow's strptime is not: a value that does not fit, or a date that does
    not exist (31 February), is null. DuckDB parses, in memory.
    """
    con = compute_engine().cursor()  # a cursor per call: safe from any thread
    try:
        con.register("v", pa.table({"s": pa.array(values, pa.string())}))
        result = con.sql(
            "select try_strptime(s, $format) as t from v", params={"format": time_format}
        ).to_arrow_table()
    finally:
        con.close()
    return result.column("t").combine_chunks().cast(pa.timestamp("us"))


def text_lines(data: bytes | memoryview) -> pa.StringArray:
    """The lines of ``data`` as strings: UTF-8 (bad bytes replaced), BOM, CR/LF handled.

    Index ``i`` is line ``first_line + i``; a final newline does not add a line.
    """
    text = bytes(data).decode("utf-8", errors="replace").removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return pa.array(lines, type=pa.string())
