"""Schedules: shifts (with their breaks and lunches) that cover a per-interval staffing
requirement, for anonymous or named agents.

Pure (no I/O): a CP-SAT model (OR-Tools), laid out by ``schedule_problem``:

* one integer variable per shift group (template, day, start): the agents starting there;
* one integer variable per (group, break pattern) when the template has breaks: how many of
  the group's agents take their breaks at those offsets (a pattern is one placement of all
  the template's breaks that respects their windows and spacing; the counts add up to the
  group). Agents of a group are interchangeable, so patterns are dealt out after solving;
* with named agents, the *aggregate model*: one integer variable per (class of identical
  agents, group) counts the class's shifts there (the group's count is their sum), and each
  agent rule (one shift a day, weekly shifts and hours, rest between shifts, consecutive
  days) is summed over the class, a relaxation; after solving, a small model with one
  boolean per (agent, group its class works) shares each class's shifts out among its
  agents under every rule. Should that fail, the *agent model* is solved instead: one
  boolean per (agent, group) the agent may work, identical agents ordered by shifts worked;
* agents working in an interval = agents on shift minus those on a break; each interval has
  a floor and a ceiling (``agents_per_interval``) and at most ``max_agents`` shifts a day.

The objective is lexicographic, solved in two passes (on the aggregate model, or the
anonymous or agent model): first the fewest agent-intervals short (under-staffing), then,
with under-staffing held at that value, the least cost (paid intervals, in hundredths) plus
over-staffing (agent-intervals over). The greedy schedule
(``schedule_greedy``) is the first pass's starting hint and the first pass's schedule the
second's. An unmet requirement still gives the best partial schedule, and
``Schedule.shortfalls`` names the intervals left short; floors that cannot all be met
together are reported as the rules at fault.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from servicelevel.errors import InputError
from servicelevel.planning.schedule_greedy import greedy_placements
from servicelevel.planning.schedule_problem import (
    COST_SCALE,
    Placement,
    Problem,
    build_problem,
    hours_in_intervals,
)
from servicelevel.planning.schedule_rules import (
    AgentRule,
    AgentsPerInterval,
    BreakRule,
    ScheduleRules,
    ShiftTemplate,
    Spacing,
    StaffingLimit,
    WeeklyHours,
)

Progress = Callable[[str, float, float], None]
"""Called at each better solution: (phase, objective, bound); phase is ``under_staffing``
or ``cost``."""


@dataclass(frozen=True)
class Break:
    """A break, lunch or other activity inside a shift; ``end`` is exclusive."""

    kind: str
    start: pd.Timestamp
    end: pd.Timestamp
    paid: bool


@dataclass(frozen=True)
class Shift:
    """One agent's shift; ``end`` is exclusive."""

    template: str
    start: pd.Timestamp
    end: pd.Timestamp
    breaks: tuple[Break, ...] = ()
    agent_id: str | None = None

    @property
    def break_start(self) -> pd.Timestamp | None:
        """Start of the first break, None without breaks."""
        return self.breaks[0].start if self.breaks else None

    @property
    def break_end(self) -> pd.Timestamp | None:
        """End of the first break, None without breaks."""
        return self.breaks[0].end if self.breaks else None


