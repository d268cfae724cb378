"""Quality metrics over surveys and QA reviews: CSAT, DSAT, resolution and complaint rates,
QA score, agents passing QA, calibration variance, defects by root cause.

Words as in docs/glossary.md. A survey response counts in the period the customer
*responded*; a QA review in the period it was *reviewed*. A score's scale is its
response's own (``csat_scale_min`` … ``csat_scale_max``, 1–5 when not given). Reviews
made in a calibration session (several reviewers scoring the same contact to align
them) are exercises: they count only in the calibration variance unless asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from servicelevel.metrics.formulas import count_where
from servicelevel.metrics.handling import handled
from servicelevel.metrics.periods import Window, assign_period
from servicelevel.metrics.registry import (
    Direction,
    Kind,
    Metric,
    Parameter,
    TableSource,
    Unit,
    register,
    union_rows,
)


def _scale_max(t: ir.Table) -> ir.FloatingValue:
    return t.csat_scale_max.fill_null(5.0)


def _scale_min(t: ir.Table) -> ir.FloatingValue:
    return t.csat_scale_min.fill_null(1.0)


def _csat(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    scored = t.csat_score.notnull()
    top = t.csat_score >= _scale_max(t) - int(p["top_box"]) + 1
    return {"numerator": count_where(scored & top), "denominator": count_where(scored)}


register(Metric(
    key="csat", name="Customer satisfaction (top box)", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER, table="surveys",
    columns=("responded_at", "csat_score", "csat_scale_max"),
    definition=(
        "Share of scored survey responses in the top boxes of their scale: with top_box=2 "
        "on a 1–5 scale, responses of 4 or 5."
    ),
    notes=(
        "Top-2-box on 1–5 is the usual CSAT (ACSI, most SaaS help desks); some contracts "
        "count only the top box (top_box=1), and 'CSAT' is also reported as a mean score "
        "(see csat_mean)."
    ),
    formula=_csat,
    parameters=(Parameter("top_box", 2, "How many boxes at the top of the scale count as "
                          "satisfied."),),
))


def _csat_mean(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    scored = t.csat_score.notnull()
    score = t.csat_score
    if p["scale"] == "percent":
        score = 100.0 * (score - _scale_min(t)) / (_scale_max(t) - _scale_min(t))
    return {"numerator": ibis.ifelse(scored, score, 0.0).sum(), "denominator": count_where(scored)}


register(Metric(
    key="csat_mean", name="Customer satisfaction (mean score)", unit=Unit.SCORE,
    kind=Kind.RATIO, direction=Direction.HIGHER_IS_BETTER, table="surveys",
    columns=("responded_at", "csat_score", "csat_scale_min", "csat_scale_max"),
    definition=(
        "Mean satisfaction score of scored responses, on the survey's own scale ('native') "
        "or rescaled to 0–100 from each response's scale ('percent')."
    ),
    notes="Use scale=percent when surveys of different scales are mixed.",
    formula=_csat_mean,
    parameters=(Parameter("scale", "native", "Report the score as given or as 0–100.",
                          choices=("native", "percent")),),
))


def _dsat_condition(t: ir.Table, bottom_box: int) -> ir.BooleanValue:
    return t.csat_score.notnull() & (t.csat_score <= _scale_min(t) + bottom_box - 1)


def _dsat(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    return {
        "numerator": count_where(_dsat_condition(t, int(p["bottom_box"]))),
        "denominator": count_where(t.csat_score.notnull()),
    }


_BOTTOM_BOX = Parameter("bottom_box", 2, "How many boxes at the bottom of the scale count as "
                        "dissatisfied.")

register(Metric(
    key="dsat", name="Customer dissatisfaction", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="surveys",
    columns=("responded_at", "csat_score", "csat_scale_min"),
    definition=(
        "Share of scored survey responses in the bottom boxes of their scale: with "
        "bottom_box=2 on a 1–5 scale, responses of 1 or 2."
    ),
    formula=_dsat,
    parameters=(_BOTTOM_BOX,),
))


def _flag_share(column: str) -> Any:
    def formula(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
        said = t[column].notnull()
        return {"numerator": count_where(said & t[column]), "denominator": count_where(said)}

    return formula


register(Metric(
    key="resolution_rate", name="Resolution rate", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER, table="surveys", columns=("responded_at", "resolved"),
    definition=(
        "Share of survey responses saying the issue was resolved (at any contact), over "
        "responses that answered that question."
    ),
    formula=_flag_share("resolved"),
))


def _complaint_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    s = tables("surveys")
    complaints = s.select(
        tenant=s.tenant, agent_id=s.agent_id, period_at=s.responded_at,
        _complaints=s.complaint.fill_null(False).cast("int64"), _base=ibis.literal(1, "int64"),
    )
    if p["per"] == "responses":
        return complaints
    c = tables("contacts")
    contacts = c.select(
        tenant=c.tenant, agent_id=c.agent_id, period_at=c.arrived_at,
        _complaints=ibis.literal(0, "int64"), _base=handled(c).cast("int64"),
    )
    return union_rows(complaints.mutate(_base=ibis.literal(0, "int64")), contacts)


def _complaint_rate(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    return {"numerator": t._complaints.sum(), "denominator": t._base.sum()}


register(Metric(
    key="complaint_rate", name="Complaint rate", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.LOWER_IS_BETTER, table="surveys", tables=("surveys", "contacts"),
    columns=("responded_at", "complaint", "contacts.arrived_at", "contacts.outcome"),
    definition=(
        "Complaints ÷ handled contacts (answered or resolved) of the period, or ÷ survey "
        "responses with per=responses. A complaint counts when it was made, a contact when "
        "it arrived."
    ),
    notes=(
        "Regulators (UK FCA, telecom ombudsmen) count complaints per contacts or per 1,000 "
        "customers; survey-based programmes count the share of responses that are "
        "complaints."
    ),
    formula=_complaint_rate,
    prepare=_complaint_rows,
    parameters=(Parameter("per", "contacts", "Denominator: handled contacts or survey "
                          "responses.", choices=("contacts", "responses")),),
))


_CALIBRATION = Parameter(
    "include_calibration", False,
    "Also count reviews made in calibration sessions (exercises, by default left out).",
)


def _reviews(t: ir.Table, p: Mapping[str, Any]) -> ir.BooleanValue:
    # A column, even when every review counts: aggregates need a per-row expression.
    return t.calibration_session.isnull() | bool(p.get("include_calibration", False))


def _qa_score(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    counted = _reviews(t, p) & t.score.notnull()
    return {"numerator": ibis.ifelse(counted, t.score, 0.0).sum(),
            "denominator": count_where(counted)}


register(Metric(
    key="qa_score", name="QA score", unit=Unit.SCORE, kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER, table="qa_reviews",
    columns=("reviewed_at", "score", "calibration_session"),
    definition="Mean overall score (0–100) of QA reviews.",
    notes="A scorecard's critical items may fail a review whatever its score (see qa_pass_rate).",
    formula=_qa_score,
    parameters=(_CALIBRATION,),
))

_PASS_MARK = Parameter("pass_mark", 80.0, "Score (0–100) at or above which a review passes when "
                       "it does not say itself.")


def _passed(t: ir.Table, pass_mark: float) -> ir.BooleanValue:
    return t.passed.fill_null(t.score >= pass_mark)


def _qa_pass_rate(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    counted = _reviews(t, p)
    return {"numerator": count_where(counted & _passed(t, float(p["pass_mark"]))),
            "denominator": count_where(counted)}


register(Metric(
    key="qa_pass_rate", name="QA reviews passed", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER, table="qa_reviews",
    columns=("reviewed_at", "score", "passed", "calibration_session"),
    definition=(
        "Share of QA reviews that passed: as the review says (a failed critical item fails "
        "it), or, when it does not say, score ≥ pass_mark."
    ),
    formula=_qa_pass_rate,
    parameters=(_PASS_MARK, _CALIBRATION),
))


def _agents_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    r = tables("qa_reviews")
    r = r.filter(_reviews(r, p))
    bounds = window.bounds(r, "reviewed_at", "reviewed_at")
    if bounds is None:
        return r.select("tenant", "agent_id", period_at=r.reviewed_at,
                        _passing=ibis.literal(False))
    placed = assign_period(r, "reviewed_at", window.grid(*bounds))
    agents = placed.group_by("tenant", "agent_id", "period_at").aggregate(
        _mean=placed.score.mean()
    )
    return agents.mutate(_passing=agents._mean >= float(p["pass_mark"]))


def _agents_passing(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    return {"numerator": count_where(t._passing), "denominator": t.count()}


register(Metric(
    key="qa_agents_passing", name="Agents passing QA", unit=Unit.PERCENT, kind=Kind.RATIO,
    direction=Direction.HIGHER_IS_BETTER, table="qa_reviews",
    columns=("reviewed_at", "agent_id", "score", "calibration_session"),
    definition=(
        "Share of agents reviewed in the period whose mean QA score in that period is at "
        "least pass_mark."
    ),
    notes=(
        "Counted per period: a month's share is of the agents' monthly means, not the sum "
        "of daily shares, so it does not roll up from shorter periods."
    ),
    formula=_agents_passing,
    prepare=_agents_rows,
    additive=False,
    parameters=(Parameter("pass_mark", 80.0, "Mean score (0–100) an agent needs."),
                _CALIBRATION),
))


def _calibration_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    r = tables("qa_reviews")
    r = r.filter(r.calibration_session.notnull() & r.score.notnull())
    session_mean = r.score.mean().over(group_by=[r.tenant, r.calibration_session])
    deviation = r.score - session_mean
    spread = deviation * deviation if p["statistic"] == "squared" else deviation.abs()
    return r.mutate(period_at=r.reviewed_at, _spread=spread)


def _calibration(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    return {"numerator": t._spread.sum(), "denominator": t.count()}


register(Metric(
    key="qa_calibration_variance", name="QA calibration variance", unit=Unit.SCORE,
    kind=Kind.RATIO, direction=Direction.LOWER_IS_BETTER, table="qa_reviews",
    columns=("reviewed_at", "score", "calibration_session"),
    definition=(
        "How far reviewers' scores of the same contact in a calibration session lie from "
        "the session's mean score: the mean absolute deviation in points, or with "
        "statistic=squared the variance (mean squared deviation, points²)."
    ),
    notes=(
        "Some QA programmes compare each reviewer with an expert's 'calibrated' score "
        "instead of the session mean, and target a deviation of ±5 points or less."
    ),
    formula=_calibration,
    prepare=_calibration_rows,
    parameters=(Parameter("statistic", "absolute", "Mean absolute or mean squared deviation.",
                          choices=("absolute", "squared")),),
))


def _defect_rows(tables: TableSource, window: Window, p: Mapping[str, Any]) -> ir.Table:
    r = tables("qa_reviews")
    traced = r.filter(r.defect_root_cause.notnull() & (r.defect_root_cause != "")
                      & r.calibration_session.isnull())
    cause = str(p["root_cause"])
    qa = traced.select(
        tenant=traced.tenant, agent_id=traced.agent_id, period_at=traced.reviewed_at,
        _match=(traced.defect_root_cause == cause).cast("int64"),
    )
    if p["defects"] == "qa":
        return qa
    s = tables("surveys")
    dsat = s.filter(_dsat_condition(s, int(p["bottom_box"])) & s.contact_id.notnull())
    per_contact = traced.group_by(_c_tenant=traced.tenant, _c_contact=traced.contact_id).aggregate(
        _matches=(traced.defect_root_cause == cause).cast("int64").max()
    )
    joined = dsat.join(per_contact, [dsat.tenant == per_contact._c_tenant,
                                     dsat.contact_id == per_contact._c_contact])
    surveyed = joined.select(
        tenant=joined.tenant, agent_id=joined.agent_id, period_at=joined.responded_at,
        _match=joined._matches,
    )
    return surveyed if p["defects"] == "dsat" else union_rows(qa, surveyed)


def _defect_share(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.Scalar]:
    return {"numerator": t._match.sum(), "denominator": t.count()}


register(Metric(
    key="defect_root_cause_share", name="Defects traced to a root cause", unit=Unit.PERCENT,
    kind=Kind.RATIO, direction=Direction.LOWER_IS_BETTER, table="qa_reviews",
    tables=("qa_reviews", "surveys"),
    columns=("reviewed_at", "contact_id", "defect_root_cause", "surveys.csat_score"),
    definition=(
        "Share of defects whose root cause is root_cause (training by default). Defects are "
        "QA reviews with a root cause recorded, and (defects=dsat or all) dissatisfied "
        "survey responses whose contact was reviewed with a root cause."
    ),
    notes=(
        "Trainers read it with root_cause=training: the share of errors a training "
        "programme can fix. A DSAT response counts once per contact; its root cause comes "
        "from the contact's QA reviews."
    ),
    formula=_defect_share,
    prepare=_defect_rows,
    parameters=(
        Parameter("root_cause", "training", "Root cause counted: training, process, "
                  "product, …"),
        Parameter("defects", "all", "Which defects: QA reviews, DSAT responses or both.",
                  choices=("qa", "dsat", "all")),
        _BOTTOM_BOX,
    ),
))
