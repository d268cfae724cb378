"""The canonical model: table schemas, vocabularies, time and calendar helpers. No I/O."""

from servicelevel.model.enums import NOT_OFFERED, UNFINISHED, AgentState, Channel, Outcome
from servicelevel.model.tables import (
    AGENT_STATES,
    AGENTS,
    CANONICAL_TABLES,
    CONTACTS,
    COSTS,
    FORECASTS,
    QA_REVIEWS,
    SCHEDULES,
    SURVEYS,
    CanonicalTable,
)

__all__ = [
    "AGENTS",
    "AGENT_STATES",
    "CANONICAL_TABLES",
    "CONTACTS",
    "COSTS",
    "FORECASTS",
    "NOT_OFFERED",
    "QA_REVIEWS",
    "SCHEDULES",
    "SURVEYS",
    "UNFINISHED",
    "AgentState",
    "CanonicalTable",
    "Channel",
    "Outcome",
]
