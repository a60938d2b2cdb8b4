"""Fields, their weed maps, recorded applications and stored forecasts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, time
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from app.domain.application import ApplicationCreate
from app.domain.errors import NotFound
from app.domain.field import FieldCreate
from app.domain.label import LabelDoc
from app.domain.units import UnitError, canonical_unit, to_canonical_rate
from app.dosing.grid import GridSpec
from app.geo import reproject
from app.ingest import AsAppliedRecord
from app.models import arrays, repo
from app.models.tables import Application, Field, Product, WeedMap
from app.pipeline import FieldGeometry, InputError, check_metric_crs
from app.species import unknown_codes


def create_field(session: Session, org_id: int, body: FieldCreate) -> Field:
    geom = FieldGeometry.from_documents(body.boundary, [f.model_dump() for f in body.sensitive_features])
    row = Field(
        org_id=org_id, name=body.name, crop=body.crop, growth_stage_bbch=body.growth_stage_bbch,
        country=body.country, farm=body.farm, customer=body.customer, boundary=body.boundary,
        sensitive_features=[f.model_dump() for f in body.sensitive_features],
        working_crs=geom.working_crs(), area_ha=geom.area_ha(),
    )
    return repo.add(session, row)


def owned_field(session: Session, org_id: int, field_id: int, field_ids: Collection[int] | None = None) -> Field:
    """The field, if organisation ``org_id`` owns it and it is among ``field_ids`` (when a key is limited)."""
    row = repo.get_owned(session, Field, org_id, field_id)
    if row is None or (field_ids is not None and field_id not in field_ids):
        raise NotFound(f"field {field_id} not found")
    return row


def weed_map_grid(row: WeedMap) -> GridSpec:
    return GridSpec(crs=row.crs, x0_m=row.x0_m, y0_m=row.y0_m, cell_size_m=row.cell_size_m,
                    n_rows=row.n_rows, n_cols=row.n_cols)


def weed_map_densities(row: WeedMap) -> dict[str, np.ndarray]:
    stack = arrays.unpack(row.densities, len(row.species), row.n_rows, row.n_cols)
    return {code: stack[i] for i, code in enumerate(row.species)}


def store_weed_map(session: Session, field: Field, crs: str, x0_m: float, y0_m: float,
                   cell_size_m: float, densities: dict[str, np.ndarray], *, source: str | None = None,
                   captured_at: Any = None, ingest: dict[str, Any] | None = None) -> WeedMap:
    """Check a density stack against its field and store it as the field's next version."""
    centre = FieldGeometry.from_documents(field.boundary, []).boundary_wgs84.centroid
    check_metric_crs(crs, (centre.x, centre.y))
    unknown = unknown_codes(list(densities))
    if unknown:
        raise InputError(f"species: unknown species code(s) {', '.join(unknown)}; use EPPO codes from "
                         f"data/species.json")
    first = next(iter(densities.values()))
    grid = GridSpec(crs=crs, x0_m=x0_m, y0_m=y0_m, cell_size_m=cell_size_m,
                    n_rows=first.shape[0], n_cols=first.shape[1])
    boundary_m = reproject(FieldGeometry.from_documents(field.boundary, []).boundary_wgs84, "EPSG:4326", crs)
    overlap = boundary_m.intersection(shapely.box(*grid.bounds_m)).area
    if overlap <= 0:
        raise InputError(f"weed map: the grid {tuple(round(v, 1) for v in grid.bounds_m)} in {crs} does not "
                         f"overlap field {field.id}; check the CRS and origin (x = west edge, y = north edge)")
    stack = np.stack(list(densities.values()))
    stats = {
        code: {"max_plants_m2": float(a.max()), "mean_plants_m2": float(a.mean()),
               "infested_share": float((a > 0).mean())}
        for code, a in densities.items()
    }
    stats["_coverage"] = {"field_share_covered": round(overlap / boundary_m.area, 4)}
    if ingest:
        stats["_ingest"] = ingest
    row = WeedMap(
        org_id=field.org_id, field_id=field.id, version=repo.next_weed_map_version(session, field.id),
        crs=crs, x0_m=x0_m, y0_m=y0_m, cell_size_m=cell_size_m, n_rows=grid.n_rows, n_cols=grid.n_cols,
        species=list(densities), densities=arrays.pack(stack), stats=stats, source=source,
        captured_at=captured_at,
    )
    return repo.add(session, row)


def owned_weed_map(session: Session, org_id: int, field_id: int, map_id: int) -> WeedMap:
    row = repo.get_owned(session, WeedMap, org_id, map_id)
    if row is None or row.field_id != field_id:
        raise NotFound(f"weed map {map_id} of field {field_id} not found")
    return row


def owned_label(session: Session, org_id: int, product_id: int) -> LabelDoc:
    prod = repo.get_owned(session, Product, org_id, product_id)
    if prod is None:
        raise NotFound(f"product_id: product {product_id} not found")
    return LabelDoc.model_validate(prod.label)


def record_application(session: Session, field: Field, body: ApplicationCreate, label: LabelDoc) -> Application:
    """Store an application already made; it counts against the label's season maximum."""
    if canonical_unit(body.rate.unit) != canonical_unit(label.rate_unit):
        raise UnitError(f"rate.unit: {body.rate.unit!r} is not a unit of {label.name}, whose rates are "
                        f"{label.rate_unit} ({'volume' if label.formulation == 'liquid' else 'mass'} per area)")
    return repo.add(session, Application(
        org_id=field.org_id, field_id=field.id, product_id=body.product_id, rate_value=body.rate.value,
        rate_unit=body.rate.unit, rate_canonical=to_canonical_rate(body.rate.value, body.rate.unit),
        area_ha=body.area_ha, applied_at=body.applied_at, source=body.source))


def match_as_applied(session: Session, org_id: int,
                     records: list[AsAppliedRecord]) -> list[tuple[AsAppliedRecord, Product, LabelDoc]]:
    """Each as-applied record with its product (matched by name) and label; checks every unit first."""
    out: list[tuple[AsAppliedRecord, Product, LabelDoc]] = []
    for i, rec in enumerate(records):
        product = repo.find_product_by_name(session, org_id, rec.product)
        if product is None:
            raise NotFound(f"body[{i}].product: no product named {rec.product!r} in this organisation")
        label = LabelDoc.model_validate(product.label)
        if rec.canonical_unit != canonical_unit(label.rate_unit):
            raise UnitError(f"body[{i}]: {rec.rate_unit!r} is not a unit of {label.name}, whose rates are "
                            f"{label.rate_unit}")
        out.append((rec, product, label))
    return out


def store_as_applied(session: Session, field: Field,
                     matched: list[tuple[AsAppliedRecord, Product, LabelDoc]]) -> list[Application]:
    """Store matched as-applied records (all or none: the caller's transaction)."""
    return [repo.add(session, Application(
        org_id=field.org_id, field_id=field.id, product_id=product.id, rate_value=rec.rate,
        rate_unit=rec.rate_unit, rate_canonical=rec.rate_canonical, area_ha=rec.area_ha,
        applied_at=datetime.combine(rec.applied_on, time(12, 0), tzinfo=UTC), source="import"))
        for rec, product, _label in matched]


def store_forecast(session: Session, field: Field, forecast: dict[str, Any]) -> None:
    """Keep the field's hourly forecast and drop advice written against the old one."""
    field.forecast = forecast
    repo.drop_advice_of_field(session, field.id)
    session.flush()
