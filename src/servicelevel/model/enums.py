"""Closed vocabularies of the canonical tables (see docs/glossary.md)."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """How a contact left the queue."""

    ANSWERED = "answered"  # an agent took it (voice/chat) or first responded (email, ticket)
    ABANDONED = "abandoned"  # the customer gave up while waiting
    TIMEOUT = "timeout"  # the queue's maximum wait expired (Asterisk EXITWITHTIMEOUT)
    EXIT_KEY = "exit_key"  # the caller pressed a key to leave (Asterisk EXITWITHKEY)
    JOIN_EMPTY = "join_empty"  # refused on entry: no agent logged in (JOINEMPTY)
    LEAVE_EMPTY = "leave_empty"  # removed while waiting: no agent left (EXITEMPTY/LEAVEEMPTY)
    FULL = "full"  # refused on entry: the queue was at its maximum length
    CLOSED = "closed"  # arrived outside opening hours (Wazo CLOSED)
    OVERFLOW = "overflow"  # diverted to another destination (Wazo DIVERT_*)
    WITHDRAWN = "withdrawn"  # removed by the system (Asterisk WITHDRAW)
    CALLBACK = "callback"  # left the queue for a scheduled call back
    ENDED_IN_VRU = "ended_in_vru"  # ended in the voice response unit: never offered to a queue
    WAITING = "waiting"  # still in the queue when the data ends: not finished yet
    RESOLVED = "resolved"  # ticket resolved or closed
    CANCELED = "canceled"  # ticket canceled


#: Outcomes of contacts that were never offered to an agent queue.
NOT_OFFERED: frozenset[Outcome] = frozenset({Outcome.ENDED_IN_VRU})

#: Outcomes that are not final: the contact may still change when more data arrives.
UNFINISHED: frozenset[Outcome] = frozenset({Outcome.WAITING})


class AgentState(StrEnum):
    """Kinds of agent activity interval in ``agent_states``."""

    LOGGED_IN = "logged_in"  # session envelope, from login (or add member) to logoff/remove
    PAUSED = "paused"  # not taking contacts, with a reason
    WRAP_UP = "wrap_up"  # after-contact work
    ON_CONTACT = "on_contact"  # talking to a customer


class Channel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"
    SOCIAL = "social"
    TICKET = "ticket"
