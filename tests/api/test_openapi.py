"""The OpenAPI schema an integrator lives in: summaries, the key scheme, offline docs, examples that chain."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.domain.field import FieldCreate
from app.domain.label import LabelDoc
from app.domain.prescription import PrescriptionCreate
from app.domain.weed_map import WeedMapCreate


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]


def test_openapi_documents_routes_and_examples(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    for path in ("/v1/fields", "/v1/fields/{field_id}/weed-maps", "/v1/products", "/v1/prescriptions",
                 "/v1/prescriptions/{prescription_id}/export/{fmt}", "/v1/dose-response/fit",
                 "/v1/prescriptions/{prescription_id}/advice", "/health", "/version"):
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    for model in (FieldCreate, WeedMapCreate, LabelDoc, PrescriptionCreate):
        example = schemas[model.__name__]["examples"][0]
        model.model_validate(example)  # every example is itself valid input


def test_every_operation_has_a_written_summary_and_description(spec: dict[str, Any]) -> None:
    ops = _operations(spec)
    assert len(ops) >= 30
    for method, path, op in ops:
        auto = " ".join(w.title() for w in op["operationId"].split("_"))  # FastAPI's own: "Post Field"
        assert op.get("summary") and op["summary"] != auto, (method, path)
        assert op.get("description", "").strip(), (method, path)
    summaries = [op["summary"] for _m, _p, op in ops]
    assert len(set(summaries)) == len(summaries)
    assert {op["operationId"] for _m, _p, op in ops} >= {"post_field", "list_fields", "post_prescription", "export"}


def test_bearer_key_scheme_on_every_keyed_operation(spec: dict[str, Any], client: TestClient) -> None:
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "dw_<prefix>_<secret>",
        "description": spec["components"]["securitySchemes"]["ApiKey"]["description"]}
    keyless = {("get", "/health"), ("get", "/version"), ("get", "/v1/map"),
               ("get", "/v1/prescriptions/{prescription_id}/map")}
    for method, path, op in _operations(spec):
        if (method, path) in keyless:
            assert "security" not in op, (method, path)
            continue
        assert op.get("security") == [{"ApiKey": []}], (method, path)
    r = client.get("/v1/fields")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_every_json_request_body_has_an_example(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for method, path, op in _operations(spec):
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            if media in ("image/tiff", "multipart/form-data"):
                continue  # binary uploads: files, not documents
            ref = content.get("schema", {}).get("$ref")
            example = content.get("example") or (schemas[ref.rsplit("/", 1)[1]].get("examples") if ref else None)
            assert example, (method, path, media)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_vendored_assets(client: TestClient, page: str) -> None:
    r = client.get(page)
    html = r.text
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]  # nothing from elsewhere, even a logo
    assert not re.findall(r"(?:src|href)=\"https?://", html), html
    assert "fonts.googleapis" not in html
    assets = re.findall(r"(?:src|href)=\"(/static/vendor/[^\"]+)\"", html)
    assert len(assets) >= 2
    for url in assets:
        r = client.get(url)
        assert r.status_code == 200 and len(r.content) > 500, url
    assert "'/openapi.json'" in html or '"/openapi.json"' in html or "spec-url=\"/openapi.json\"" in html


def _example(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(spec["components"]["schemas"][name]["examples"][0])


def test_examples_chain_into_a_prescription_advice_and_records(client: TestClient, agro: dict[str, str],
                                                               spec: dict[str, Any]) -> None:
    """Each request example, posted in order with the ids the previous answers give, is accepted."""

    def ok(r: Any, status: int = 201) -> dict[str, Any]:
        assert r.status_code == status, r.text
        return r.json()

    field = ok(client.post("/v1/fields", json=_example(spec, "FieldCreate"), headers=agro))
    assert field["farm"] == "Ferme du Ru" and field["customer"] == "EARL Dupont"
    wm = ok(client.post(f"/v1/fields/{field['id']}/weed-maps", json=_example(spec, "WeedMapCreate"), headers=agro))
    assert wm["stats"]["_coverage"]["field_share_covered"] > 0.1
    product = ok(client.post("/v1/products", json=_example(spec, "LabelDoc"), headers=agro))
    rx_body = _example(spec, "PrescriptionCreate")
    rx_body.update(field_id=field["id"], product_ids=[product["id"]])
    rx = ok(client.post("/v1/prescriptions", json=rx_body, headers=agro))
    assert rx["summary"]["treated_area_ha"] > 0
    assert not [c for c in rx["compliance"] if c["outcome"] in ("fail", "warning")], rx["compliance"]
    rx_body["strategy"] = spec["components"]["schemas"]["StrategyIn"]["examples"][1]
    rx_body["sprayer"] = spec["components"]["schemas"]["SprayerIn"]["examples"][0]
    ok(client.post("/v1/prescriptions", json=rx_body, headers=agro))

    app_body = _example(spec, "ApplicationCreate")
    app_body["product_id"] = product["id"]
    applied = ok(client.post(f"/v1/fields/{field['id']}/applications", json=app_body, headers=agro))
    assert applied["rate_label_unit"] == 1.0 and applied["label_unit"] == "L/ha"

    ok(client.put(f"/v1/fields/{field['id']}/forecast", json=_example(spec, "Forecast"), headers=agro), 200)
    advice = ok(client.post(f"/v1/prescriptions/{rx['id']}/advice", json=_example(spec, "AdviceRequest"),
                            headers=agro), 200)
    assert advice["lang"] == "fr"
    ok(client.post("/v1/dose-response/fit", json=_example(spec, "FitRequest"), headers=agro), 200)

    paths = spec["paths"]
    detections = paths["/v1/fields/{field_id}/weed-maps/detections"]["post"]["requestBody"]["content"]
    ok(client.post(f"/v1/fields/{field['id']}/weed-maps/detections", json=detections["application/geo+json"]["example"],
                   headers={**agro, "Content-Type": "application/geo+json"}))
    ok(client.post(f"/v1/fields/{field['id']}/weed-maps/detections", content=detections["text/csv"]["example"],
                   headers={**agro, "Content-Type": "text/csv"}))
    imported = paths["/v1/fields/{field_id}/applications/import"]["post"]["requestBody"]["content"]
    ok(client.post(f"/v1/fields/{field['id']}/applications/import", json=imported["application/json"]["example"],
                   headers=agro))
