"""Field data in the formats machines already produce: boundary files, GeoTIFFs, detections.

Raw bodies are streamed to a temporary file (never held in memory twice) and
parsed in the thread pool; each upload is one transaction.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.api.deps import FieldWriter, SessionDep
from app.api.idempotency import IdempotencyKey, fingerprint, respond_once
from app.api.public import ApplicationPublic, application_public, field_public, weed_map_public
from app.domain.field import FieldCreate
from app.ingest import (
    RESAMPLINGS,
    aggregate_points,
    grid_for_field,
    parse_as_applied,
    points_from_csv,
    points_from_geojson,
    read_boundary,
    read_features,
    read_weed_geotiff,
)
from app.pipeline import FieldGeometry, InputError
from app.services.fields import create_field, match_as_applied, owned_field, store_as_applied, store_weed_map

# On the FieldCreate example's field, with the LabelDoc example's product (matched by name).
DETECTIONS_EXAMPLE: dict[str, Any] = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.1008, 48.5006]},
     "properties": {"species": "CHEAL", "confidence": 0.9, "count": 1}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.1009, 48.5007]},
     "properties": {"species": "CHEAL", "confidence": 0.7, "count": 3}}]}
AS_APPLIED_EXAMPLE: list[dict[str, Any]] = [
    {"product": "Callisto (mésotrione 100 g/L)", "appliedRate": {"valueAsDouble": 1.0, "unit": "l1ha-1"},
     "area": {"valueAsDouble": 2.4, "unit": "ha"}, "startDate": "2026-05-02T09:30:00Z"}]

router = APIRouter(prefix="/v1/fields", tags=["uploads"])

T = TypeVar("T")


async def _spool(request: Request) -> tuple[Path, str]:
    """The request body in a temporary file, and its SHA-256 (for idempotency)."""
    h = hashlib.sha256()
    with tempfile.NamedTemporaryFile(prefix="dosewise-upload-", delete=False) as tmp:
        path = Path(tmp.name)
        try:
            async for chunk in request.stream():
                h.update(chunk)
                tmp.write(chunk)
        except BaseException:  # too large, client gone: leave no file behind
            tmp.close()
            path.unlink(missing_ok=True)
            raise
    if path.stat().st_size == 0:
        path.unlink()
        raise InputError("the request body is empty; send the file as the body")
    return path, h.hexdigest()


async def _in_pool(fn: Callable[[], T], *cleanup: Path) -> T:
    try:
        return await run_in_threadpool(fn)
    finally:
        for p in cleanup:
            p.unlink(missing_ok=True)


@router.post("/import", status_code=201, summary="Create a field from a boundary file")
def import_field(
    session: SessionDep, caller: FieldWriter,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    crop: Annotated[str, Form(min_length=1, max_length=64)],
    boundary: Annotated[UploadFile, File(description="GeoJSON, zipped shapefile, ISOXML TASKDATA.XML or zip, "
                                                     "or the {rings: [...]} JSON of machine-data APIs")],
    features: Annotated[UploadFile | None, File(description="sensitive features, same formats")] = None,
    features_kind: Annotated[str | None, Form(description="kind for features that carry none")] = None,
    growth_stage_bbch: Annotated[int | None, Form(ge=0, le=99)] = None,
    country: Annotated[str | None, Form(min_length=2, max_length=2)] = None,
    partfield: Annotated[str | None, Form(description="ISOXML partfield designator or id")] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Boundary (and features) from files in any supported format; the result is as ``POST /v1/fields``."""
    b_bytes = boundary.file.read()
    f_bytes = features.file.read() if features is not None else None
    doc = FieldCreate.model_validate({
        "name": name, "crop": crop, "growth_stage_bbch": growth_stage_bbch, "country": country,
        "boundary": read_boundary(b_bytes, name=boundary.filename or "boundary", partfield=partfield),
        "sensitive_features": [] if f_bytes is None else read_features(
            f_bytes, name=features.filename or "features", partfield=partfield,  # type: ignore[union-attr]
            default_kind=features_kind),
    })
    digest = hashlib.sha256(b_bytes + b"\0" + (f_bytes or b"")).hexdigest()
    return respond_once(session, caller, idempotency_key, "POST /v1/fields/import",
                        fingerprint("POST /v1/fields/import", doc, digest),
                        lambda: field_public(create_field(session, caller.org_id, doc)))


def _species(species: str | None) -> list[str] | None:
    if not species:
        return None
    codes = [s.strip() for s in species.split(",") if s.strip()]
    return codes or None


@router.post("/{field_id}/weed-maps/geotiff", summary="Add a weed map from a GeoTIFF", status_code=201,
             openapi_extra={"requestBody": {"content": {"image/tiff": {"schema": {"type": "string",
                                                                                   "format": "binary"}}}}})
