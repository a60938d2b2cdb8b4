"""A product label as the dosing core sees it: canonical units only.

The API and the data files speak the label's own units (fl oz/acre, ft ...);
``app.domain.units`` converts them once, before anything here is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.dosing.response import DoseResponse


@dataclass(frozen=True)
class ProductLabel:
    """Label limits of one product, rates in ``canonical_unit`` (L/ha or kg/ha).

    ``buffers_m`` maps a sensitive-feature kind (``water``, ``well``, ...) to
    the no-spray distance in metres around features of that kind.
    ``downwind_buffer_m`` applies downwind of the field when the wind
    direction is known (drift-prone products). ``efficacy`` maps an EPPO
    species code to its survival curve, doses in ``canonical_unit``.
    ``crops`` maps each crop the label allows to its latest growth stage (BBCH
    number) or ``None`` for no stage limit; an empty mapping allows any crop.
    """

    name: str
    canonical_unit: str
    min_rate: float
    max_rate: float
    max_season_rate: float | None = None
    buffers_m: Mapping[str, float] = field(default_factory=dict)
    downwind_buffer_m: float = 0.0
    efficacy: Mapping[str, DoseResponse] = field(default_factory=dict)
    price_per_unit: float = 0.0
    crops: Mapping[str, int | None] = field(default_factory=dict)
    label_unit: str = ""

    def __post_init__(self) -> None:
        if self.canonical_unit not in ("L/ha", "kg/ha"):
            raise ValueError(f"canonical_unit must be L/ha or kg/ha, got {self.canonical_unit!r}")
        if not 0 <= self.min_rate <= self.max_rate:
            raise ValueError(
                f"{self.name}: need 0 <= min_rate <= max_rate, got {self.min_rate}, {self.max_rate}"
            )
        if not self.max_rate > 0:
            raise ValueError(f"{self.name}: max_rate must be positive")
