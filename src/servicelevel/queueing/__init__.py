"""Queueing: Erlang B, C and A, required agents, and a discrete-event simulation.

Pure numerical code, vectorised over NumPy arrays, with no I/O. Times are in seconds,
traffic in erlangs. Models are plain functions chosen by name (``MODELS``).
"""

from servicelevel.queueing.erlang import (
    erlang_b,
    erlang_c,
    erlang_c_performance,
    max_traffic,
    offered_traffic,
)
from servicelevel.queueing.erlang_a import erlang_a_performance
from servicelevel.queueing.models import MODELS, QueueModel, get_model, performance
from servicelevel.queueing.required import Targets, required_agents, required_lines
from servicelevel.queueing.result import ABANDON_TREATMENTS, Performance

__all__ = [
    "ABANDON_TREATMENTS",
    "MODELS",
    "Performance",
    "QueueModel",
    "Targets",
    "erlang_a_performance",
    "erlang_b",
    "erlang_c",
    "erlang_c_performance",
    "get_model",
    "max_traffic",
    "offered_traffic",
    "performance",
    "required_agents",
    "required_lines",
]
