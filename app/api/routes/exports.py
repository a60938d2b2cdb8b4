"""Exports of a stored prescription in the formats terminals and GIS tools read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from shapely.geometry import shape
from sqlalchemy.orm import Session

from app.api.deps import Reader, SessionDep
from app.api.errors import NotFound, register_extra
from app.api.routes.prescriptions import load_core, owned_prescription
from app.dosing.label import ProductLabel
from app.export import ExportError, ExportFile, ExportJob, preflight, render
from app.export.names import ascii_text
from app.export.registry import DEFAULT_TOLERANCE_PCT
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
    geometry = FieldGeometry.from_documents(field.boundary, field.sensitive_features)
    return ExportJob(prescription=core, field_name=field.name, field_boundary_wgs84=geometry.boundary_wgs84,
                     task_name=f"Dosewise Rx {row.id}", prescription_id=str(row.id),
                     no_spray_wgs84=shape(row.no_spray) if row.no_spray else None,
                     features_wgs84=tuple(geometry.features), season_left=season_left(row, core.products))


def season_left(row: Prescription, products: Sequence[ProductLabel]) -> tuple[float | None, ...] | None:
    """What each product's season maximum left when the prescription was made (canonical rate)."""
    stored = row.summary.get("products", [])
    if len(stored) != len(products) or any("season_used" not in p for p in stored):
        return None  # made before the season was recorded: the label's season maximum is the bound
    return tuple(None if p.max_season_rate is None else p.max_season_rate - float(s["season_used"])
                 for p, s in zip(products, stored, strict=True))


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


@router.get("/{prescription_id}/export/{fmt}", response_class=Response,
            responses={200: {"content": {"application/zip": {}, "application/geo+json": {},
                                         "image/tiff": {}, "image/png": {}}}})
def export(prescription_id: int, fmt: str, session: SessionDep, caller: Reader,
           terminal: str | None = None) -> Response:
    """The prescription as ``isoxml``, ``shapefile``, ``geojson``, ``geotiff`` or ``png``."""
    row = owned_prescription(session, caller, prescription_id)
    out = render(export_job(session, row), fmt, terminal=terminal)
    headers = {"Content-Disposition": f'attachment; filename="{out.filename}"', **verify_headers(out)}
    if out.notes:
        headers["X-Dosewise-Notes"] = ascii_text("; ".join(out.notes), 1000)
    return Response(content=out.content, media_type=out.media_type, headers=headers)


@router.get("/{prescription_id}/export/{fmt}/check")
def export_check(prescription_id: int, fmt: str, session: SessionDep, caller: Reader,
                 terminal: str = "generic",
                 tolerance_pct: Annotated[float, Query(ge=0, le=1000)] = DEFAULT_TOLERANCE_PCT) -> dict[str, Any]:
    """Pre-flight: will this export load on ``terminal``, and does the file itself obey the label?

    Zones, vertices, size, units, CRS, and ``verify``: the export verifier's
    report on the file (spray in no-spray zones and outside the field, rates
    against the label, product against the prescription). ``ok`` is false
    when the file needs more than ``tolerance_pct`` % extra product.
    """
    row = owned_prescription(session, caller, prescription_id)
    return preflight(export_job(session, row), fmt, terminal, tolerance_pct=tolerance_pct)
