"""The dosing step: densities and masks in, a rate per cell and product out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from app.dosing.grid import GridSpec
from app.dosing.label import ProductLabel
from app.dosing.masks import FieldMasks
from app.dosing.sprayer import SprayerProfile

StrategyName = Literal["broadcast", "threshold", "target_efficacy", "economic"]
STRATEGIES: tuple[str, ...] = ("broadcast", "threshold", "target_efficacy", "economic")


class DosingError(ValueError):
    """A prescription that cannot be made as asked (the message says why)."""


@dataclass(frozen=True)
class Strategy:
    """How doses are chosen.

    ``rates`` optionally fixes the rate of each product (canonical unit) for
    ``broadcast`` and ``threshold``; the label maximum is the default.
    ``threshold_plants_m2`` is the total weed density from which a cell is
    sprayed under ``threshold``.
    """

    name: StrategyName = "threshold"
    rates: tuple[float, ...] = ()
    threshold_plants_m2: float = 1.0

    def __post_init__(self) -> None:
        if self.name not in STRATEGIES:
            raise DosingError(
                f"unknown strategy {self.name!r}; valid strategies: {', '.join(STRATEGIES)}"
            )
        if self.threshold_plants_m2 < 0:
            raise DosingError("threshold_plants_m2 must not be negative")


@dataclass
class Summary:
    """Totals of a prescription. Areas in ha, product totals in canonical units (L or kg)."""

    field_area_ha: float
    sprayable_area_ha: float
    treated_area_ha: float
    product_total: list[float]
    broadcast_total: list[float]
    saving_pct: list[float]

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class Prescription:
    """Rates per product and cell in canonical units: ``rates[k, row, col]``.

    Cells outside the field are ``NaN``; cells in the field but not sprayed are 0.
    """

    grid: GridSpec
    products: Sequence[ProductLabel]
    rates: np.ndarray
    summary: Summary
    compliance: list[dict[str, object]] = field(default_factory=list)


def _rates_for(strategy: Strategy, products: Sequence[ProductLabel]) -> list[float]:
    if strategy.rates:
        if len(strategy.rates) != len(products):
            raise DosingError(
                f"strategy.rates has {len(strategy.rates)} values for {len(products)} products"
            )
        rates = list(strategy.rates)
    else:
        rates = [p.max_rate for p in products]
    for p, r in zip(products, rates, strict=True):
        if not p.min_rate <= r <= p.max_rate:
            raise DosingError(
                f"rate {r:g} {p.canonical_unit} for {p.name} is outside the label range "
                f"[{p.min_rate:g}, {p.max_rate:g}] {p.canonical_unit}"
            )
    return rates


def prescribe(densities_plants_m2: Mapping[str, np.ndarray], grid: GridSpec, masks: FieldMasks,
              products: Sequence[ProductLabel], strategy: Strategy,
              sprayer: SprayerProfile | None = None) -> Prescription:
    """Decide the rate of every cell for every product.

    ``densities_plants_m2`` maps a species code to a grid of plants/m² shaped
    like ``grid``. Returns rates in each product's canonical unit.
    """
    if not products:
        raise DosingError("at least one product is needed")
    for code, arr in densities_plants_m2.items():
        if arr.shape != grid.shape:
            raise DosingError(f"density grid of {code} has shape {arr.shape}, grid is {grid.shape}")
    rates = _rates_for(strategy, products)

    if strategy.name == "broadcast":
        target = masks.sprayable
    else:
        total = np.zeros(grid.shape, dtype=np.float32)
        for arr in densities_plants_m2.values():
            np.add(total, arr, out=total, casting="unsafe")
        target = masks.sprayable & (total >= strategy.threshold_plants_m2) & (total > 0)

    out = np.full((len(products), *grid.shape), np.nan, dtype=np.float32)
    for k, rate in enumerate(rates):
        out[k][masks.in_field] = 0.0
        out[k][target] = rate

    cell_ha = grid.cell_area_ha
    sprayable_ha = float(masks.sprayable.sum()) * cell_ha
    totals = [float(np.nansum(out[k], dtype=np.float64)) * cell_ha for k in range(len(products))]
    broadcast = [r * sprayable_ha for r in rates]
    summary = Summary(
        field_area_ha=float(masks.in_field.sum()) * cell_ha,
        sprayable_area_ha=sprayable_ha,
        treated_area_ha=float(target.sum()) * cell_ha,
        product_total=totals,
        broadcast_total=broadcast,
        saving_pct=[100.0 * (1 - t / b) if b > 0 else 0.0 for t, b in zip(totals, broadcast, strict=True)],
    )
    return Prescription(grid=grid, products=products, rates=out, summary=summary)
