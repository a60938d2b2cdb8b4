"""Fields and their weed maps."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from app.advice import Forecast
from app.api.deps import Caller, FieldWriter, PageDep, Reader, SessionDep
from app.api.errors import NotFound
from app.api.idempotency import IdempotencyKey, fingerprint, respond_once
from app.api.schemas.application import ApplicationCreate, ApplicationPublic
from app.api.schemas.field import FieldCreate, FieldPublic, SensitiveFeatureIn
from app.api.schemas.label import LabelDoc
from app.api.schemas.weed_map import WeedMapCreate, WeedMapPublic
from app.dosing.grid import GridSpec
from app.dosing.units import UnitError, canonical_unit, from_canonical_rate, to_canonical_rate
from app.geo import reproject
from app.models import arrays, repo
from app.models.tables import Application, Field, Product, WeedMap
from app.pipeline import FieldGeometry, InputError, check_metric_crs, weed_map_arrays
from app.species import unknown_codes

router = APIRouter(prefix="/v1/fields", tags=["fields"])


def field_public(row: Field) -> FieldPublic:
    return FieldPublic(
        id=row.id, name=row.name, crop=row.crop, growth_stage_bbch=row.growth_stage_bbch,
        country=row.country, boundary=row.boundary,
        sensitive_features=[SensitiveFeatureIn.model_validate(f) for f in row.sensitive_features],
        working_crs=row.working_crs, area_ha=round(row.area_ha, 4), created_at=row.created_at,
    )


def create_field(session: SessionDep, org_id: int, body: FieldCreate) -> Field:
    geom = FieldGeometry.from_documents(body.boundary, [f.model_dump() for f in body.sensitive_features])
    row = Field(
        org_id=org_id, name=body.name, crop=body.crop, growth_stage_bbch=body.growth_stage_bbch,
        country=body.country, boundary=body.boundary,
        sensitive_features=[f.model_dump() for f in body.sensitive_features],
        working_crs=geom.working_crs(), area_ha=geom.area_ha(),
    )
    return repo.add(session, row)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FieldPublic)
def post_field(body: FieldCreate, session: SessionDep, caller: FieldWriter,
               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Create a field from a GeoJSON boundary (WGS84 lon/lat) and its sensitive features."""
    return respond_once(session, caller, idempotency_key, "POST /v1/fields",
                        fingerprint("POST /v1/fields", body),
                        lambda: field_public(create_field(session, caller.org_id, body)))


@router.get("", response_model=list[FieldPublic])
def list_fields(session: SessionDep, caller: Reader, page: PageDep) -> list[FieldPublic]:
    rows = repo.list_owned(session, Field, caller.org_id, limit=page.limit, offset=page.offset,
                           field_ids=caller.field_scope)
    return [field_public(r) for r in rows]


def owned_field(session: SessionDep, who: int | Caller, field_id: int) -> Field:
    """The field, if ``who`` (an organisation id, or a caller whose key may be limited) may see it."""
    org_id = who.org_id if isinstance(who, Caller) else who
    row = repo.get_owned(session, Field, org_id, field_id)
    if row is None or (isinstance(who, Caller) and not who.sees_field(field_id)):
        raise NotFound(f"field {field_id} not found")
    return row


@router.get("/{field_id}", response_model=FieldPublic)
def get_field(field_id: int, session: SessionDep, caller: Reader) -> FieldPublic:
    return field_public(owned_field(session, caller, field_id))


def weed_map_public(row: WeedMap) -> WeedMapPublic:
    return WeedMapPublic(
        id=row.id, field_id=row.field_id, version=row.version, crs=row.crs,
        origin={"x": row.x0_m, "y": row.y0_m}, cell_size_m=row.cell_size_m,  # type: ignore[arg-type]
        n_rows=row.n_rows, n_cols=row.n_cols, species=row.species, stats=row.stats,
        source=row.source, captured_at=row.captured_at, created_at=row.created_at,
    )