@dataclass(frozen=True)
class Schedule:
    """A solved schedule.

    ``coverage`` has one row per interval of the plan: ``interval_start``,
    ``required_agents``, ``scheduled_agents`` (working, not on a break), ``short``, ``over``,
    ``open`` (within opening hours; closed intervals count neither short nor over),
    ``min_agents`` and ``max_agents`` (None: no ceiling).
    """

    coverage: pd.DataFrame
    shifts: list[Shift]
    status: str  # OPTIMAL (both passes proven), FEASIBLE (a time limit was hit), GREEDY
    gap: float  # relative gap of the pass not proven optimal; 0 when OPTIMAL
    cost: float  # cost per interval × paid intervals, summed over shifts
    shortfalls: list[pd.Timestamp] = field(default_factory=list)
    solve_seconds: float = 0.0
    under_staffing_bound: int = 0  # proven lower bound on under-staffing
    gaps: dict[str, float] = field(default_factory=dict)  # per pass

    @property
    def under_staffing(self) -> int:
        """Agent-intervals short in total."""
        return int(self.coverage["short"].sum())

    @property
    def over_staffing(self) -> int:
        """Agent-intervals over the requirement in total."""
        return int(self.coverage["over"].sum())


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, phase: str, report: Progress) -> None:
        super().__init__()
        self._phase, self._report = phase, report

    def on_solution_callback(self) -> None:
        self._report(self._phase, float(self.ObjectiveValue()), float(self.BestObjectiveBound()))


