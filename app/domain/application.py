"""As-applied records: what was already sprayed on a field."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.budgets import MAX_ID, MAX_RATE
from app.domain.label import RateUnit


class Rate(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    value: float = Field(ge=0, le=MAX_RATE)
    unit: RateUnit


class ApplicationCreate(BaseModel):
    """One application of one product, e.g. from a terminal's as-applied summary."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [{
        # product 1 is the LabelDoc example (Callisto, L/ha, maize in France): valid on the FieldCreate example.
        "product_id": 1, "rate": {"value": 1.0, "unit": "L/ha"}, "area_ha": 2.4,
        "applied_at": "2026-05-02T09:30:00Z", "source": "terminal"}]})

    product_id: int = Field(ge=1, le=MAX_ID)
    rate: Rate = Field(description="applied rate, in a unit of the same kind as the label's")
    area_ha: float | None = Field(default=None, gt=0, le=100_000)
    applied_at: datetime
    source: str | None = Field(default=None, max_length=64)

