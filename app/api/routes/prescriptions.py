"""Prescriptions: compute, store, read, export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from app.api.deps import Agronomist, Caller, PageDep, Reader, SessionDep
from app.api.errors import NotFound
from app.api.idempotency import IdempotencyKey, fingerprint, respond_once
from app.api.routes.fields import owned_field, weed_map_densities, weed_map_grid
from app.api.schemas.label import LabelDoc
from app.api.schemas.prescription import PrescriptionCreate, PrescriptionPublic
from app.dosing.grid import GridSpec
from app.dosing.prescribe import Prescription as CorePrescription
from app.dosing.prescribe import Summary
from app.models import arrays, repo
from app.models.tables import Prescription, Product, WeedMap
from app.pipeline import FieldGeometry, product_totals, run

router = APIRouter(prefix="/v1/prescriptions", tags=["prescriptions"])


def public(row: Prescription) -> PrescriptionPublic:
    return PrescriptionPublic(
        id=row.id, field_id=row.field_id, weed_map_id=row.weed_map_id, weed_map_version=row.weed_map_version,
        product_ids=row.product_ids, strategy=row.strategy, sprayer=row.sprayer, grid=row.grid,
        summary={k: v for k, v in row.summary.items() if k != "products"},
        products=row.summary.get("products", []), compliance=row.compliance, wind_from_deg=row.wind_from_deg,
        no_spray=row.no_spray, created_at=row.created_at,
        links={
            "self": f"/v1/prescriptions/{row.id}",
            "geojson": f"/v1/prescriptions/{row.id}/export/geojson",
            "advice": f"/v1/prescriptions/{row.id}/advice",
            "map": f"/v1/prescriptions/{row.id}/map",
        },
    )


def create_prescription(session: SessionDep, org_id: int, body: PrescriptionCreate) -> Prescription:
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
               season_used={lab.name: used[p.id] for lab, p in zip(labels, products, strict=True)})
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


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PrescriptionPublic)
def post_prescription(body: PrescriptionCreate, session: SessionDep, caller: Agronomist,
                      idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Dose every cell of the field's weed map for the products and store the prescription."""
    return respond_once(session, caller, idempotency_key, "POST /v1/prescriptions",
                        fingerprint("POST /v1/prescriptions", body),
                        lambda: public(create_prescription(session, caller.org_id, body)))


@router.get("", response_model=list[PrescriptionPublic])
def list_prescriptions(session: SessionDep, caller: Reader, page: PageDep) -> list[PrescriptionPublic]:
    rows = repo.list_owned(session, Prescription, caller.org_id, limit=page.limit, offset=page.offset,
                           field_ids=caller.field_scope)
    return [public(r) for r in rows]


def owned_prescription(session: SessionDep, caller: Caller, prescription_id: int) -> Prescription:
    """The prescription, if the caller's organisation owns it and its key may see the field."""
    row = repo.get_owned(session, Prescription, caller.org_id, prescription_id)
    if row is None or not caller.sees_field(row.field_id):
        raise NotFound(f"prescription {prescription_id} not found")
    return row


@router.get("/{prescription_id}", response_model=PrescriptionPublic)
def get_prescription(prescription_id: int, session: SessionDep, caller: Reader) -> PrescriptionPublic:
    return public(owned_prescription(session, caller, prescription_id))


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
