"""A product label as documents and the API carry it: the label's own units."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from app.budgets import MAX_RATE
from app.domain.crops import normalise_crop
from app.domain.units import (
    LENGTH_UNITS,
    RATE_UNITS,
    canonical_unit,
    normalise_length_unit,
    normalise_rate_unit,
    to_canonical_rate,
    to_metres,
)
from app.domain.vocabulary import FeatureKind
from app.dosing.errors import DosingError
from app.dosing.label import ProductLabel
from app.dosing.response import DoseResponse

# Common spellings (l/ha, ml/ha, fl oz/ac, lbs/A, feet) are accepted and stored in the project's spelling.
RateUnit = Annotated[Literal[RATE_UNITS],  # type: ignore[valid-type]
                     BeforeValidator(lambda v: normalise_rate_unit(v) if isinstance(v, str) else v)]
LengthUnit = Annotated[Literal[LENGTH_UNITS],  # type: ignore[valid-type]
                       BeforeValidator(lambda v: normalise_length_unit(v) if isinstance(v, str) else v)]

# Plausible label maxima per formulation, canonical units (assumption, not a regulatory figure): the
# highest herbicide product rates on current labels are a few L or kg per hectare (granules some tens
# of kg/ha). A value outside is nearly always a unit slip (mL for L, g for kg, spray volume for product).
PLAUSIBLE_RATE: dict[str, tuple[float, float]] = {"L/ha": (0.01, 20.0), "kg/ha": (0.001, 100.0)}
ED50_MAX_FACTOR = 100.0  # an ED50 above 100 x the label maximum is a unit slip, not a tolerant weed


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Source(_Strict):
    title: str = Field(max_length=500)
    url: str | None = Field(default=None, max_length=2000)
    accessed: str | None = Field(default=None, max_length=64)


class ActiveIngredient(_Strict):
    name: str = Field(min_length=1, max_length=200)
    concentration: float = Field(gt=0, le=1000, description="g/L, g/kg, lb/gal or %")
    concentration_unit: Literal["g/L", "g/kg", "lb/gal", "%"]


class Distance(_Strict):
    distance: float = Field(ge=0, le=5000, description="in ``unit``; no label buffer is near 5 km")
    unit: LengthUnit = "m"

    @property
    def metres(self) -> float:
        return to_metres(self.distance, self.unit)


class Buffer(Distance):
    kind: FeatureKind


class WeatherLimits(_Strict):
    wind_min_kmh: float | None = Field(default=None, ge=0, le=200)
    wind_max_kmh: float | None = Field(default=None, gt=0, le=200)
    rain_free_h: float | None = Field(default=None, ge=0, le=720)
    temp_min_c: float | None = Field(default=None, ge=-60, le=60)
    temp_max_c: float | None = Field(default=None, ge=-60, le=60)
    no_inversion: bool = False
    daylight_only: bool = False


class CropUse(_Strict):
    crop: str = Field(min_length=1, max_length=64, description="stored normalised: 'Winter wheat' and 'blé d'hiver' "
                                                               "are winter_wheat (app/domain/crops.py)")
    max_bbch: int | None = Field(default=None, ge=0, le=99)
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("crop")
    @classmethod
    def _crop_key(cls, v: str) -> str:
        return normalise_crop(v)


class Price(_Strict):
    amount: float = Field(ge=0, le=1e6)
    currency: str = Field(min_length=3, max_length=3)
    per: Literal["L", "kg"]


class Efficacy(_Strict):
    species: str = Field(min_length=1, max_length=16, description="EPPO code, e.g. ALOMY")
    model: Literal["LL.4", "LL.3", "W1.4"] = "LL.4"
    b: float = Field(gt=0, le=1000)
    c: float = Field(default=0.0, ge=0, le=1e6)
    d: float = Field(default=1.0, gt=0, le=1e6)
    e: float = Field(gt=0, le=MAX_RATE, description="ED50 in the label's rate_unit")
    growth_stage: str | None = Field(
        default=None, max_length=64,
        description="weed stage this curve holds for, e.g. '2-4 leaves'; one curve per stage")
    source: str | None = Field(default=None, max_length=500)


# Fits the FieldCreate example (maize at BBCH 14 in France) and the WeedMapCreate example's species.
_LABEL_EXAMPLE: JsonDict = {
    "name": "Callisto (mésotrione 100 g/L)", "country": "FR", "manufacturer": "Syngenta France",
    "formulation": "liquid",
    "active_ingredients": [{"name": "mésotrione", "concentration": 100, "concentration_unit": "g/L"}],
    "hrac_group": "27", "wssa_group": 27, "rate_unit": "L/ha", "min_rate": 0.5, "max_rate": 1.5,
    "max_season_rate": 1.5, "typical_rate": 1.0,
    "buffers": [{"kind": "water", "distance": 5, "unit": "m"}],
    "weather": {"wind_max_kmh": 19},
    "rei_h": 6, "phi_days": 3,
    "crops": [{"crop": "maize", "max_bbch": 18}],
    "price": {"amount": 45.0, "currency": "EUR", "per": "L"},
    "efficacy": [{"species": "CHEAL", "model": "LL.4", "b": 2.0, "c": 0.01, "d": 1.0, "e": 0.3,
                  "growth_stage": "2-6 leaves"}],
    "sources": [{"title": "ANSES E-phy", "url": "https://ephy.anses.fr/"}],
}


class LabelDoc(_Strict):
    """A product label, every rate in ``rate_unit`` and every distance with its unit."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [_LABEL_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    registration: str | None = Field(default=None, max_length=200, description="e.g. 'EPA Reg. No. 524-549'")
    country: str | None = Field(default=None, min_length=2, max_length=2)
    manufacturer: str | None = Field(default=None, max_length=200)
    formulation: Literal["liquid", "solid"]
    active_ingredients: list[ActiveIngredient] = Field(min_length=1, max_length=10)
    hrac_group: str = Field(min_length=1, max_length=16)
    wssa_group: int | None = Field(default=None, ge=0, le=99)
    rate_unit: RateUnit
    min_rate: float = Field(ge=0, le=MAX_RATE)
    max_rate: float = Field(gt=0, le=MAX_RATE)
    max_season_rate: float | None = Field(default=None, gt=0, le=MAX_RATE * 20)
    typical_rate: float | None = Field(default=None, gt=0, le=MAX_RATE)
    buffers: list[Buffer] = Field(default_factory=list, max_length=32)
    downwind_buffer: Distance | None = None
    weather: WeatherLimits = Field(default_factory=WeatherLimits)
    rei_h: float | None = Field(default=None, ge=0, le=8760)
    phi_days: float | None = Field(default=None, ge=0, le=3650)
    min_days_between_applications: float | None = Field(default=None, ge=0, le=3650)
    crops: list[CropUse] = Field(default_factory=list, max_length=200)
    price: Price | None = None
    efficacy: list[Efficacy] = Field(default_factory=list, max_length=500)
    sources: list[Source] = Field(default_factory=list, max_length=50)
    notes: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _units_make_sense(self) -> LabelDoc:
        canon = canonical_unit(self.rate_unit)
        want = "L/ha" if self.formulation == "liquid" else "kg/ha"
        if canon != want:
            raise ValueError(
                f"rate_unit {self.rate_unit!r} is a {'volume' if canon == 'L/ha' else 'mass'} "
                f"per area but formulation is {self.formulation!r}"
            )
        if self.min_rate > self.max_rate:
            raise ValueError(f"min_rate {self.min_rate} is above max_rate {self.max_rate}")
        if self.typical_rate is not None and not self.min_rate <= self.typical_rate <= self.max_rate:
            raise ValueError("typical_rate must lie between min_rate and max_rate")
        if self.price is not None and self.price.per != canon.split("/")[0]:
            raise ValueError(f"price.per must be {canon.split('/')[0]!r} for rate_unit {self.rate_unit!r}")
        low, high = PLAUSIBLE_RATE[canon]
        for name, value in (("max_rate", self.max_rate), ("max_season_rate", self.max_season_rate),
                            ("typical_rate", self.typical_rate)):
            if value is not None and to_canonical_rate(value, self.rate_unit) > high:
                raise ValueError(f"{name} {value:g} {self.rate_unit} is above the plausible {high:g} {canon} for a "
                                 f"{self.formulation} herbicide; check rate_unit (mL/ha or g/ha?)")
        if to_canonical_rate(self.max_rate, self.rate_unit) < low:
            raise ValueError(f"max_rate {self.max_rate:g} {self.rate_unit} is below the plausible {low:g} {canon} "
                             f"for a {self.formulation} herbicide; check rate_unit (L/ha or kg/ha?)")
        for i, e in enumerate(self.efficacy):
            # A tolerant species may need far more than the label allows (2,4-D on grasses: ~20 x the
            # maximum), but not 100 x, nor more than 5 x the plausible maximum of any product.
            ed50 = to_canonical_rate(e.e, self.rate_unit)
            if ed50 > ED50_MAX_FACTOR * to_canonical_rate(self.max_rate, self.rate_unit) or ed50 > 5 * high:
                raise ValueError(f"efficacy[{i}].e: an ED50 of {e.e:g} {self.rate_unit} for {e.species} is "
                                 f"implausible (max_rate is {self.max_rate:g} {self.rate_unit}); e is in rate_unit "
                                 f"({self.rate_unit}), not g a.i./ha or spray volume")
        seen = [(e.species, e.growth_stage) for e in self.efficacy]
        if len(seen) != len(set(seen)):
            raise ValueError("efficacy lists a species twice for the same growth_stage")
        return self

    def curves(self, weed_stages: Mapping[str, str] | None = None) -> dict[str, Efficacy]:
        """One efficacy entry per species: the one for the weed's stage when given.

        Without a stage for a species that has curves for several, the curve
        needing the most product for 90 % control is taken (the later,
        harder-to-kill stage), so doses err on the side of control.
        """
        stages = weed_stages or {}
        by_species: dict[str, list[Efficacy]] = {}
        for e in self.efficacy:
            by_species.setdefault(e.species, []).append(e)
        out: dict[str, Efficacy] = {}
        for code, entries in by_species.items():
            if code in stages:
                match = [e for e in entries if e.growth_stage == stages[code]]
                if not match:
                    known = ", ".join(repr(e.growth_stage) for e in entries)
                    raise DosingError(f"strategy.weed_stages: {self.name} has no curve for {code} at stage "
                                    f"{stages[code]!r}; its stages for {code}: {known}")
                out[code] = match[0]
            else:
                out[code] = max(entries, key=lambda e: _core_curve(e, 1.0).dose_for_control(0.9))
        return out

    def to_core(self, weed_stages: Mapping[str, str] | None = None) -> ProductLabel:
        """The label in canonical units (L/ha or kg/ha, metres) for the dosing core."""
        unit = self.rate_unit
        return ProductLabel(
            name=self.name,
            canonical_unit=canonical_unit(unit),
            label_unit=unit,
            min_rate=to_canonical_rate(self.min_rate, unit),
            max_rate=to_canonical_rate(self.max_rate, unit),
            max_season_rate=(
                None if self.max_season_rate is None else to_canonical_rate(self.max_season_rate, unit)
            ),
            buffers_m=_max_by_kind(self.buffers),
            downwind_buffer_m=self.downwind_buffer.metres if self.downwind_buffer else 0.0,
            efficacy={code: _core_curve(e, to_canonical_rate(1.0, unit))
                      for code, e in self.curves(weed_stages).items()},
            price_per_unit=self.price.amount if self.price else 0.0,
            crops={c.crop: c.max_bbch for c in self.crops},
        )


def _core_curve(e: Efficacy, per_label_unit: float) -> DoseResponse:
    """The curve with its ED50 converted from the label's unit (``per_label_unit`` canonical units each)."""
    return DoseResponse(model=e.model, b=e.b, c=0.0 if e.model == "LL.3" else e.c, d=e.d, e=e.e * per_label_unit)


def _max_by_kind(buffers: list[Buffer]) -> dict[str, float]:
    out: dict[str, float] = {}
    for b in buffers:
        out[b.kind] = max(out.get(b.kind, 0.0), b.metres)
    return out
