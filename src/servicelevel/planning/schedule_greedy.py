"""A greedy schedule: place shifts one by one on the largest remaining shortfall.

Pure (no I/O). It is the baseline the CP-SAT schedule is measured against, and the first
solution CP-SAT is given as a hint. Each step takes the open interval most short, tries
every shift group working then with every break pattern, and keeps the one that covers
most short agent-intervals per unit of cost (a shift owed to an agent for their weekly
minimum counts a quarter of its cost) without breaking a maximum. A named agent who may
take it (day, rest, weekly limits, consecutive days) works it: one owed a shift first,
then the one with fewest hours, then the least flexible. Then agents still short of their
weekly minimum get the shifts where coverage is thinnest, and shifts nobody misses are
dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from servicelevel.planning.schedule_problem import (
    Group,
    Placement,
    Problem,
    hours_in_intervals,
)

_OWED = 0.25  # weight of the cost of a shift owed to an agent under their weekly minimum


class _Agents:
    """What each named agent already works, to test one more shift against their limits."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.allowed = [set(e) for e in problem.eligible]
        self.days: list[dict[int, Group]] = [{} for _ in problem.agents]
        self.paid = [0] * len(problem.agents)
        self.week = [problem.week_of(d) for d in range(len(problem.days))]
        self.week_paid = [[0] * len(problem.weeks) for _ in problem.agents]
        self.least = [0 if not a.min_hours_per_week
                      else hours_in_intervals(a.min_hours_per_week, problem.step, up=True)
                      for a in problem.agents]

    def owed(self, a: int, g: int) -> bool:
        """Whether agent ``a`` is still short of their weekly minimum in ``g``'s week: their
        next shift is paid for anyway."""
        week = self.week[self.problem.groups[g].day]
        return self.problem.full_weeks[week] and self.week_paid[a][week] < self.least[a]

    def can_take(self, a: int, g: int) -> bool:
        problem, group = self.problem, self.problem.groups[g]
        agent, worked = problem.agents[a], self.days[a]
        if g not in self.allowed[a] or group.day in worked:
            return False
        week = problem.weeks[self.week[group.day]]
        in_week = [worked[d] for d in week if d in worked]
        if agent.max_shifts_per_week is not None and len(in_week) >= agent.max_shifts_per_week:
            return False
        if agent.max_hours_per_week is not None:
            most = hours_in_intervals(agent.max_hours_per_week, problem.step, up=False)
            if sum(s.paid for s in in_week) + group.paid > most:
                return False
        if agent.min_rest_hours:
            rest = agent.min_rest_hours * 3600
            for other in worked.values():
                gap = max((group.start - other.end).total_seconds(),
                          (other.start - group.end).total_seconds())
                if gap < rest:
                    return False
        if agent.max_consecutive_days is not None:
            dates = {problem.days[d] for d in worked}
            one = pd.Timedelta(days=1)
            run, day = 1, problem.days[group.day]
            while day - run * one in dates:
                run += 1
            after = 1
            while day + after * one in dates:
                after += 1
            if run + after - 1 > agent.max_consecutive_days:
                return False
        return True

    def drop(self, a: int, g: int) -> None:
        group = self.problem.groups[g]
        del self.days[a][group.day]
        self.paid[a] -= group.paid
        self.week_paid[a][self.week[group.day]] -= group.paid

    def take(self, a: int, g: int) -> None:
        group = self.problem.groups[g]
        self.days[a][group.day] = group
        self.paid[a] += group.paid
        self.week_paid[a][self.week[group.day]] += group.paid


