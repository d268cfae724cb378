"""Role scorecards: KPI sets with targets for agents, team leads, QA, trainers, managers.

An item either cascades a contract objective (same metric, parameters, comparison and
target, from the version in force on the first day asked) or names its own metric and
target. Agent scorecards are grouped by agent, team-lead scorecards by team; the others
are one line for the whole scope.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from servicelevel.errors import InputError
from servicelevel.metrics import Kind, KpiQuery, KpiRow, MetricRequest, PeriodSpec, compute
from servicelevel.metrics.engine import TableSource
from servicelevel.model.time import zone
from servicelevel.sla.evaluation import meets, period_label
from servicelevel.sla.schema import ROLES, Contract, ScorecardFile
from servicelevel.sla.versions import version_on, versions

#: The dimension each role's scorecard is grouped by (None: one line).
ROLE_GROUP: dict[str, str | None] = {
    "agent": "agent", "team_lead": "team", "qa": None, "trainer": None, "ops_manager": None,
}


@dataclass(frozen=True)
class ScorecardTarget:
    name: str
    metric: str
    params: dict[str, Any]
    comparison: str
    target: float


@dataclass(frozen=True)
class ScorecardLine:
    role: str
    who: str | None
    period: str
    kpi: str
    metric: str
    actual: float | None
    comparison: str
    target: float
    verdict: str  # met, missed, no data

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role, "who": self.who, "period": self.period, "kpi": self.kpi,
            "metric": self.metric,
            "actual": None if self.actual is None else round(self.actual, 4),
            "comparison": self.comparison, "target": self.target, "verdict": self.verdict,
        }


def targets(source: Contract | ScorecardFile, role: str, on: date | None) -> list[ScorecardTarget]:
    """The role's KPIs with targets, objectives cascaded from the version in force."""
    if role not in ROLES:
        raise InputError(f"--role: {role!r} is not a role; use one of {', '.join(ROLES)}")
    items = source.scorecards.get(role, [])  # type: ignore[call-overload]
    if not items:
        raise InputError(f"--role: the file has no {role!r} scorecard; it has: "
                         f"{', '.join(source.scorecards) or 'none'}")
    version = None
    if isinstance(source, Contract):
        all_versions = versions(source)
        version = version_on(all_versions, on or source.effective_from) or all_versions[-1]
    result = []
    for item in items:
        if item.objective is not None:
            assert version is not None
            objective = version.objective(item.objective)
            if objective is None:
                raise InputError(f"scorecard {role}: objective {item.objective!r} is not in "
                                 f"force in version {version.version}")
            result.append(ScorecardTarget(
                item.name or objective.name or objective.id, objective.metric,
                dict(objective.params), item.comparison or objective.comparison,
                item.target if item.target is not None else objective.target))
        else:
            assert item.metric and item.comparison and item.target is not None
            result.append(ScorecardTarget(item.name or item.metric, item.metric,
                                          dict(item.params), item.comparison, item.target))
    return result


def scorecard(tables: TableSource, source: Contract | ScorecardFile, role: str,
              first: date | None, last: date | None, who: str | None = None
              ) -> list[ScorecardLine]:
    """Each KPI of the role per month (and per person for agent and team lead)."""
    group = ROLE_GROUP.get(role)
    if who is not None and group is None:
        raise InputError(f"--who: the {role} scorecard is one line for the whole scope; "
                         "--who goes with --role agent or team_lead")
    kpis = targets(source, role, first)
    if isinstance(source, Contract):
        tz, tenants = zone(source.calendar.time_zone), source.scope.tenants
    else:
        tz, tenants = zone(source.time_zone), [source.tenant] if source.tenant else []
    spec = PeriodSpec.parse("month")
    filters: dict[str, list[str]] = {}
    if who is not None and group is not None:
        filters[group] = [who]
    if len(tenants) > 1:
        filters["tenant"] = list(tenants)
    lines = []
    for kpi in kpis:
        query = KpiQuery(
            metrics=[MetricRequest.of(kpi.metric, kpi.params)], period=spec, tz=tz,
            by=(group,) if group else (), start=first, end=last,
            tenant=tenants[0] if len(tenants) == 1 else None, filters=filters,
        )
        for row in _compute_by(tables, query, group):
            person = dict(row.group).get(group) if group else None
            if group and person is None:
                continue  # contacts with no agent (or team) recorded
            verdict = "no data" if row.value is None else (
                "met" if meets(row.value, kpi.comparison, kpi.target) else "missed")
            lines.append(ScorecardLine(role, person, period_label(spec, row.period_start),
                                       kpi.name, kpi.metric, row.value, kpi.comparison,
                                       kpi.target, verdict))
    lines.sort(key=lambda line: (line.period, line.who or "", ))
    return lines


def _compute_by(tables: TableSource, query: KpiQuery, group: str | None) -> list[KpiRow]:
    """The query's rows; a team the metric's rows do not carry comes from the roster.

    Contacts carry their team, but agent states, QA reviews or surveys carry only the
    agent: those are computed per agent and rolled up to the agent's team in the roster
    (``agents.team``), adding numerators and denominators, so team figures stay exact.
    """
    try:
        return compute(tables, query)
    except InputError:
        if group != "team":
            raise
    roster = tables("agents").select("agent_id", "team").to_pyarrow().to_pylist()
    team_of = {r["agent_id"]: r["team"] for r in roster if r["team"] is not None}
    who = list(query.filters.get("team", ()))
    filters = {k: v for k, v in query.filters.items() if k != "team"}
    if who:
        filters["agent"] = [a for a, t in team_of.items() if t in who]
    by_agent = dataclasses.replace(query, by=("agent",), filters=filters)
    metric = query.metrics[0].metric
    if metric.kind not in (Kind.RATIO, Kind.COUNT):
        raise InputError(f"{metric.key}: its rows carry no team and a {metric.kind.value} "
                         "cannot be added up from agents to teams")
    sums: dict[tuple[datetime, str], list[float]] = {}
    for row in compute(tables, by_agent):
        team = team_of.get(str(dict(row.group).get("agent")))
        if team is None:
            continue
        parts = sums.setdefault((row.period_start, team), [0.0, 0.0])
        if metric.kind is Kind.RATIO:
            parts[0] += row.numerator or 0.0
            parts[1] += row.denominator or 0.0
        elif row.value is not None:
            parts[0] += row.value
    return [
        KpiRow(start, (("team", team),), metric.key,
               metric.value({"numerator": num, "denominator": den, "value": num}), num, den)
        for (start, team), (num, den) in sorted(sums.items())
    ]
