"""Bad input: a 4xx naming the field at fault, and nothing stored."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.tables import Field, Prescription, Product, WeedMap


def _counts(session: Session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in (Field, WeedMap, Product, Prescription)}


def _error(r: Any) -> str:
    body = r.json()
    assert "error" in body, body
    return body["error"]["message"]


@pytest.mark.parametrize(("mutate", "expect"), [
    (lambda f: f["boundary"]["coordinates"][0].__setitem__(1, [2.1, 150.0]), "latitude 150"),
    (lambda f: f["boundary"]["coordinates"][0].__setitem__(
        slice(None), [[p[1], p[0]] for p in f["boundary"]["coordinates"][0]]), "latitude"),
    (lambda f: f["boundary"]["coordinates"][0].pop(), "not closed"),
    (lambda f: f["boundary"].__setitem__("coordinates", [[[2.0, 48.0], [2.01, 48.01], [2.01, 48.0],
                                                          [2.0, 48.01], [2.0, 48.0]]]), "Self-intersection"),
    (lambda f: f["boundary"].__setitem__("type", "LineString"), "not allowed"),
    (lambda f: f.__setitem__("name", ""), "name"),
    (lambda f: f["sensitive_features"][0].__setitem__("kind", "volcano"), "kind"),
])
def test_bad_field_geometry(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                            session: Session, mutate: Any, expect: str) -> None:
    before = _counts(session)
    mutate(docs["field"])
    r = client.post("/v1/fields", json=docs["field"], headers=agro)
    assert r.status_code == 422, r.text
    assert expect.lower() in _error(r).lower()
    assert _counts(session) == before


def _field(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> int:
    r = client.post("/v1/fields", json=docs["field"], headers=agro)
    assert r.status_code == 201
    return r.json()["id"]


@pytest.mark.parametrize(("mutate", "status", "expect"), [
    (lambda m: m["species"].__setitem__("ALOMY", []), 422, "empty"),
    (lambda m: m["species"]["ALOMY"][3].__setitem__(4, -1.0), 422, "negative"),
    (lambda m: m["species"]["ALOMY"][3].__setitem__(4, float("nan")), 422, "finite"),
    (lambda m: m["species"]["ALOMY"][3].append(1.0), 422, "different lengths"),
    (lambda m: m.__setitem__("crs", "EPSG:4326"), 422, "geographic"),
    (lambda m: m.__setitem__("crs", "EPSG:99999"), 422, "crs"),
    (lambda m: m.__setitem__("origin", {"x": 100000.0, "y": 100000.0}), 422, "does not overlap"),
    (lambda m: m["species"].__setitem__("NOTAWEED", m["species"]["ALOMY"]), 422, "NOTAWEED"),
    (lambda m: m["species"].__setitem__("ALOMY", {"encoding": "zlib-base64-float32le", "shape": [60, 100],
                                                   "data": base64.b64encode(zlib.compress(b"\0" * 40)).decode()}),
     422, "values"),
])
def test_bad_weed_map(client: TestClient, agro: dict[str, str], docs: dict[str, Any], session: Session,
                      mutate: Any, status: int, expect: str) -> None:
    fid = _field(client, agro, docs)
    before = _counts(session)
    mutate(docs["weed_map"])
    # json.dumps writes NaN as the bare token most JSON producers emit for it
    r = client.post(f"/v1/fields/{fid}/weed-maps", content=json.dumps(docs["weed_map"]),
                    headers={**agro, "Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert expect.lower() in _error(r).lower()
    assert _counts(session) == before


@pytest.mark.parametrize(("mutate", "expect"), [
    (lambda lab: lab.__setitem__("rate_unit", "kg/ha"), "formulation"),
    (lambda lab: lab.__setitem__("rate_unit", "furlongs/fortnight"), "rate_unit"),
    (lambda lab: lab.__setitem__("min_rate", 5.0), "min_rate"),
    (lambda lab: lab["price"].__setitem__("per", "kg"), "price.per"),
    (lambda lab: lab["buffers"][0].__setitem__("unit", "parsec"), "unit"),
    (lambda lab: lab.__setitem__("max_rate", -1), "max_rate"),
])
def test_bad_label(client: TestClient, agro: dict[str, str], docs: dict[str, Any], session: Session,
                   mutate: Any, expect: str) -> None:
    before = _counts(session)
    mutate(docs["label"])
    r = client.post("/v1/products", json=docs["label"], headers=agro)
    assert r.status_code == 422, r.text
    assert expect.lower() in _error(r).lower()
    assert _counts(session) == before


def test_unknown_product_and_rate_outside_label(client: TestClient, agro: dict[str, str],
                                                docs: dict[str, Any], session: Session) -> None:
    fid = _field(client, agro, docs)
    client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=agro)
    pid = client.post("/v1/products", json=docs["label"], headers=agro).json()["id"]
    before = _counts(session)
    r = client.post("/v1/prescriptions", headers=agro, json={"field_id": fid, "product_ids": [pid + 99]})
    assert r.status_code == 404 and f"product {pid + 99}" in _error(r)
    r = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": fid, "product_ids": [pid], "strategy": {"name": "threshold", "rates": [2.5]}})
    assert r.status_code == 422 and "outside the label range" in _error(r)
    r = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": fid, "product_ids": [pid], "strategy": {"name": "nonsense"}})
    assert r.status_code == 422 and "strategy.name" in _error(r)
    assert _counts(session) == before


def test_body_over_limit_gets_413(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                  session: Session) -> None:
    fid = _field(client, agro, docs)
    before = _counts(session)
    big = docs["weed_map"]
    big["species"]["ALOMY"] = [[0.0] * 1000 for _ in range(1000)]  # about 4 MB of JSON, limit is 2 MB
    r = client.post(f"/v1/fields/{fid}/weed-maps", json=big, headers=agro)
    assert r.status_code == 413
    assert "limit" in _error(r)
    assert _counts(session) == before


def test_failed_request_rolls_back_everything(client: TestClient, agro: dict[str, str],
                                              docs: dict[str, Any], session: Session,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after rows were flushed leaves nothing behind."""
    import app.api.routes.fields as fields_routes

    fid = _field(client, agro, docs)
    before = _counts(session)

    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("disk on fire")

    real_store = fields_routes.store_weed_map

    def store_then_fail(*args: Any, **kwargs: Any) -> Any:
        real_store(*args, **kwargs)  # the row is flushed ...
        boom()  # ... then the request dies before commit

    monkeypatch.setattr(fields_routes, "store_weed_map", store_then_fail)
    r = client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=agro)
    assert r.status_code == 500
    assert _counts(session) == before
