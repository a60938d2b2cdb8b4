"""Exports of a stored prescription in the formats terminals and GIS tools read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from app.api.deps import Reader, SessionDep
from app.export import preflight, render
from app.services.exports import export_job
from app.services.prescriptions import owned_prescription

router = APIRouter(prefix="/v1/prescriptions", tags=["exports"])


@router.get("/{prescription_id}/export/{fmt}", response_class=Response,
            responses={200: {"content": {"application/zip": {}, "application/geo+json": {},
                                         "image/tiff": {}, "image/png": {}}}})
def export(prescription_id: int, fmt: str, session: SessionDep, caller: Reader,
           terminal: str | None = None) -> Response:
    """The prescription as ``isoxml``, ``shapefile``, ``geojson``, ``geotiff`` or ``png``."""
    row = owned_prescription(session, caller.org_id, prescription_id, caller.field_ids)
    out = render(export_job(session, row), fmt, terminal=terminal)
    headers = {"Content-Disposition": f'attachment; filename="{out.filename}"'}
    if out.notes:
        headers["X-Dosewise-Notes"] = "; ".join(out.notes)[:1000]
    return Response(content=out.content, media_type=out.media_type, headers=headers)


@router.get("/{prescription_id}/export/{fmt}/check")
def export_check(prescription_id: int, fmt: str, session: SessionDep, caller: Reader,
                 terminal: str = "generic") -> dict[str, Any]:
    """Pre-flight: will this export load on ``terminal``? Zones, vertices, size, units, CRS."""
    row = owned_prescription(session, caller.org_id, prescription_id, caller.field_ids)
    return preflight(export_job(session, row), fmt, terminal)
