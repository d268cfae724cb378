"""The canonical tables, defined once.

Every adapter writes these tables and every metric reads them. Each table is an Arrow
schema whose fields carry their user-facing meaning in the field metadata
(``description``), and a primary key that makes ingest idempotent: a row with the same
key replaces the earlier one (this is how a call left open at the end of one file is
completed by the next).

Timestamps are UTC (``timestamp[us, tz=UTC]``). Durations are seconds (``float64``).
``None`` means "not known / not set", never zero or false.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")


def _field(name: str, type_: pa.DataType, description: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


@dataclass(frozen=True)
class CanonicalTable:
    """One canonical table: its name, Arrow schema, primary key and purpose."""

    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    description: str

    def empty(self) -> pa.Table:
        return self.schema.empty_table()

    def conform(self, table: pa.Table) -> pa.Table:
        """Return ``table`` with exactly this schema's columns, order and types.

        Missing nullable columns are filled with nulls; extra columns are an error so
        that an adapter cannot silently drop data on the floor.
        """
        extra = set(table.column_names) - set(self.schema.names)
        if extra:
            raise ValueError(f"{self.name}: columns not in the canonical schema: {sorted(extra)}")
        columns = []
        for field in self.schema:
            if field.name in table.column_names:
                columns.append(table.column(field.name).cast(field.type))
            elif field.nullable:
                columns.append(pa.nulls(table.num_rows, field.type))
            else:
                raise ValueError(f"{self.name}: required column {field.name!r} is missing")
        return pa.Table.from_arrays(columns, schema=self.schema)


_TENANT = _field("tenant", pa.string(), "Client account the row belongs to.", nullable=False)
_SOURCE = _field(
    "source", pa.string(), "Input format (adapter) the row came from.", nullable=False
)

CONTACTS = CanonicalTable(
    name="contacts",
    key=("tenant", "source", "contact_id"),
    description="One row per contact offered to a queue (or ended before it, see outcome).",
    schema=pa.schema(
        [
            _TENANT,
            _SOURCE,
            _field("contact_id", pa.string(), "Identifier unique within tenant and source.",
                   nullable=False),
            _field("channel", pa.string(), "voice, chat, email, social, ticket, …"),
            _field("queue", pa.string(), "Queue (split, skill, assignment group) offered to."),
            _field("direction", pa.string(), "inbound or outbound."),
            _field("arrived_at", UTC_TIMESTAMP, "When the contact entered the queue.",
                   nullable=False),
            _field("answered_at", UTC_TIMESTAMP,
                   "When an agent answered (voice/chat) or first responded (email, ticket)."),
            _field("ended_at", UTC_TIMESTAMP, "When the contact ended (hang-up, abandon, exit)."),
            _field("resolved_at", UTC_TIMESTAMP, "When the issue was resolved (tickets, email)."),
            _field("outcome", pa.string(), "How the contact left the queue: see Outcome.",
                   nullable=False),
            _field("wait_s", pa.float64(),
                   "Seconds waited in the queue before answer or abandon, as the source reports."),
            _field("ring_s", pa.float64(), "Seconds the answering agent's phone rang."),
            _field("talk_s", pa.float64(), "Seconds of conversation."),
            _field("hold_s", pa.float64(), "Seconds the customer was on hold during the contact."),
            _field("acw_s", pa.float64(), "Seconds of after-contact work (wrap-up)."),
            _field("agent_id", pa.string(), "Agent who handled the contact."),
            _field("team", pa.string(), "Team of the handling agent at the time."),
            _field("priority", pa.int32(), "Priority as the source ranks it."),
            _field("service_type", pa.string(), "Service or call type (the bank's PS, NE, …)."),
            _field("customer_id", pa.string(), "Customer identifier, for repeat-contact FCR."),
            _field("transferred", pa.bool_(), "Transferred to another agent or destination."),
            _field("escalated", pa.bool_(), "Escalated (reassigned) to another level or group."),
            _field("reopened", pa.bool_(), "Reopened after being resolved (tickets)."),
            _field("reassignments", pa.int32(), "Times reassigned between groups (tickets)."),
            _field("sla_met", pa.bool_(), "The source system's own SLA verdict, when it has one."),
        ]
    ),
)

AGENT_STATES = CanonicalTable(
    name="agent_states",
    key=("tenant", "source", "agent_id", "queue", "state", "started_at"),
    description=(
        "Agent activity intervals. 'logged_in' is the session envelope; 'paused', "
        "'wrap_up' and 'on_contact' lie inside it, so intervals of different states overlap."
    ),
    schema=pa.schema(
        [
            _TENANT,
            _SOURCE,
            _field("agent_id", pa.string(), "Agent (member) name.", nullable=False),
            _field("queue", pa.string(),
                   "Queue the state applies to; '' when it applies to all queues.",
                   nullable=False),
            _field("state", pa.string(), "logged_in, paused, wrap_up, on_contact: see AgentState.",
                   nullable=False),
            _field("reason", pa.string(), "Pause reason code, when given."),
            _field("started_at", UTC_TIMESTAMP, "Start of the interval.", nullable=False),
            _field("ended_at", UTC_TIMESTAMP, "End of the interval; null while still open."),
        ]
    ),
)

AGENTS = CanonicalTable(
    name="agents",
    key=("tenant", "agent_id"),
    description="The roster: who works where, in which role, since when.",
    schema=pa.schema(
        [
            _TENANT,
            _field("agent_id", pa.string(), "Agent identifier used in contacts.", nullable=False),
            _field("name", pa.string(), "Display name."),
            _field("team", pa.string(), "Team."),
            _field("supervisor", pa.string(), "Team lead / supervisor."),
            _field("site", pa.string(), "Site or location."),
            _field("role", pa.string(), "agent, team_lead, qa, trainer, ops_manager."),
            _field("skills", pa.list_(pa.string()), "Queues or skills the agent can take."),
            _field("hired_on", pa.date32(), "First working day."),
            _field("left_on", pa.date32(), "Last working day; null while employed."),
        ]
    ),
)

SURVEYS = CanonicalTable(
    name="surveys",
    key=("tenant", "source", "survey_id"),
    description="Post-contact customer surveys.",
    schema=pa.schema(
        [
            _TENANT,
            _SOURCE,
            _field("survey_id", pa.string(), "Survey response identifier.", nullable=False),
            _field("contact_id", pa.string(), "Contact the survey is about."),
            _field("agent_id", pa.string(), "Agent who handled that contact."),
            _field("responded_at", UTC_TIMESTAMP, "When the customer answered.", nullable=False),
            _field("csat_score", pa.float64(), "Satisfaction score given."),
            _field("csat_scale_max", pa.float64(), "Top of the scale (5 for 1–5)."),
            _field("csat_scale_min", pa.float64(), "Bottom of the scale (1 for 1–5)."),
            _field("resolved", pa.bool_(), "Customer says the issue was resolved."),
            _field("first_contact_resolved", pa.bool_(),
                   "Customer says it was resolved at the first contact."),
            _field("nps_score", pa.int32(), "Likelihood to recommend, 0–10."),
            _field("complaint", pa.bool_(), "The response is a complaint."),
        ]
    ),
)

QA_REVIEWS = CanonicalTable(
    name="qa_reviews",
    key=("tenant", "source", "review_id"),
    description="Quality assurance evaluations of contacts against a scorecard.",
    schema=pa.schema(
        [
            _TENANT,
            _SOURCE,
            _field("review_id", pa.string(), "Evaluation identifier.", nullable=False),
            _field("contact_id", pa.string(), "Contact evaluated."),
            _field("agent_id", pa.string(), "Agent evaluated.", nullable=False),
            _field("reviewer", pa.string(), "QA specialist who scored it."),
            _field("reviewed_at", UTC_TIMESTAMP, "When it was scored.", nullable=False),
            _field(
                "items",
                pa.list_(
                    pa.struct(
                        [
                            pa.field("item", pa.string()),
                            pa.field("score", pa.float64()),
                            pa.field("max_score", pa.float64()),
                            pa.field("critical", pa.bool_()),
                        ]
                    )
                ),
                "Scorecard items: item name, score, maximum, critical (fails the review).",
            ),
            _field("score", pa.float64(), "Overall score, 0–100.", nullable=False),
            _field("passed", pa.bool_(), "The review passed."),
            _field("defect_root_cause", pa.string(),
                   "Root cause of the defect found: training, process, product, …"),
            _field("calibration_session", pa.string(),
                   "Calibration session id when several reviewers score the same contact."),
        ]
    ),
)

FORECASTS = CanonicalTable(
    name="forecasts",
    key=("tenant", "queue", "interval_start", "interval_s", "model"),
    description="Forecast volume and handle time per queue and interval.",
    schema=pa.schema(
        [
            _TENANT,
            _field("queue", pa.string(), "Queue forecast.", nullable=False),
            _field("channel", pa.string(), "Channel of the queue."),
            _field("interval_start", UTC_TIMESTAMP, "Start of the interval.", nullable=False),
            _field("interval_s", pa.int32(), "Interval length in seconds.", nullable=False),
            _field("contacts", pa.float64(), "Forecast contacts offered."),
            _field("aht_s", pa.float64(), "Forecast average handle time."),
            _field("required_agents", pa.float64(), "Agents required (from staffing)."),
            _field("model", pa.string(), "Forecast model name.", nullable=False),
            _field("backtest_wape", pa.float64(), "The model's backtest WAPE."),
            _field("created_at", UTC_TIMESTAMP, "When the forecast was made."),
        ]
    ),
)

SCHEDULES = CanonicalTable(
    name="schedules",
    key=("tenant", "agent_id", "activity", "started_at"),
    description="Planned activities per agent: shifts, breaks, lunches, training.",
    schema=pa.schema(
        [
            _TENANT,
            _field("agent_id", pa.string(), "Agent scheduled.", nullable=False),
            _field("activity", pa.string(), "shift, break, lunch, training, meeting, …",
                   nullable=False),
            _field("queue", pa.string(), "Queue the agent is planned on, if any."),
            _field("started_at", UTC_TIMESTAMP, "Start.", nullable=False),
            _field("ended_at", UTC_TIMESTAMP, "End.", nullable=False),
        ]
    ),
)

COSTS = CanonicalTable(
    name="costs",
    key=("tenant", "queue", "category", "period_start"),
    description="Costs per period (labour, telephony, facilities), for cost per contact.",
    schema=pa.schema(
        [
            _TENANT,
            _field("queue", pa.string(), "Queue the cost belongs to; '' for the whole tenant.",
                   nullable=False),
            _field("category", pa.string(), "labour, telephony, facilities, …", nullable=False),
            _field("period_start", UTC_TIMESTAMP, "Start of the period.", nullable=False),
            _field("period_end", UTC_TIMESTAMP, "End of the period (exclusive).",
                   nullable=False),
            _field("amount", pa.float64(), "Cost in currency units.", nullable=False),
            _field("currency", pa.string(), "ISO 4217 code."),
        ]
    ),
)

CANONICAL_TABLES: dict[str, CanonicalTable] = {
    table.name: table
    for table in (
        CONTACTS,
        AGENT_STATES,
        AGENTS,
        SURVEYS,
        QA_REVIEWS,
        FORECASTS,
        SCHEDULES,
        COSTS,
    )
}