def weed_map_grid(row: WeedMap) -> GridSpec:
    return GridSpec(crs=row.crs, x0_m=row.x0_m, y0_m=row.y0_m, cell_size_m=row.cell_size_m,
                    n_rows=row.n_rows, n_cols=row.n_cols)


def weed_map_densities(row: WeedMap) -> dict[str, np.ndarray]:
    stack = arrays.unpack(row.densities, len(row.species), row.n_rows, row.n_cols)
    return {code: stack[i] for i, code in enumerate(row.species)}


def store_weed_map(session: SessionDep, field: Field, crs: str, x0_m: float, y0_m: float,
                   cell_size_m: float, densities: dict[str, np.ndarray], *, source: str | None = None,
                   captured_at: Any = None, ingest: dict[str, Any] | None = None) -> WeedMap:
    """Check a density stack against its field and store it as the field's next version."""
    centre = FieldGeometry.from_documents(field.boundary, []).boundary_wgs84.centroid
    check_metric_crs(crs, (centre.x, centre.y))
    unknown = unknown_codes(list(densities))
    if unknown:
        raise InputError(f"species: unknown species code(s) {', '.join(unknown)}; use EPPO codes from "
                         f"data/species.json")
    first = next(iter(densities.values()))
    grid = GridSpec(crs=crs, x0_m=x0_m, y0_m=y0_m, cell_size_m=cell_size_m,
                    n_rows=first.shape[0], n_cols=first.shape[1])
    boundary_m = reproject(FieldGeometry.from_documents(field.boundary, []).boundary_wgs84, "EPSG:4326", crs)
    overlap = boundary_m.intersection(shapely.box(*grid.bounds_m)).area
    if overlap <= 0:
        raise InputError(f"weed map: the grid {tuple(round(v, 1) for v in grid.bounds_m)} in {crs} does not "
                         f"overlap field {field.id}; check the CRS and origin (x = west edge, y = north edge)")
    stack = np.stack(list(densities.values()))
    stats = {
        code: {"max_plants_m2": float(a.max()), "mean_plants_m2": float(a.mean()),
               "infested_share": float((a > 0).mean())}
        for code, a in densities.items()
    }
    stats["_coverage"] = {"field_share_covered": round(overlap / boundary_m.area, 4)}
    if ingest:
        stats["_ingest"] = ingest
    row = WeedMap(
        org_id=field.org_id, field_id=field.id, version=repo.next_weed_map_version(session, field.id),
        crs=crs, x0_m=x0_m, y0_m=y0_m, cell_size_m=cell_size_m, n_rows=grid.n_rows, n_cols=grid.n_cols,
        species=list(densities), densities=arrays.pack(stack), stats=stats, source=source,
        captured_at=captured_at,
    )
    return repo.add(session, row)


