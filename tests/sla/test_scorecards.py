"""Role scorecards: team figures from the roster, the standard scorecards file."""

from __future__ import annotations

from servicelevel.cli.contract import STANDARD_SCORECARDS
from servicelevel.sla import load_scorecards, scorecard
from tests.metrics.helpers import at, row, store_with

TEAM_QA = """
tenant: acme
scorecards:
  team_lead:
    - {metric: qa_score, comparison: ">=", target: 85, name: QA score}
"""


def _review(review_id: str, agent: str, score: float) -> dict[str, object]:
    return row("qa_reviews", review_id=review_id, agent_id=agent, score=score,
               reviewed_at=at("2024-03-05 10:00"))


def test_team_figures_come_from_the_roster_with_exact_sums() -> None:
    source = store_with(
        agents=[row("agents", agent_id="a1", team="T1"), row("agents", agent_id="a2", team="T1"),
                row("agents", agent_id="a3", team="T2")],
        qa_reviews=[_review("r1", "a1", 90.0), _review("r2", "a1", 100.0),
                    _review("r3", "a2", 50.0), _review("r4", "a3", 80.0),
                    _review("r5", "a9", 10.0)],  # a9 has no team in the roster: left out
    )
    lines = scorecard(source, load_scorecards(TEAM_QA), "team_lead", None, None)
    by_team = {line.who: (line.actual, line.verdict) for line in lines}
    # T1: (90 + 100 + 50) / 3 reviews = 80, not the mean of agent means (95 + 50) / 2
    assert by_team == {"T1": (80.0, "missed"), "T2": (80.0, "missed")}


def test_one_team_with_who() -> None:
    source = store_with(
        agents=[row("agents", agent_id="a1", team="T1"), row("agents", agent_id="a3", team="T2")],
        qa_reviews=[_review("r1", "a1", 90.0), _review("r4", "a3", 80.0)],
    )
    lines = scorecard(source, load_scorecards(TEAM_QA), "team_lead", None, None, who="T2")
    assert [(line.who, line.actual) for line in lines] == [("T2", 80.0)]


def test_the_standard_scorecards_are_valid_for_every_role() -> None:
    standard = load_scorecards(STANDARD_SCORECARDS.read_text(encoding="utf-8"),
                               str(STANDARD_SCORECARDS))
    assert set(standard.scorecards) == {
        "agent", "team_lead", "qa", "trainer", "ops_manager"}
