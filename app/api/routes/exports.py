"""Exports of a stored prescription in the formats terminals and GIS tools read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from shapely.geometry import shape
from sqlalchemy.orm import Session

from app.api.deps import Reader, SessionDep
from app.api.errors import NotFound, register_extra
from app.api.guards import content_disposition, header_text
from app.api.routes.prescriptions import load_core, owned_prescription
from app.export import ExportError, ExportJob, preflight, render
from app.models import repo
from app.models.tables import Field, Prescription
from app.pipeline import FieldGeometry

router = APIRouter(prefix="/v1/prescriptions", tags=["exports"])
register_extra(ExportError, 422, "export_refused")


def export_job(session: Session, row: Prescription) -> ExportJob:
    field: Field | None = repo.get_owned(session, Field, row.org_id, row.field_id)
    if field is None:
        raise NotFound(f"field {row.field_id} of prescription {row.id} not found")
    core, _labels = load_core(row)
    geometry = FieldGeometry.from_documents(field.boundary, [])
    return ExportJob(prescription=core, field_name=field.name, field_boundary_wgs84=geometry.boundary_wgs84,
                     task_name=f"Dosewise Rx {row.id}", prescription_id=str(row.id),
                     no_spray_wgs84=shape(row.no_spray) if row.no_spray else None)


@router.get("/{prescription_id}/export/{fmt}", response_class=Response,
            responses={200: {"content": {"application/zip": {}, "application/geo+json": {},
                                         "image/tiff": {}, "image/png": {}}}})
def export(prescription_id: int, fmt: str, session: SessionDep, caller: Reader,
           terminal: str | None = None) -> Response:
    """The prescription as ``isoxml``, ``shapefile``, ``geojson``, ``geotiff`` or ``png``."""
    row = owned_prescription(session, caller, prescription_id)
    out = render(export_job(session, row), fmt, terminal=terminal)
    headers = {"Content-Disposition": content_disposition(out.filename)}
    if out.notes:
        headers["X-Dosewise-Notes"] = header_text("; ".join(out.notes))
    return Response(content=out.content, media_type=out.media_type, headers=headers)


@router.get("/{prescription_id}/export/{fmt}/check")
def export_check(prescription_id: int, fmt: str, session: SessionDep, caller: Reader,
                 terminal: str = "generic") -> dict[str, Any]:
    """Pre-flight: will this export load on ``terminal``? Zones, vertices, size, units, CRS."""
    row = owned_prescription(session, caller, prescription_id)
    return preflight(export_job(session, row), fmt, terminal)
