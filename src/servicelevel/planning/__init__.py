"""Planning: staffing plans, the cost of service level, patience, recovery staffing,
hiring plans."""

from servicelevel.planning.hiring import (
    Attrition,
    HiringPlan,
    hiring_plan,
    monthly_to_weekly,
    weekly_attrition,
    weekly_required_fte,
)
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
    "Attrition",
    "HiringPlan",
    "Recovery",
    "Staffing",
    "cost_curve",
    "estimate_patience",
    "hiring_plan",
    "monthly_to_weekly",
    "recovery_plan",
    "scheduled_agents",
    "staff",
    "staffing_plan",
    "weekly_attrition",
    "weekly_required_fte",
]
