"""Fields: a boundary and the sensitive features around it, GeoJSON in WGS84."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict
from shapely.geometry import shape

from app.domain.crops import normalise_crop
from app.domain.vocabulary import FeatureKind
from app.geo import GeometryError, check_in_country, check_near, parse_geojson

_FIELD_EXAMPLE: JsonDict = {
    "name": "Les Prés du Ru",
    "crop": "maize",
    "growth_stage_bbch": 14,
    "country": "FR",
    "farm": "Ferme du Ru",
    "customer": "EARL Dupont",
    "boundary": {
        "type": "Polygon",
        "coordinates": [[[2.1, 48.5], [2.102, 48.5], [2.102, 48.5015], [2.1, 48.5015], [2.1, 48.5]]],
    },
    "sensitive_features": [
        {"kind": "water", "name": "Ru de Vaux",
         "geometry": {"type": "LineString", "coordinates": [[2.0995, 48.4998], [2.0995, 48.502]]}}
    ],
}


class SensitiveFeatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    kind: FeatureKind
    name: str | None = Field(default=None, max_length=200)
    geometry: dict[str, Any]

    @field_validator("geometry")
    @classmethod
    def _geometry(cls, v: dict[str, Any]) -> dict[str, Any]:
        try:
            parse_geojson(v, allowed=("Point", "MultiPoint", "LineString", "MultiLineString",
                                      "Polygon", "MultiPolygon"), where="geometry")
        except GeometryError as exc:
            raise ValueError(str(exc)) from None
        return v


class FieldCreate(BaseModel):
    """A field to create: boundary as a GeoJSON Polygon or MultiPolygon, [lon, lat]."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [_FIELD_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    crop: str = Field(min_length=1, max_length=64,
                      description="e.g. winter_wheat, maize, soybean; stored normalised ('Winter wheat', "
                                  "'blé d'hiver' -> winter_wheat; 'corn', 'maïs' -> maize)")
    growth_stage_bbch: int | None = Field(default=None, ge=0, le=99)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    farm: str | None = Field(default=None, min_length=1, max_length=200,
                             description="the farm the field belongs to; task files carry it (ISOXML FRM)")
    customer: str | None = Field(default=None, min_length=1, max_length=200,
                                 description="the customer (grower) it is farmed for; task files carry it "
                                             "(ISOXML CTR)")
    boundary: dict[str, Any]
    sensitive_features: list[SensitiveFeatureIn] = Field(default_factory=list, max_length=1000)

    @field_validator("crop")
    @classmethod
    def _crop_key(cls, v: str) -> str:
        return normalise_crop(v)

    @field_validator("boundary")
    @classmethod
    def _boundary(cls, v: dict[str, Any]) -> dict[str, Any]:
        try:
            parse_geojson(v, allowed=("Polygon", "MultiPolygon"), where="boundary")
        except GeometryError as exc:
            raise ValueError(str(exc)) from None
        return v

    @model_validator(mode="after")
    def _plausible_place(self) -> FieldCreate:
        boundary = shape(self.boundary)
        try:
            check_in_country(boundary, self.country, "boundary")
            for i, feat in enumerate(self.sensitive_features):
                check_near(shape(feat.geometry), boundary, 5.0, f"sensitive_features[{i}].geometry")
        except GeometryError as exc:
            raise ValueError(str(exc)) from None
        return self