async def post_weed_geotiff(
    field_id: int, request: Request, session: SessionDep, caller: FieldWriter,
    species: Annotated[str | None, Query(description="EPPO code per band, comma-separated; "
                                                     "default: the band descriptions")] = None,
    cell_size_m: Annotated[float, Query(ge=0.01, le=10, description="working grid cell size, m")] = 0.5,
    resampling: Annotated[str | None, Query(description=f"one of {', '.join(RESAMPLINGS)}; "
                                                        "default: average when downsampling")] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A weed-density GeoTIFF (plants/m², one band per species, any CRS) warped onto the field's grid."""
    path, digest = await _spool(request)

    def work() -> JSONResponse:
        field = owned_field(session, caller.org_id, field_id, caller.field_ids)
        grid = grid_for_field(FieldGeometry.from_documents(field.boundary, []).boundary_wgs84, cell_size_m)
        raster = read_weed_geotiff(path, grid, species=_species(species), resampling=resampling,
                                   name="body", max_bytes=request.app.state.settings.max_upload_bytes)
        where = f"POST /v1/fields/{field_id}/weed-maps/geotiff"
        return respond_once(session, caller, idempotency_key, where,
                            fingerprint(where, digest, str(species), str(cell_size_m), str(resampling)),
                            lambda: weed_map_public(store_weed_map(
                                session, field, grid.crs, grid.x0_m, grid.y0_m, grid.cell_size_m,
                                raster.densities_plants_m2, source="geotiff",
                                ingest={"resampling": raster.resampling, "coverage": round(raster.coverage, 4),
                                        "source_crs": raster.source_crs, "notes": raster.notes})))

    return await _in_pool(work, path)


@router.post("/{field_id}/weed-maps/detections", summary="Add a weed map from point detections", status_code=201,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/geo+json": {"schema": {"type": "object", "description": "a GeoJSON FeatureCollection "
                                                     "of Points with species, confidence, count"},
                                          "example": DETECTIONS_EXAMPLE},
                 "text/csv": {"schema": {"type": "string", "description": "lon,lat (or x,y with crs) and species "
                                                                        "columns"},
                              "example": "lon,lat,species,confidence\n2.1008,48.5006,CHEAL,0.9\n"
                                         "2.1009,48.5007,CHEAL,0.7\n"}}}})
async def post_detections(
    field_id: int, request: Request, session: SessionDep, caller: FieldWriter,
    cell_size_m: Annotated[float, Query(ge=0.01, le=10, description="grid cell size, m")] = 1.0,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    weight_by_confidence: bool = True,
    crs: Annotated[str | None, Query(description="CRS of x,y columns in CSV (lon,lat need none)")] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Point detections (GeoJSON Points or CSV) counted into a density grid, confidence taken into account."""
    path, digest = await _spool(request)
    is_csv = "csv" in request.headers.get("content-type", "")

    def work() -> JSONResponse:
        field = owned_field(session, caller.org_id, field_id, caller.field_ids)
        raw = path.read_bytes()
        det = points_from_csv(raw, crs=crs) if is_csv else points_from_geojson(raw)
        grid = grid_for_field(FieldGeometry.from_documents(field.boundary, []).boundary_wgs84, cell_size_m)
        dens = aggregate_points(det, grid, min_confidence=min_confidence,
                                weight_by_confidence=weight_by_confidence)
        if dens.n_used == 0:
            raise InputError(f"detections: none of the {dens.n_outside + dens.n_below_confidence} points "
                             f"fall on the field ({dens.n_outside} outside, {dens.n_below_confidence} "
                             f"below the confidence cut)")
        where = f"POST /v1/fields/{field_id}/weed-maps/detections"
        info: dict[str, Any] = {"points_used": dens.n_used, "points_outside": dens.n_outside,
                                "points_below_confidence": dens.n_below_confidence, "notes": dens.notes}
        return respond_once(session, caller, idempotency_key, where,
                            fingerprint(where, digest, str(cell_size_m), str(min_confidence), str(crs),
                                        str(weight_by_confidence)),
                            lambda: weed_map_public(store_weed_map(
                                session, field, grid.crs, grid.x0_m, grid.y0_m, grid.cell_size_m,
                                dens.densities_plants_m2, source="detections", ingest=info)))

    return await _in_pool(work, path)


@router.post("/{field_id}/applications/import", summary="Import as-applied records", status_code=201,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"type": ["object", "array"],
                            "description": "as-applied records, flat or with {valueAsDouble, unit} quantities"},
                 "example": AS_APPLIED_EXAMPLE}}}})
async def import_applications(field_id: int, request: Request, session: SessionDep, caller: FieldWriter,
                              idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """As-applied records as terminals and machine-data APIs send them (``{valueAsDouble, unit}``
    quantities or flat records); products are matched by name. All records are stored, or none."""
    path, digest = await _spool(request)

    def work() -> JSONResponse:
        field = owned_field(session, caller.org_id, field_id, caller.field_ids)
        matched = match_as_applied(session, caller.org_id, parse_as_applied(path.read_bytes(), name="body"))

        def produce() -> list[ApplicationPublic]:
            return [application_public(row, label)
                    for row, (_rec, _product, label) in zip(store_as_applied(session, field, matched), matched,
                                                            strict=True)]

        where = f"POST /v1/fields/{field_id}/applications/import"
        return respond_once(session, caller, idempotency_key, where, fingerprint(where, digest),
                            lambda: _ListOf(items=produce()))

    return await _in_pool(work, path)


class _ListOf(BaseModel):
    items: list[ApplicationPublic]
