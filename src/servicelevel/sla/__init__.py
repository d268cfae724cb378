"""SLA contracts as code: schema, loading, evaluation, consequences, projection.

The domain core of contracts does no I/O: ``load_contract`` takes the file's text,
``check`` takes a ``TableSource`` from the store and calls the metric engine.
"""

from servicelevel.sla.loading import LoadedContract, load_contract, load_scorecards
from servicelevel.sla.schema import Contract, ScorecardFile
from servicelevel.sla.scorecards import scorecard
from servicelevel.sla.service import Evaluation, Selection, check

__all__ = [
    "Contract",
    "Evaluation",
    "LoadedContract",
    "ScorecardFile",
    "Selection",
    "check",
    "load_contract",
    "load_scorecards",
    "scorecard",
]
