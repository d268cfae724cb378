"""Agent activity intervals from the (few) member events of a queue_log.

These events are rare next to call events (a few per agent per day), so a plain state
machine in Python follows them in time order:

- ``logged_in`` with queue ``''``: AGENTLOGIN/AGENTCALLBACKLOGIN → AGENTLOGOFF/
  AGENTCALLBACKLOGOFF; with a queue: ADDMEMBER → REMOVEMEMBER (queue membership).
- ``paused``: PAUSE → UNPAUSE in one queue, PAUSEALL → UNPAUSEALL (queue ``''``: all
  queues), with the reason given; ADDMEMBER with ``PAUSED`` starts paused. A pause ends at
  REMOVEMEMBER of that queue and at logoff, because a member who left takes no calls.
- ``wrap_up``: Wazo WRAPUPSTART, data1 = seconds, as the interval [start, start + data1].

A second login (or pause) while one is open does not start a new interval: the first start
stands, except a pause whose reason changes, which ends and starts again.

Member names: ADDMEMBER/REMOVEMEMBER and PAUSE often name the interface
(``Local/1127@callback-agent``) while AGENT*LOGIN and CONNECT name the agent
(``Agent/1127``). When a member event and a login/logoff event carry the same channel
uniqueid as callid, the interface is taken as an alias of that agent from then on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from servicelevel.model.enums import AgentState
from servicelevel.model.tables import UTC_TIMESTAMP

LOGIN_EVENTS = ("AGENTLOGIN", "AGENTCALLBACKLOGIN")
LOGOFF_EVENTS = ("AGENTLOGOFF", "AGENTCALLBACKLOGOFF")
MEMBER_EVENTS = ("ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE")
AGENT_EVENTS = (
    *LOGIN_EVENTS, *LOGOFF_EVENTS, *MEMBER_EVENTS, "PAUSEALL", "UNPAUSEALL", "WRAPUPSTART",
)
_NOT_A_CHANNEL = frozenset({"", "NONE", "REALTIME", "MANAGER", "CLI"})

Key = tuple[str, str, str, int]  # agent, queue, state, started_at (µs)


@dataclass
class AgentEvent:
    ts: int  # µs since the epoch, UTC
    callid: str
    queue: str  # '' for NONE
    agent: str
    event: str
    d1: str | None


@dataclass
class AgentStates:
    """Open intervals and member aliases, carried from chunk to chunk."""

    open: dict[tuple[str, str, str], tuple[int, str | None]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    rows: dict[Key, tuple[str | None, int | None]] = field(default_factory=dict)

    @classmethod
    def from_carry(cls, carry: dict[str, Any] | None) -> AgentStates:
        if not carry:
            return cls()
        states = cls()
        for agent, queue, state, start, reason in carry.get("open", []):
            states.open[(agent, queue, state)] = (int(start), reason)
        states.aliases = dict(carry.get("aliases", {}))
        return states

    def to_carry(self) -> dict[str, Any]:
        return {
            "open": [
                [agent, queue, str(state), start, reason]
                for (agent, queue, state), (start, reason) in self.open.items()
            ],
            "aliases": self.aliases,
        }

    def learn_aliases(self, events: Iterable[AgentEvent]) -> None:
        """Interface → agent from member and login events sharing a channel uniqueid."""
        members: dict[str, str] = {}
        agents: dict[str, str] = {}
        for event in events:
            if event.callid in _NOT_A_CHANNEL:
                continue
            if event.event in ("ADDMEMBER", "REMOVEMEMBER"):
                members[event.callid] = event.agent
            elif event.event in LOGIN_EVENTS or event.event in LOGOFF_EVENTS:
                agents[event.callid] = event.agent
        for callid, member in members.items():
            agent = agents.get(callid)
            if agent and agent != member:
                self.aliases[member] = agent

    def apply(self, event: AgentEvent) -> None:
        """Follow one event (events must come in time order)."""
        agent = self.aliases.get(event.agent, event.agent)
        if agent in ("", "NONE"):
            return
        kind, queue = event.event, event.queue
        if kind in LOGIN_EVENTS:
            self._start(agent, "", AgentState.LOGGED_IN, event.ts, None)
        elif kind in LOGOFF_EVENTS:
            self._end(agent, "", AgentState.LOGGED_IN, event.ts)
            for open_agent, open_queue, state in list(self.open):
                if open_agent == agent and state == AgentState.PAUSED:
                    self._end(agent, open_queue, AgentState.PAUSED, event.ts)
        elif kind == "ADDMEMBER" and queue:
            self._start(agent, queue, AgentState.LOGGED_IN, event.ts, None)
            if event.d1 == "PAUSED":
                self._start(agent, queue, AgentState.PAUSED, event.ts, None)
        elif kind == "REMOVEMEMBER" and queue:
            self._end(agent, queue, AgentState.LOGGED_IN, event.ts)
            self._end(agent, queue, AgentState.PAUSED, event.ts)
        elif kind in ("PAUSE", "PAUSEALL"):
            self._pause(agent, queue if kind == "PAUSE" else "", event.ts, event.d1 or None)
        elif kind in ("UNPAUSE", "UNPAUSEALL"):
            self._end(agent, queue if kind == "UNPAUSE" else "", AgentState.PAUSED, event.ts)
        elif kind == "WRAPUPSTART" and event.d1:
            end = event.ts + int(event.d1) * 1_000_000
            self.rows[(agent, queue, AgentState.WRAP_UP, event.ts)] = (None, end)

    def _pause(self, agent: str, queue: str, ts: int, reason: str | None) -> None:
        current = self.open.get((agent, queue, AgentState.PAUSED))
        if current is not None and reason is not None and reason != current[1]:
            self._end(agent, queue, AgentState.PAUSED, ts)  # the reason changed
        self._start(agent, queue, AgentState.PAUSED, ts, reason)

    def _start(self, agent: str, queue: str, state: str, ts: int, reason: str | None) -> None:
        if (agent, queue, state) in self.open:
            return  # already in that state: the first start stands
        self.open[(agent, queue, state)] = (ts, reason)
        self.rows[(agent, queue, state, ts)] = (reason, None)

    def _end(self, agent: str, queue: str, state: str, ts: int) -> None:
        opened = self.open.pop((agent, queue, state), None)
        if opened is None:
            return  # an end with no start in the data (e.g. a logoff before the file began)
        start, reason = opened
        self.rows[(agent, queue, state, start)] = (reason, ts)

    def table(self, tenant: str, source: str) -> pa.Table:
        keys = list(self.rows)
        values = [self.rows[key] for key in keys]
        return pa.table(
            {
                "tenant": pa.array([tenant] * len(keys), pa.string()),
                "source": pa.array([source] * len(keys), pa.string()),
                "agent_id": pa.array([key[0] for key in keys], pa.string()),
                "queue": pa.array([key[1] for key in keys], pa.string()),
                "state": pa.array([str(key[2]) for key in keys], pa.string()),
                "reason": pa.array([value[0] for value in values], pa.string()),
                "started_at": pa.array([key[3] for key in keys], pa.int64()).cast(UTC_TIMESTAMP),
                "ended_at": pa.array([value[1] for value in values], pa.int64()).cast(
                    UTC_TIMESTAMP
                ),
            }
        )
