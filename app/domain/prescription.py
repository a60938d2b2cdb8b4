"""Prescription requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.budgets import MAX_DENSITY_PLANTS_M2, MAX_ID, MAX_RATE
from app.domain.vocabulary import MinRateRule, StrategyName
from app.dosing.prescribe import Strategy
from app.dosing.sprayer import SprayerProfile

# The dosing core owns the defaults; the API shows them.
_S = Strategy()
_P = SprayerProfile()


class StrategyIn(BaseModel):
    """How to choose doses. Rates are in each product's label unit."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [
        {"name": "threshold", "threshold_plants_m2": 2},
        {"name": "target_efficacy", "control_target": 0.95, "control_min": 0.7},
    ]})

    name: StrategyName = "threshold"
    rates: list[Annotated[float, Field(ge=0, le=MAX_RATE)]] | None = Field(
        default=None, max_length=5, description="one rate per product in the label's rate_unit; default: label max"
    )
    threshold_plants_m2: float = Field(default=_S.threshold_plants_m2, ge=0, le=MAX_DENSITY_PLANTS_M2,
                                       description="threshold strategy: plants/m²")
    control_target: float = Field(default=_S.control_target, gt=0, lt=1,
                                  description="target_efficacy: control in dense patches")
    control_min: float = Field(default=_S.control_min, gt=0, lt=1,
                               description="target_efficacy: control for a lone plant")
    control_half_density_plants_m2: float = Field(default=_S.control_half_density_plants_m2, gt=0,
                                                  le=MAX_DENSITY_PLANTS_M2)
    presence_plants_m2: float = Field(default=_S.presence_plants_m2, ge=0, le=MAX_DENSITY_PLANTS_M2,
                                      description="a species counts as present above this")
    min_rate_rule: MinRateRule = Field(
        default=_S.min_rate_rule, description="a cell needing less than the label minimum gets the minimum or nothing")
    crop_price_per_t: float = Field(default=_S.crop_price_per_t, ge=0, le=1e6,
                                    description="economic: crop price per tonne")
    expected_yield_t_ha: float = Field(default=_S.expected_yield_t_ha, gt=0, le=200,
                                       description="weed-free yield, t/ha")
    cousens_i_pct_per_plant_m2: float = Field(default=_S.cousens_i_pct_per_plant_m2, gt=0, le=100,
                                              description="Cousens I, % loss per plant/m²")
    cousens_a_pct: float = Field(default=_S.cousens_a_pct, gt=0, le=100, description="Cousens A, maximum % loss")
    competitive_index: dict[Annotated[str, Field(max_length=16)], Annotated[float, Field(ge=0, le=1000)]] = Field(
        default_factory=dict, max_length=64,
        description="plant equivalents per plant by EPPO code; default: species catalogue")
    product_prices_per_unit: list[Annotated[float, Field(ge=0, le=1e6)]] | None = Field(
        default=None, max_length=5, description="price per L or kg of each product; default: the label's price")
    economic_candidates: int = Field(default=_S.economic_candidates, ge=2, le=257)
    application_cost_per_ha: float = Field(default=_S.application_cost_per_ha, ge=0, le=1e6,
                                           description="economic: cost of spraying a hectare, currency/ha")
    seasons_ahead: int = Field(default=_S.seasons_ahead, ge=0, le=10,
                               description="economic: seasons over which survivors' seeds are costed (0: this season)")
    discount_rate_pct: float = Field(default=100 * _S.discount_rate, ge=0, le=100,
                                     description="economic: yearly discount rate of future costs, %")
    next_season_control: float = Field(default=_S.next_season_control, ge=0, le=1,
                                       description="economic: fraction of seedlings next seasons' programme kills")
    override_resistance_floors: bool = Field(
        default=False, description="allow doses below the resistance-management floors (full rate on "
                                   "resistance-prone species x mode of action); reported in the compliance report")
    weed_stages: dict[Annotated[str, Field(max_length=16)], Annotated[str, Field(max_length=64)]] = Field(
        default_factory=dict, max_length=64,
        description="EPPO code -> weed growth stage, choosing among a label's efficacy "
                    "curves by stage; without it the hardest-to-kill stage's curve is used")

    @model_validator(mode="after")
    def _control_order(self) -> StrategyIn:
        if self.control_min > self.control_target:
            raise ValueError("control_min must not exceed control_target")
        return self