@router.post("/{field_id}/weed-maps", status_code=status.HTTP_201_CREATED, response_model=WeedMapPublic)
def post_weed_map(field_id: int, body: WeedMapCreate, session: SessionDep, caller: FieldWriter,
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Store a weed-density grid (plants/m² per species) as the field's next map version."""
    field = owned_field(session, caller, field_id)

    def produce() -> WeedMapPublic:
        grid, densities = weed_map_arrays(body)
        return weed_map_public(store_weed_map(session, field, grid.crs, grid.x0_m, grid.y0_m, grid.cell_size_m,
                                              densities, source=body.source, captured_at=body.captured_at))

    where = f"POST /v1/fields/{field_id}/weed-maps"
    return respond_once(session, caller, idempotency_key, where, fingerprint(where, body), produce)


@router.get("/{field_id}/weed-maps", response_model=list[WeedMapPublic])
def list_weed_maps(field_id: int, session: SessionDep, caller: Reader) -> list[WeedMapPublic]:
    owned_field(session, caller, field_id)
    return [weed_map_public(r) for r in repo.weed_maps_of_field(session, field_id)]


@router.get("/{field_id}/weed-maps/{map_id}", response_model=WeedMapPublic)
def get_weed_map(field_id: int, map_id: int, session: SessionDep, caller: Reader) -> WeedMapPublic:
    owned_field(session, caller, field_id)
    row = repo.get_owned(session, WeedMap, caller.org_id, map_id)
    if row is None or row.field_id != field_id:
        raise NotFound(f"weed map {map_id} of field {field_id} not found")
    return weed_map_public(row)


def application_public(row: Application, label: LabelDoc) -> ApplicationPublic:
    return ApplicationPublic(
        id=row.id, field_id=row.field_id, product_id=row.product_id,
        rate={"value": row.rate_value, "unit": row.rate_unit},  # type: ignore[arg-type]
        rate_label_unit=round(from_canonical_rate(row.rate_canonical, label.rate_unit), 6),
        label_unit=label.rate_unit, area_ha=row.area_ha, applied_at=row.applied_at, source=row.source,
        created_at=row.created_at,
    )


def _owned_label(session: SessionDep, org_id: int, product_id: int) -> LabelDoc:
    prod = repo.get_owned(session, Product, org_id, product_id)
    if prod is None:
        raise NotFound(f"product_id: product {product_id} not found")
    return LabelDoc.model_validate(prod.label)


@router.post("/{field_id}/applications", status_code=status.HTTP_201_CREATED, response_model=ApplicationPublic)
def post_application(field_id: int, body: ApplicationCreate, session: SessionDep, caller: FieldWriter,
                     idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Record an application already made; later prescriptions count it against the season maximum."""
    field = owned_field(session, caller, field_id)
    label = _owned_label(session, caller.org_id, body.product_id)
    if canonical_unit(body.rate.unit) != canonical_unit(label.rate_unit):
        raise UnitError(f"rate.unit: {body.rate.unit!r} is not a unit of {label.name}, whose rates are "
                        f"{label.rate_unit} ({'volume' if label.formulation == 'liquid' else 'mass'} per area)")

    def produce() -> ApplicationPublic:
        row = repo.add(session, Application(
            org_id=caller.org_id, field_id=field.id, product_id=body.product_id, rate_value=body.rate.value,
            rate_unit=body.rate.unit, rate_canonical=to_canonical_rate(body.rate.value, body.rate.unit),
            area_ha=body.area_ha, applied_at=body.applied_at, source=body.source))
        return application_public(row, label)

    where = f"POST /v1/fields/{field_id}/applications"
    return respond_once(session, caller, idempotency_key, where, fingerprint(where, body), produce)


@router.get("/{field_id}/applications", response_model=list[ApplicationPublic])
def list_applications(field_id: int, session: SessionDep, caller: Reader) -> list[ApplicationPublic]:
    owned_field(session, caller, field_id)
    return [application_public(a, _owned_label(session, caller.org_id, a.product_id))
            for a in repo.applications_of_field(session, field_id)]


@router.put("/{field_id}/forecast", response_model=Forecast)
def put_forecast(field_id: int, body: Forecast, session: SessionDep, caller: FieldWriter) -> Forecast:
    """Store the field's hourly forecast; advice written after this uses it for the spray window.

    Stored advice of the field's prescriptions is dropped, so the next read is
    written against the new forecast.
    """
    field = owned_field(session, caller, field_id)
    field.forecast = body.model_dump(mode="json")
    repo.drop_advice_of_field(session, field.id)
    session.commit()
    return body


@router.get("/{field_id}/forecast", response_model=Forecast)
def get_forecast(field_id: int, session: SessionDep, caller: Reader) -> Forecast:
    field = owned_field(session, caller, field_id)
    if field.forecast is None:
        raise NotFound(f"field {field_id} has no stored forecast; PUT one to /v1/fields/{field_id}/forecast")
    return Forecast.model_validate(field.forecast)
