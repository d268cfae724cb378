"""Contract text → models, with every problem at once, each at file:line:column.

The text is parsed by a safe YAML loader only (no tags that build objects, nothing is
executed); duplicate keys and impossible dates are problems, not crashes. Pydantic
locations are mapped back to the YAML nodes' marks. After the structure, the meaning is
checked: metric keys and their parameters against the registry, ids, dates, calendar,
consequences that need a fee.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError

from servicelevel.errors import ContractError, InputError, UnknownNameError
from servicelevel.metrics import Direction, Kind, Unit, get_metric, metrics
from servicelevel.model.time import zone
from servicelevel.sla.schema import (
    Consequences,
    Contract,
    Exclusion,
    ObjectiveChange,
    ScorecardFile,
)

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class LoadedContract:
    """A valid contract, where it came from, and the hash of its exact text."""

    contract: Contract
    source: str
    sha256: str


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    path: str
    message: str

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


def load_contract(text: str, source: str = "contract.yaml") -> LoadedContract:
    """The contract in ``text``, or a ContractError listing every problem."""
    contract = _load(text, source, Contract)
    assert isinstance(contract, Contract)
    return LoadedContract(contract, source, hashlib.sha256(text.encode()).hexdigest())


def load_scorecards(text: str, source: str = "scorecards.yaml") -> Contract | ScorecardFile:
    """A contract, or a file of role scorecards alone (it has no ``objectives``)."""
    probe = _parse(text, source)[1]
    if isinstance(probe, dict) and "objectives" not in probe and "scorecards" in probe:
        return _load(text, source, ScorecardFile)
    return _load(text, source, Contract)


def _load(text: str, source: str, model: type[BaseModel]) -> Contract | ScorecardFile:
    node, data = _parse(text, source)
    problems: list[Problem] = []
    if node is None:
        raise ContractError([Problem(1, 1, "", "the file is empty").render(source)])
    problems += _duplicates(node)
    try:
        parsed = model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            loc = tuple(x for x in item["loc"] if isinstance(x, str | int))
            problems.append(_at(node, loc, _message(model, loc, item)))
        parsed = None
    if model is Contract:
        problems += [_at(node, loc, message) for loc, message in _raw_problems(data)]
    if parsed is not None:
        if isinstance(parsed, Contract):
            found = _meaning(parsed)
        else:
            assert isinstance(parsed, ScorecardFile)
            found = _zone_problems(parsed.time_zone, ("time_zone",))
            found += _scorecard_problems(parsed.scorecards, None)
        problems += [_at(node, loc, message) for loc, message in found]
    if problems:
        ordered = sorted(set(problems), key=lambda p: (p.line, p.column, p.path, p.message))
        raise ContractError([p.render(source) for p in ordered])
    assert isinstance(parsed, Contract | ScorecardFile)
    return parsed


# --- YAML, safely --------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """The safe loader; an impossible date stays text so validation can say so."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _parse(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = error.problem or "not valid YAML"
        raise ContractError(
            [Problem(line, column, "", f"not valid YAML: {what}").render(source)]
        ) from None
    except yaml.YAMLError as error:
        raise ContractError([Problem(1, 1, "", f"not valid YAML: {error}").render(source)]) \
            from None
    finally:
        loader.dispose()
    return node, data


def _duplicates(node: yaml.Node, loc: Loc = ()) -> list[Problem]:
    problems = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                problems.append(Problem(
                    key.start_mark.line + 1, key.start_mark.column + 1, _path((*loc, name)),
                    "is written twice; keep one",
                ))
            seen.add(name)
            problems += _duplicates(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicates(item, (*loc, index))
    return problems


def _node_at(root: yaml.Node, loc: Loc) -> tuple[yaml.Node, bool]:
    """The deepest node on ``loc``, and whether it is the key node of the last part."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if pair is None:
                return node, False
            node = pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node, False
            node = node.value[part]
        else:
            return node, False
    return node, True


def _at(root: yaml.Node, loc: Loc, message: str) -> Problem:
    if loc and loc[-1] == "[key]":  # a mapping key that is not allowed: point at the key
        loc = loc[:-1]
        parent, _ = _node_at(root, loc[:-1])
        if isinstance(parent, yaml.MappingNode):
            key = next((k for k, _ in parent.value if str(k.value) == str(loc[-1])), None)
            if key is not None:
                return Problem(key.start_mark.line + 1, key.start_mark.column + 1, _path(loc),
                               message)
    node, _ = _node_at(root, loc)
    mark = node.start_mark
    return Problem(mark.line + 1, mark.column + 1, _path(loc), message)


def _path(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def show(value: Any) -> str:
    """A value as the user wrote it, quoted like JSON."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    if value is None:
        return "nothing"
    return str(value).lower() if isinstance(value, bool) else str(value)


# --- structure: pydantic errors in the project's words ----------------------------------


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that holds the last part of ``loc`` (for field suggestions)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        current = _unwrap(current, part)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any, part: str | int) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin in (Union, types.UnionType):
            models = [a for a in args if a is not type(None)]
            annotation = models[0] if len(models) == 1 else annotation
            if len(models) != 1:
                return annotation
            continue
        if origin is list and isinstance(part, int):
            return args[0]
        if origin is dict and isinstance(part, str):
            return args[1]
        return annotation


