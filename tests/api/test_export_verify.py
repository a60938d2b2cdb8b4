"""Over HTTP: every export is verified before it is served; ground truth (CRS scale, seasons, water kinds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from tests.api.conftest import CRS, X0, Y0, lonlat
from tests.api.test_slice import _setup


def _rx(client: TestClient, agro: dict[str, str], ids: dict[str, int], **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": ids["field"], "product_ids": [ids["product"]], "strategy": {"name": "threshold"}, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_export_headers_and_preflight_carry_the_verifier_report(client: TestClient, agro: dict[str, str],
                                                                 docs: dict[str, Any]) -> None:
    ids = _setup(client, agro, docs)
    rx = _rx(client, agro, ids)
    for fmt in ("isoxml", "shapefile", "geojson", "geotiff"):
        r = client.get(f"/v1/prescriptions/{rx['id']}/export/{fmt}", headers=agro)
        assert r.status_code == 200, r.text
        verified = r.headers["x-dosewise-verified"]
        assert verified.startswith("ok; 0 m2 sprayed no-spray zones; 0 m2 sprayed outside the field"), verified
        delta = r.headers["x-dosewise-product-delta"]
        assert delta.startswith("Testazine 500 SC ") and "%" in delta and delta.isascii()
        check = client.get(f"/v1/prescriptions/{rx['id']}/export/{fmt}/check", headers=agro).json()
        assert check["verify"]["ok"] is True and check["tolerance_pct"] == 5.0
        (added,) = check["product_added"]
        assert added["unit"] == "L" and added["prescribed"] == pytest.approx(rx["products"][0]["total"], rel=1e-3)
        # The stream 3 m west of the field under a 5 m water buffer: listed with its distance.
        (feat,) = check["verify"]["features"]
        assert feat["kind"] == "water" and feat["required_m"] == 5.0 and feat["ok"] is True
    strict = client.get(f"/v1/prescriptions/{rx['id']}/export/isoxml/check?tolerance_pct=0", headers=agro).json()
    if strict["product_added"][0]["delta_pct"] > 0:
        assert strict["ok"] is False and "more product" in strict["trade_off"]
    bad = client.get(f"/v1/prescriptions/{rx['id']}/export/isoxml/check?tolerance_pct=-1", headers=agro)
    assert bad.status_code == 422


def test_web_mercator_weed_map_is_refused_naming_the_utm_zone(client: TestClient, agro: dict[str, str],
                                                             docs: dict[str, Any]) -> None:
    """EPSG:3857 'metres' at 48.5 N are 0.66 ground metres: areas 2.3x too big, buffers too small."""
    ids = _setup(client, agro, docs)
    to_merc = Transformer.from_crs(CRS, "EPSG:3857", always_xy=True)
    x, y = to_merc.transform(X0, Y0 + 60)
    wm = dict(docs["weed_map"], crs="EPSG:3857", origin={"x": x, "y": y})
    r = client.post(f"/v1/fields/{ids['field']}/weed-maps", json=wm, headers=agro)
    assert r.status_code == 422, r.text
    msg = r.json()["error"]["message"]
    assert "EPSG:3857" in msg and "EPSG:32631" in msg and "scale" in msg


def test_winter_wheat_season_spans_1_january(client: TestClient, agro: dict[str, str],
                                             docs: dict[str, Any]) -> None:
    """Autumn and spring sprays of one crop count together; last season's crop does not count."""
    ids = _setup(client, agro, docs)
    now = datetime.now(UTC)
    autumn = now - timedelta(days=150)  # always in the previous ~5 months: across 1 January for part of the year
    old_crop = now - timedelta(days=400)
    for when, value in ((old_crop, 1500), (autumn, 1000)):
        r = client.post(f"/v1/fields/{ids['field']}/applications", headers=agro, json={
            "product_id": ids["product"], "rate": {"value": value, "unit": "mL/ha"}, "applied_at": when.isoformat()})
        assert r.status_code == 201, r.text
    rx = _rx(client, agro, ids, strategy={"name": "broadcast"})
    window = next(c for c in rx["compliance"] if c["check"] == "season_window")
    assert [r["applied_at"][:10] for r in window["records"]] == [autumn.date().isoformat()]
    # label: 2.0 per application, 3.0 per season; 1.0 used -> 2.0 left, the label max still binds
    assert rx["products"][0]["total"] == pytest.approx(2.0 * rx["summary"]["sprayable_area_ha"], rel=1e-4)
    # With the crop season starting before the old record (a two-season crop), both count: 3.0 - 2.5 = 0.5 left.
    rx2 = _rx(client, agro, ids, strategy={"name": "broadcast"},
              season_start=(old_crop - timedelta(days=1)).isoformat())
    assert rx2["products"][0]["total"] == pytest.approx(0.5 * rx2["summary"]["sprayable_area_ha"], rel=1e-4)
    # A season starting after the autumn spray (a new crop sown since) counts neither.
    rx3 = _rx(client, agro, ids, strategy={"name": "broadcast"}, season_start=(now - timedelta(days=10)).isoformat())
    window3 = next(c for c in rx3["compliance"] if c["check"] == "season_window")
    assert window3["records"] == []


