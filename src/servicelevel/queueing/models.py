"""Queueing models chosen by name: each is a plain function returning a ``Performance``."""

from __future__ import annotations

from typing import Protocol

from numpy.typing import ArrayLike

from servicelevel.errors import UnknownNameError
from servicelevel.queueing.erlang import erlang_c_performance
from servicelevel.queueing.erlang_a import erlang_a_performance
from servicelevel.queueing.result import Performance


class QueueModel(Protocol):
    """The signature every queueing model function has."""

    def __call__(
        self,
        traffic: ArrayLike,
        agents: ArrayLike,
        aht: ArrayLike,
        threshold: ArrayLike,
        *,
        patience: ArrayLike | None = None,
        abandons: str = "negative",
        answered_wait: bool = True,
    ) -> Performance: ...


#: Queueing models by name: ``erlang_c`` (infinite patience), ``erlang_a`` (exponential
#: patience with mean ``patience``).
MODELS: dict[str, QueueModel] = {
    "erlang_c": erlang_c_performance,
    "erlang_a": erlang_a_performance,
}


def get_model(name: str) -> QueueModel:
    """The model function called ``name``."""
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownNameError("queueing model", name, MODELS) from None


def performance(
    traffic: ArrayLike,
    agents: ArrayLike,
    aht: ArrayLike,
    threshold: ArrayLike,
    *,
    model: str = "erlang_c",
    patience: ArrayLike | None = None,
    abandons: str = "negative",
    answered_wait: bool = True,
) -> Performance:
    """Performance of ``agents`` offered ``traffic`` erlangs under the model ``model``."""
    return get_model(model)(traffic, agents, aht, threshold, patience=patience,
                            abandons=abandons, answered_wait=answered_wait)
