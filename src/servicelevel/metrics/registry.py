"""One registry of metrics. Each metric is declared once, with its docs and its formula.

A formula turns a canonical table (an Ibis table expression, already filtered to the
contacts in scope) into named *components*: aggregate expressions that add up across
periods and groups. The metric's kind says how components combine into a value:

- ``ratio``: ``numerator / denominator`` (× 100 for percentages). Means such as ASA are
  ratios too (sum of waits / answered), so every roll-up is exact: the components are
  summed, never the values averaged;
- ``count``: one additive component, the value;
- ``maximum`` / ``minimum``: one component that rolls up by max / min;
- ``snapshot``: one component measured at the end of each period (backlog): a longer
  period takes the value of its last part, never their sum.

Most metrics read the rows of one canonical table, each row falling in the period of its
own timestamp. Metrics that do not fit that (time in state split at period boundaries,
a snapshot at period end, a self-join of repeat contacts, forecasts joined to actual
contacts, costs spread over the contacts of a period) declare a ``prepare`` function: it
reads any canonical tables through the ``TableSource`` and returns rows that already
carry their period timestamp in a ``period_at`` column (see ``periods.Window``), which
then go through the same aggregate path as every other metric. Everything stays an Ibis
expression, so it runs on any backend.

Built-in metrics register exactly as extensions do, through ``register``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import ibis.expr.types as ir

from servicelevel.errors import InputError, UnknownNameError
from servicelevel.metrics.periods import Window
from servicelevel.registry import Registry


class Kind(StrEnum):
    RATIO = "ratio"
    COUNT = "count"
    MAXIMUM = "maximum"
    MINIMUM = "minimum"
    SNAPSHOT = "snapshot"


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"


class Unit(StrEnum):
    PERCENT = "percent"
    SECONDS = "seconds"
    CONTACTS = "contacts"
    COUNT = "count"
    SCORE = "score"
    CURRENCY = "currency"
    HOURS = "hours"


@dataclass(frozen=True)
class Parameter:
    """A parameter of a metric, with its default and the values it accepts."""

    name: str
    default: Any
    description: str
    choices: tuple[str, ...] | None = None
    duration: bool = False  # a number of seconds, also written like "20s" or "2m"

    def parse(self, metric: str, raw: Any) -> Any:
        """``raw`` (text from the command line or a YAML value) as this parameter's type."""
        where = f"{metric}.{self.name}"
        if self.choices is not None:
            value = str(raw)
            if value not in self.choices:
                close = difflib.get_close_matches(value, self.choices, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InputError(
                    f"{where}: {value!r} is not one of {', '.join(self.choices)}{hint}"
                )
            return value
        if isinstance(self.default, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "yes", "1", "on"):
                return True
            if text in ("false", "no", "0", "off"):
                return False
            raise InputError(f"{where}: {raw!r} is not true or false")
        if isinstance(self.default, int | float):
            from servicelevel.model.time import parse_duration

            number = parse_duration(raw, option=where) if self.duration else _number(where, raw)
            return int(number) if isinstance(self.default, int) and number.is_integer() else number
        return str(raw)


def _number(where: str, raw: Any) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {raw!r} is not a number") from None


#: A formula: (table, parameters) -> named aggregate components.
Formula = Callable[[ir.Table, Mapping[str, Any]], dict[str, ir.Scalar]]

#: Gives the Ibis table of a canonical table name on the chosen backend.
TableSource = Callable[[str], ir.Table]

#: Builds the rows a formula aggregates, each with its period timestamp in ``period_at``.
Prepare = Callable[[TableSource, Window, Mapping[str, Any]], ir.Table]

#: The column of a prepared table that places each row in a period.
PERIOD_AT = "period_at"


def union_rows(first: ir.Table, *others: ir.Table) -> ir.Table:
    """Rows of several prepared tables with the same columns, nullable or not, as one."""
    tables = [first, *others]
    schema = {name: dtype.copy(nullable=True) for name, dtype in first.schema().items()}
    combined = tables[0].cast(schema)
    for table in tables[1:]:
        combined = combined.union(table.select(*schema).cast(schema))
    return combined


@dataclass(frozen=True)
class Metric:
    """One metric: what it means, how it is computed, how it rolls up."""

    key: str
    name: str
    unit: Unit
    kind: Kind
    direction: Direction
    table: str  # canonical table it reads
    columns: tuple[str, ...]  # columns it needs
    definition: str  # user-facing, one paragraph
    formula: Formula
    parameters: tuple[Parameter, ...] = ()
    notes: str = ""  # where the industry disagrees, and who uses which definition
    prepare: Prepare | None = None  # rows not of one table: see the module docstring
    tables: tuple[str, ...] = ()  # every canonical table read; (table,) when not given
    additive: bool = True  # a longer period's value is the one of its parts' components
    components: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        expected = {
            Kind.RATIO: ("numerator", "denominator"),
            Kind.COUNT: ("value",),
            Kind.MAXIMUM: ("value",),
            Kind.MINIMUM: ("value",),
            Kind.SNAPSHOT: ("value",),
        }[self.kind]
        object.__setattr__(self, "components", expected)
        if not self.tables:
            object.__setattr__(self, "tables", (self.table,))

    @property
    def scale(self) -> float:
        return 100.0 if self.unit is Unit.PERCENT and self.kind is Kind.RATIO else 1.0

    def resolve(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Every parameter's value: the given ones parsed, the rest their defaults."""
        known = {p.name: p for p in self.parameters}
        given = dict(given or {})
        unknown = set(given) - set(known)
        if unknown:
            name = sorted(unknown)[0]
            raise UnknownNameError(f"parameter of {self.key}", name, known)
        return {
            name: parameter.parse(self.key, given[name]) if name in given else parameter.default
            for name, parameter in known.items()
        }

    def value(self, parts: Mapping[str, float | None]) -> float | None:
        """The metric's value from its (rolled-up) components; None when undefined."""
        if self.kind is Kind.RATIO:
            numerator, denominator = parts["numerator"], parts["denominator"]
            if not denominator or numerator is None:
                return None
            return self.scale * float(numerator) / float(denominator)
        result = parts["value"]
        return None if result is None else float(result)


# Each built-in module registers its metrics on import.
_METRICS: Registry[Metric] = Registry(
    "metric",
    [f"servicelevel.metrics.{module}"
     for module in ("efficiency", "handling", "quality", "workforce", "demand")],
)


def register(metric: Metric) -> Metric:
    """Add a metric to the registry (built-ins use this too)."""
    return _METRICS.add(metric.key, metric)


def get_metric(key: str) -> Metric:
    return _METRICS.get(key)


def metrics() -> dict[str, Metric]:
    return _METRICS.all()
