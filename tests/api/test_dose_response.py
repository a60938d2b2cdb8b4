"""POST /v1/dose-response/fit reproduces drc on S.alba and refuses unfittable data."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

DATA = Path(__file__).resolve().parent.parent / "dosing" / "data" / "S.alba.csv"


def test_fit_s_alba_over_http(client: TestClient, agro: dict[str, str]) -> None:
    with DATA.open() as fh:
        rows = list(csv.DictReader(fh))
    r = client.post("/v1/dose-response/fit", headers=agro, json={
        "dose": [float(x["Dose"]) for x in rows], "response": [float(x["DryMatter"]) for x in rows],
        "curve": [x["Herbicide"] for x in rows], "model": "LL.4", "shared": ["c", "d"]})
    assert r.status_code == 200, r.text
    body = r.json()
    est = {p["name"]: p for p in body["parameters"]}
    assert est["e:Bentazone"]["estimate"] == pytest.approx(28.632355, rel=1e-3)
    assert est["e:Glyphosate"]["estimate"] == pytest.approx(66.890545, rel=1e-3)
    assert est["d:(Intercept)"]["estimate"] == pytest.approx(3.854861, rel=1e-3)
    assert body["df"] == 62
    assert body["residual_se"] == pytest.approx(0.3705151, rel=1e-3)
    ed50 = [e for e in body["ed"] if e["percent"] == 50 and e["curve"] == "Bentazone"][0]
    assert ed50["lower"] < ed50["estimate"] < ed50["upper"]


def test_unfittable_data_is_refused(client: TestClient, agro: dict[str, str]) -> None:
    r = client.post("/v1/dose-response/fit", headers=agro, json={"dose": [0, 1], "response": [1, 1]})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "fit_failed"
    r = client.post("/v1/dose-response/fit", headers=agro,
                    json={"dose": [0, 1, 2, 4, 8], "response": [2, 2, 2, 2, 2]})
    assert r.status_code == 422
    r = client.post("/v1/dose-response/fit", headers=agro, json={"dose": [0, 1, 2], "response": [1, 2]})
    assert r.status_code == 422 and "dose has 3 values" in r.json()["error"]["message"]


def test_farmer_cannot_fit(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/v1/dose-response/fit", headers=make_key("farmer"), json={"dose": [1], "response": [1]})
    assert r.status_code == 403