_KIND_OF_VALUE = {
    "dict_type": "a mapping of names to values", "model_type": "a mapping of names to values",
    "list_type": "a list", "string_type": "text", "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def _message(model: type[BaseModel], loc: Loc, item: Any) -> str:
    kind = item["type"]
    value = item.get("input")
    ctx = item.get("ctx", {})
    if kind == "missing":
        return "is required; add it"
    if kind == "extra_forbidden":
        owner = _model_at(model, loc)
        fields = sorted(owner.model_fields) if owner else []
        close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"is not a field here{hint} (fields: {', '.join(fields)})"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{show(value)} is not one of {', '.join(choices)}{hint}"
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type",
                "date_from_datetime_inexact"):
        return f"{show(value)} is not a date; write YYYY-MM-DD, like 1999-02-01"
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return f"{show(value)} is not a date and time; write YYYY-MM-DDTHH:MM, like " \
               "1999-02-01T09:00"
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        whole = kind.startswith("int")
        return f"{show(value)} is not a {'whole ' if whole else ''}number"
    if kind == "string_pattern_mismatch":
        return f"{show(value)} is not an id; use lowercase letters, digits, '-' and '_'"
    if kind in _KIND_OF_VALUE:
        return f"{show(value)} is not {_KIND_OF_VALUE[kind]}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {"greater_than": "more than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]
        bound = next(iter(ctx.values()))
        return f"{show(value)} is out of range; write a number {words} {bound}"
    if kind == "too_short":
        return "is empty; list at least one"
    if kind == "value_error":
        return str(ctx.get("error", item["msg"]))
    return f"{show(value)}: {item['msg']}"


# --- meaning ----------------------------------------------------------------------------


Found = list[tuple[Loc, str]]

_HHMM = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def _meaning(contract: Contract) -> Found:
    found: Found = []
    ids = [o.id for o in contract.objectives]
    for index, objective in enumerate(contract.objectives):
        loc: Loc = ("objectives", index)
        if ids.index(objective.id) != index:
            found.append(((*loc, "id"), f"{show(objective.id)} is used twice; ids are unique"))
        found += _consequence_problems(objective.consequences, contract, (*loc, "consequences"))
    found += _exclusion_problems(contract.exclusions, set(ids), ("exclusions",))
    if contract.cap_fee_percent is not None and contract.fee is None:
        found.append((("cap_fee_percent",), "a cap as a share of the fee needs 'fee.monthly'"))
    known = set(ids)
    previous = contract.effective_from
    versions_seen = {contract.version}
    for a_index, amendment in enumerate(contract.amendments):
        loc = ("amendments", a_index)
        if amendment.effective_from <= previous:
            found.append(((*loc, "effective_from"),
                          f"{amendment.effective_from} is not after {previous}; list "
                          "amendments in order, each after the version before"))
        if contract.effective_to and amendment.effective_from > contract.effective_to:
            found.append(((*loc, "effective_from"),
                          f"{amendment.effective_from} is after effective_to "
                          f"{contract.effective_to}"))
        previous = max(previous, amendment.effective_from)
        if amendment.version in versions_seen:
            found.append(((*loc, "version"),
                          f"{show(amendment.version)} is used twice; each version is unique"))
        versions_seen.add(amendment.version)
        for c_index, change in enumerate(amendment.objectives):
            found += _change_problems(change, contract, known, (*loc, "objectives", c_index))
            known.add(change.id)
        for r_index, removed in enumerate(amendment.remove_objectives):
            if removed not in known:
                found.append(((*loc, "remove_objectives", r_index), _unknown_id(removed, known)))
            known.discard(removed)
        found += _exclusion_problems(amendment.exclusions, known, (*loc, "exclusions"))
    found += _scorecard_problems(contract.scorecards, set(ids) | known)
    return found


