"""Every role against every resource: allowed or refused as intended, and no organisation sees another's."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import X0, Y0, lonlat

READ, FIELD_DATA, AGRONOMY = "read", "field_data", "agronomy"
ALLOWED = {"agronomist": {READ, FIELD_DATA, AGRONOMY}, "telematics": {FIELD_DATA}, "farmer": {READ}}


@pytest.fixture
def world(client: TestClient, make_key: Callable[..., dict[str, str]], docs: dict[str, Any]) -> dict[str, Any]:
    h = make_key("agronomist", "acme")
    f = client.post("/v1/fields", json=docs["field"], headers=h).json()["id"]
    m = client.post(f"/v1/fields/{f}/weed-maps", json=docs["weed_map"], headers=h).json()["id"]
    p = client.post("/v1/products", json=docs["label"], headers=h).json()["id"]
    rx = client.post("/v1/prescriptions", json={"field_id": f, "product_ids": [p]}, headers=h).json()["id"]
    return {"f": f, "m": m, "p": p, "rx": rx, "docs": docs}


def _calls(w: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(permission, method, path, request kwargs); paths naming a resource come first."""
    f, m, p, rx, docs = w["f"], w["m"], w["p"], w["rx"], w["docs"]
    now = datetime.now(UTC).isoformat()
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"species": "ALOMY"},
          "geometry": {"type": "Point", "coordinates": lonlat(X0 + 20.5, Y0 + 20.5)}}]}
    return [
        (READ, "GET", f"/v1/fields/{f}", {}),
        (READ, "GET", f"/v1/fields/{f}/weed-maps", {}),
        (READ, "GET", f"/v1/fields/{f}/weed-maps/{m}", {}),
        (READ, "GET", f"/v1/fields/{f}/applications", {}),
        (READ, "GET", f"/v1/products/{p}", {}),
        (READ, "GET", f"/v1/prescriptions/{rx}", {}),
        (READ, "GET", f"/v1/prescriptions/{rx}/export/geojson", {}),
        (READ, "GET", f"/v1/prescriptions/{rx}/export/isoxml/check", {}),
        (READ, "GET", f"/v1/prescriptions/{rx}/advice", {}),
        (READ, "GET", f"/v1/prescriptions/{rx}/layers", {}),
        (READ, "GET", f"/v1/prescriptions/{rx}/weeds/ALOMY.png", {}),
        (FIELD_DATA, "POST", f"/v1/fields/{f}/weed-maps", {"json": docs["weed_map"]}),
        (FIELD_DATA, "POST", f"/v1/fields/{f}/weed-maps/detections",
         {"content": json.dumps(fc), "headers": {"Content-Type": "application/geo+json"}}),
        (FIELD_DATA, "POST", f"/v1/fields/{f}/applications",
         {"json": {"product_id": p, "rate": {"value": 0.5, "unit": "L/ha"}, "applied_at": now}}),
        (AGRONOMY, "POST", "/v1/prescriptions", {"json": {"field_id": f, "product_ids": [p]}}),
        (AGRONOMY, "POST", f"/v1/prescriptions/{rx}/advice", {"json": {"lang": "fr"}}),
        # collections: no resource id
        (READ, "GET", "/v1/fields", {}),
        (READ, "GET", "/v1/products", {}),
        (READ, "GET", "/v1/prescriptions", {}),
        (READ, "GET", "/v1/map/config", {}),
        (FIELD_DATA, "POST", "/v1/fields", {"json": docs["field"]}),
        (AGRONOMY, "POST", "/v1/products", {"json": docs["label"]}),
        (AGRONOMY, "POST", "/v1/dose-response/fit",
         {"json": {"dose": [0, 0, 1, 1, 3, 3, 9, 9], "response": [10, 9.6, 9, 8.8, 5, 5.4, 1.2, 1]}}),
    ]


@pytest.mark.parametrize("role", ["agronomist", "telematics", "farmer"])
def test_role_matrix(client: TestClient, make_key: Callable[..., dict[str, str]], world: dict[str, Any],
                     role: str) -> None:
    h = make_key(role, "acme")
    for permission, method, path, kw in _calls(world):
        headers = {**h, **kw.pop("headers", {})}
        r = client.request(method, path, headers=headers, **kw)
        if permission in ALLOWED[role]:
            assert r.status_code in (200, 201), (role, method, path, r.status_code, r.text[:300])
        else:
            assert r.status_code == 403, (role, method, path, r.status_code, r.text[:300])
            assert role in r.json()["error"]["message"]


def test_other_organisation_sees_nothing(client: TestClient, make_key: Callable[..., dict[str, str]],
                                         world: dict[str, Any]) -> None:
    h = make_key("agronomist", "globex")
    calls = _calls(world)
    for _perm, method, path, kw in calls[:16]:  # the ones naming acme's resources
        headers = {**h, **kw.pop("headers", {})}
        r = client.request(method, path, headers=headers, **kw)
        assert r.status_code == 404, (method, path, r.status_code, r.text[:300])
    for path in ("/v1/fields", "/v1/products", "/v1/prescriptions"):
        assert client.get(path, headers=h).json() == []
