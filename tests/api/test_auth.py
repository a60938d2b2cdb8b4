"""Keys, roles and organisations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import repo
from app.models.tables import ApiKey


def test_missing_and_wrong_keys_get_401(client: TestClient) -> None:
    r = client.get("/v1/fields")
    assert r.status_code == 401 and "Bearer" in r.json()["error"]["message"]
    r = client.get("/v1/fields", headers={"Authorization": "Bearer dw_nope_nope"})
    assert r.status_code == 401


def test_keys_are_stored_hashed(session: Session, make_key: Callable[..., dict[str, str]]) -> None:
    key = make_key()["Authorization"].split()[1]
    rows = session.scalars(select(ApiKey)).all()
    assert rows and all(key not in (r.key_hash, r.prefix) for r in rows)
    assert repo.find_api_key(session, key) is not None


def test_revoked_and_expired_keys_are_refused(client: TestClient, session: Session,
                                              make_key: Callable[..., dict[str, str]]) -> None:
    h = make_key()
    key = h["Authorization"].split()[1]
    assert client.get("/v1/fields", headers=h).status_code == 200
    repo.revoke_api_key(session, key.split("_")[1])
    session.commit()
    assert client.get("/v1/fields", headers=h).status_code == 401
    h2 = make_key()
    row = repo.find_api_key(session, h2["Authorization"].split()[1])
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    assert client.get("/v1/fields", headers=h2).status_code == 401


def test_other_organisation_gets_404(client: TestClient, make_key: Callable[..., dict[str, str]],
                                     docs: dict[str, Any]) -> None:
    acme, other = make_key("agronomist", "acme"), make_key("agronomist", "globex")
    fid = client.post("/v1/fields", json=docs["field"], headers=acme).json()["id"]
    mid = client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=acme).json()["id"]
    pid = client.post("/v1/products", json=docs["label"], headers=acme).json()["id"]
    rx = client.post("/v1/prescriptions", headers=acme, json={"field_id": fid, "product_ids": [pid]}).json()["id"]
    for path in (f"/v1/fields/{fid}", f"/v1/fields/{fid}/weed-maps/{mid}", f"/v1/products/{pid}",
                 f"/v1/prescriptions/{rx}"):
        assert client.get(path, headers=acme).status_code == 200, path
        assert client.get(path, headers=other).status_code == 404, path
    assert client.get("/v1/fields", headers=other).json() == []
    assert client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=other).status_code == 404
    r = client.post("/v1/prescriptions", headers=other, json={"field_id": fid, "product_ids": [pid]})
    assert r.status_code == 404


def test_roles(client: TestClient, make_key: Callable[..., dict[str, str]], docs: dict[str, Any]) -> None:
    agro, tele, farmer = (make_key(role, "acme") for role in ("agronomist", "telematics", "farmer"))
    # telematics posts field data but reads nothing
    r = client.post("/v1/fields", json=docs["field"], headers=tele)
    assert r.status_code == 201
    fid = r.json()["id"]
    assert client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=tele).status_code == 201
    assert client.get(f"/v1/fields/{fid}", headers=tele).status_code == 403
    assert client.post("/v1/products", json=docs["label"], headers=tele).status_code == 403
    # farmer reads but writes nothing
    assert client.get(f"/v1/fields/{fid}", headers=farmer).status_code == 200
    assert client.post("/v1/fields", json=docs["field"], headers=farmer).status_code == 403
    assert client.post("/v1/products", json=docs["label"], headers=farmer).status_code == 403
    pid = client.post("/v1/products", json=docs["label"], headers=agro).json()["id"]
    body = {"field_id": fid, "product_ids": [pid]}
    assert client.post("/v1/prescriptions", json=body, headers=farmer).status_code == 403
    assert client.post("/v1/prescriptions", json=body, headers=agro).status_code == 201


def test_farmer_key_limited_to_given_fields(client: TestClient, session: Session,
                                            make_key: Callable[..., dict[str, str]], docs: dict[str, Any]) -> None:
    agro = make_key("agronomist", "acme")
    pid = client.post("/v1/products", json=docs["label"], headers=agro).json()["id"]
    given, other = [], []
    for target, name in ((given, "Given"), (other, "Not given")):
        fid = client.post("/v1/fields", json=dict(docs["field"], name=name), headers=agro).json()["id"]
        client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=agro)
        rx = client.post("/v1/prescriptions", json={"field_id": fid, "product_ids": [pid]}, headers=agro).json()["id"]
        target.extend([fid, rx])
    org = repo.get_or_create_org(session, "acme")
    _row, key = repo.create_api_key(session, org, "farmer", field_ids=[given[0]])
    session.commit()
    h = {"Authorization": f"Bearer {key}"}
    assert [f["id"] for f in client.get("/v1/fields", headers=h).json()] == [given[0]]
    assert [p["id"] for p in client.get("/v1/prescriptions", headers=h).json()] == [given[1]]
    for fid, rx, ok in ((*given, 200), (*other, 404)):
        for path in (f"/v1/fields/{fid}", f"/v1/fields/{fid}/weed-maps", f"/v1/prescriptions/{rx}",
                     f"/v1/prescriptions/{rx}/advice", f"/v1/prescriptions/{rx}/export/geojson",
                     f"/v1/prescriptions/{rx}/layers"):
            assert client.get(path, headers=h).status_code == ok, path
    assert client.get(f"/v1/products/{pid}", headers=h).status_code == 200  # labels are not field data
    with pytest.raises(ValueError, match="only farmer keys"):
        repo.create_api_key(session, org, "agronomist", field_ids=[given[0]])
    with pytest.raises(ValueError, match="not found"):
        repo.create_api_key(session, org, "farmer", field_ids=[given[0] + 999])