class _Model:
    """The CP-SAT model of a problem. ``soft_floors`` turns minimums into penalties, to find
    which ones cannot be met together; ``aggregate`` counts shifts per class of identical
    agents instead of one boolean per agent (a relaxation, shared out by ``_assign``)."""

    def __init__(self, problem: Problem, *, soft_floors: bool = False,
                 aggregate: bool = False) -> None:
        self.problem = p = problem
        self.model = m = cp_model.CpModel()
        self.aggregate = aggregate
        self.classes = _classes(p)
        self.class_of = {a: c for c, members in enumerate(self.classes) for a in members}
        target = [max(r, lo) for r, lo in zip(p.need, p.low, strict=True)]
        top = max(target, default=0)
        cap = 2 * top + 1 if p.rules.max_agents is None else min(2 * top + 1, p.rules.max_agents)
        named = bool(p.agents)
        takers: list[list[int]] = [[] for _ in p.groups]
        for a, eligible in enumerate(p.eligible):
            for g in eligible:
                takers[g].append(a)
        self.x: dict[int, cp_model.IntVar] = {}
        self.y: dict[tuple[int, int], cp_model.IntVar] = {}
        self.a: dict[tuple[int, int], cp_model.IntVar] = {}
        self.z: dict[tuple[int, int], cp_model.IntVar] = {}
        terms: list[list[tuple[cp_model.IntVar, int]]] = [[] for _ in p.times]
        per_day: dict[int, list[cp_model.IntVar]] = {}
        for g, group in enumerate(p.groups):
            if named and not takers[g]:
                continue
            x = m.new_int_var(0, min(cap, len(takers[g])) if named else cap, f"x{g}")
            self.x[g] = x
            per_day.setdefault(group.day, []).append(x)
            if named and aggregate:
                members: dict[int, int] = {}  # class: its agents who may take g
                for a in takers[g]:
                    members[self.class_of[a]] = members.get(self.class_of[a], 0) + 1
                zs = [m.new_int_var(0, n, f"z{c}_{g}") for c, n in members.items()]
                self.z.update({(c, g): v for c, v in zip(members, zs, strict=True)})
                m.add(x == sum(zs))
            elif named:
                agents = [m.new_bool_var(f"a{a}_{g}") for a in takers[g]]
                self.a.update({(a, g): v for a, v in zip(takers[g], agents, strict=True)})
                m.add(x == sum(agents))
            ys: list[cp_model.IntVar] = []
            if len(group.patterns) > 1:
                ys = [m.new_int_var(0, cap, f"y{g}_{q}") for q in range(len(group.patterns))]
                self.y.update({(g, q): y for q, y in enumerate(ys)})
                m.add(sum(ys) == x)
            for k, pos in enumerate(group.covers):
                if pos < 0:
                    continue
                if ys:
                    off = [ys[q] for q in np.flatnonzero(group.off[:, k])]
                    terms[pos].append((x, 1))
                    terms[pos] += [(y, -1) for y in off]
                elif not group.off[0, k]:
                    terms[pos].append((x, 1))
        if p.rules.max_agents is not None:
            for xs in per_day.values():
                m.add(sum(xs) <= p.rules.max_agents)
        self.u: list[cp_model.IntVar] = []
        self.o: list[cp_model.IntVar] = []
        self.slack: list[tuple[str, cp_model.IntVar]] = []
        for i, t in enumerate(p.times):
            cov = cp_model.LinearExpr.weighted_sum([v for v, _ in terms[i]],
                                                   [c for _, c in terms[i]])
            u = m.new_int_var(0, p.need[i], f"u{i}")
            o = m.new_int_var(0, max(cap * len(p.groups), 1), f"o{i}")
            m.add(cov + u - o == p.need[i])
            self.u.append(u)
            self.o.append(o)
            if p.high[i] is not None:
                m.add(cov <= p.high[i])
            if p.low[i]:
                if soft_floors:
                    s = m.new_int_var(0, p.low[i], f"s{i}")
                    self.slack.append((f"min {p.low[i]} agents at {t}", s))
                    m.add(cov + s >= p.low[i])
                else:
                    m.add(cov >= p.low[i])
        if named and aggregate:
            per_class: list[dict[int, cp_model.IntVar]] = [{} for _ in self.classes]
            for (c, g), v in self.z.items():
                per_class[c][g] = v
            for alike, mine in zip(self.classes, per_class, strict=True):
                _agent_rules(p, m, p.agents[alike[0]], alike[0], mine, len(alike), None)
        elif named:
            shifts_of: list[list[cp_model.IntVar]] = [[] for _ in p.agents]
            for a in range(len(p.agents)):
                mine = {g: self.a[a, g] for g in p.eligible[a] if (a, g) in self.a}
                shifts_of[a] = list(mine.values())
                _agent_rules(p, m, p.agents[a], a, mine, 1,
                             self.slack if soft_floors else None)
            # Identical agents are interchangeable: the earlier one works at least as many
            # shifts.
            for alike in self.classes:
                for first, second in itertools.pairwise(alike):
                    m.add(sum(shifts_of[first]) >= sum(shifts_of[second]))
        self.cost = cp_model.LinearExpr.weighted_sum(
            list(self.x.values()), [p.groups[g].cost for g in self.x])

    def hint(self, placements: list[Placement]) -> None:
        """Start the search from these placements (relabelling identical agents so the
        hint keeps the symmetry-breaking order)."""
        p, m = self.problem, self.model
        m.clear_hints()  # type: ignore[no-untyped-call]
        if p.agents and not self.aggregate:
            placements = _relabel(placements, self.classes)
        x = {g: 0 for g in self.x}
        y = {key: 0 for key in self.y}
        a = {key: 0 for key in self.a}
        z = {key: 0 for key in self.z}
        working = np.zeros(len(p.times), dtype=np.int64)
        for pl in placements:
            if pl.group not in x:
                continue
            x[pl.group] += 1
            if (pl.group, pl.pattern) in y:
                y[pl.group, pl.pattern] += 1
            if pl.agent is not None and (pl.agent, pl.group) in a:
                a[pl.agent, pl.group] = 1
            if pl.agent is not None and (self.class_of[pl.agent], pl.group) in z:
                z[self.class_of[pl.agent], pl.group] += 1
            group = p.groups[pl.group]
            for k, pos in enumerate(group.covers):
                if pos >= 0 and not group.off[pl.pattern, k]:
                    working[pos] += 1
        for key, var in self.x.items():
            m.add_hint(var, x[key])
        for key2, var in self.y.items():
            m.add_hint(var, y[key2])
        for key2, var in self.a.items():
            m.add_hint(var, a[key2])
        for key2, var in self.z.items():
            m.add_hint(var, z[key2])
        for i, (u, o) in enumerate(zip(self.u, self.o, strict=True)):
            m.add_hint(u, max(p.need[i] - int(working[i]), 0))
            m.add_hint(o, max(int(working[i]) - p.need[i], 0))

    def placements(self, solver: cp_model.CpSolver) -> list[Placement]:
        """The solved shifts, break patterns dealt out to each group's agents in turn."""
        p = self.problem
        found: list[Placement] = []
        for g, x in self.x.items():
            count = int(solver.value(x))
            if not count:
                continue
            if len(p.groups[g].patterns) > 1:
                patterns = [q for q in range(len(p.groups[g].patterns))
                            for _ in range(int(solver.value(self.y[g, q])))]
            else:
                patterns = [0] * count
            if p.agents and not self.aggregate:
                agents: list[int | None] = [a for (a, h), v in self.a.items()
                                            if h == g and solver.value(v)]
            else:
                agents = [None] * count
            found += [Placement(g, q, a) for q, a in zip(patterns, agents, strict=True)]
        return found


