"""Any ACD or WFM contact export (CSV or Parquet), loaded through a mapping file.

The mapping (YAML, parsed by the CLI and handed over as ``chunk.options["mapping"]``) names
which source column feeds which canonical ``contacts`` field, how times and durations are
written, the time zone, and how the source's outcome values translate; so a Genesys,
Avaya, Cisco or Five9 export loads without code. See ``docs/sources/mapped_csv.md`` and
``examples/mappings/``.

One row is one contact. A row that cannot be loaded is quarantined with its line (for
Parquet: row) number, the field, the value and what would be valid; the rest loads.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from servicelevel.errors import InputError, SourceFormatError
from servicelevel.model.enums import Outcome
from servicelevel.model.tables import CONTACTS, UTC_TIMESTAMP
from servicelevel.model.time import zone as parse_zone
from servicelevel.sources import register_format
from servicelevel.sources.base import Carry, ParseResult, QuarantinedLine, SourceChunk
from servicelevel.sources.columns import (
    BoolArray,
    IntArray,
    compute_engine,
    local_to_utc,
    parse_times,
)

NAME = "mapped-csv"

# Canonical fields a mapping may fill, by kind (from the CONTACTS schema).
_MAPPABLE = [f for f in CONTACTS.schema if f.name != "source"]
TIME_FIELDS = frozenset(f.name for f in _MAPPABLE if pa.types.is_timestamp(f.type))
DURATION_FIELDS = frozenset(f.name for f in _MAPPABLE if pa.types.is_floating(f.type))
INTEGER_FIELDS = frozenset(f.name for f in _MAPPABLE if pa.types.is_integer(f.type))
BOOLEAN_FIELDS = frozenset(f.name for f in _MAPPABLE if pa.types.is_boolean(f.type))
TEXT_FIELDS = frozenset(f.name for f in _MAPPABLE if pa.types.is_string(f.type))
FIELDS = tuple(f.name for f in _MAPPABLE)
REQUIRED = ("contact_id", "arrived_at")

DURATION_UNITS = {"s": 1.0, "ms": 0.001, "min": 60.0, "h": 3600.0, "hh:mm:ss": None}
TIME_KEYWORDS = ("iso", "epoch", "epoch_ms")
TRUE_WORDS = frozenset({"true", "t", "yes", "y"})
FALSE_WORDS = frozenset({"false", "f", "no", "n"})
DIRECTIONS = ("inbound", "outbound")
_ISO_OFFSET = r"[0-9]:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_HMS = r"^(?:(?P<h>\d+):)?(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?)$"


# -- the mapping file --------------------------------------------------------------------


class CsvOptions(BaseModel):
    """How the CSV file is written."""

    model_config = ConfigDict(extra="forbid")

    delimiter: str = Field(default=",", description="One character; write '\\t' for tab.")
    encoding: str = "utf-8"
    quote: str = '"'
    header: bool = True
    column_names: list[str] | None = Field(
        default=None, description="Names of the columns when the file has no header line."
    )
    skip_lines: int = Field(default=0, ge=0, description="Lines before the header (titles).")


class Mapping(BaseModel):
    """A mapping file: from one export's columns to the canonical contacts table."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None, description="Short name of the export (genesys-cloud); the rows' "
        "source becomes mapped-csv:NAME so that two systems' ids never collide.",
    )
    file_type: Literal["csv", "parquet"] = "csv"
    csv: CsvOptions = CsvOptions()
    tz: str | None = None
    columns: dict[str, str | list[str]]
    times: dict[str, str] = {}
    durations: dict[str, str] = {}
    outcome_values: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    constants: dict[str, str | int | float | bool] = {}
    exclude_values: dict[str, list[str]] = {}

    @field_validator("outcome_values", "exclude_values", "values", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        # YAML reads YES, 1 or true as bool/int; the source values they stand for are text.
        if isinstance(value, dict):
            return {_yaml_text(k): _yaml_value(v) for k, v in value.items()}
        return value

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads."""
        names: list[str] = []
        for spec in self.columns.values():
            names.extend([spec] if isinstance(spec, str) else spec)
        names.extend(self.exclude_values)
        return list(dict.fromkeys(names))

    @property
    def source(self) -> str:
        return f"{NAME}:{self.name}" if self.name else NAME


def _yaml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _yaml_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {_yaml_text(k): _yaml_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_text(v) for v in value]
    return _yaml_text(value)


def _nearest(name: str, known: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def load_mapping(data: dict[str, Any], path: str) -> Mapping:
    """Validate a parsed mapping file; every problem is reported at once.

    Raises SourceFormatError naming ``path``, each field path and how to fix it.
    """
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"])
            if item["type"] == "extra_forbidden":
                known = list(Mapping.model_fields) if len(item["loc"]) == 1 else list(
                    CsvOptions.model_fields)
                problems.append(f"{where}: unknown setting{_nearest(str(item['loc'][-1]), known)}"
                                f" (known: {', '.join(known)})")
            else:
                problems.append(f"{where}: {item['msg']}")
        raise _mapping_error(path, problems) from None
    problems = _check(mapping)
    if problems:
        raise _mapping_error(path, problems)
    return mapping


def _mapping_error(path: str, problems: list[str]) -> SourceFormatError:
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    listed = "\n".join(f"  {problem}" for problem in problems)
    return SourceFormatError(path, f"invalid mapping ({count}):\n{listed}")


def _check(m: Mapping) -> list[str]:
    problems: list[str] = []
    fields = list(FIELDS)

    def unknown(section: str, name: str, allowed: frozenset[str] | tuple[str, ...]) -> bool:
        if name in allowed:
            return False
        if name in FIELDS:
            problems.append(f"{section}.{name}: {name} is not a field of this kind; "
                            f"use one of {', '.join(sorted(allowed))}")
        else:
            problems.append(f"{section}.{name}: unknown canonical field"
                            f"{_nearest(name, fields)} (fields: {', '.join(FIELDS)})")
        return True

    for name, spec in m.columns.items():
        if unknown("columns", name, FIELDS):
            continue
        if isinstance(spec, list) and name not in TIME_FIELDS and name != "contact_id":
            problems.append(f"columns.{name}: only contact_id and times may join several "
                            "columns; give one column name")
        if name in m.constants:
            problems.append(f"constants.{name}: {name} is also in columns; keep one of them")
    for name, value in m.constants.items():
        if unknown("constants", name, TEXT_FIELDS | INTEGER_FIELDS | BOOLEAN_FIELDS
                   | DURATION_FIELDS):
            continue
        if name == "outcome" and str(value) not in {o.value for o in Outcome}:
            problems.append(f"constants.outcome: {value!r} is not an outcome"
                            f"{_nearest(str(value), [o.value for o in Outcome])}")
        if name == "direction" and value not in DIRECTIONS:
            problems.append(f"constants.direction: {value!r}: write inbound or outbound")
    for name in REQUIRED:
        if name not in m.columns:
            problems.append(f"columns.{name}: required; name the source column that holds it")
    if "outcome" not in m.columns and "outcome" not in m.constants:
        problems.append("columns.outcome: required (or constants.outcome for a file of one "
                        "outcome); name the source column and list its values in outcome_values")
    if "outcome" in m.columns and not m.outcome_values:
        problems.append("outcome_values: required with columns.outcome; map each source "
                        "value to one of " + ", ".join(o.value for o in Outcome))
    for source_value, target in m.outcome_values.items():
        if target not in {o.value for o in Outcome}:
            problems.append(f"outcome_values.{source_value}: {target!r} is not an outcome"
                            f"{_nearest(target, [o.value for o in Outcome])} (outcomes: "
                            f"{', '.join(o.value for o in Outcome)})")
    for name, time_format in m.times.items():
        if unknown("times", name, TIME_FIELDS):
            continue
        if name not in m.columns:
            problems.append(f"times.{name}: {name} is not in columns")
        problem = _check_time_format(time_format)
        if problem:
            problems.append(f"times.{name}: {problem}")
    for name, unit in m.durations.items():
        if unknown("durations", name, DURATION_FIELDS):
            continue
        if unit not in DURATION_UNITS:
            problems.append(f"durations.{name}: {unit!r} is not a unit; write one of "
                            f"{', '.join(DURATION_UNITS)}")
    for name in m.values:
        if not unknown("values", name, TEXT_FIELDS - {"outcome"}) and name not in m.columns:
            problems.append(f"values.{name}: {name} is not in columns")
    if m.tz is not None:
        try:
            parse_zone(m.tz)
        except InputError as error:
            problems.append(f"tz: {error}")
    if len(m.csv.delimiter) != 1:
        problems.append(f"csv.delimiter: {m.csv.delimiter!r} must be one character")
    if len(m.csv.quote) != 1:
        problems.append(f"csv.quote: {m.csv.quote!r} must be one character")
    try:
        codecs.lookup(m.csv.encoding)
    except LookupError:
        problems.append(f"csv.encoding: {m.csv.encoding!r} is not an encoding; write one "
                        "like utf-8, utf-16 or cp1252")
    if not m.csv.header and not m.csv.column_names:
        problems.append("csv.column_names: required when csv.header is false; list the "
                        "columns in file order")
    return problems


def _check_time_format(time_format: str) -> str | None:
    if time_format in TIME_KEYWORDS:
        return None
    if "%" not in time_format:
        return (f"{time_format!r} is not a time format; write iso, epoch, epoch_ms or a "
                "strftime pattern like '%m/%d/%Y %I:%M:%S %p'")
    try:
        parse_times(pa.array(["x"]), time_format)
    except Exception as error:  # DuckDB rejects the pattern itself
        return f"{time_format!r}: {str(error).splitlines()[-1]}"
    return None


# -- reading the file --------------------------------------------------------------------


@dataclass
class _Rows:
    """The mapped source columns of the rows that have the right shape."""

    columns: dict[str, pa.Array]  # source column -> values (text, or typed from Parquet)
    line_numbers: IntArray
    texts: list[str]
    read: int


def _read_csv(chunk: SourceChunk, m: Mapping, quarantined: list[QuarantinedLine]) -> _Rows:
    options = m.csv
    try:
        text = bytes(chunk.data).decode(options.encoding)
    except UnicodeDecodeError as error:
        raise SourceFormatError(
            chunk.path, f"not {options.encoding} text (byte {error.start}); set "
            "csv.encoding in the mapping (utf-16, cp1252, …) or check that the file is "
            "the CSV export the mapping describes",
        ) from None
    text = text.removeprefix("\ufeff")
    # The line breaks the csv module counts (not str.splitlines, which also splits on \x1c…).
    physical = re.split(r"\r\n|\r|\n", text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=options.delimiter,
                        quotechar=options.quote)
    records: list[tuple[int, int, list[str]]] = []  # (first line, last line, fields)
    end = 0
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num
            records.append((start, end, fields))
    except csv.Error as error:
        raise SourceFormatError(chunk.path, f"not readable as CSV: {error}",
                                line=chunk.first_line + end) from None
    records = records[options.skip_lines:]
    if options.header:
        if not records or not any(f.strip() for f in records[0][2]):
            raise SourceFormatError(chunk.path, "empty file; expected a header line naming "
                                    f"the columns {', '.join(m.source_columns())}",
                                    line=chunk.first_line)
        names = [name.strip() for name in records[0][2]]
        records = records[1:]
    else:
        names = list(options.column_names or [])
    _check_columns(chunk, m, names)

    good: list[list[str]] = []
    numbers: list[int] = []
    texts: list[str] = []
    read = 0
    for start, last, fields in records:
        if not any(f.strip() for f in fields):
            continue
        read += 1
        raw = "\n".join(physical[start - 1:last])
        line = chunk.first_line + start - 1
        if len(fields) != len(names):
            quarantined.append(QuarantinedLine(
                line=line, text=raw,
                reason=(f"line has {len(fields)} fields, expected {len(names)} like the "
                        "header; a cut-off line or a stray delimiter?"),
            ))
            continue
        good.append(fields)
        numbers.append(line)
        texts.append(raw)
    wanted = m.source_columns()
    columns = {
        name: pa.array([row[names.index(name)] for row in good], pa.string())
        for name in wanted
    }
    return _Rows(columns, np.array(numbers, dtype=np.int64), texts, read)


def _read_parquet(chunk: SourceChunk, m: Mapping) -> _Rows:
    try:
        table = pq.read_table(pa.BufferReader(chunk.data))
    except (pa.ArrowInvalid, OSError) as error:
        raise SourceFormatError(chunk.path, f"not a Parquet file ({error}); set file_type "
                                "in the mapping to csv if it is a CSV export") from None
    _check_columns(chunk, m, table.column_names)
    columns = {name: table.column(name).combine_chunks() for name in m.source_columns()}
    rows = table.num_rows
    texts = [""] * rows  # a Parquet row has no text; its values are in the reason
    numbers = np.arange(rows, dtype=np.int64) + chunk.first_line
    return _Rows(columns, numbers, texts, rows)


def _check_columns(chunk: SourceChunk, m: Mapping, names: list[str]) -> None:
    missing = [name for name in m.source_columns() if name not in names]
    if missing:
        hints = [f"{name!r}{_nearest(name, names)}" for name in missing]
        raise SourceFormatError(
            chunk.path,
            f"this file lacks the columns the mapping names: {', '.join(hints)} (its "
            f"columns: {', '.join(names[:40])}); check the mapping's columns or that this "
            "is the export it describes",
            line=chunk.first_line if m.file_type == "csv" else None,
        )


# -- converting values -------------------------------------------------------------------


class _Bad:
    """First problem found per row: row -> (field, value, what is valid)."""

    def __init__(self, rows: int) -> None:
        self.valid = np.ones(rows, dtype=np.bool_)
        self.problems: dict[int, str] = {}
        self.fields: dict[int, str] = {}

    def reject(self, field: str, given: pa.Array, ok: pa.Array | BoolArray, what: str,
               source: str) -> None:
        ok_np = ok if isinstance(ok, np.ndarray) else (
            ok.fill_null(True).to_numpy(zero_copy_only=False))
        for row in np.flatnonzero(self.valid & ~ok_np).tolist():
            value = given[row].as_py()
            blank = value is None or (isinstance(value, str) and not value.strip())
            shown = "missing" if blank else f"{value!r} is not valid"
            self.problems[row] = f"{field} (column {source}): {shown}; expected {what}"
            self.fields[row] = field
        self.valid &= ok_np


def _text(values: pa.Array) -> pa.Array:
    """Trimmed text; empty means missing."""
    text = pc.utf8_trim_whitespace(pc.cast(values, pa.string()))
    return pc.if_else(pc.equal(text, ""), None, text)


def _lookup(text: pa.Array, table: dict[str, str]) -> pa.Array:
    """``table[value]`` matched case-insensitively; null when not in the table."""
    keys = {key.strip().lower(): target for key, target in table.items()}
    index = pc.index_in(pc.utf8_lower(text), value_set=pa.array(list(keys), pa.string()))
    return pc.take(pa.array(list(keys.values()), pa.string()), index)


def _times(values: pa.Array, time_format: str, zone: Any, needs_zone: list[str],
           field: str) -> pa.Array:
    """UTC timestamps; null where a present value does not parse."""
    if pa.types.is_timestamp(values.type):  # typed Parquet column
        if values.type.tz is not None:
            return pc.cast(values, UTC_TIMESTAMP)
        return _localize(pc.cast(values, pa.timestamp("us")), zone, needs_zone, field)
    text = _text(values)
    if time_format in ("epoch", "epoch_ms"):
        scale = 1_000_000 if time_format == "epoch" else 1_000
        number = _numbers(text)
        micros = pc.cast(pc.round(pc.multiply(number, float(scale))), pa.int64(), safe=False)
        return micros.cast(UTC_TIMESTAMP)
    if time_format == "iso":
        con = compute_engine().cursor()
        try:
            con.register("v", pa.table({"s": text}))
            result = con.sql(
                "select regexp_matches(s, $offset) as absolute,"
                " timezone('UTC', try_cast(s as timestamptz)) as utc,"
                " try_cast(s as timestamp) as wall from v",
                params={"offset": _ISO_OFFSET},
            ).to_arrow_table()
        finally:
            con.close()
        absolute = result.column("absolute").combine_chunks().fill_null(False)
        utc = pc.cast(result.column("utc").combine_chunks(), pa.timestamp("us")).cast(
            pa.int64()).cast(UTC_TIMESTAMP)
        wall = pc.cast(result.column("wall").combine_chunks(), pa.timestamp("us"))
        wall = pc.if_else(absolute, pa.scalar(None, pa.timestamp("us")), wall)
        local = _localize(wall, zone, needs_zone, field)
        return pc.if_else(absolute, utc, local)
    return _localize(parse_times(text, time_format), zone, needs_zone, field)


def _localize(naive: pa.Array, zone: Any, needs_zone: list[str], field: str) -> pa.Array:
    micros = pc.cast(pc.cast(naive, pa.timestamp("us")), pa.int64())
    if micros.null_count == len(micros):
        return micros.cast(UTC_TIMESTAMP)
    if zone is None:
        needs_zone.append(field)
        return pa.nulls(len(micros), UTC_TIMESTAMP)
    filled = micros.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    mask = pc.is_null(micros).to_numpy(zero_copy_only=False)
    return pa.array(local_to_utc(filled, zone), type=pa.int64(), mask=mask).cast(UTC_TIMESTAMP)


def _numbers(text: pa.Array) -> pa.Array:
    con = compute_engine().cursor()
    try:
        con.register("v", pa.table({"s": pc.cast(text, pa.string())}))
        result = con.sql("select try_cast(s as double) as n from v").to_arrow_table()
    finally:
        con.close()
    return result.column("n").combine_chunks()


def _seconds(values: pa.Array, unit: str) -> pa.Array:
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        number = pc.cast(values, pa.float64())
    elif unit == "hh:mm:ss":
        parts = pc.extract_regex(_text(values), _HMS)
        hours = pc.cast(pc.if_else(pc.equal(pc.struct_field(parts, "h"), ""), "0",
                                   pc.struct_field(parts, "h")), pa.float64())
        minutes = pc.cast(pc.struct_field(parts, "m"), pa.float64())
        secs = pc.cast(pc.struct_field(parts, "s"), pa.float64())
        return pc.add(pc.add(pc.multiply(hours, 3600.0), pc.multiply(minutes, 60.0)), secs)
    else:
        number = _numbers(_text(values))
    if unit == "ms":  # divide, so that 312400 ms is exactly 312.4 s
        return pc.divide(number, 1000.0)
    scale = DURATION_UNITS[unit]
    return pc.multiply(number, scale if scale is not None else 1.0)


def _integers(values: pa.Array) -> pa.Array:
    if pa.types.is_integer(values.type):
        return pc.cast(values, pa.int32(), safe=False)
    # A leading whole number, so that "2 - High" is priority 2.
    lead = pc.extract_regex(_text(values), r"^(?P<n>-?\d{1,9})(?:\D.*)?$")
    return pc.cast(pc.struct_field(lead, "n"), pa.int32())


def _booleans(values: pa.Array) -> pa.Array:
    if pa.types.is_boolean(values.type):
        return values
    text = pc.utf8_lower(_text(values))
    number = _numbers(text)
    words = pc.if_else(pc.is_in(text, pa.array(sorted(TRUE_WORDS))), True,
                       pc.if_else(pc.is_in(text, pa.array(sorted(FALSE_WORDS))), False,
                                  pa.scalar(None, pa.bool_())))
    # A count (of transfers, reopenings) is true when above zero.
    return pc.if_else(pc.is_valid(words), words, pc.greater(number, 0.0))


def _joined(columns: dict[str, pa.Array], spec: str | list[str], sep: str) -> pa.Array:
    if isinstance(spec, str):
        return columns[spec]
    parts = [_text(columns[name]) for name in spec]
    return pc.binary_join_element_wise(*parts, sep)


# -- the format --------------------------------------------------------------------------


class MappedCsvFormat:
    """CSV or Parquet contact exports, read through a mapping file."""

    name = NAME
    description = "Any ACD/WFM contact export (CSV or Parquet) described by a mapping file."
    append_only = False

    def parse(self, chunk: SourceChunk, carry: Carry | None) -> ParseResult:
        mapping_path = str(chunk.options.get("mapping_path", "the mapping"))
        raw_mapping = chunk.options.get("mapping")
        if isinstance(raw_mapping, Mapping):
            m = raw_mapping
        elif isinstance(raw_mapping, dict):
            m = load_mapping(raw_mapping, mapping_path)
        else:
            raise SourceFormatError(chunk.path, f"the {NAME} format needs a mapping file: "
                                    "pass --mapping FILE.yaml (see examples/mappings/)")
        quarantined: list[QuarantinedLine] = []
        is_parquet = m.file_type == "parquet" or chunk.data[:4] == b"PAR1"
        rows = _read_parquet(chunk, m) if is_parquet else _read_csv(chunk, m, quarantined)
        zone = chunk.tz or (parse_zone(m.tz) if m.tz else None)
        table, excluded, bad = _contacts(rows, m, chunk, zone, mapping_path)
        quarantined.extend(bad)
        quarantined.sort(key=lambda q: q.line)
        return ParseResult(tables={CONTACTS.name: table}, rows_read=rows.read,
                           quarantined=quarantined, excluded=excluded)


def _contacts(
    rows: _Rows, m: Mapping, chunk: SourceChunk, zone: Any, mapping_path: str
) -> tuple[pa.Table, int, list[QuarantinedLine]]:
    n = len(rows.line_numbers)
    bad = _Bad(n)
    needs_zone: list[str] = []
    out: dict[str, pa.Array] = {}

    for field, spec in m.columns.items():
        given = _joined(rows.columns, spec, "-" if field == "contact_id" else " ")
        source = spec if isinstance(spec, str) else "+".join(spec)
        present = pc.is_valid(_text(given)) if not pa.types.is_timestamp(given.type) else (
            pc.is_valid(given))
        if field in TIME_FIELDS:
            time_format = m.times.get(field, "iso")
            value = _times(given, time_format, zone, needs_zone, field)
            what = {"iso": "an ISO 8601 time like 2024-03-04T09:15:02Z",
                    "epoch": "seconds since 1970", "epoch_ms": "milliseconds since 1970"
                    }.get(time_format, f"a time written {time_format!r}")
        elif field in DURATION_FIELDS:
            unit = m.durations.get(field, "s")
            value = _seconds(given, unit)
            value = pc.if_else(pc.less(value, 0.0), pa.scalar(None, pa.float64()), value)
            what = "a duration of 0 or more, " + (
                "written H:MM:SS or MM:SS" if unit == "hh:mm:ss" else f"in {unit}")
        elif field in INTEGER_FIELDS:
            value = _integers(given)
            what = "a whole number"
        elif field in BOOLEAN_FIELDS:
            value = _booleans(given)
            what = "yes/no, true/false or a count"
        elif field == "outcome":
            value = _lookup(_text(given), m.outcome_values)
            what = (f"one of the outcome_values in {mapping_path} "
                    f"({', '.join(m.outcome_values)}); add this value there")
        else:
            value = _text(given)
            if field in m.values:
                mapped = _lookup(value, m.values[field])
                value = pc.if_else(pc.is_valid(mapped), mapped, value)
                value = pc.if_else(pc.equal(value, ""), None, value)  # mapped to "": unknown
            what = "text"
        if field in REQUIRED or field == "outcome":
            bad.reject(field, given, pc.is_valid(value), what, source)
        elif field not in TEXT_FIELDS:  # any text is valid; a value mapped to "" is unknown
            ok = pc.or_kleene(pc.invert(present), pc.is_valid(value))
            bad.reject(field, given, ok, what, source)
        out[field] = value

    if needs_zone:
        raise SourceFormatError(
            chunk.path,
            f"{', '.join(sorted(set(needs_zone)))}: the times are local clock times and no "
            f"time zone is known; add 'tz: Europe/Paris' (your zone) to {mapping_path} or "
            "pass --tz",
        )

    excluded_mask = np.zeros(n, dtype=np.bool_)
    for column, skip in m.exclude_values.items():
        hit = pc.is_in(pc.utf8_lower(_text(rows.columns[column])),
                       pa.array([s.strip().lower() for s in skip]))
        excluded_mask |= hit.fill_null(False).to_numpy(zero_copy_only=False)

    contact_ids = out["contact_id"].to_pylist()
    keep = bad.valid & ~excluded_mask
    seen: dict[str, int] = {}
    quarantined: list[QuarantinedLine] = []
    for row in np.flatnonzero(keep).tolist():
        cid = contact_ids[row]
        if cid in seen:
            keep[row] = False
            quarantined.append(QuarantinedLine(
                line=int(rows.line_numbers[row]), text=rows.texts[row], field="contact_id",
                reason=(f"contact_id {cid!r} already appears on line {seen[cid]}; one row "
                        "per contact (the first one loads)"),
            ))
        else:
            seen[cid] = int(rows.line_numbers[row])
    for row, reason in bad.problems.items():
        if not excluded_mask[row]:
            quarantined.append(QuarantinedLine(
                line=int(rows.line_numbers[row]), reason=reason, text=rows.texts[row],
                field=bad.fields[row],
            ))
    excluded = int(np.count_nonzero(excluded_mask))

    mask = pa.array(keep)
    kept = int(np.count_nonzero(keep))
    columns = {field: value.filter(mask) for field, value in out.items()}
    for field, constant in m.constants.items():
        columns[field] = pa.array([constant] * kept).cast(
            CONTACTS.schema.field(field).type)
    tenant = columns.get("tenant")
    columns["tenant"] = (pa.array([chunk.tenant] * kept, pa.string()) if tenant is None
                         else pc.coalesce(tenant, pa.scalar(chunk.tenant)))
    columns["source"] = pa.array([m.source] * kept, pa.string())
    return CONTACTS.conform(pa.table(columns)), excluded, quarantined


FORMAT = register_format(MappedCsvFormat())

__all__ = ["FORMAT", "NAME", "CsvOptions", "MappedCsvFormat", "Mapping", "load_mapping"]
