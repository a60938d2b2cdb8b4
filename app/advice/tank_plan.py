"""The tank plan: what goes into each tank load, and what to take to the field.

The spray volume of a prescription (treated area x carrier volume per area) is
split into full tank loads and one last, partial load. Each load carries the
products in the same concentration as the whole job (total product over total
spray volume), so the loads add up exactly to the prescription's totals. Water
is the load volume less the liquid products' volume; solids are taken not to
add volume (a 3000 L tank with 1.5 kg of granules still takes 3000 L of water).

Everything is worked out in litres, kilograms and hectares, then stated in the
farmer's unit system (US customary: gallons, fl oz / lb, acres) once, here.

>>> plan = tank_plan(spray_volume_l=5400.0, treated_ha=36.0, tank_l=3000.0,
...                  products=[("Callisto", 54.0, "L", "L/ha")], unit_system="metric")
>>> plan.full_tanks, plan.full_tank.area, plan.full_tank.water, plan.full_tank.products[0].amount
(1, 20.0, 2970.0, 30.0)
>>> plan.last_tank.volume, plan.last_tank.area, plan.last_tank.products[0].amount
(2400.0, 16.0, 24.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.domain.units import ACRE_IN_HA, LB_KG, US_FL_OZ_L

UnitSystem = Literal["metric", "us"]
UNIT_SYSTEMS: tuple[str, ...] = ("metric", "us")

# Volumes and masses of one unit, in litres or kilograms, from the exact US customary definitions
# in app.domain.units (1 US fl oz = 1/128 gal of 231 in³; 1 lb = 0.45359237 kg).
_GAL_L = float(US_FL_OZ_L * 128)
LITRES_PER: dict[str, float] = {"L": 1.0, "mL": 1e-3, "gal": _GAL_L, "qt": _GAL_L / 4, "pt": _GAL_L / 8,
                                "fl oz": float(US_FL_OZ_L)}
KG_PER: dict[str, float] = {"kg": 1.0, "g": 1e-3, "lb": float(LB_KG), "oz": float(LB_KG) / 16}

# Countries whose farmers work in US customary units (CLDR measurementSystem "US").
US_CUSTOMARY_COUNTRIES: frozenset[str] = frozenset({"US", "LR", "MM"})


def unit_system_for(country: str | None, override: str | None = None) -> UnitSystem:
    """The unit system of a field: the override when given, else from its country (metric if unknown).

    >>> unit_system_for("US"), unit_system_for("FR"), unit_system_for("US", "metric")
    ('us', 'metric', 'metric')
    """
    if override is not None:
        if override not in UNIT_SYSTEMS:
            raise ValueError(f"unknown unit system {override!r}; valid unit systems: {', '.join(UNIT_SYSTEMS)}")
        return override  # type: ignore[return-value]
    return "us" if (country or "").upper() in US_CUSTOMARY_COUNTRIES else "metric"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TankProduct(_Frozen):
    """An amount of one product, in ``unit`` (L, fl oz, kg, lb ...) and in litres or kilograms."""

    product: str
    amount: float
    unit: str
    amount_canonical: float = Field(description="the same amount in L (liquids) or kg (solids)")
    canonical_unit: str


class TankLoad(_Frozen):
    """One tank load: its volume, the water and products to put in, the area it sprays."""

    volume: float = Field(description="spray mix in the load, in the plan's volume_unit")
    water: float = Field(description="water to put in, in the plan's volume_unit")
    area: float = Field(description="area the load sprays, in the plan's area_unit")
    products: tuple[TankProduct, ...]


class TankPlan(_Frozen):
    """Tank loads of a prescription in the farmer's units (``volume_unit``, ``area_unit``)."""

    unit_system: UnitSystem
    volume_unit: str
    area_unit: str
    tank_volume: float
    tank_volume_l: float
    carrier_rate: float = Field(description="spray volume per area, volume_unit per area_unit")
    carrier_l_ha: float
    loads: int = Field(description="tank loads in all, the last one possibly partial")
    full_tanks: int
    full_tank: TankLoad | None
    last_tank: TankLoad | None = Field(description="the partial load after the full ones, if any")
    total_volume: float
    total_water: float
    total_products: tuple[TankProduct, ...]