def _classes(problem: Problem) -> list[list[int]]:
    """Agents with the same limits, availability and templates: interchangeable."""
    classes: dict[str, list[int]] = {}
    for a, agent in enumerate(problem.agents):
        classes.setdefault(agent.limits_key(), []).append(a)
    return list(classes.values())


def _agent_rules(p: Problem, m: cp_model.CpModel, agent: AgentRule, index: int,
                 mine: dict[int, cp_model.IntVar], members: int,
                 slack: list[tuple[str, cp_model.IntVar]] | None) -> None:
    """One agent's rules on ``mine`` (group: shifts worked there). With ``members`` > 1 the
    variables count the shifts of that many identical agents and the rules are summed over
    them (a relaxation: every schedule of the agents keeps it)."""
    n = members
    one_day = pd.Timedelta(days=1)
    date_index = {d: k for k, d in enumerate(p.days)}
    by_day: dict[int, list[int]] = {}
    for g in mine:
        by_day.setdefault(p.groups[g].day, []).append(g)
    works = {d: sum(mine[g] for g in gs) for d, gs in by_day.items()}
    for d, gs in by_day.items():
        if len(gs) > 1 or n > 1:
            m.add(works[d] <= n)
    for w, days in enumerate(p.weeks):
        gs = [g for d in days for g in by_day.get(d, [])]
        if agent.max_shifts_per_week is not None and len(gs) > agent.max_shifts_per_week:
            m.add(sum(mine[g] for g in gs) <= n * agent.max_shifts_per_week)
        paid = cp_model.LinearExpr.weighted_sum([mine[g] for g in gs],
                                                [p.groups[g].paid for g in gs])
        if agent.max_hours_per_week is not None:
            most = hours_in_intervals(agent.max_hours_per_week, p.step, up=False)
            m.add(paid <= n * most)
            if n > 1 and gs:  # each agent's shifts fit their hours: at most this many
                shortest = np.cumsum(sorted(p.groups[g].paid for g in gs))
                m.add(sum(mine[g] for g in gs) <= n * int(np.sum(shortest <= most)))
        if agent.min_hours_per_week and p.full_weeks[w]:
            owed = hours_in_intervals(agent.min_hours_per_week, p.step, up=True)
            least = n * owed
            if n > 1:  # at least this many shifts each, one a day
                longest = np.cumsum(sorted((max(p.groups[g].paid for g in by_day[d])
                                            for d in days if d in by_day), reverse=True))
                if longest.size and longest[-1] >= owed:
                    fewest = int(np.searchsorted(longest, owed)) + 1
                    m.add(sum(mine[g] for g in gs) >= n * fewest)
            if slack is not None:
                s = m.new_int_var(0, least, f"h{index}_{w}")
                slack.append((f"agent {agent.id!r}: min_hours_per_week in the "
                              f"week of {p.days[days[0]].date()}", s))
                m.add(paid + s >= least)
            else:
                m.add(paid >= least)
    if agent.min_rest_hours:
        rest = pd.Timedelta(hours=agent.min_rest_hours)
        for d, gs in by_day.items():
            for end in sorted({p.groups[g].end for g in gs}):
                ending = [mine[g] for g in gs if p.groups[g].end >= end]
                too_soon = [mine[h] for e, hs in by_day.items() if e > d for h in hs
                            if p.groups[h].start < end + rest]
                if too_soon:
                    m.add(sum(ending) + sum(too_soon) <= n)
    if agent.max_consecutive_days is not None:
        run = agent.max_consecutive_days
        for day in p.days:
            window = [date_index.get(day + k * one_day) for k in range(run + 1)]
            if all(k is not None and k in works for k in window):
                m.add(sum(works[k] for k in window if k is not None) <= n * run)


