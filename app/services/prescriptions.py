"""Prescriptions: computed from a field's weed map and labels, stored, read back for the core."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.domain.errors import NotFound
from app.domain.label import LabelDoc
from app.domain.prescription import PrescriptionCreate
from app.dosing.grid import GridSpec
from app.dosing.prescribe import Prescription as CorePrescription
from app.dosing.prescribe import Summary
from app.models import arrays, repo
from app.models.tables import Prescription, Product, WeedMap
from app.pipeline import CoverageRule, FieldGeometry, product_totals, run
from app.services.fields import owned_field, weed_map_densities, weed_map_grid


def create_prescription(session: Session, org_id: int, body: PrescriptionCreate) -> Prescription:
    field = owned_field(session, org_id, body.field_id)
    if body.weed_map_id is None:
        wmap = repo.latest_weed_map(session, field.id)
        if wmap is None:
            raise NotFound(f"field {field.id} has no weed map yet; POST one to /v1/fields/{field.id}/weed-maps")
    else:
        wmap = repo.get_owned(session, WeedMap, org_id, body.weed_map_id)
        if wmap is None or wmap.field_id != field.id:
            raise NotFound(f"weed map {body.weed_map_id} of field {field.id} not found")
    products: list[Product] = []
    for pid in body.product_ids:
        prod = repo.get_owned(session, Product, org_id, pid)
        if prod is None:
            raise NotFound(f"product_ids: product {pid} not found")
        products.append(prod)
    labels = [LabelDoc.model_validate(p.label) for p in products]
    since, window = season_window(body.season_start)
    used, counted = repo.season_used(session, field.id, [p.id for p in products], since)
    grid = weed_map_grid(wmap)
    core, no_spray = run(FieldGeometry.from_documents(field.boundary, field.sensitive_features), grid,
               weed_map_densities(wmap), labels, body.strategy, body.sprayer,
               wind_from_deg=body.wind_from_deg, crop=field.crop, growth_stage_bbch=field.growth_stage_bbch,
               season_used={lab.name: used[p.id] for lab, p in zip(labels, products, strict=True)},
               field_country=field.country, allow_foreign_labels=body.allow_foreign_labels,
               coverage=CoverageRule(body.uncovered, body.min_coverage_pct))
    grid = core.grid  # grown to cover the field when the map covers only part of it
    core.compliance.append({
        "check": "season_window", "outcome": "info",
        "detail": f"applications since {since.date().isoformat()} ({window}) count against the season maximum: "
                  + (", ".join(f"#{r['application_id']} on {r['applied_at'][:10]}" for r in counted) or "none"),
        "records": counted,
    })
    summary = core.summary.as_dict()
    summary["products"] = product_totals(core, labels, [p.id for p in products],
                                         {lab.name: used[p.id] for lab, p in zip(labels, products, strict=True)})
    row = Prescription(
        org_id=org_id, field_id=field.id, weed_map_id=wmap.id, weed_map_version=wmap.version,
        product_ids=[p.id for p in products], labels=[lab.model_dump(mode="json") for lab in labels],
        strategy=body.strategy.model_dump(mode="json"), sprayer=body.sprayer.model_dump(mode="json"),
        grid={"crs": grid.crs, "x0_m": grid.x0_m, "y0_m": grid.y0_m, "cell_size_m": grid.cell_size_m,
              "n_rows": grid.n_rows, "n_cols": grid.n_cols},
        rates=arrays.pack(core.rates), summary=_jsonable(summary), compliance=_jsonable(core.compliance),
        wind_from_deg=body.wind_from_deg, no_spray=no_spray,
    )
    return repo.add(session, row)


def season_window(season_start: datetime | None, now: datetime | None = None) -> tuple[datetime, str]:
    """Since when applications count against a season maximum, and why.

    The crop's season start when the caller gives it; otherwise a rolling 12
    months (365 days) back, so a winter crop's autumn spray still counts in
    spring and nothing resets on 1 January.
    """
    if season_start is not None:
        start = season_start if season_start.tzinfo else season_start.replace(tzinfo=UTC)
        return start, "the crop season's start given with the request"
    return (now or datetime.now(UTC)) - timedelta(days=365), "rolling 12 months: no crop season start given"


def _jsonable(value: Any) -> Any:
    """Plain JSON types (NumPy scalars and tuples become floats and lists)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def owned_prescription(session: Session, org_id: int, prescription_id: int,
                       field_ids: Collection[int] | None = None) -> Prescription:
    """The prescription, if organisation ``org_id`` owns it and its field is among ``field_ids`` (when given)."""
    row = repo.get_owned(session, Prescription, org_id, prescription_id)
    if row is None or (field_ids is not None and row.field_id not in field_ids):
        raise NotFound(f"prescription {prescription_id} not found")
    return row


def load_core(row: Prescription) -> tuple[CorePrescription, list[LabelDoc]]:
    """Rebuild the dosing core's view of a stored prescription."""
    labels = [LabelDoc.model_validate(lab) for lab in row.labels]
    grid = GridSpec(**row.grid)
    rates = arrays.unpack(row.rates, len(labels), grid.n_rows, grid.n_cols)
    s = row.summary
    summary = Summary(**{k: s[k] for k in Summary.__dataclass_fields__ if k in s})  # type: ignore[arg-type]
    stages = row.strategy.get("weed_stages")
    core = CorePrescription(grid=grid, products=[lab.to_core(stages) for lab in labels], rates=rates,
                            summary=summary, compliance=row.compliance)
    return core, labels
