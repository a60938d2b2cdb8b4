"""Exports of a stored prescription: the job the renderers in ``app.export`` work from."""

from __future__ import annotations

from collections.abc import Sequence

from shapely.geometry import shape
from sqlalchemy.orm import Session

from app.domain.errors import NotFound
from app.dosing.label import ProductLabel
from app.export import ExportJob
from app.models import repo
from app.models.tables import Field, Prescription
from app.pipeline import FieldGeometry
from app.services.prescriptions import load_core


def export_job(session: Session, row: Prescription) -> ExportJob:
    field: Field | None = repo.get_owned(session, Field, row.org_id, row.field_id)
    if field is None:
        raise NotFound(f"field {row.field_id} of prescription {row.id} not found")
    core, _labels = load_core(row)
    geometry = FieldGeometry.from_documents(field.boundary, field.sensitive_features)
    return ExportJob(prescription=core, field_name=field.name, field_boundary_wgs84=geometry.boundary_wgs84,
                     customer_name=field.customer, farm_name=field.farm, task_name=f"Dosewise Rx {row.id}",
                     prescription_id=str(row.id),
                     no_spray_wgs84=shape(row.no_spray) if row.no_spray else None,
                     features_wgs84=tuple(geometry.features), season_left=season_left(row, core.products))


def season_left(row: Prescription, products: Sequence[ProductLabel]) -> tuple[float | None, ...] | None:
    """What each product's season maximum left when the prescription was made (canonical rate)."""
    stored = row.summary.get("products", [])
    if len(stored) != len(products) or any("season_used" not in p for p in stored):
        return None  # made before the season was recorded: the label's season maximum is the bound
    return tuple(None if p.max_season_rate is None else p.max_season_rate - float(s["season_used"])
                 for p, s in zip(products, stored, strict=True))