def _assign(problem: Problem, built: _Model, solver: cp_model.CpSolver, workers: int,
            seconds: float) -> list[Placement] | None:
    """Named agents for the shifts an aggregate model counted per class of identical agents
    (``built.z``): each class's agents share its shifts under every agent rule. None when
    some class's shifts cannot be shared out within ``seconds``."""
    p, m = problem, cp_model.CpModel()
    want = {key: int(solver.value(v)) for key, v in built.z.items()}
    b: dict[tuple[int, int], cp_model.IntVar] = {}
    for c, members in enumerate(built.classes):
        groups = [g for (k, g), n in want.items() if k == c and n]
        shifts_of = []
        for a in members:
            mine = {g: m.new_bool_var(f"b{a}_{g}") for g in groups}
            b.update({(a, g): v for g, v in mine.items()})
            shifts_of.append(sum(mine.values()))
            _agent_rules(p, m, p.agents[a], a, mine, 1, None)
        for g in groups:
            m.add(sum(b[a, g] for a in members) == want[c, g])
        for first, second in itertools.pairwise(shifts_of):
            m.add(first >= second)
    assigner = _solver(workers, seconds)
    if assigner.solve(m) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    agents: dict[int, list[int]] = {}
    for (a, g), v in b.items():
        if assigner.value(v):
            agents.setdefault(g, []).append(a)
    found: list[Placement] = []
    for pl in built.placements(solver):
        found.append(Placement(pl.group, pl.pattern, agents[pl.group].pop()))
    return found


def _relabel(placements: list[Placement], classes: list[list[int]]) -> list[Placement]:
    counts: dict[int, int] = {}
    for pl in placements:
        if pl.agent is not None:
            counts[pl.agent] = counts.get(pl.agent, 0) + 1
    mapping: dict[int, int] = {}
    for members in classes:
        busiest = sorted(members, key=lambda a: -counts.get(a, 0))
        mapping.update(zip(busiest, members, strict=True))
    return [Placement(pl.group, pl.pattern, None if pl.agent is None else mapping[pl.agent])
            for pl in placements]


def _gap(value: float, bound: float) -> float:
    return abs(value - bound) / max(abs(value), 1.0)