def _amount_unit(label_unit: str, canonical: str, system: UnitSystem) -> str:
    """The unit a farmer measures a product in: the label's own when it fits the system."""
    per = label_unit.split("/")[0]
    liquid = canonical == "L"
    if system == "us":
        if per in ("fl oz", "pt", "qt", "gal", "lb", "oz"):
            return "fl oz" if per in ("pt", "qt") else per
        return "fl oz" if liquid else "lb"
    return "L" if liquid else "kg"


# Above one gallon (pound), fl oz (oz) become hard to measure out: a farmer pours from jugs.
_BIGGER = {"fl oz": ("gal", 128.0), "pt": ("gal", 8.0), "qt": ("gal", 4.0), "oz": ("lb", 16.0)}


def _product(name: str, amount_canonical: float, canonical: str, unit: str) -> TankProduct:
    per = LITRES_PER[unit] if canonical == "L" else KG_PER[unit]
    if unit in _BIGGER and amount_canonical / per >= _BIGGER[unit][1]:
        unit = _BIGGER[unit][0]
        per = LITRES_PER[unit] if canonical == "L" else KG_PER[unit]
    return TankProduct(product=name, amount=round(amount_canonical / per, 4), unit=unit,
                       amount_canonical=round(amount_canonical, 4), canonical_unit=canonical)


def tank_plan(*, spray_volume_l: float, treated_ha: float, tank_l: float,
              products: Sequence[tuple[str, float, str, str]], unit_system: UnitSystem) -> TankPlan:
    """Split ``spray_volume_l`` (L) over tanks of ``tank_l`` (L).

    ``products`` are ``(name, total, canonical unit "L" or "kg", label rate unit)``
    with totals for the whole job. Raises ``ValueError`` for a non-positive tank.
    """
    if not tank_l > 0:
        raise ValueError(f"tank volume must be positive, got {tank_l}")
    us = unit_system == "us"
    vol_unit, area_unit = ("gal", "acre") if us else ("L", "ha")
    l_per_vol = LITRES_PER[vol_unit]
    ha_per_area = ACRE_IN_HA if us else 1.0
    carrier_l_ha = spray_volume_l / treated_ha if treated_ha > 0 else 0.0
    units = [_amount_unit(rate_unit, canon, unit_system) for _n, _t, canon, rate_unit in products]

    def load(volume_l: float) -> TankLoad:
        share = volume_l / spray_volume_l
        prods = tuple(_product(name, total * share, canon, u)
                      for (name, total, canon, _r), u in zip(products, units, strict=True))
        liquid_l = sum(p.amount_canonical for p in prods if p.canonical_unit == "L")
        # whole litres or gallons: what a tank gauge shows and what the advice writes
        return TankLoad(volume=round(volume_l / l_per_vol),
                        water=round(max(volume_l - liquid_l, 0.0) / l_per_vol),
                        area=round(volume_l / carrier_l_ha / ha_per_area, 4) if carrier_l_ha else 0.0,
                        products=prods)

    if spray_volume_l <= 0:
        full, rest = 0, 0.0
    else:
        full = math.floor(spray_volume_l / tank_l + 1e-9)
        rest = spray_volume_l - full * tank_l
        if rest < 1e-6 * tank_l:
            rest = 0.0
    whole = load(spray_volume_l) if spray_volume_l > 0 else None
    return TankPlan(
        unit_system=unit_system, volume_unit=vol_unit, area_unit=area_unit,
        tank_volume=round(tank_l / l_per_vol), tank_volume_l=tank_l,
        carrier_rate=round(carrier_l_ha / l_per_vol * ha_per_area), carrier_l_ha=round(carrier_l_ha, 3),
        loads=full + (1 if rest > 0 else 0), full_tanks=full,
        full_tank=load(tank_l) if full else None, last_tank=load(rest) if rest > 0 else None,
        total_volume=whole.volume if whole else 0.0, total_water=whole.water if whole else 0.0,
        total_products=whole.products if whole else tuple(
            _product(name, 0.0, canon, u) for (name, _t, canon, _r), u in zip(products, units, strict=True)),
    )