def greedy_placements(problem: Problem) -> list[Placement]:
    """Shifts placed greedily on the largest remaining shortfall (see the module text)."""
    n = len(problem.times)
    target = np.array([max(r, lo) for r, lo in zip(problem.need, problem.low, strict=True)])
    high = np.array([np.iinfo(np.int64).max if h is None else h for h in problem.high])
    working = np.zeros(n, dtype=np.int64)
    blocked = np.zeros(n, dtype=bool)
    by_position: list[list[int]] = [[] for _ in range(n)]
    for g, group in enumerate(problem.groups):
        for pos in group.covers:
            if pos >= 0:
                by_position[pos].append(g)
    spans = [(np.array(group.covers) >= 0, np.maximum(np.array(group.covers), 0))
             for group in problem.groups]
    per_day = [0] * len(problem.days)
    day_cap = problem.rules.max_agents
    named = bool(problem.agents)
    book = _Agents(problem) if named else None
    takers = [[a for a, e in enumerate(problem.eligible) if g in e]
              for g in range(len(problem.groups))] if named else []
    placements: list[Placement] = []
    while True:
        short = np.where(blocked, 0, target - working)
        i = int(np.argmax(short))
        if short[i] <= 0:
            break
        best: tuple[float, int, int] | None = None
        for g in by_position[i]:
            group = problem.groups[g]
            if day_cap is not None and per_day[group.day] >= day_cap:
                continue
            owed = book is not None and any(
                book.owed(a, g) and book.can_take(a, g) for a in takers[g])
            if book is not None and not owed and not any(book.can_take(a, g) for a in takers[g]):
                continue
            k = group.covers.index(i)
            inside, pos = spans[g]
            gap = np.where(inside, target[pos] - working[pos], 0) > 0
            room = np.where(inside, working[pos] < high[pos], True)
            on = ~group.off  # patterns × length: working at that offset
            fits = (~on | room).all(axis=1) & on[:, k]
            if not fits.any():
                continue
            gains = (on & gap).sum(axis=1)
            p = int(np.argmax(np.where(fits, gains, -1)))
            # A shift an agent is owed (weekly minimum) costs little more: prefer it.
            score = float(gains[p]) / max(group.cost * (_OWED if owed else 1.0), 1.0)
            if best is None or score > best[0]:
                best = (score, g, p)
        if best is None:
            blocked[i] = True
            continue
        _, g, p = best
        group = problem.groups[g]
        agent: int | None = None
        if book is not None:
            # Owed a shift first, then fewest hours (in whole days), then least flexible.
            agent = min((a for a in takers[g] if book.can_take(a, g)),
                        key=lambda a: (not book.owed(a, g), book.paid[a] // 8,
                                       len(book.allowed[a])))
            book.take(agent, g)
        for k, pos in enumerate(group.covers):
            if pos >= 0 and not group.off[p, k]:
                working[pos] += 1
        per_day[group.day] += 1
        placements.append(Placement(g, p, agent))
    if book is not None:
        placements += _top_up(problem, book, working, target, high, per_day)
    return _prune(problem, book, placements, working, target)


def _prune(problem: Problem, book: _Agents | None, placements: list[Placement],
           working: np.ndarray, target: np.ndarray) -> list[Placement]:
    """Drop shifts nobody misses: every interval they work stays at its target without
    them, and their agent keeps the weekly minimum. Dearest, most redundant first."""

    def on(pl: Placement) -> list[int]:
        group = problem.groups[pl.group]
        return [pos for k, pos in enumerate(group.covers)
                if pos >= 0 and not group.off[pl.pattern, k]]

    def spare(pl: Placement) -> float:
        at = on(pl)
        return float(np.sum(working[at] - target[at])) + problem.groups[pl.group].cost / 1e6

    kept: list[Placement] = []
    for pl in sorted(placements, key=spare, reverse=True):
        group = problem.groups[pl.group]
        at = on(pl)
        removable = bool(np.all(working[at] > target[at]))
        if removable and book is not None and pl.agent is not None:
            week = book.week[group.day]
            owed = problem.full_weeks[week] and book.least[pl.agent] > 0
            left = book.week_paid[pl.agent][week] - group.paid
            removable = not owed or left >= book.least[pl.agent]
        if removable:
            working[at] -= 1
            if book is not None and pl.agent is not None:
                book.drop(pl.agent, pl.group)
        else:
            kept.append(pl)
    return kept


def _top_up(problem: Problem, book: _Agents, working: np.ndarray, target: np.ndarray,
            high: np.ndarray, per_day: list[int]) -> list[Placement]:
    """Give agents short of their weekly minimum hours the shifts that add least
    over-staffing (where coverage is thinnest against the requirement)."""
    placements: list[Placement] = []
    day_cap = problem.rules.max_agents
    for a, agent in enumerate(problem.agents):
        if not agent.min_hours_per_week:
            continue
        least = hours_in_intervals(agent.min_hours_per_week, problem.step, up=True)
        for w, days in enumerate(problem.weeks):
            if not problem.full_weeks[w]:
                continue
            in_week = set(days)
            choices = [g for g in problem.eligible[a] if problem.groups[g].day in in_week]
            while sum(book.days[a][d].paid for d in days if d in book.days[a]) < least:
                best: tuple[float, int, int] | None = None
                for g in choices:
                    group = problem.groups[g]
                    if (day_cap is not None and per_day[group.day] >= day_cap) \
                            or not book.can_take(a, g):
                        continue
                    covers = np.array(group.covers)
                    inside = covers >= 0
                    pos = np.maximum(covers, 0)
                    on = ~group.off & inside
                    if (on & (working[pos] >= high[pos])).any():
                        on_ok = ~((on & (working[pos] >= high[pos])).any(axis=1))
                    else:
                        on_ok = np.ones(len(group.patterns), dtype=bool)
                    excess = (on * (working[pos] + 1 - target[pos])
                              / np.maximum(target[pos], 1)).sum(axis=1)
                    excess = np.where(on_ok, excess, np.inf)
                    q = int(np.argmin(excess))
                    if np.isfinite(excess[q]) and (best is None or excess[q] < best[0]):
                        best = (float(excess[q]), g, q)
                if best is None:
                    break
                _, g, q = best
                group = problem.groups[g]
                book.take(a, g)
                per_day[group.day] += 1
                for k, pos_k in enumerate(group.covers):
                    if pos_k >= 0 and not group.off[q, k]:
                        working[pos_k] += 1
                placements.append(Placement(g, q, a))
    return placements


__all__ = ["greedy_placements"]