def build_schedule(
    plan: pd.DataFrame,
    rules: ScheduleRules,
    *,
    on_solution: Progress | None = None,
    workers: int = 2,
    time_limit: float | None = None,
) -> Schedule:
    """Shifts covering ``plan`` (columns ``interval_start``, ``required_agents``; others
    ignored) under ``rules``, within ``time_limit`` seconds (default: the rules').

    With named agents the two passes are first solved on the aggregate model (shifts per
    class of identical agents, their rules summed over the class: a relaxation), then the
    agents of each class are given its shifts; should that fail, the model with one
    boolean per agent and shift group is solved instead."""
    began = time.perf_counter()
    limit = rules.time_limit_seconds if time_limit is None else time_limit
    problem = build_problem(plan, rules)
    greedy = greedy_placements(problem)
    if not problem.agents:
        return _two_passes(problem, _Model(problem), greedy, began, limit, workers,
                           on_solution)
    agg = _Model(problem, aggregate=True)
    agg.hint(greedy)
    # Pass 1: the fewest agent-intervals short.
    agg.model.minimize(sum(agg.u))
    solver = _solver(workers, max(limit * 0.3 - (time.perf_counter() - began), 0.5))
    code = _solve(solver, agg.model, "under_staffing", on_solution)
    if code == cp_model.INFEASIBLE:  # a relaxation: the rules leave no schedule at all
        raise InputError(_diagnose(problem, workers, limit))
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _two_passes(problem, _Model(problem), greedy, began, limit, workers,
                           on_solution)
    bound = solver.best_objective_bound
    agg_bound = max(round(np.ceil(bound - 1e-6)), 0) if np.isfinite(bound) else 0
    under = round(solver.objective_value)
    first = _assign(problem, agg, solver, workers, max(limit * 0.1, 0.5))
    if first is None:  # the aggregate shifts cannot be shared out: the agent model
        return _two_passes(problem, _Model(problem), greedy, began, limit, workers,
                           on_solution, under_bound=min(agg_bound, under))
    under_bound = max(min(agg_bound, under), 0)
    gaps = {"under_staffing": _gap(under, under_bound)}
    proven = code == cp_model.OPTIMAL
    # Pass 2: hold under-staffing, least cost then over-staffing.
    agg.hint(first)
    agg.model.add(sum(agg.u) <= under)
    agg.model.minimize(agg.cost + sum(agg.o))
    # Keep a tenth of the limit for sharing the shifts out among the agents.
    remaining = max(limit * 0.9 - (time.perf_counter() - began), 0.5)
    solver = _solver(workers, remaining)
    code = _solve(solver, agg.model, "cost", on_solution)
    placements: list[Placement] | None = None
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        seconds = max(limit - (time.perf_counter() - began) - min(1.0, 0.02 * limit), 0.5)
        placements = _assign(problem, agg, solver, workers, seconds)
    if placements is not None:
        gaps["cost"] = 0.0 if code == cp_model.OPTIMAL else _gap(
            solver.objective_value, solver.best_objective_bound)
        proven = proven and code == cp_model.OPTIMAL
    else:  # the first pass's schedule stands, measured against the second pass's bound
        placements, proven = first, False
        value = _objective(problem, first)
        gaps["cost"] = _gap(value, solver.best_objective_bound) if code in (
            cp_model.OPTIMAL, cp_model.FEASIBLE) else 1.0
    return _finished(problem, placements, proven, gaps, began, under_bound)


def _finished(problem: Problem, placements: list[Placement], proven: bool,
              gaps: dict[str, float], began: float, under_bound: int) -> Schedule:
    """The schedule of ``placements`` with its status and gap: the under-staffing gap while
    that is open, else the cost gap."""
    status = "OPTIMAL" if proven else "FEASIBLE"
    gap = gaps["under_staffing"] if gaps["under_staffing"] > 0 else gaps["cost"]
    return make_schedule(problem, placements, status=status, gap=0.0 if proven else gap,
                         solve_seconds=time.perf_counter() - began,
                         under_staffing_bound=under_bound, gaps=gaps)


def _objective(problem: Problem, placements: list[Placement]) -> float:
    """The second pass's objective of ``placements``: cost in hundredths plus over-staffing."""
    schedule = make_schedule(problem, placements, status="", gap=0.0)
    return round(schedule.cost * COST_SCALE) + schedule.over_staffing


