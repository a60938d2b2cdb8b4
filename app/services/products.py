"""Product labels."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.errors import NotFound
from app.domain.label import LabelDoc
from app.models import repo
from app.models.tables import Product


def create_product(session: Session, org_id: int, label: LabelDoc) -> Product:
    label.to_core()  # refuses labels the dosing core cannot use, before anything is stored
    return repo.add(session, Product(org_id=org_id, name=label.name, label=label.model_dump(mode="json")))


def owned_product(session: Session, org_id: int, product_id: int) -> Product:
    row = repo.get_owned(session, Product, org_id, product_id)
    if row is None:
        raise NotFound(f"product {product_id} not found")
    return row
