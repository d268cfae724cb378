"""Handling metrics: response and resolution times, same-day response, first-contact
resolution, transfers and escalations.

Words as in docs/glossary.md. A contact's *first response* is ``answered_at`` (an agent
answered the call or chat, or first replied to the email or ticket). Its *first solution*
is ``resolved_at`` (the first time it was marked resolved) and its *end* is ``ended_at``
(hang-up, or the ticket closed for good, after any reopening). Durations are whole
seconds between UTC instants. A contact counts in the period it *arrived* in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from servicelevel.metrics.efficiency import answered, offered
from servicelevel.metrics.formulas import count_where
from servicelevel.metrics.periods import (
    LocalTime,
    Window,
    epoch_seconds,
    holiday_dates,
    parse_business_hours,
    response_deadlines,
    utc_offset_transitions,
)
from servicelevel.metrics.registry import (
    Direction,
    Kind,
    Metric,
    Parameter,
    TableSource,
    Unit,
    register,
)
from servicelevel.model.enums import Outcome


def handled(t: ir.Table) -> ir.BooleanValue:
    """Contacts an agent took: answered, resolved, or with a first response."""
    return t.outcome.isin([Outcome.ANSWERED.value, Outcome.RESOLVED.value]) | (
        t.answered_at.notnull()
    )



def _seconds(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    return (epoch_seconds(end) - epoch_seconds(start)).cast("float64")


def _mean_time(condition_of: Any, start: str, end: str) -> Any:
    def formula(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
        counted = condition_of(t) & t[start].notnull() & t[end].notnull()
        return {
            "numerator": ibis.ifelse(counted, _seconds(t[start], t[end]), 0.0).sum(),
            "denominator": count_where(counted),
        }

    return formula


register(Metric(
    key="tfr", name="Time to first response", unit=Unit.SECONDS, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="contacts",
    columns=("outcome", "arrived_at", "answered_at"),
    definition=(
        "Average seconds from a contact's arrival to its first response (an agent answering "
        "the call or chat, or the first reply to an email or ticket), over offered contacts "
        "that got one."
    ),
    notes=(
        "On voice this is the ASA measured from timestamps; help desks (Zendesk 'first reply "
        "time', Freshdesk 'first response time') count calendar time, as here. Automatic "
        "acknowledgements are not responses: adapters must not put them in answered_at."
    ),
    formula=_mean_time(lambda t: offered(t), "arrived_at", "answered_at"),
))

register(Metric(
    key="tat", name="Turnaround time", unit=Unit.SECONDS, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="contacts",
    columns=("outcome", "arrived_at", "answered_at", "ended_at"),
    definition=(
        "Average seconds from arrival to the end of handled contacts (queue, handling and "
        "wrap-up for calls; submission to closure for emails and tickets)."
    ),
    notes=(
        "Back-office SLAs call this turnaround (TAT); help desks call the ticket variant "
        "'full resolution time'. Unlike TRT it counts every handled contact, resolved or not."
    ),
    formula=_mean_time(handled, "arrived_at", "ended_at"),
))

register(Metric(
    key="tfs", name="Time to first solution", unit=Unit.SECONDS, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="contacts",
    columns=("arrived_at", "resolved_at"),
    definition=(
        "Average seconds from arrival to the first time the contact was marked resolved, "
        "over contacts resolved at least once (a later reopening does not change it)."
    ),
    formula=_mean_time(lambda t: ibis.literal(True), "arrived_at", "resolved_at"),
))


def _trt(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    done = t.resolved_at.notnull()
    finish = ibis.greatest(t.resolved_at, t.ended_at.fill_null(t.resolved_at))
    return {
        "numerator": ibis.ifelse(done, _seconds(t.arrived_at, finish), 0.0).sum(),
        "denominator": count_where(done),
    }


register(Metric(
    key="trt", name="Total resolution time", unit=Unit.SECONDS, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="contacts",
    columns=("arrived_at", "resolved_at", "ended_at"),
    definition=(
        "Average seconds from arrival to final resolution of resolved contacts: to the "
        "contact's end when it ended after its first solution (reopened, then closed), "
        "otherwise to that first solution."
    ),
    notes=(
        "TFS stops at the first solution; TRT includes every reopen cycle until the contact "
        "is finally closed (ServiceNow's resolved_at vs closed_at)."
    ),
    formula=_trt,
))


_BUSINESS_HOURS = Parameter(
    "hours", "mon-fri 09:00-17:00",
    "Business hours in the period's time zone, e.g. 'mon-fri 08:00-18:00; sat 09:00-12:00'.",
)
_HOLIDAYS = Parameter(
    "holidays", "",
    "Country whose public holidays are closed days (ISO code such as 'US', 'FR', 'IL', "
    "or 'US-NY'); empty for none.",
)


def _sdr_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    t = tables("contacts")
    bounds = window.bounds(t, "arrived_at", "arrived_at")
    if bounds is None:
        return t.mutate(period_at=t.arrived_at, _deadline=t.answered_at)
    lower, upper = bounds
    first = lower.astimezone(window.tz).date() - timedelta(days=1)
    last = upper.astimezone(window.tz).date() + timedelta(days=1)
    holidays = holiday_dates(str(p["holidays"]), range(first.year, last.year + 3))
    calendar = parse_business_hours(str(p["hours"]), holidays)
    deadlines = ibis.memtable(response_deadlines(calendar, window.tz, first, last))
    local = LocalTime.of(t.arrived_at, utc_offset_transitions(window.tz, lower, upper))
    t = t.mutate(_local_day=local.day)
    joined = t.left_join(deadlines, t._local_day == deadlines.day)
    same_day = joined.close_at.notnull() & (joined.arrived_at < joined.close_at)
    return joined.mutate(
        period_at=joined.arrived_at,
        _deadline=ibis.ifelse(same_day, joined.close_at, joined.next_close_at),
    ).drop("_local_day", "day", "close_at", "next_close_at")


def _sdr(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    base = offered(t)
    met = base & t.answered_at.notnull() & (t.answered_at <= t._deadline)
    return {"numerator": count_where(met), "denominator": count_where(base)}


register(Metric(
    key="sdr", name="Same-day response", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER, table="contacts",
    columns=("outcome", "arrived_at", "answered_at"),
    definition=(
        "Share of offered contacts first responded to before the close of the business day "
        "they arrived on. A contact arriving after close, on a closed day or a holiday is "
        "due by the close of the next business day. Contacts not responded to count as "
        "missed."
    ),
    notes=(
        "Business days come from 'hours' (in the period's time zone) and the public "
        "holidays of 'holidays'. Variants in use: 'same business day' as here (email SLAs "
        "of outsourcing contracts, HDI's same-day resolution), 'same calendar day' (write "
        "hours='mon-sun 00:00-24:00'), and 'within N business hours' (Zendesk and Freshdesk "
        "SLA policies with business hours), which is not this metric."
    ),
    formula=_sdr,
    prepare=_sdr_rows,
    parameters=(_BUSINESS_HOURS, _HOLIDAYS),
))


def _fcr_repeat_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    t = tables("contacts")
    known = t.filter(t.customer_id.notnull() & offered(t))
    later = known.select(
        _r_tenant=known.tenant, _r_customer=known.customer_id, _r_queue=known.queue,
        _r_at=epoch_seconds(known.arrived_at),
    )
    first = known.select(
        _f_tenant=known.tenant, _f_source=known.source, _f_contact=known.contact_id,
        _f_customer=known.customer_id, _f_queue=known.queue,
        _f_at=epoch_seconds(known.arrived_at),
    )
    predicates = [
        first._f_tenant == later._r_tenant,
        first._f_customer == later._r_customer,
        later._r_at > first._f_at,
        later._r_at <= first._f_at + int(p["window"]),
    ]
    if p["same_queue"]:
        predicates.append(first._f_queue == later._r_queue)
    pairs = first.join(later, predicates)
    repeats = pairs.group_by("_f_tenant", "_f_source", "_f_contact").aggregate(
        _repeats=pairs._r_at.count()
    )
    joined = t.left_join(repeats, [t.tenant == repeats._f_tenant, t.source == repeats._f_source,
                                   t.contact_id == repeats._f_contact])
    return joined.mutate(
        period_at=joined.arrived_at, _repeats=joined._repeats.fill_null(0)
    ).drop("_f_tenant", "_f_source", "_f_contact")


def _fcr_repeat(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    base = offered(t) & answered(t) & t.customer_id.notnull()
    return {"numerator": count_where(base & (t._repeats == 0)), "denominator": count_where(base)}


register(Metric(
    key="fcr_repeat", name="First-contact resolution (repeat contacts)", unit=Unit.PERCENT,
    kind=Kind.RATIO, direction=Direction.HIGHER_IS_BETTER, table="contacts",
    columns=("outcome", "arrived_at", "customer_id", "queue"),
    definition=(
        "Share of answered contacts of known customers after which the same customer did "
        "not contact the center again (an offered contact, answered or not) within the "
        "window."
    ),
    notes=(
        "The window differs by practice: 24 or 48 hours (many ACD vendors), 7 days "
        "(SQM Group's repeat-call FCR, the default here), 30 days (some telecom regulators). "
        "same_queue=true counts only repeats to the same queue. The last 'window' of data "
        "cannot see its repeats yet, so FCR there is an upper bound. Repeats arriving in "
        "the same second are not counted."
    ),
    formula=_fcr_repeat,
    prepare=_fcr_repeat_rows,
    parameters=(
        Parameter("window", 7 * 86_400, "A new contact within this many seconds (e.g. '48h', "
                  "'7d') after an answered one is a repeat.", duration=True),
        Parameter("same_queue", False, "Only count repeats to the same queue."),
    ),
))


def _fcr_survey(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    said = t.first_contact_resolved.notnull()
    return {
        "numerator": count_where(said & t.first_contact_resolved),
        "denominator": count_where(said),
    }


register(Metric(
    key="fcr_survey", name="First-contact resolution (surveys)", unit=Unit.PERCENT,
    kind=Kind.RATIO, direction=Direction.HIGHER_IS_BETTER, table="surveys",
    columns=("responded_at", "first_contact_resolved"),
    definition=(
        "Share of survey responses saying the issue was resolved at the first contact, "
        "over responses that answered that question. Counted when the customer responded."
    ),
    notes=(
        "Customer-reported FCR (SQM, COPC) is usually lower than FCR from repeat contacts; "
        "both are kept so a contract can name which it means."
    ),
    formula=_fcr_survey,
))


def _flag_rate(column: str) -> Any:
    def formula(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
        base = handled(t) & ~t.outcome.isin([Outcome.ENDED_IN_VRU.value])
        return {"numerator": count_where(base & t[column].fill_null(False)),
                "denominator": count_where(base)}

    return formula


register(Metric(
    key="transfer_rate", name="Transfer rate", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="contacts",
    columns=("outcome", "answered_at", "transferred"),
    definition="Share of handled contacts (answered or resolved) the agent transferred.",
    notes="A contact with no transfer flag counts as not transferred.",
    formula=_flag_rate("transferred"),
))

register(Metric(
    key="escalation_rate", name="Escalation rate", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="contacts",
    columns=("outcome", "answered_at", "escalated"),
    definition=(
        "Share of handled contacts (answered or resolved) escalated to another level or "
        "group."
    ),
    notes=(
        "Tickets: adapters set escalated when reassigned to another group (ServiceNow "
        "reassignment_count > 0); some desks count only tier-2 escalations."
    ),
    formula=_flag_rate("escalated"),
))