def _two_passes(problem: Problem, built: _Model, greedy: list[Placement], began: float,
                limit: float, workers: int, on_solution: Progress | None, *,
                under_bound: int = 0) -> Schedule:
    """Both passes on ``built`` (anonymous shifts, or one boolean per agent and group);
    ``under_bound``: a lower bound on under-staffing already proven."""
    built.hint(greedy)
    # Pass 1: the fewest agent-intervals short.
    built.model.minimize(sum(built.u))
    solver = _solver(workers, max(limit * 0.5 - (time.perf_counter() - began), 0.5))
    code = _solve(solver, built.model, "under_staffing", on_solution)
    if code == cp_model.INFEASIBLE:
        raise InputError(_diagnose(problem, workers, limit))
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        first = built.placements(solver)
        under = round(solver.objective_value)
    elif _keeps_floors(problem, greedy):  # no solution in time: the greedy one stands
        first = greedy
        under = make_schedule(problem, greedy, status="", gap=0.0).under_staffing
    else:
        raise InputError(f"schedule: no schedule found within {limit:g} s "
                         f"({solver.status_name(code)}); raise time_limit_seconds")
    bound = solver.best_objective_bound
    if np.isfinite(bound):
        under_bound = max(under_bound, round(np.ceil(bound - 1e-6)))
    under_bound = max(min(under_bound, under), 0)
    gaps = {"under_staffing": _gap(under, under_bound)}
    proven = code == cp_model.OPTIMAL or under_bound == under
    # Pass 2: hold under-staffing, least cost then over-staffing.
    built.hint(first)
    built.model.add(sum(built.u) <= under)
    built.model.minimize(built.cost + sum(built.o))
    # Keep a little of the limit for dealing out the shifts afterwards.
    remaining = max(limit - (time.perf_counter() - began) - min(1.0, 0.02 * limit), 0.5)
    solver = _solver(workers, remaining)
    code = _solve(solver, built.model, "cost", on_solution)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        placements = built.placements(solver)
        gaps["cost"] = 0.0 if code == cp_model.OPTIMAL else _gap(
            solver.objective_value, solver.best_objective_bound)
        proven = proven and code == cp_model.OPTIMAL
    else:
        placements, proven = first, False
        gaps["cost"] = 1.0
    return _finished(problem, placements, proven, gaps, began, under_bound)


def _keeps_floors(problem: Problem, placements: list[Placement]) -> bool:
    """Whether ``placements`` meet every per-interval minimum and weekly minimum hours (the
    greedy schedule keeps every other rule by construction)."""
    working = np.zeros(len(problem.times), dtype=np.int64)
    paid: dict[tuple[int, int], int] = {}
    for pl in placements:
        group = problem.groups[pl.group]
        for k, pos in enumerate(group.covers):
            if pos >= 0 and not group.off[pl.pattern, k]:
                working[pos] += 1
        if pl.agent is not None:
            key = (pl.agent, problem.week_of(group.day))
            paid[key] = paid.get(key, 0) + group.paid
    if np.any(working < np.array(problem.low)):
        return False
    for a, agent in enumerate(problem.agents):
        if not agent.min_hours_per_week:
            continue
        least = hours_in_intervals(agent.min_hours_per_week, problem.step, up=True)
        if any(full and paid.get((a, w), 0) < least
               for w, full in enumerate(problem.full_weeks)):
            return False
    return True


