"""The performance of one queue configuration, as every model reports it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: How abandoned contacts count in the service level under Erlang A, named as the metric
#: engine's ``service_level`` ``abandons`` parameter: ``negative`` — answered within the
#: threshold over all offered (abandons count against); ``ignored`` — abandons within the
#: threshold leave the denominator; ``positive`` — abandons within the threshold count as
#: met; ``answered_only`` — answered within the threshold over answered.
ABANDON_TREATMENTS = ("negative", "ignored", "positive", "answered_only")


def as_float_array(value: ArrayLike) -> FloatArray:
    """``value`` as a float64 array (0-d for a scalar)."""
    return np.asarray(value, dtype=np.float64)


@dataclass(frozen=True)
class Performance:
    """Steady-state performance of a queue; every field broadcasts over the inputs.

    Times are in seconds, probabilities in [0, 1]. ``asa`` is the average speed of answer
    (mean wait of answered contacts); ``average_wait`` the mean wait of all offered
    contacts, answered or abandoned (the two are equal without abandonment).
    """

    traffic: FloatArray
    agents: FloatArray
    wait_probability: FloatArray
    service_level: FloatArray
    asa: FloatArray
    average_wait: FloatArray
    abandon_probability: FloatArray
    occupancy: FloatArray

    def item(self, index: int | tuple[int, ...] = ()) -> dict[str, float]:
        """One configuration as plain floats, e.g. for JSON."""
        out: dict[str, float] = {}
        for name in self.__dataclass_fields__:
            value = np.broadcast_to(getattr(self, name), self.shape)
            out[name] = float(value[index])
        return out

    @property
    def shape(self) -> tuple[int, ...]:
        """The broadcast shape of all fields."""
        return np.broadcast_shapes(*(np.shape(getattr(self, f)) for f in self.__dataclass_fields__))
