"""Dose-response curves of weed survival (drc's LL.4, LL.3 and W1.4).

A curve gives the *surviving fraction* of a weed population (biomass or
plants relative to untreated, so ``d`` is normally 1) at a dose in the
canonical rate unit of the product (L/ha or kg/ha). Control is ``1 - f``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Model = Literal["LL.4", "LL.3", "W1.4"]
MODELS: tuple[str, ...] = ("LL.4", "LL.3", "W1.4")


@dataclass(frozen=True)
class DoseResponse:
    """Parameters of one curve; ``e`` and doses share the product's canonical unit.

    Examples
    --------
    >>> curve = DoseResponse(model="LL.4", b=2.0, c=0.0, d=1.0, e=1.0)
    >>> float(curve.survival(1.0))
    0.5
    >>> round(curve.dose_for_control(0.9), 4)
    3.0
    """

    model: Model
    b: float
    c: float
    d: float
    e: float

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; valid models: {', '.join(MODELS)}")
        if not self.e > 0:
            raise ValueError(f"e (ED50) must be positive, got {self.e}")
        if self.model == "LL.3" and self.c != 0:
            raise ValueError("LL.3 has c = 0")

    def survival(self, dose: np.ndarray | float) -> np.ndarray:
        """Surviving fraction at ``dose`` (canonical unit); dose 0 gives ``d``."""
        dose = np.asarray(dose, dtype=np.float64)
        with np.errstate(divide="ignore", over="ignore"):
            z = self.b * (np.log(dose) - np.log(self.e))
            if self.model == "W1.4":
                core = np.exp(-np.exp(z))
            else:
                core = 1.0 / (1.0 + np.exp(z))
        return self.c + (self.d - self.c) * core

    def dose_for_control(self, control: float) -> float:
        """Dose giving ``control`` (0..1) relative to untreated, ``inf`` if unreachable.

        Control is measured against ``d`` (untreated), so a curve whose lower
        limit ``c`` leaves more than ``1 - control`` alive never reaches it.
        """
        target = self.d * (1.0 - control)
        if target <= self.c or self.d <= self.c:
            return float("inf")
        if target >= self.d:
            return 0.0
        q = (target - self.c) / (self.d - self.c)  # fraction of the (d - c) span left
        if self.model == "W1.4":
            z = np.log(-np.log(q))
        else:
            z = np.log(1.0 / q - 1.0)
        return float(self.e * np.exp(z / self.b))