def _solver(workers: int, seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    return solver


def _solve(solver: cp_model.CpSolver, model: cp_model.CpModel, phase: str,
           on_solution: Progress | None) -> int:
    callback = None if on_solution is None else _Callback(phase, on_solution)
    return int(solver.solve(model, callback))


def _diagnose(problem: Problem, workers: int, limit: float) -> str:
    """Which floors (per-interval minimums, weekly minimum hours) cannot be met together."""
    soft = _Model(problem, soft_floors=True)
    soft.model.minimize(sum(s for _, s in soft.slack))
    solver = _solver(workers, limit)
    code = solver.solve(soft.model)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        unmet = [name for name, s in soft.slack if solver.value(s) > 0]
        if unmet:
            more = f" and {len(unmet) - 5} more" if len(unmet) > 5 else ""
            return ("schedule rules contradict each other: these minimums cannot all be met "
                    "with the shifts, maximums and agents allowed: " + "; ".join(unmet[:5])
                    + more + ". Lower them, or allow more shifts or agents")
    return ("schedule rules contradict each other (a maximum, max_agents or an agent's "
            "limits leave no schedule); loosen them")


def greedy_schedule(plan: pd.DataFrame, rules: ScheduleRules) -> Schedule:
    """The greedy schedule alone (the baseline; see ``schedule_greedy``)."""
    began = time.perf_counter()
    problem = build_problem(plan, rules)
    placements = greedy_placements(problem)
    return make_schedule(problem, placements, status="GREEDY", gap=float("nan"),
                         solve_seconds=time.perf_counter() - began)


def make_schedule(problem: Problem, placements: list[Placement], *, status: str, gap: float,
                  solve_seconds: float = 0.0, under_staffing_bound: int = 0,
                  gaps: dict[str, float] | None = None) -> Schedule:
    """The schedule made of ``placements``: shifts with their breaks, coverage, cost."""
    p = problem
    working = np.zeros(len(p.times), dtype=np.int64)
    shifts: list[Shift] = []
    cost = 0
    for pl in placements:
        group = p.groups[pl.group]
        for k, pos in enumerate(group.covers):
            if pos >= 0 and not group.off[pl.pattern, k]:
                working[pos] += 1
        breaks = tuple(
            Break(rule.kind, group.start + offset * p.step,
                  group.start + (offset + rule.length) * p.step, rule.is_paid)
            for rule, offset in zip(group.template.breaks, group.patterns[pl.pattern],
                                    strict=True))
        agent = None if pl.agent is None else p.agents[pl.agent].id
        shifts.append(Shift(group.template.name, group.start, group.end, breaks, agent))
        cost += group.cost
    shifts.sort(key=lambda s: (s.start, s.agent_id or "", [b.start for b in s.breaks]))
    if not p.agents:
        shifts = [Shift(s.template, s.start, s.end, s.breaks, f"A{n:03d}")
                  for n, s in enumerate(shifts, start=1)]
    need = np.array(p.need)
    short = np.maximum(need - working, 0)
    over = np.where(p.open, np.maximum(working - need, 0), 0)
    coverage = pd.DataFrame({
        "interval_start": p.times, "required_agents": p.required,
        "scheduled_agents": working, "short": short, "over": over, "open": p.open,
        "min_agents": p.low, "max_agents": pd.array(p.high, dtype="Int64"),
    })
    return Schedule(coverage=coverage, shifts=shifts, status=status, gap=gap,
                    cost=cost / COST_SCALE,
                    shortfalls=[t for t, s in zip(p.times, short, strict=True) if s > 0],
                    solve_seconds=solve_seconds, under_staffing_bound=under_staffing_bound,
                    gaps=gaps or {})


def schedule_rows(schedule: Schedule, *, tenant: str = "default", queue: str | None = None,
                  tz: str | None = None) -> pd.DataFrame:
    """The shifts as rows of the ``schedules`` table: one ``shift`` row per agent-shift and
    one row per break with its kind as the activity (``break``, ``lunch``, …). Wall-clock
    times are read in ``tz`` (UTC when not set) and written in UTC."""
    rows: list[dict[str, object]] = []
    for shift in schedule.shifts:
        base = {"tenant": tenant, "agent_id": shift.agent_id, "queue": queue}
        rows.append({**base, "activity": "shift", "started_at": shift.start,
                     "ended_at": shift.end})
        rows += [{**base, "activity": b.kind, "started_at": b.start, "ended_at": b.end}
                 for b in shift.breaks]
    frame = pd.DataFrame(rows, columns=["tenant", "agent_id", "activity", "queue",
                                        "started_at", "ended_at"])
    for column in ("started_at", "ended_at"):
        stamps = pd.to_datetime(frame[column])
        frame[column] = stamps.dt.tz_localize(tz or "UTC").dt.tz_convert("UTC")
    return frame


__all__ = ["AgentRule", "AgentsPerInterval", "Break", "BreakRule", "Progress", "Schedule",
           "ScheduleRules", "Shift", "ShiftTemplate", "Spacing", "StaffingLimit",
           "WeeklyHours", "build_schedule", "greedy_schedule", "make_schedule",
           "schedule_rows"]
