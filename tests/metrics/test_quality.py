"""Quality metrics on hand-built surveys, QA reviews and contacts."""

from __future__ import annotations

from datetime import date

import pytest

from tests.metrics.helpers import at, contact, row, store_with, value, values


def survey(survey_id, day, score=None, **columns):
    return row("surveys", survey_id=survey_id, responded_at=at(f"2024-03-{day} 12:00"),
               csat_score=score, **columns)


def review(review_id, day, agent, score, **columns):
    return row("qa_reviews", review_id=review_id, reviewed_at=at(f"2024-03-{day} 15:00"),
               agent_id=agent, score=score, **columns)


@pytest.fixture(scope="module")
def quality():
    return store_with(
        surveys=[
            survey("s1", "04", 5.0, agent_id="a1", contact_id="c1", resolved=True,
                   complaint=False),
            survey("s2", "04", 4.0, agent_id="a1", contact_id="c2", resolved=False),
            survey("s3", "05", 2.0, agent_id="a2", contact_id="c3", complaint=True),
            survey("s4", "05", 1.0, agent_id="a2", contact_id="c4", complaint=True),
            survey("s5", "06", 3.0, agent_id="a2"),
            survey("s6", "06", 9.0, agent_id="a1", csat_scale_min=0.0, csat_scale_max=10.0),
            survey("s7", "06", None, resolved=True, complaint=False),
        ],
        qa_reviews=[
            review("r1", "04", "a1", 90.0, contact_id="c1"),
            review("r2", "05", "a1", 70.0, contact_id="c3", defect_root_cause="training"),
            review("r3", "04", "a2", 85.0, contact_id="c4", passed=False,
                   defect_root_cause="process"),
            review("r4", "05", "a2", 60.0, contact_id="c9", defect_root_cause="training"),
            review("r5", "06", "a3", 80.0, contact_id="c5", reviewer="x",
                   calibration_session="K"),
            review("r6", "06", "a3", 90.0, contact_id="c5", reviewer="y",
                   calibration_session="K"),
            review("r7", "06", "a3", 70.0, contact_id="c5", reviewer="z",
                   calibration_session="K", defect_root_cause="training"),
        ],
        contacts=[
            contact("c1", "2024-03-04 09:00"), contact("c2", "2024-03-04 10:00"),
            contact("c3", "2024-03-05 09:00"), contact("c4", "2024-03-05 10:00"),
            contact("c5", "2024-03-05 11:00", "abandoned", 30.0),
        ],
    )


@pytest.mark.parametrize(("metric", "params", "expected"), [
    # Scored: s1..s6. Top two boxes: 5 and 4 of 1–5, 9 and 10 of 0–10: s1 s2 s6.
    ("csat", {}, 50.0),
    ("csat", {"top_box": 1}, 100 / 6),  # s1 only
    ("csat_mean", {}, 4.0),  # (5 + 4 + 2 + 1 + 3 + 9) / 6
    ("csat_mean", {"scale": "percent"}, 340 / 6),  # 100 + 75 + 25 + 0 + 50 + 90
    ("dsat", {}, 100 / 3),  # s3 (2) and s4 (1); s6's 9 of 0–10 is not
    ("resolution_rate", {}, 200 / 3),  # s1 yes, s2 no, s7 yes
    ("complaint_rate", {}, 50.0),  # s3 s4 ÷ handled c1..c4
    ("complaint_rate", {"per": "responses"}, 200 / 7),  # 2 ÷ 7 responses
    # Calibration reviews r5–r7 left out: (90 + 70 + 85 + 60) / 4
    ("qa_score", {}, 76.25),
    ("qa_score", {"include_calibration": True}, 545 / 7),
    # r1 passes (90 ≥ 80); r2 and r4 score below; r3 failed a critical item
    ("qa_pass_rate", {}, 25.0),
    # With calibration: r1, r5 (80 ≥ 80) and r6 pass of r1..r7
    ("qa_pass_rate", {"include_calibration": True}, 300 / 7),
    # Month means: a1 (90 + 70) / 2 = 80 passes, a2 (85 + 60) / 2 = 72.5 does not
    ("qa_agents_passing", {}, 50.0),
    # Session K: scores 80, 90, 70, mean 80: deviations 0, 10, 10
    ("qa_calibration_variance", {}, 20 / 3),
    ("qa_calibration_variance", {"statistic": "squared"}, 200 / 3),
    # QA defects with a root cause: r2 training, r3 process, r4 training
    ("defect_root_cause_share", {"defects": "qa"}, 200 / 3),
    # DSAT responses s3 (c3, reviewed: training) and s4 (c4, reviewed: process)
    ("defect_root_cause_share", {"defects": "dsat"}, 50.0),
    ("defect_root_cause_share", {}, 60.0),  # 3 of 5
    ("defect_root_cause_share", {"root_cause": "process"}, 40.0),  # r3 and s4
])
def test_quality_by_hand(quality, metric, params, expected):
    assert value(quality, metric, params) == pytest.approx(expected)


def test_agents_passing_is_counted_per_period(quality):
    # 4 March: a1 90 and a2 85 both pass; 5 March: a1 70, a2 60 both fail; 6 March: only
    # calibration reviews, left out: no agent reviewed, no value.
    days = {"start": date(2024, 3, 4), "end": date(2024, 3, 6)}
    assert values(quality, "qa_agents_passing", period="day", **days) == {
        "2024-03-04T00:00:00+00:00": 100.0,
        "2024-03-05T00:00:00+00:00": 0.0,
        "2024-03-06T00:00:00+00:00": None,
    }
