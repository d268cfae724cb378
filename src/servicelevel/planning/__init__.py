"""Planning: staffing plans, the cost of service level, patience, recovery staffing."""

from servicelevel.planning.staffing import (
    Recovery,
    Staffing,
    cost_curve,
    estimate_patience,
    recovery_plan,
    scheduled_agents,
    staff,
    staffing_plan,
)

__all__ = [
    "Recovery",
    "Staffing",
    "cost_curve",
    "estimate_patience",
    "recovery_plan",
    "scheduled_agents",
    "staff",
    "staffing_plan",
]
