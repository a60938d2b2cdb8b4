"""Exports of a stored prescription in the formats terminals and GIS tools read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from app.api.deps import Reader, SessionDep
from app.api.guards import content_disposition, header_text
from app.export import ExportFile, preflight, render
from app.export.names import ascii_text
from app.export.registry import DEFAULT_TOLERANCE_PCT
from app.services.exports import export_job
from app.services.prescriptions import owned_prescription

router = APIRouter(prefix="/v1/prescriptions", tags=["exports"])


def verify_headers(out: ExportFile) -> dict[str, str]:
    """The verifier's verdict and the product added, as ASCII-only response headers."""
    report = out.stats.get("verify")
    if not isinstance(report, dict):
        return {}
    zones = "; ".join(f"{z['area_m2']:g} m2 sprayed {z['zone']}" for z in report["zones"])
    deltas = "; ".join(f"{ascii_text(p['product'], 60)} {p['delta']:+.6g} {p['total_unit']} "
                       f"({p['delta_pct']:+.3g} %)" for p in report["products"])
    return {"X-Dosewise-Verified": ascii_text(f"ok; {zones}", 500),
            "X-Dosewise-Product-Delta": ascii_text(deltas, 500)}


@router.get("/{prescription_id}/export/{fmt}", summary="Download a terminal or GIS file", response_class=Response,
            responses={200: {"content": {"application/zip": {}, "application/geo+json": {},
                                         "image/tiff": {}, "image/png": {}}}})
def export(prescription_id: int, fmt: str, session: SessionDep, caller: Reader,
           terminal: str | None = None,
           layout: Annotated[Literal["usb", "ops-center"] | None, Query(
               description="shapefile only: `usb` puts files in the terminal's folder (`Rx/` for John Deere), "
                           "`ops-center` writes them flat for an upload to Operations Center")] = None,
           ) -> Response:
    """The prescription as ``isoxml``, ``shapefile``, ``geojson``, ``geotiff`` or ``png``."""
    row = owned_prescription(session, caller.org_id, prescription_id, caller.field_ids)
    options: dict[str, object] = {} if layout is None else {"layout": layout}
    out = render(export_job(session, row), fmt, terminal=terminal, **options)
    headers = {"Content-Disposition": content_disposition(out.filename), **verify_headers(out)}
    if out.notes:
        headers["X-Dosewise-Notes"] = header_text("; ".join(out.notes))
    return Response(content=out.content, media_type=out.media_type, headers=headers)


@router.get("/{prescription_id}/export/{fmt}/check", summary="Check an export against a terminal")
def export_check(prescription_id: int, fmt: str, session: SessionDep, caller: Reader,
                 terminal: str = "generic",
                 tolerance_pct: Annotated[float, Query(ge=0, le=1000)] = DEFAULT_TOLERANCE_PCT) -> dict[str, Any]:
    """Pre-flight: will this export load on ``terminal``, and does the file itself obey the label?

    Zones, vertices, size, units, CRS, and ``verify``: the export verifier's
    report on the file (spray in no-spray zones and outside the field, rates
    against the label, product against the prescription). ``ok`` is false
    when the file needs more than ``tolerance_pct`` % extra product.
    """
    row = owned_prescription(session, caller.org_id, prescription_id, caller.field_ids)
    return preflight(export_job(session, row), fmt, terminal, tolerance_pct=tolerance_pct)
