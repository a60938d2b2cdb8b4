"""The end-to-end slice over HTTP: field, weed map, label in; prescription out."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def _setup(client: TestClient, headers: dict[str, str], docs: dict[str, Any]) -> dict[str, int]:
    f = client.post("/v1/fields", json=docs["field"], headers=headers)
    assert f.status_code == 201, f.text
    fid = f.json()["id"]
    m = client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=headers)
    assert m.status_code == 201, m.text
    p = client.post("/v1/products", json=docs["label"], headers=headers)
    assert p.status_code == 201, p.text
    return {"field": fid, "map": m.json()["id"], "product": p.json()["id"]}


def test_health_and_version(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "database": "ok"}
    v = client.get("/version").json()
    assert v["name"] == "dosewise" and v["version"]


def test_field_area_and_working_crs(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    r = client.post("/v1/fields", json=docs["field"], headers=agro)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["working_crs"] == "EPSG:32631"
    assert body["area_ha"] == pytest.approx(0.6, rel=1e-3)  # 100 m x 60 m
    assert client.get(f"/v1/fields/{body['id']}", headers=agro).json()["name"] == "Test field"
    assert [f["id"] for f in client.get("/v1/fields", headers=agro).json()] == [body["id"]]


def test_threshold_prescription_end_to_end(client: TestClient, agro: dict[str, str],
                                           docs: dict[str, Any]) -> None:
    ids = _setup(client, agro, docs)
    r = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": ids["field"], "product_ids": [ids["product"]],
        "strategy": {"name": "threshold", "threshold_plants_m2": 1, "rates": [1.5]},
        "sprayer": {"patch_buffer_m": 0, "section_width_m": 1, "along_track_m": 1, "turndown_ratio": 1},
    })
    assert r.status_code == 201, r.text
    rx = r.json()
    assert rx["weed_map_version"] == 1
    s = rx["summary"]
    assert s["field_area_ha"] == pytest.approx(0.6)
    # The ALOMY patch (10 x 10 m) is sprayed; the GALAP patch lies in the 5 m water
    # buffer (stream 3 m west of the field) and is not.
    assert s["treated_area_ha"] == pytest.approx(0.01)
    prod = rx["products"][0]
    assert prod["unit"] == "L/ha" and prod["total_unit"] == "L"
    assert prod["total"] == pytest.approx(1.5 * 0.01, rel=1e-4)
    assert prod["saving_pct"] > 90
    got = client.get(f"/v1/prescriptions/{rx['id']}", headers=agro).json()
    assert got["products"] == rx["products"]


def test_geojson_export_is_rfc7946(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    ids = _setup(client, agro, docs)
    rx = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": ids["field"], "product_ids": [ids["product"]],
        "strategy": {"name": "threshold", "rates": [1.5]},
        "sprayer": {"patch_buffer_m": 0, "section_width_m": 1, "along_track_m": 1}}).json()
    r = client.get(f"/v1/prescriptions/{rx['id']}/export/geojson", headers=agro)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    rates = sorted({f["properties"]["rate"] for f in fc["features"]})
    assert max(rates) == pytest.approx(1.5)
    for feat in fc["features"]:
        lon, lat = feat["geometry"]["coordinates"][0][0][:2] if feat["geometry"]["type"] == "Polygon" \
            else feat["geometry"]["coordinates"][0][0][0][:2]
        assert 2 < lon < 3 and 48 < lat < 49  # lon, lat order, in France


def test_weed_map_versions_are_kept(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    ids = _setup(client, agro, docs)
    second = client.post(f"/v1/fields/{ids['field']}/weed-maps", json=docs["weed_map"], headers=agro)
    assert second.json()["version"] == 2
    first = client.get(f"/v1/fields/{ids['field']}/weed-maps/{ids['map']}", headers=agro).json()
    assert first["version"] == 1 and first["n_rows"] == 60 and first["n_cols"] == 100
    assert first["species"] == ["ALOMY", "GALAP"]


def test_every_export_format_and_preflight(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    ids = _setup(client, agro, docs)
    rx = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": ids["field"], "product_ids": [ids["product"]], "strategy": {"name": "threshold"}}).json()
    expected = {"isoxml": "application/zip", "shapefile": "application/zip", "geotiff": "image/tiff",
                "png": "image/png"}
    for fmt, media in expected.items():
        r = client.get(f"/v1/prescriptions/{rx['id']}/export/{fmt}", headers=agro)
        assert r.status_code == 200, (fmt, r.text)
        assert r.headers["content-type"].startswith(media) and len(r.content) > 100
    jd = client.get(f"/v1/prescriptions/{rx['id']}/export/shapefile?terminal=john-deere", headers=agro)
    assert jd.status_code == 200
    check = client.get(f"/v1/prescriptions/{rx['id']}/export/isoxml/check?terminal=raven", headers=agro)
    assert check.status_code == 200 and "zones" in check.json()
    bad = client.get(f"/v1/prescriptions/{rx['id']}/export/kml", headers=agro)
    assert bad.status_code == 422 and "isoxml" in bad.json()["error"]["message"]
    bad = client.get(f"/v1/prescriptions/{rx['id']}/export/shapefile?terminal=tesla", headers=agro)
    assert bad.status_code == 422 and "john-deere" in bad.json()["error"]["message"]


@pytest.mark.parametrize("strategy", ["broadcast", "threshold", "target_efficacy", "economic"])
def test_every_strategy_over_http_stays_within_label(client: TestClient, agro: dict[str, str],
                                                      docs: dict[str, Any], strategy: str) -> None:
    ids = _setup(client, agro, docs)
    r = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": ids["field"], "product_ids": [ids["product"]], "strategy": {"name": strategy}})
    assert r.status_code == 201, r.text
    rx = r.json()
    prod = rx["products"][0]
    # Total product never exceeds the label maximum on the whole sprayable area.
    assert prod["total"] <= prod["max_rate"] * rx["summary"]["sprayable_area_ha"] + 1e-9
    assert {c["outcome"] for c in rx["compliance"]} <= {"pass", "info"}
    if strategy != "broadcast":
        assert prod["total"] < prod["broadcast_total"]
        assert rx["summary"]["control_pct"][0] is not None  # ALOMY has a curve on the label


def test_crop_not_on_label_is_refused(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                      session: Any) -> None:
    docs["field"]["crop"] = "sugar_beet"
    ids = _setup(client, agro, docs)
    r = client.post("/v1/prescriptions", headers=agro, json={"field_id": ids["field"],
                                                            "product_ids": [ids["product"]]})
    assert r.status_code == 422, r.text
    assert "sugar_beet" in r.json()["error"]["message"]


def test_tank_mix_over_http(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    ids = _setup(client, agro, docs)
    second = dict(docs["label"], name="Mixamid 200 EC", min_rate=0.2, max_rate=1.0,
                  efficacy=[{"species": "ALOMY", "model": "LL.4", "b": 2.0, "e": 0.3}])
    pid2 = client.post("/v1/products", json=second, headers=agro).json()["id"]
    r = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": ids["field"], "product_ids": [ids["product"], pid2], "strategy": {"name": "target_efficacy"}})
    assert r.status_code == 201, r.text
    prods = r.json()["products"]
    assert [p["name"] for p in prods] == ["Testazine 500 SC", "Mixamid 200 EC"]
    for p in prods:
        assert 0 < p["total"] <= p["max_rate"] * r.json()["summary"]["sprayable_area_ha"]


def test_as_applied_counts_against_season_maximum(client: TestClient, agro: dict[str, str],
                                                  docs: dict[str, Any]) -> None:
    """Label: max 2.0 L/ha per application, 3.0 L/ha per season; 2.0 already applied leaves 1.0."""
    from datetime import UTC, datetime

    ids = _setup(client, agro, docs)
    now = datetime.now(UTC).isoformat()
    r = client.post(f"/v1/fields/{ids['field']}/applications", headers=agro, json={
        "product_id": ids["product"], "rate": {"value": 2000, "unit": "mL/ha"}, "applied_at": now})
    assert r.status_code == 201, r.text
    assert r.json()["rate_label_unit"] == pytest.approx(2.0) and r.json()["label_unit"] == "L/ha"
    rx = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": ids["field"], "product_ids": [ids["product"]], "strategy": {"name": "broadcast"}}).json()
    prod = rx["products"][0]
    assert prod["total"] == pytest.approx(1.0 * rx["summary"]["sprayable_area_ha"], rel=1e-4)
    assert any(c["check"] == "season_max" for c in rx["compliance"])
    # a rate in a unit the label does not use is refused, and nothing is stored
    bad = client.post(f"/v1/fields/{ids['field']}/applications", headers=agro, json={
        "product_id": ids["product"], "rate": {"value": 1, "unit": "kg/ha"}, "applied_at": now})
    assert bad.status_code == 422 and "kg/ha" in bad.json()["error"]["message"]
    assert len(client.get(f"/v1/fields/{ids['field']}/applications", headers=agro).json()) == 1


def test_no_spray_zone_is_returned_in_wgs84(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    import shapely
    from shapely.geometry import shape

    ids = _setup(client, agro, docs)
    rx = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": ids["field"], "product_ids": [ids["product"]], "wind_from_deg": 270}).json()
    zone = shape(rx["no_spray"])
    assert rx["wind_from_deg"] == 270
    field = shape(docs["field"]["boundary"])
    # the 5 m stream buffer reaches 2 m into the west edge of the field, all along it
    assert zone.within(field.buffer(1e-7))
    west_strip = shapely.box(field.bounds[0], field.bounds[1], field.bounds[0] + 1e-5, field.bounds[3])
    assert zone.intersects(west_strip)


def test_efficacy_by_weed_growth_stage(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    """Young blackgrass dies at a lower dose than tillered blackgrass; the stage picks the curve."""
    docs["label"]["efficacy"] = [
        {"species": "ALOMY", "model": "LL.4", "b": 2.0, "e": 0.3, "growth_stage": "1-3 leaves"},
        {"species": "ALOMY", "model": "LL.4", "b": 2.0, "e": 0.6, "growth_stage": "tillering"},
        {"species": "GALAP", "model": "LL.4", "b": 2.0, "e": 0.4},
    ]
    ids = _setup(client, agro, docs)

    def total(strategy: dict[str, Any]) -> float:
        r = client.post("/v1/prescriptions", headers=agro, json={
            "field_id": ids["field"], "product_ids": [ids["product"]], "strategy": strategy})
        assert r.status_code == 201, r.text
        return r.json()["products"][0]["total"]

    young = total({"name": "target_efficacy", "weed_stages": {"ALOMY": "1-3 leaves"}})
    old = total({"name": "target_efficacy", "weed_stages": {"ALOMY": "tillering"}})
    unknown = total({"name": "target_efficacy"})
    assert young < old
    assert unknown == pytest.approx(old)  # no stage given: the harder stage's curve, on the safe side
    r = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": ids["field"], "product_ids": [ids["product"]],
        "strategy": {"name": "target_efficacy", "weed_stages": {"ALOMY": "flowering"}}})
    assert r.status_code == 422 and "tillering" in r.json()["error"]["message"]
    dup = dict(docs["label"], name="Dup", efficacy=[docs["label"]["efficacy"][0]] * 2)
    assert client.post("/v1/products", json=dup, headers=agro).status_code == 422


def test_listing_pages(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    ids = [client.post("/v1/fields", json=dict(docs["field"], name=f"F{i}"), headers=agro).json()["id"]
           for i in range(3)]
    assert [f["id"] for f in client.get("/v1/fields?limit=2", headers=agro).json()] == ids[:2]
    assert [f["id"] for f in client.get("/v1/fields?limit=2&offset=2", headers=agro).json()] == ids[2:]
    for bad in ("limit=0", "limit=501", "offset=-1"):
        r = client.get(f"/v1/fields?{bad}", headers=agro)
        assert r.status_code == 422 and bad.split("=")[0] in r.json()["error"]["message"]
