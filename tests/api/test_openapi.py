"""The OpenAPI schema builds, documents every route and carries examples for the main documents."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.domain.field import FieldCreate
from app.domain.label import LabelDoc
from app.domain.prescription import PrescriptionCreate
from app.domain.weed_map import WeedMapCreate


def test_openapi_documents_routes_and_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/v1/fields", "/v1/fields/{field_id}/weed-maps", "/v1/products", "/v1/prescriptions",
                 "/v1/prescriptions/{prescription_id}/export/{fmt}", "/v1/dose-response/fit",
                 "/v1/prescriptions/{prescription_id}/advice", "/health", "/version"):
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    for model in (FieldCreate, WeedMapCreate, LabelDoc, PrescriptionCreate):
        example = schemas[model.__name__]["examples"][0]
        model.model_validate(example)  # every example is itself valid input