def _raw_problems(data: Any) -> Found:
    """What can be checked on the parsed YAML even when its structure has problems."""
    if not isinstance(data, dict):
        return []
    found: Found = []
    objectives = data.get("objectives")
    for index, raw in enumerate(objectives if isinstance(objectives, list) else []):
        if not isinstance(raw, dict) or not isinstance(raw.get("metric"), str):
            continue
        params = raw.get("params")
        comparison = raw.get("comparison")
        target = raw.get("target")
        found += _metric_problems(
            raw["metric"], params if isinstance(params, dict) else None,
            comparison if comparison in (">=", ">", "<=", "<") else None,
            float(target) if isinstance(target, int | float) else None, ("objectives", index))
    places: list[tuple[Loc, Any]] = [(("calendar",), data.get("calendar"))]
    amendments = data.get("amendments")
    for index, raw in enumerate(amendments if isinstance(amendments, list) else []):
        if isinstance(raw, dict):
            places.append((("amendments", index, "calendar"), raw.get("calendar")))
    for loc, calendar in places:
        if isinstance(calendar, dict):
            found += _calendar_problems(calendar, loc)
    return found


def _unknown_id(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{show(name)} is not an objective id{hint} (ids: {', '.join(sorted(known))})"


def _metric_problems(key: str | None, params: dict[str, Any] | None, comparison: str | None,
                     target: float | None, loc: Loc) -> Found:
    if key is None:
        return []
    try:
        metric = get_metric(key)
    except UnknownNameError:
        known = sorted(metrics())
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return [((*loc, "metric"),
                 f"{show(key)} is not a metric of the registry{hint} "
                 f"(known: {', '.join(known)})")]
    found: Found = []
    for name, value in (params or {}).items():
        try:
            metric.resolve({name: value})
        except UnknownNameError:
            names = [p.name for p in metric.parameters]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            listed = ", ".join(names) or "none"
            found.append(((*loc, "params", name),
                          f"is not a parameter of {key}{hint} (parameters: {listed})"))
        except InputError as error:
            text = str(error).split(": ", 1)[-1]
            text = text.replace("write a number with a unit, like '20s', '30m', '1h' or '14d'",
                                f"write it with a unit, like \"{_duration_hint(value)}\"")
            text = re.sub(r"^'([^']*)'", lambda m: show(m.group(1)), text)
            found.append(((*loc, "params", name), text))
    if comparison is not None:
        higher = metric.direction is Direction.HIGHER_IS_BETTER
        if higher != comparison.startswith(">"):
            better = "higher" if higher else "lower"
            right = ">= or >" if higher else "<= or <"
            found.append(((*loc, "comparison"),
                          f"{show(comparison)} does not fit {key}: {better} is better; "
                          f"compare with {right}"))
    if target is not None and metric.unit is Unit.PERCENT and metric.kind is Kind.RATIO \
            and not 0 <= target <= 100:
        found.append(((*loc, "target"),
                      f"{target:g} is not a percentage; write points between 0 and 100, "
                      "like 80 for 80%"))
    return found


def _duration_hint(value: Any) -> str:
    digits = re.match(r"\s*(\d+)", str(value))
    return f"{digits.group(1)}s" if digits else "20s"


def _change_problems(change: ObjectiveChange, contract: Contract, known: set[str],
                     loc: Loc) -> Found:
    found: Found = []
    base = next((o for o in contract.objectives if o.id == change.id), None)
    if change.id not in known:
        missing = [f for f in ("metric", "comparison", "target", "owner")
                   if getattr(change, f) is None]
        if missing:
            found.append(((*loc, "id"),
                          f"{show(change.id)} is a new objective: write its "
                          f"{', '.join(missing)} (or use an existing id: "
                          f"{', '.join(sorted(known))})"))
    metric = change.metric or (base.metric if base else None)
    comparison = change.comparison or (base.comparison if base else None)
    found += _metric_problems(metric, change.params, comparison, change.target, loc)
    found += _consequence_problems(change.consequences, contract, (*loc, "consequences"))
    return found


def _consequence_problems(consequences: Consequences | None, contract: Contract,
                          loc: Loc) -> Found:
    if consequences is None or contract.fee is not None:
        return []
    uses_fee = consequences.cap_fee_percent is not None or any(
        getattr(a, "fee_percent", None) is not None
        for a in [consequences.per_point, consequences.fixed, *(consequences.tiers or [])]
    )
    if uses_fee:
        return [(loc, "a share of the fee needs the contract's 'fee.monthly'")]
    return []


def _zone_problems(name: str, loc: Loc) -> Found:
    try:
        zone(name)
    except InputError:
        return [(loc, f"{show(name)} is not an IANA time zone; write one like "
                      "\"Asia/Jerusalem\", \"Europe/Paris\" or \"UTC\"")]
    return []


def _calendar_problems(calendar: dict[str, Any], loc: Loc) -> Found:
    """Zone, opening hours and holiday countries of a calendar as written."""
    import holidays

    found: Found = []
    if isinstance(calendar.get("time_zone"), str):
        found += _zone_problems(calendar["time_zone"], (*loc, "time_zone"))
    hours = calendar.get("business_hours")
    for day, spans in (hours.items() if isinstance(hours, dict) else []):
        for index, span in enumerate(spans if isinstance(spans, list) else []):
            if isinstance(span, str) and parse_span(span) is None:
                found.append(((*loc, "business_hours", day, index),
                              f"{show(span)} is not opening hours; write \"HH:MM-HH:MM\", "
                              "like \"07:00-24:00\""))
    supported = holidays.list_supported_countries()
    raw_holidays = calendar.get("holidays")
    countries = raw_holidays.get("countries") if isinstance(raw_holidays, dict) else None
    for index, code in enumerate(countries if isinstance(countries, list) else []):
        country, _, subdivision = str(code).partition("-")
        if country not in supported:
            close = difflib.get_close_matches(country, sorted(supported), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            found.append(((*loc, "holidays", "countries", index),
                          f"{show(code)} is not a country code{hint}; write ISO 3166 like "
                          "\"IL\" or \"US-CA\""))
        elif subdivision and subdivision not in supported[country]:
            found.append(((*loc, "holidays", "countries", index),
                          f"{show(code)}: {subdivision!r} is not a subdivision of {country} "
                          f"(known: {', '.join(supported[country])})"))
    return found


def parse_span(span: str) -> tuple[int, int] | None:
    """``"07:00-24:00"`` as (start, end) seconds of the day; None when malformed."""
    match = _HHMM.match(str(span).strip())
    if not match:
        return None
    h1, m1, h2, m2 = (int(x) for x in match.groups())
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if m1 > 59 or m2 > 59 or end > 86_400 or start >= end:
        return None
    return start, end


def _exclusion_problems(exclusions: Sequence[Exclusion], ids: set[str], loc: Loc) -> Found:
    found: Found = []
    for index, exclusion in enumerate(exclusions):
        for o_index, objective_id in enumerate(exclusion.objectives):
            if objective_id not in ids:
                found.append(((*loc, index, "objectives", o_index),
                              _unknown_id(objective_id, ids)))
        for name in ("start", "end"):
            value: datetime | None = getattr(exclusion, name)
            if value is not None and (value.minute % 15 or value.second or value.microsecond
                                      or value.tzinfo is not None):
                found.append(((*loc, index, name),
                              f"{show(value.isoformat())} is not a local time on a quarter "
                              "hour; write it like 1999-03-10T09:15, without a zone"))
    return found


def _scorecard_problems(scorecards: Mapping[Any, Any], ids: set[str] | None) -> Found:
    found: Found = []
    for role, items in scorecards.items():
        for index, item in enumerate(items):
            loc: Loc = ("scorecards", role, index)
            if item.objective is not None:
                if ids is None:
                    found.append(((*loc, "objective"),
                                  "cascading an objective needs the contract: put the "
                                  "scorecards in the contract file"))
                elif item.objective not in ids:
                    found.append(((*loc, "objective"), _unknown_id(item.objective, ids)))
            found += _metric_problems(item.metric, item.params, item.comparison, item.target,
                                      loc)
    return found

