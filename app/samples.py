"""Load the sample fields and labels shipped in ``data/`` into an organisation."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session

from app.domain.field import FieldCreate
from app.domain.label import LabelDoc
from app.domain.prescription import PrescriptionCreate, StrategyIn
from app.domain.weed_map import WeedMapCreate
from app.dosing.errors import DosingError
from app.models import repo
from app.pipeline import weed_map_arrays
from app.services.fields import create_field, store_weed_map
from app.services.prescriptions import create_prescription
from app.services.products import create_product
from app.species import DATA_DIR

log = logging.getLogger("dosewise.samples")


def label_files(data_dir: Path = DATA_DIR) -> list[Path]:
    return sorted((data_dir / "labels").glob("*.json"))


def field_dirs(data_dir: Path = DATA_DIR) -> list[Path]:
    return sorted(p for p in (data_dir / "sample_fields").iterdir() if (p / "field.json").exists())


def load_samples(session: Session, org_name: str, data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Add every sample label and field (with its weed map and one prescription) not yet there.

    Idempotent by name; the caller commits. Returns counts of what was added.
    """
    org = repo.get_or_create_org(session, org_name)
    added = {"products": 0, "fields": 0, "prescriptions": 0}
    products = {}
    for path in label_files(data_dir):
        label = LabelDoc.model_validate_json(path.read_text())
        row = repo.find_product_by_name(session, org.id, label.name)
        if row is None:
            row = create_product(session, org.id, label)
            added["products"] += 1
        products[row.id] = label
    for folder in field_dirs(data_dir):
        doc = FieldCreate.model_validate_json((folder / "field.json").read_text())
        if repo.find_field_by_name(session, org.id, doc.name) is not None:
            continue
        field = create_field(session, org.id, doc)
        added["fields"] += 1
        wm_path = folder / "weed_map.json"
        if not wm_path.exists():
            continue
        wm = WeedMapCreate.model_validate_json(wm_path.read_text())
        grid, densities = weed_map_arrays(wm)
        store_weed_map(session, field, grid.crs, grid.x0_m, grid.y0_m, grid.cell_size_m, densities,
                       source=wm.source, captured_at=wm.captured_at)
        fitting = [pid for pid, lab in products.items()
                   if any(c.crop == doc.crop for c in lab.crops) and lab.country in (None, doc.country)]
        for pid in fitting[:1]:
            try:
                create_prescription(session, org.id, PrescriptionCreate(
                    field_id=field.id, product_ids=[pid], strategy=StrategyIn(name="threshold")))
                added["prescriptions"] += 1
            except DosingError as exc:
                log.info("sample prescription for %s skipped: %s", doc.name, exc)
    return added
