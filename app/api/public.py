"""What the API answers: ``*Public`` response models, built from stored rows.

The documents clients send are domain documents (``app.domain``); these
models only add what storage knows (ids, versions, timestamps, links).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.application import Rate
from app.domain.field import FieldCreate, SensitiveFeatureIn
from app.domain.label import LabelDoc
from app.domain.prescription import ProductTotal
from app.domain.units import from_canonical_rate
from app.domain.weed_map import Origin
from app.models import tables


class FieldPublic(FieldCreate):
    model_config = ConfigDict(extra="ignore")

    id: int
    working_crs: str
    area_ha: float
    created_at: datetime


class WeedMapPublic(BaseModel):
    id: int
    field_id: int
    version: int
    crs: str
    origin: Origin
    cell_size_m: float
    n_rows: int
    n_cols: int
    species: list[str]
    stats: dict[str, Any]
    source: str | None
    captured_at: datetime | None
    created_at: datetime


class ApplicationPublic(BaseModel):
    id: int
    field_id: int
    product_id: int
    rate: Rate
    rate_label_unit: float = Field(description="the applied rate in the label's rate_unit")
    label_unit: str
    area_ha: float | None
    applied_at: datetime
    source: str | None
    created_at: datetime


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
    wind_from_deg: float | None = None
    no_spray: dict[str, Any] | None = Field(default=None, description="buffers and no-spray zones inside the "
                                                                       "field, GeoJSON (WGS84)")
    created_at: datetime
    links: dict[str, str]


def field_public(row: tables.Field) -> FieldPublic:
    return FieldPublic(
        id=row.id, name=row.name, crop=row.crop, growth_stage_bbch=row.growth_stage_bbch,
        country=row.country, farm=row.farm, customer=row.customer, boundary=row.boundary,
        sensitive_features=[SensitiveFeatureIn.model_validate(f) for f in row.sensitive_features],
        working_crs=row.working_crs, area_ha=round(row.area_ha, 4), created_at=row.created_at,
    )


def weed_map_public(row: tables.WeedMap) -> WeedMapPublic:
    return WeedMapPublic(
        id=row.id, field_id=row.field_id, version=row.version, crs=row.crs,
        origin={"x": row.x0_m, "y": row.y0_m}, cell_size_m=row.cell_size_m,  # type: ignore[arg-type]
        n_rows=row.n_rows, n_cols=row.n_cols, species=row.species, stats=row.stats,
        source=row.source, captured_at=row.captured_at, created_at=row.created_at,
    )


def application_public(row: tables.Application, label: LabelDoc) -> ApplicationPublic:
    return ApplicationPublic(
        id=row.id, field_id=row.field_id, product_id=row.product_id,
        rate={"value": row.rate_value, "unit": row.rate_unit},  # type: ignore[arg-type]
        rate_label_unit=round(from_canonical_rate(row.rate_canonical, label.rate_unit), 6),
        label_unit=label.rate_unit, area_ha=row.area_ha, applied_at=row.applied_at, source=row.source,
        created_at=row.created_at,
    )


def prescription_public(row: tables.Prescription) -> PrescriptionPublic:
    return PrescriptionPublic(
        id=row.id, field_id=row.field_id, weed_map_id=row.weed_map_id, weed_map_version=row.weed_map_version,
        product_ids=row.product_ids, strategy=row.strategy, sprayer=row.sprayer, grid=row.grid,
        summary={k: v for k, v in row.summary.items() if k != "products"},
        products=row.summary.get("products", []), compliance=row.compliance, wind_from_deg=row.wind_from_deg,
        no_spray=row.no_spray, created_at=row.created_at,
        links={
            "self": f"/v1/prescriptions/{row.id}",
            "geojson": f"/v1/prescriptions/{row.id}/export/geojson",
            "advice": f"/v1/prescriptions/{row.id}/advice",
            "map": f"/v1/prescriptions/{row.id}/map",
        },
    )
