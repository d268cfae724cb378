"""Efficiency metrics over contacts: volumes, service level, waits, abandonment, handling.

Words as in docs/glossary.md. A contact is *offered* when it reached the queue and has
finished there: every outcome except ``ended_in_vru`` (never queued) and ``waiting``
(not finished yet). It is *answered* when an agent took it, *abandoned* when the
customer hung up while waiting. The *wait* is ``wait_s``, as the source reports it. A
contact counts in the period it *arrived* in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from servicelevel.metrics.formulas import count_where, sum_where
from servicelevel.metrics.registry import Direction, Kind, Metric, Parameter, Unit, register
from servicelevel.model.enums import Outcome

_TIMEOUT_LIKE = (
    Outcome.TIMEOUT, Outcome.EXIT_KEY, Outcome.WITHDRAWN, Outcome.LEAVE_EMPTY,
    Outcome.JOIN_EMPTY, Outcome.FULL,
)
_OVERFLOW_LIKE = (Outcome.OVERFLOW, Outcome.CALLBACK, Outcome.CLOSED)
_NOT_OFFERED = (Outcome.ENDED_IN_VRU, Outcome.WAITING)


def _values(outcomes: tuple[Outcome, ...]) -> list[str]:
    return [o.value for o in outcomes]


def offered(t: ir.Table, params: Mapping[str, Any] | None = None) -> ir.BooleanValue:
    """Contacts offered to the queue, with timeouts and overflows counted or not."""
    params = params or {}
    excluded = _values(_NOT_OFFERED)
    if not params.get("timeouts", True):
        excluded += _values(_TIMEOUT_LIKE)
    if not params.get("overflows", True):
        excluded += _values(_OVERFLOW_LIKE)
    return ~t.outcome.isin(excluded)


def answered(t: ir.Table) -> ir.BooleanValue:
    return t.outcome == Outcome.ANSWERED.value


def abandoned(t: ir.Table) -> ir.BooleanValue:
    return t.outcome == Outcome.ABANDONED.value




def _wait(t: ir.Table) -> ir.FloatingValue:
    return t.wait_s.fill_null(0.0)


_TIMEOUTS = Parameter(
    "timeouts", True,
    "Count timeouts, exits by key, leave/join-empty, full and withdrawn contacts as offered "
    "(not answered within the threshold). False drops them from the denominator.",
)
_OVERFLOWS = Parameter(
    "overflows", True,
    "Count overflowed, called-back and closed-hours contacts as offered. False drops them.",
)
_SHORT_ABANDON = Parameter(
    "short_abandon", 5.0, "Abandons within this many seconds are short abandons.",
    duration=True,
)

SERVICE_LEVEL_TREATMENTS = (
    "negative", "ignored", "positive", "answered_only", "short_excluded", "short_positive",
)


def _service_level(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    threshold = float(p["threshold"])
    short = float(p["short_abandon"])
    base = offered(t, p)
    wait = _wait(t)
    met = base & answered(t) & (wait <= threshold)
    gone = base & abandoned(t)
    treatment = p["abandons"]
    numerator = count_where(met)
    denominator = count_where(base)
    if treatment == "ignored":
        denominator = count_where(base & ~(abandoned(t) & (wait <= threshold)))
    elif treatment == "positive":
        numerator = count_where(met | (gone & (wait <= threshold)))
    elif treatment == "answered_only":
        denominator = count_where(base & answered(t))
    elif treatment == "short_excluded":
        denominator = count_where(base & ~(abandoned(t) & (wait <= short)))
    elif treatment == "short_positive":
        numerator = count_where(met | (gone & (wait <= short)))
    return {"numerator": numerator, "denominator": denominator}


register(Metric(
    key="service_level",
    name="Service level",
    unit=Unit.PERCENT,
    kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER,
    table="contacts",
    columns=("outcome", "wait_s"),
    definition=(
        "Share of offered contacts answered within the threshold (wait ≤ threshold, "
        "inclusive), e.g. 80% within 20 seconds. How abandoned contacts count is the "
        "'abandons' parameter."
    ),
    notes=(
        "Treatments of abandons: 'negative' (answered within T ÷ offered; the strictest, "
        "COPC and most outsourcing contracts), 'ignored' (abandons within T leave the "
        "denominator; Avaya CMS 'service level' with acceptable abandons), 'positive' "
        "(abandons within T count as met; Asterisk's SL2), 'answered_only' (÷ answered; "
        "Asterisk's SL, Wazo's quality of service), 'short_excluded' (abandons within "
        "short_abandon seconds leave the denominator; Genesys and Cisco 'short abandons'), "
        "'short_positive' (short abandons count as met). ICMI's worked example gives "
        "81.1 / 82.7 / 83.0 / 86.0 / 81.9 / 82.1 % for these six."
    ),
    formula=_service_level,
    parameters=(
        Parameter("threshold", 20.0, "Answer-time threshold T in seconds (wait ≤ T is met).",
                  duration=True),
        Parameter("abandons", "negative", "How abandoned contacts count.",
                  choices=SERVICE_LEVEL_TREATMENTS),
        _SHORT_ABANDON,
        _TIMEOUTS,
        _OVERFLOWS,
    ),
))


def _volume(condition_of: Any) -> Any:
    def formula(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
        return {"value": count_where(offered(t, p) & condition_of(t))}

    return formula


register(Metric(
    key="offered", name="Contacts offered", unit=Unit.CONTACTS, kind=Kind.COUNT,
    direction=Direction.HIGHER_IS_BETTER, table="contacts", columns=("outcome",),
    definition=(
        "Contacts that reached the queue and finished there: answered, abandoned, or "
        "ended otherwise (timeout, exit, overflow…). Contacts that ended in the voice "
        "response unit and contacts still waiting are not offered."
    ),
    formula=_volume(lambda t: ibis.literal(True)),
    parameters=(_TIMEOUTS, _OVERFLOWS),
))

register(Metric(
    key="answered", name="Contacts answered", unit=Unit.CONTACTS, kind=Kind.COUNT,
    direction=Direction.HIGHER_IS_BETTER, table="contacts", columns=("outcome",),
    definition="Offered contacts an agent answered.",
    formula=_volume(answered),
))

register(Metric(
    key="abandoned", name="Contacts abandoned", unit=Unit.CONTACTS, kind=Kind.COUNT,
    direction=Direction.LOWER_IS_BETTER, table="contacts", columns=("outcome",),
    definition="Offered contacts whose customer hung up while waiting in the queue.",
    formula=_volume(abandoned),
))


def _asa(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    done = offered(t) & answered(t)
    return {"numerator": sum_where(done, _wait(t)), "denominator": count_where(done)}


register(Metric(
    key="asa", name="Average speed of answer", unit=Unit.SECONDS, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="contacts", columns=("outcome", "wait_s"),
    definition="Total wait of answered contacts ÷ answered contacts, in seconds.",
    notes="Some ACDs add ring time to the wait; servicelevel takes the wait as reported.",
    formula=_asa,
))


def _awt(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    counted = offered(t) & answered(t)
    if p["include_abandoned"]:
        counted = offered(t) & (answered(t) | abandoned(t))
    return {"numerator": sum_where(counted, _wait(t)), "denominator": count_where(counted)}


register(Metric(
    key="awt", name="Average wait time", unit=Unit.SECONDS, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="contacts", columns=("outcome", "wait_s"),
    definition=(
        "Average wait in the queue, in seconds: of answered contacts by default (as SLA "
        "templates usually define it), or of answered and abandoned contacts."
    ),
    notes="With include_abandoned=true it is the average wait of every caller who queued.",
    formula=_awt,
    parameters=(Parameter("include_abandoned", False,
                          "Also count the waits of abandoned contacts."),),
))


def _time_to_abandon(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    gone = offered(t) & abandoned(t)
    return {"numerator": sum_where(gone, _wait(t)), "denominator": count_where(gone)}


register(Metric(
    key="average_time_to_abandon", name="Average time to abandon", unit=Unit.SECONDS,
    kind=Kind.RATIO, direction=Direction.HIGHER_IS_BETTER, table="contacts",
    columns=("outcome", "wait_s"),
    definition="Total wait of abandoned contacts ÷ abandoned contacts, in seconds.",
    formula=_time_to_abandon,
))


def _longest_wait(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    counted = offered(t) if p["include_abandoned"] else offered(t) & answered(t)
    return {"value": ibis.ifelse(counted, t.wait_s, ibis.null("float64")).max()}


register(Metric(
    key="longest_wait", name="Longest wait", unit=Unit.SECONDS, kind=Kind.MAXIMUM,
    direction=Direction.LOWER_IS_BETTER, table="contacts", columns=("outcome", "wait_s"),
    definition=(
        "Longest wait of an offered contact in the period, in seconds (answered and "
        "abandoned by default; answered only with include_abandoned=false)."
    ),
    formula=_longest_wait,
    parameters=(Parameter("include_abandoned", True,
                          "Also count contacts that abandoned or ended otherwise."),),
))


def _abandon_rate(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    base = offered(t, p)
    if p["exclude_short"]:
        base = base & ~(abandoned(t) & (_wait(t) <= float(p["short_abandon"])))
    return {"numerator": count_where(base & abandoned(t)), "denominator": count_where(base)}


register(Metric(
    key="abandon_rate", name="Abandon rate", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="contacts", columns=("outcome", "wait_s"),
    definition=(
        "Abandoned contacts ÷ offered contacts. With exclude_short, abandons within "
        "short_abandon seconds leave both numerator and denominator."
    ),
    formula=_abandon_rate,
    parameters=(
        Parameter("exclude_short", False, "Leave short abandons out of the rate."),
        _SHORT_ABANDON, _TIMEOUTS, _OVERFLOWS,
    ),
))


def _aht(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    handled = answered(t) & t.talk_s.notnull()
    handle = t.talk_s.fill_null(0.0) + t.hold_s.fill_null(0.0) + t.acw_s.fill_null(0.0)
    return {"numerator": sum_where(handled, handle), "denominator": count_where(handled)}


register(Metric(
    key="aht", name="Average handle time", unit=Unit.SECONDS, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="contacts",
    columns=("outcome", "talk_s", "hold_s", "acw_s"),
    definition=(
        "(Talk + hold + after-contact work) ÷ answered contacts whose talk time is known, "
        "in seconds. Calls still in conversation are left out until they end."
    ),
    formula=_aht,
))
