"""Prescription requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class StrategyIn(BaseModel):
    """How to choose doses. Rates are in each product's label unit."""

    model_config = ConfigDict(extra="forbid")

    name: Literal["broadcast", "threshold", "target_efficacy", "economic"] = "threshold"
    rates: list[float] | None = Field(
        default=None, description="one rate per product in the label's rate_unit; default: label max"
    )
    threshold_plants_m2: float = Field(default=1.0, ge=0, description="threshold strategy: plants/m²")


class SprayerIn(BaseModel):
    """A sprayer profile, lengths in metres."""

    model_config = ConfigDict(extra="forbid")

    boom_width_m: float = Field(default=36.0, gt=0)
    section_width_m: float = Field(default=0.5, gt=0)
    along_track_m: float = Field(default=0.5, gt=0)
    patch_buffer_m: float = Field(default=0.5, ge=0)
    min_patch_m2: float = Field(default=0.0, ge=0)
    turndown_ratio: float = Field(default=5.0, ge=1)
    rate_levels: list[float] = Field(default_factory=list, description="label units; empty = continuous")
    tank_l: float = Field(default=3000.0, gt=0)
    carrier_l_ha: float = Field(default=150.0, gt=0)


class PrescriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "field_id": 1, "weed_map_id": 1, "product_ids": [1],
        "strategy": {"name": "threshold", "threshold_plants_m2": 2},
        "sprayer": {"section_width_m": 0.5, "patch_buffer_m": 0.5},
    }]})

    field_id: int
    weed_map_id: int | None = Field(default=None, description="default: the field's latest weed map")
    product_ids: list[int] = Field(min_length=1, max_length=5)
    strategy: StrategyIn = Field(default_factory=StrategyIn)
    sprayer: SprayerIn = Field(default_factory=SprayerIn)
    wind_from_deg: float | None = Field(default=None, ge=0, lt=360,
                                        description="wind direction (from), degrees; enables downwind buffers")


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


class PrescriptionPublic(BaseModel):
    id: int
    field_id: int
    weed_map_id: int
    weed_map_version: int
    product_ids: list[int]
    strategy: dict[str, Any]
    sprayer: dict[str, Any]
    grid: dict[str, Any]
    summary: dict[str, Any]
    products: list[ProductTotal]
    compliance: list[dict[str, Any]]
    created_at: datetime
    links: dict[str, str]