def test_a_lake_gets_the_water_buffer_and_the_report_lists_it(client: TestClient, agro: dict[str, str],
                                                             docs: dict[str, Any]) -> None:
    docs["field"]["sensitive_features"].append({
        "kind": "lake", "name": "pond",
        "geometry": {"type": "Polygon", "coordinates": [[lonlat(X0 + 40, Y0 + 25), lonlat(X0 + 46, Y0 + 25),
                                                          lonlat(X0 + 46, Y0 + 31), lonlat(X0 + 40, Y0 + 31),
                                                          lonlat(X0 + 40, Y0 + 25)]]}})
    ids = _setup(client, agro, docs)
    rx = _rx(client, agro, ids, strategy={"name": "broadcast"})
    feats = [c for c in rx["compliance"] if c["check"] == "feature_buffer"]
    assert [(f["kind"], f["buffer_class"], f["distance_m"]) for f in feats] == [
        ("water", "water", 5.0), ("lake", "water", 5.0)]
    check = client.get(f"/v1/prescriptions/{rx['id']}/export/shapefile/check", headers=agro).json()
    lake = next(f for f in check["verify"]["features"] if f["kind"] == "lake")
    assert lake["required_m"] == 5.0 and lake["closest_sprayed_m"] >= 5.0 - 1e-6 and lake["ok"]


def test_season_window_default_is_a_rolling_12_months_not_the_calendar_year() -> None:
    from app.services.prescriptions import season_window

    march = datetime(2027, 3, 15, tzinfo=UTC)
    since, why = season_window(None, now=march)
    assert since <= datetime(2026, 10, 10, tzinfo=UTC) < march  # October's spray of the same wheat counts
    assert since > datetime(2026, 3, 14, tzinfo=UTC) and "rolling 12 months" in why
    sown = datetime(2026, 9, 25)
    assert season_window(sown, now=march)[0] == sown.replace(tzinfo=UTC)


def test_partial_weed_map_refused_then_broadcast_declared_and_every_export_verified(
        client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    """A map of the west 29 m of the 100 m field: 422 by default; with a declared fallback, the field's area."""
    from tests.test_pipeline_coverage import partial_map

    docs["weed_map"] = partial_map()
    ids = _setup(client, agro, docs)
    body = {"field_id": ids["field"], "product_ids": [ids["product"]], "strategy": {"name": "threshold"}}
    r = client.post("/v1/prescriptions", headers=agro, json=body)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_input" and "29.0 %" in err["message"] and "min_coverage_pct 95" in err["message"]
    rx = _rx(client, agro, ids, uncovered="broadcast")
    s = rx["summary"]
    assert s["field_area_ha"] == pytest.approx(0.6, abs=0.0061) and s["coverage_pct"] == pytest.approx(29, abs=0.6)
    assert (s["uncovered"], s["min_coverage_pct"]) == ("broadcast", 0.0)
    assert s["uncovered_area_ha"] == pytest.approx(0.426, abs=0.0061)
    assert rx["grid"]["n_cols"] == 100 and rx["products"][0]["total"] > 2.0 * 0.3  # the uncovered part is sprayed
    for fmt in ("isoxml", "shapefile", "geojson", "geotiff"):
        check = client.get(f"/v1/prescriptions/{rx['id']}/export/{fmt}/check", headers=agro).json()
        assert check["verify"]["ok"] is True, (fmt, check["error"])
    none = _rx(client, agro, ids, uncovered="no_spray")
    assert none["summary"]["uncovered"] == "no_spray" and none["products"][0]["total"] < rx["products"][0]["total"]
    bad = client.post("/v1/prescriptions", headers=agro, json={**body, "uncovered": "spray_all"})
    assert bad.status_code == 422
