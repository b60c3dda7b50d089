"""The fit's epsilon schedule: pyabc's weighted median of the last generation's distances,
never below the targets' stated uncertainty (`convergence.stated_tolerance`).

Once the median falls below that floor, every later generation is drawn at the floor: the same
posterior, sampled again, rather than one that treats the published figures as more precise
than their bands say. Above the floor the schedule is pyabc's `QuantileEpsilon(alpha=0.5)`
unchanged, so a fit's generations there are the same as without the floor.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyabc


class FlooredMedianEpsilon(pyabc.QuantileEpsilon):
    """pyabc's median epsilon, floored at `floor`."""

    def __init__(self, floor: float):
        super().__init__(alpha=0.5)
        self.floor = float(floor)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "floor": self.floor}

    def _update(self, t: int, weighted_distances: pd.DataFrame) -> None:
        super()._update(t, weighted_distances)
        self._look_up[t] = max(self._look_up[t], self.floor)