class SprayerIn(BaseModel):
    """A sprayer profile, lengths in metres."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [
        {"boom_width_m": 36, "section_width_m": 0.5, "patch_buffer_m": 0.5, "tank_l": 4000, "carrier_l_ha": 150},
    ]})

    # Upper bounds: the widest booms are ~55 m; anything past these is a typo, and each one
    # bounds work (patch_buffer_m sets a dilation radius in cells, 1e6 m cost 31 s).
    boom_width_m: float = Field(default=_P.boom_width_m, gt=0, le=100)
    section_width_m: float = Field(default=_P.section_width_m, gt=0, le=100)
    along_track_m: float = Field(default=_P.along_track_m, gt=0, le=100)
    patch_buffer_m: float = Field(default=_P.patch_buffer_m, ge=0, le=50)
    min_patch_m2: float = Field(default=_P.min_patch_m2, ge=0, le=10_000)
    turndown_ratio: float = Field(default=_P.turndown_ratio, ge=1, le=100)
    rate_levels: list[Annotated[float, Field(ge=0, le=MAX_RATE)]] = Field(
        default_factory=list, max_length=256, description="label units; empty = continuous")
    tank_l: float = Field(default=_P.tank_l, gt=0, le=100_000)
    carrier_l_ha: float = Field(default=_P.carrier_l_ha, gt=0, le=5_000)


class PrescriptionCreate(BaseModel):
    """What to prescribe: ids of a field, its weed map (default: the latest) and up to five products (a tank mix)."""

    # The ids are those of the FieldCreate, WeedMapCreate and LabelDoc examples once posted: replace them.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [{
        "field_id": 1, "product_ids": [1],
        "strategy": {"name": "threshold", "threshold_plants_m2": 2},
        "sprayer": {"section_width_m": 0.5, "patch_buffer_m": 0.5},
    }]})

    field_id: int = Field(ge=1, le=MAX_ID)
    weed_map_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="default: the field's latest weed map")
    product_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=5)
    strategy: StrategyIn = Field(default_factory=StrategyIn)
    sprayer: SprayerIn = Field(default_factory=SprayerIn)
    allow_foreign_labels: bool = Field(
        default=False, description="prescribe a product labelled in another country than the field's (refused "
                                   "by default; allowed, it is a compliance warning)")
    wind_from_deg: float | None = Field(default=None, ge=0, lt=360,
                                        description="wind direction (from), degrees from TRUE north; without it a "
                                                    "drift-prone product's downwind buffer is laid all round the "
                                                    "field")
    season_start: datetime | None = Field(
        default=None, description="start of the crop's season (e.g. sowing of a winter crop): applications since "
                                  "then count against each label's season maximum. Default: a rolling 12 months "
                                  "before now, the safe reading when the crop season is not known")
    uncovered: Literal["refuse", "broadcast", "no_spray"] = Field(
        default="refuse", description="field cells the weed map does not cover: 'refuse' the prescription when the "
                                      "map covers less than min_coverage_pct of the field (the rest is not "
                                      "sprayed), 'broadcast' them at the reference (label) rate, or 'no_spray'. "
                                      "Echoed in the summary with covered/uncovered area and coverage_pct")
    min_coverage_pct: float | None = Field(
        default=None, ge=0, le=100, description="coverage of the field by the weed map (%) below which the request "
                                                "is refused (422); default 95 with uncovered='refuse', else 0")


class ProductTotal(BaseModel):
    product_id: int | None = None
    name: str
    unit: str = Field(description="the label's rate unit")
    total_unit: str = Field(description="unit of total and broadcast_total (L or kg)")
    total: float
    broadcast_total: float
    saving_pct: float
    max_rate: float
    min_rate: float

