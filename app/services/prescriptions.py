"""Prescriptions: computed from a field's weed map and labels, stored, read back for the core."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.errors import Conflict, NotFound
from app.domain.label import LabelDoc
from app.domain.prescription import PrescriptionCreate
from app.dosing.grid import GridSpec
from app.dosing.prescribe import Prescription as CorePrescription
from app.dosing.prescribe import Summary
from app.models import arrays, repo
from app.models.tables import Field, Prescription, Product, WeedMap
from app.pipeline import CoverageRule, FieldGeometry, product_totals, run
from app.services.fields import owned_field, weed_map_grid


@dataclass(frozen=True)
class PrescriptionInputs:
    """Everything the dosing needs, read in one short transaction and detached from it,
    so the computation holds no transaction, no SQLite write lock and no pooled connection."""

    org_id: int
    field_id: int
    weed_map_id: int
    weed_map_version: int
    product_ids: list[int]
    labels: list[LabelDoc]
    geometry: FieldGeometry
    grid: GridSpec
    species: list[str]
    densities_blob: bytes
    crop: str | None
    field_country: str | None
    growth_stage_bbch: int | None
    season_since: datetime
    season_window: str
    season_used_canonical: dict[int, float]
    season_counted: list[dict[str, Any]]
    body: PrescriptionCreate


def gather_inputs(session: Session, org_id: int, body: PrescriptionCreate) -> PrescriptionInputs:
    """Read what a prescription needs (no writes); raises NotFound naming the missing document."""
    field, map_ref, products = _documents(session, org_id, body)
    wmap = session.get(WeedMap, map_ref.id)
    if wmap is None:  # its field was deleted between the two reads
        raise NotFound(f"weed map {map_ref.id} of field {field.id} not found")
    since, window = season_window(body.season_start)
    ids = [p.id for p in products]
    used, counted = repo.season_used(session, field.id, ids, since)
    return PrescriptionInputs(
        org_id=org_id, field_id=field.id, weed_map_id=wmap.id, weed_map_version=wmap.version, product_ids=ids,
        labels=[LabelDoc.model_validate(p.label) for p in products],
        geometry=FieldGeometry.from_documents(field.boundary, field.sensitive_features),
        grid=weed_map_grid(wmap), species=list(wmap.species), densities_blob=wmap.densities, crop=field.crop,
        field_country=field.country,
        growth_stage_bbch=field.growth_stage_bbch, season_since=since, season_window=window,
        season_used_canonical=used, season_counted=counted, body=body)


def compute_prescription(inputs: PrescriptionInputs) -> Prescription:
    """Dose every cell (no database): the row to store, not yet added to any session."""
    body, labels, grid = inputs.body, inputs.labels, inputs.grid
    stack = arrays.unpack(inputs.densities_blob, len(inputs.species), grid.n_rows, grid.n_cols)
    densities = {code: stack[i] for i, code in enumerate(inputs.species)}
    used = inputs.season_used_canonical
    core, no_spray = run(inputs.geometry, grid, densities, labels, body.strategy, body.sprayer,
                         wind_from_deg=body.wind_from_deg, crop=inputs.crop,
                         growth_stage_bbch=inputs.growth_stage_bbch,
                         season_used={lab.name: used[p] for lab, p in zip(labels, inputs.product_ids, strict=True)},
                         field_country=inputs.field_country, allow_foreign_labels=body.allow_foreign_labels,
                         coverage=CoverageRule(body.uncovered, body.min_coverage_pct))
    del stack, densities
    grid = core.grid  # grown to cover the field when the map covers only part of it
    counted = inputs.season_counted
    core.compliance.append({
        "check": "season_window", "outcome": "info",
        "detail": f"applications since {inputs.season_since.date().isoformat()} ({inputs.season_window}) count "
                  "against the season maximum: "
                  + (", ".join(f"#{r['application_id']} on {r['applied_at'][:10]}" for r in counted) or "none"),
        "records": counted,
    })
    summary = core.summary.as_dict()
    summary["products"] = product_totals(core, labels, inputs.product_ids,
                                         {lab.name: used[p] for lab, p in zip(labels, inputs.product_ids,
                                                                              strict=True)})
    return Prescription(
        org_id=inputs.org_id, field_id=inputs.field_id, weed_map_id=inputs.weed_map_id,
        weed_map_version=inputs.weed_map_version, product_ids=list(inputs.product_ids),
        labels=[lab.model_dump(mode="json") for lab in labels],
        strategy=body.strategy.model_dump(mode="json"), sprayer=body.sprayer.model_dump(mode="json"),
        grid={"crs": grid.crs, "x0_m": grid.x0_m, "y0_m": grid.y0_m, "cell_size_m": grid.cell_size_m,
              "n_rows": grid.n_rows, "n_cols": grid.n_cols},
        rates=arrays.pack(core.rates), summary=_jsonable(summary), compliance=_jsonable(core.compliance),
        wind_from_deg=body.wind_from_deg, no_spray=no_spray,
    )


def store_prescription(session: Session, inputs: PrescriptionInputs, row: Prescription) -> Prescription:
    """Add the computed row; refuses (409) if applications recorded meanwhile changed the season's remainder,
    since the rates were capped by the remainder read before computing."""
    now, _counted = repo.season_used(session, inputs.field_id, inputs.product_ids, inputs.season_since)
    if now != inputs.season_used_canonical:
        raise Conflict("applications of these products were recorded on this field while the prescription was "
                       "computed; the season maximum may now be lower: POST the prescription again")
    return repo.add(session, row)


def create_prescription(session: Session, org_id: int, body: PrescriptionCreate, *,
                        end_read: bool = False) -> Prescription:
    """Read, compute, then add the row (flushed, not committed).

    ``end_read`` ends the reading transaction before computing, so the computation holds no
    transaction, SQLite write lock or pooled connection; only for a session that has written
    nothing yet (a request's), since whatever it holds uncommitted is rolled back.
    """
    inputs = gather_inputs(session, org_id, body)
    if end_read:
        session.rollback()
    row = compute_prescription(inputs)
    return store_prescription(session, inputs, row)


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


def _documents(session: Session, org_id: int, body: PrescriptionCreate) -> tuple[Field, Any, list[Product]]:
    """The field, its weed map's id and size, and the products; 404 naming the missing one. No grid is read."""
    field = owned_field(session, org_id, body.field_id)
    q = select(WeedMap.id, WeedMap.n_rows, WeedMap.n_cols).where(WeedMap.field_id == field.id,
                                                                   WeedMap.org_id == org_id)
    q = q.order_by(WeedMap.version.desc()).limit(1) if body.weed_map_id is None else \
        q.where(WeedMap.id == body.weed_map_id)
    found = session.execute(q).first()
    if found is None:
        raise NotFound(f"field {field.id} has no weed map yet; POST one to /v1/fields/{field.id}/weed-maps"
                       if body.weed_map_id is None else f"weed map {body.weed_map_id} of field {field.id} not found")
    products: list[Product] = []
    for pid in body.product_ids:
        prod = repo.get_owned(session, Product, org_id, pid)
        if prod is None:
            raise NotFound(f"product_ids: product {pid} not found")
        products.append(prod)
    return field, found, products


def prescription_cells(session: Session, org_id: int, body: PrescriptionCreate) -> int:
    """Cells of the weed map a prescription would dose (cheap: no grid is read)."""
    _field, map_ref, _products = _documents(session, org_id, body)
    return int(map_ref.n_rows) * int(map_ref.n_cols)


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
