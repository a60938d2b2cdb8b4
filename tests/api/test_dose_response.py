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


def test_too_many_curves_are_refused_before_fitting(client: TestClient, agro: dict[str, str]) -> None:
    """400 curves x 5 points once took 129 s and stalled /health: the limit answers 422 at once."""
    import time

    n_curves = 400
    dose = [0.0, 1.0, 2.0, 4.0, 8.0] * n_curves
    response = [4.0, 3.5, 2.5, 1.2, 0.6] * n_curves
    curve = [f"c{i}" for i in range(n_curves) for _ in range(5)]
    start = time.perf_counter()
    r = client.post("/v1/dose-response/fit", headers=agro,
                    json={"dose": dose, "response": response, "curve": curve})
    assert time.perf_counter() - start < 5.0
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "fit_failed"
    assert "400 curves; a fit takes at most 50" in err["message"] and "DOSEWISE_FIT_MAX_CURVES" in err["message"]


def test_negative_responses_are_fitted_over_http(client: TestClient, agro: dict[str, str]) -> None:
    dose = [0, 0, 5, 5, 10, 10, 20, 20, 40, 40, 80, 80]
    response = [1.6, 1.58, 1.4, 1.42, 0.9, 0.88, 0.1, 0.12, -0.5, -0.48, -0.75, -0.74]
    r = client.post("/v1/dose-response/fit", headers=agro, json={"dose": dose, "response": response})
    assert r.status_code == 200, r.text
    est = {p["name"]: p["estimate"] for p in r.json()["parameters"]}
    assert est["c:(Intercept)"] < 0
    r = client.post("/v1/dose-response/fit", headers=agro,
                    json={"dose": dose, "response": response, "model": "LL.3"})
    assert r.status_code == 422 and "LL.3 fixes the lower limit at 0" in r.json()["error"]["message"]
