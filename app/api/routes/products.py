"""Product labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.api.deps import Agronomist, PageDep, Reader, SessionDep
from app.api.idempotency import IdempotencyKey, fingerprint, respond_once
from app.domain.label import LabelDoc
from app.models import repo
from app.models.tables import Product
from app.services.products import create_product, owned_product

router = APIRouter(prefix="/v1/products", tags=["products"])


class ProductPublic(BaseModel):
    id: int
    name: str
    label: dict[str, Any]
    created_at: datetime


def product_public(row: Product) -> ProductPublic:
    return ProductPublic(id=row.id, name=row.name, label=row.label, created_at=row.created_at)


@router.post("", summary="Register a product label", status_code=status.HTTP_201_CREATED, response_model=ProductPublic)
def post_product(body: LabelDoc, session: SessionDep, caller: Agronomist,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Register a product label (rates in the label's own unit; buffers with their units)."""
    return respond_once(session, caller, idempotency_key, "POST /v1/products",
                        fingerprint("POST /v1/products", body),
                        lambda: product_public(create_product(session, caller.org_id, body)))


@router.get("", summary="List products", response_model=list[ProductPublic])
def list_products(session: SessionDep, caller: Reader, page: PageDep) -> list[ProductPublic]:
    """The organisation's product labels; paged with `limit`/`offset`."""
    rows = repo.list_owned(session, Product, caller.org_id, limit=page.limit, offset=page.offset)
    return [product_public(r) for r in rows]


@router.get("/{product_id}", summary="Get a product", response_model=ProductPublic)
def get_product(product_id: int, session: SessionDep, caller: Reader) -> ProductPublic:
    """One product label, in the label's own units."""
    return product_public(owned_product(session, caller.org_id, product_id))
