"""Retried posts with an Idempotency-Key store once; a reused key with another body is 409."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.tables import Field, WeedMap


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_retry_returns_first_result(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                    session: Session) -> None:
    h = {**agro, "Idempotency-Key": "tractor-42-upload-1"}
    first = client.post("/v1/fields", json=docs["field"], headers=h)
    again = client.post("/v1/fields", json=docs["field"], headers=h)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert _count(session, Field) == 1

    fid = first.json()["id"]
    hm = {**agro, "Idempotency-Key": "tractor-42-map-1"}
    m1 = client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=hm)
    m2 = client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=hm)
    assert m1.json() == m2.json() and m1.json()["version"] == 1
    assert _count(session, WeedMap) == 1


def test_same_key_other_body_is_409(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                    session: Session) -> None:
    h = {**agro, "Idempotency-Key": "k1"}
    assert client.post("/v1/fields", json=docs["field"], headers=h).status_code == 201
    docs["field"]["name"] = "Another field"
    r = client.post("/v1/fields", json=docs["field"], headers=h)
    assert r.status_code == 409
    assert "different request" in r.json()["error"]["message"]
    assert _count(session, Field) == 1


def test_keys_are_per_organisation(client: TestClient, make_key: Any, docs: dict[str, Any],
                                   session: Session) -> None:
    a = {**make_key("agronomist", "acme"), "Idempotency-Key": "same"}
    b = {**make_key("agronomist", "globex"), "Idempotency-Key": "same"}
    ra = client.post("/v1/fields", json=docs["field"], headers=a)
    rb = client.post("/v1/fields", json=docs["field"], headers=b)
    assert ra.status_code == rb.status_code == 201 and ra.json()["id"] != rb.json()["id"]
    assert _count(session, Field) == 2


def test_failed_request_does_not_burn_the_key(client: TestClient, agro: dict[str, str],
                                              docs: dict[str, Any]) -> None:
    h = {**agro, "Idempotency-Key": "retry-after-fix"}
    bad = dict(docs["field"], boundary={"type": "Point", "coordinates": [2.0, 48.0]})
    assert client.post("/v1/fields", json=bad, headers=h).status_code == 422
    assert client.post("/v1/fields", json=docs["field"], headers=h).status_code == 201
