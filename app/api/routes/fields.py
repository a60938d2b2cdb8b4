"""Fields and their weed maps."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from app.advice import Forecast
from app.api.deps import FieldWriter, PageDep, Reader, SessionDep
from app.api.errors import NotFound
from app.api.idempotency import IdempotencyKey, fingerprint, respond_once
from app.api.public import (
    ApplicationPublic,
    FieldPublic,
    WeedMapPublic,
    application_public,
    field_public,
    weed_map_public,
)
from app.domain.application import ApplicationCreate
from app.domain.field import FieldCreate
from app.domain.weed_map import WeedMapCreate
from app.models import repo
from app.models.tables import Field
from app.pipeline import weed_map_arrays
from app.services.fields import (
    create_field,
    owned_field,
    owned_label,
    owned_weed_map,
    record_application,
    store_forecast,
    store_weed_map,
)

router = APIRouter(prefix="/v1/fields", tags=["fields"])


@router.post("", summary="Create a field", status_code=status.HTTP_201_CREATED, response_model=FieldPublic)
def post_field(body: FieldCreate, session: SessionDep, caller: FieldWriter,
               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Create a field from a GeoJSON boundary (WGS84 lon/lat) and its sensitive features."""
    return respond_once(session, caller, idempotency_key, "POST /v1/fields",
                        fingerprint("POST /v1/fields", body),
                        lambda: field_public(create_field(session, caller.org_id, body)))


@router.get("", summary="List fields", response_model=list[FieldPublic])
def list_fields(session: SessionDep, caller: Reader, page: PageDep) -> list[FieldPublic]:
    """The organisation's fields (a farmer key limited to fields sees only those), newest last; paged with
    `limit`/`offset`."""
    rows = repo.list_owned(session, Field, caller.org_id, limit=page.limit, offset=page.offset,
                           field_ids=caller.field_scope)
    return [field_public(r) for r in rows]


@router.get("/{field_id}", summary="Get a field", response_model=FieldPublic)
def get_field(field_id: int, session: SessionDep, caller: Reader) -> FieldPublic:
    """One field with its boundary, sensitive features, working CRS and area in ha."""
    return field_public(owned_field(session, caller.org_id, field_id, caller.field_ids))


@router.post("/{field_id}/weed-maps", summary="Add a weed map",
             status_code=status.HTTP_201_CREATED, response_model=WeedMapPublic)
def post_weed_map(field_id: int, body: WeedMapCreate, session: SessionDep, caller: FieldWriter,
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Store a weed-density grid (plants/m² per species) as the field's next map version."""
    field = owned_field(session, caller.org_id, field_id, caller.field_ids)

    def produce() -> WeedMapPublic:
        grid, densities = weed_map_arrays(body)
        return weed_map_public(store_weed_map(session, field, grid.crs, grid.x0_m, grid.y0_m, grid.cell_size_m,
                                              densities, source=body.source, captured_at=body.captured_at))

    where = f"POST /v1/fields/{field_id}/weed-maps"
    return respond_once(session, caller, idempotency_key, where, fingerprint(where, body), produce)


@router.get("/{field_id}/weed-maps", summary="List a field's weed maps", response_model=list[WeedMapPublic])
def list_weed_maps(field_id: int, session: SessionDep, caller: Reader) -> list[WeedMapPublic]:
    """Every version of the field's weed-density maps (metadata and per-species statistics, no grid)."""
    owned_field(session, caller.org_id, field_id, caller.field_ids)
    return [weed_map_public(r) for r in repo.weed_maps_of_field(session, field_id)]


@router.get("/{field_id}/weed-maps/{map_id}", summary="Get a weed map", response_model=WeedMapPublic)
def get_weed_map(field_id: int, map_id: int, session: SessionDep, caller: Reader) -> WeedMapPublic:
    """One weed map's metadata: CRS, origin, cell size, species and statistics."""
    owned_field(session, caller.org_id, field_id, caller.field_ids)
    return weed_map_public(owned_weed_map(session, caller.org_id, field_id, map_id))


@router.post("/{field_id}/applications", summary="Record an application",
             status_code=status.HTTP_201_CREATED, response_model=ApplicationPublic)
def post_application(field_id: int, body: ApplicationCreate, session: SessionDep, caller: FieldWriter,
                     idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Record an application already made; later prescriptions count it against the season maximum."""
    field = owned_field(session, caller.org_id, field_id, caller.field_ids)
    label = owned_label(session, caller.org_id, body.product_id)

    def produce() -> ApplicationPublic:
        return application_public(record_application(session, field, body, label), label)

    where = f"POST /v1/fields/{field_id}/applications"
    return respond_once(session, caller, idempotency_key, where, fingerprint(where, body), produce)


@router.get("/{field_id}/applications", summary="List a field's applications", response_model=list[ApplicationPublic])
def list_applications(field_id: int, session: SessionDep, caller: Reader) -> list[ApplicationPublic]:
    """As-applied records of the field, each with its rate in the label's unit."""
    owned_field(session, caller.org_id, field_id, caller.field_ids)
    return [application_public(a, owned_label(session, caller.org_id, a.product_id))
            for a in repo.applications_of_field(session, field_id)]


@router.put("/{field_id}/forecast", summary="Store the field's forecast", response_model=Forecast)
def put_forecast(field_id: int, body: Forecast, session: SessionDep, caller: FieldWriter) -> Forecast:
    """Store the field's hourly forecast; advice written after this uses it for the spray window.

    Stored advice of the field's prescriptions is dropped, so the next read is
    written against the new forecast.
    """
    field = owned_field(session, caller.org_id, field_id, caller.field_ids)
    store_forecast(session, field, body.model_dump(mode="json"))
    return body


@router.get("/{field_id}/forecast", summary="Get the field's forecast", response_model=Forecast)
def get_forecast(field_id: int, session: SessionDep, caller: Reader) -> Forecast:
    """The hourly forecast stored for the field; 404 when none was stored."""
    field = owned_field(session, caller.org_id, field_id, caller.field_ids)
    if field.forecast is None:
        raise NotFound(f"field {field_id} has no stored forecast; PUT one to /v1/fields/{field_id}/forecast")
    return Forecast.model_validate(field.forecast)
