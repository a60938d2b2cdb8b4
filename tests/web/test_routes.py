"""The map's JSON and page shells through the HTTP API (in-process app, test database)."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from PIL import Image
from shapely.geometry import shape

from app.geo import reproject
from app.web import routes
from tests.api.conftest import CRS, X0, Y0


def _setup(client: TestClient, h: dict[str, str], docs: dict[str, Any],
           strategies: tuple[str, ...] = ("threshold",)) -> list[int]:
    fid = client.post("/v1/fields", json=docs["field"], headers=h).json()["id"]
    assert client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=h).status_code == 201
    pid = client.post("/v1/products", json=docs["label"], headers=h).json()["id"]
    ids = []
    for s in strategies:
        r = client.post("/v1/prescriptions", json={"field_id": fid, "product_ids": [pid], "strategy": {"name": s}},
                        headers=h)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


@pytest.fixture
def agro(make_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_key("agronomist", "acme")


def test_page_shells_are_public_html(web_client: TestClient) -> None:
    for path in ("/v1/map", "/v1/prescriptions/1/map"):
        r = web_client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "/static/vendor/leaflet/leaflet.js" in r.text and "{{version}}" not in r.text
    assert web_client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert web_client.get("/static/vendor/leaflet/images/layers.png").headers["content-type"] == "image/png"
    assert web_client.get("/static/js/map.js").status_code == 200


def test_data_needs_a_reader_key(web_client: TestClient, make_key: Callable[..., dict[str, str]],
                                 docs: dict[str, Any]) -> None:
    h = make_key("agronomist", "acme")
    (rx,) = _setup(web_client, h, docs)
    assert web_client.get(f"/v1/prescriptions/{rx}/layers").status_code == 401
    assert web_client.get("/v1/map/config").status_code == 401
    assert web_client.get(f"/v1/prescriptions/{rx}/layers", headers=make_key("telematics", "acme")).status_code == 403
    other = make_key("farmer", "someone-else")
    assert web_client.get(f"/v1/prescriptions/{rx}/layers", headers=other).status_code == 404
    assert web_client.get(f"/v1/prescriptions/{rx}/weeds/ALOMY.png", headers=other).status_code == 404
    farmer = make_key("farmer", "acme")
    assert web_client.get(f"/v1/prescriptions/{rx}/layers", headers=farmer).status_code == 200


def test_config_lists_formats_and_no_tiles_by_default(web_client: TestClient, agro: dict[str, str]) -> None:
    cfg = web_client.get("/v1/map/config", headers=agro).json()
    assert cfg["tiles_url"] is None
    assert {"isoxml", "shapefile", "geojson", "geotiff", "png"} <= {f["name"] for f in cfg["formats"]}
    assert "generic" in {t["name"] for t in cfg["terminals"]}


def test_csp_allows_the_tile_host_only_when_set() -> None:
    assert "tile" not in routes._csp(None)
    assert "https://*.tile.example.org" in routes._csp("https://{s}.tile.example.org/{z}/{x}/{y}.png")


def test_layers_document(web_client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    rx, broadcast = _setup(web_client, agro, docs, ("threshold", "broadcast"))
    r = web_client.get(f"/v1/prescriptions/{rx}/layers", headers=agro)
    assert r.status_code == 200
    d = r.json()
    field_wgs = shape(d["boundary"]["geometry"])
    (south, west), (north, east) = d["bounds"]
    assert (west, south, east, north) == pytest.approx(field_wgs.bounds)
    assert 2.0 < west < 3.0 and 48.0 < south < 49.0  # France, lon/lat not swapped

    # The stream runs 3 m west of the field and the label wants 5 m: a 2 m strip inside the field.
    no_spray_m = reproject(shape(d["no_spray"]["geometry"]), "EPSG:4326", CRS)
    assert d["no_spray"]["properties"]["buffers_m"] == {"water": 5.0}
    assert no_spray_m.area == pytest.approx(2 * 60, rel=0.02)
    assert no_spray_m.bounds[0] == pytest.approx(X0, abs=0.05)
    assert no_spray_m.bounds[2] == pytest.approx(X0 + 2, abs=0.05)
    assert d["features"]["features"][0]["properties"] == {"kind": "water", "name": "stream"}

    (rate,) = d["rates"]
    assert rate["unit"] == "L/ha" and rate["max_rate"] == 2.0
    # threshold strategy: label maximum on the 10 x 10 m patch (plus sprayer rounding), nothing elsewhere
    assert [row["rate"] for row in rate["legend"]] == [0.0, 2.0]
    assert sum(row["area_ha"] for row in rate["legend"]) == pytest.approx(0.6, rel=0.01)
    sprayed = shapely.union_all([reproject(shape(f["geometry"]), "EPSG:4326", CRS)
                                 for f in rate["zones"]["features"] if f["properties"]["rate"] > 0])
    patch = shapely.box(X0 + 80, Y0 + 60 - 30, X0 + 90, Y0 + 60 - 20)
    assert sprayed.intersection(patch).area == pytest.approx(100, rel=0.01)  # the whole patch is sprayed
    assert not sprayed.intersects(no_spray_m.buffer(-0.01))
    assert all(f["properties"]["colour"].startswith("#") for f in rate["zones"]["features"])

    weeds = {w["species"]: w for w in d["weeds"]}
    assert set(weeds) == {"ALOMY", "GALAP"}
    (ws, ww), (wn, we) = weeds["ALOMY"]["bounds"]
    assert ws <= south + 1e-6 and ww <= west + 1e-6 and wn >= north - 1e-6 and we >= east - 1e-6
    assert weeds["ALOMY"]["max_plants_m2"] == 20.0 and weeds["ALOMY"]["names"]["en"] == "black-grass"
    assert [row["from"] for row in weeds["ALOMY"]["legend"]][-1] == 20.0

    assert d["summary"]["treated_area_ha"] > 0 and d["products"][0]["unit"] == "L/ha"
    assert d["currency"] == "EUR"
    assert {c["check"] for c in d["compliance"]} >= {"max_rate", "no_spray_zones", "map_coverage"}
    # The map shows the export verifier's report, the very one the GeoJSON pre-flight gives.
    v = d["verify"]
    pre = web_client.get(f"/v1/prescriptions/{rx}/export/geojson/check", headers=agro).json()
    assert v["format"] == "geojson" and v["ok"] is True and v["error"] is None
    assert {k: x for k, x in v["report"].items() if k != "seconds"} == {
        k: x for k, x in pre["verify"].items() if k != "seconds"}
    assert v["product_added"] == pre["product_added"]
    assert [z["area_m2"] for z in v["report"]["zones"]] == [0.0, 0.0]
    assert v["check_urls"]["isoxml"] == f"/v1/prescriptions/{rx}/export/isoxml/check"
    assert [(s["id"], s["strategy"], s["this"]) for s in d["siblings"]] == [
        (rx, "threshold", True), (broadcast, "broadcast", False)]


def test_layers_are_gzipped_when_asked(web_client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (rx,) = _setup(web_client, agro, docs)
    monkeypatch.setattr(routes, "GZIP_MIN_BYTES", 10)
    r = web_client.get(f"/v1/prescriptions/{rx}/layers", headers={**agro, "Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.json()["prescription"]["id"] == rx


def test_own_rate_zones_match_the_export(web_client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the export package the map polygonises the grid itself; same rates, same areas."""
    (rx,) = _setup(web_client, agro, docs)
    from_export = web_client.get(f"/v1/prescriptions/{rx}/layers", headers=agro).json()["rates"][0]
    monkeypatch.setattr(routes, "_export_zones", lambda _s, _r: (None, {"format": "geojson", "ok": False,
                                                                         "error": "exports unavailable"}))
    own = web_client.get(f"/v1/prescriptions/{rx}/layers", headers=agro).json()["rates"][0]
    assert own["source"] == "grid" and from_export["source"] == "export"
    assert [r["rate"] for r in own["legend"]] == [r["rate"] for r in from_export["legend"]]
    for a, b in zip(own["legend"], from_export["legend"], strict=True):
        assert a["area_ha"] == pytest.approx(b["area_ha"], abs=0.002)


def test_weed_png(web_client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    (rx,) = _setup(web_client, agro, docs)
    r = web_client.get(f"/v1/prescriptions/{rx}/weeds/ALOMY.png", headers=agro)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert "private" in r.headers["cache-control"]
    px = np.asarray(Image.open(BytesIO(r.content)).convert("RGBA"))
    coloured = px[..., 3] > 0
    # 100 cells of 1 m² at 20 plants/m² → class 20–50 (#e31a1c); the warp keeps ~1 m pixels on the ground
    assert px.shape[:2] == (61, 100)
    assert 90 <= coloured.sum() <= 110
    assert {tuple(c) for c in px[coloured][:, :3]} == {(0xE3, 0x1A, 0x1C)}
    missing = web_client.get(f"/v1/prescriptions/{rx}/weeds/CHEAL.png", headers=agro)
    assert missing.status_code == 404 and "ALOMY" in missing.json()["error"]["message"]


def test_downwind_buffer_follows_the_stored_wind(web_client: TestClient, agro: dict[str, str],
                                                 docs: dict[str, Any]) -> None:
    """A drift-prone product, wind from the west: the layers show a strip along the east edge."""
    docs["label"]["downwind_buffer"] = {"distance": 10, "unit": "m"}
    h = agro
    fid = web_client.post("/v1/fields", json=docs["field"], headers=h).json()["id"]
    web_client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=h)
    pid = web_client.post("/v1/products", json=docs["label"], headers=h).json()["id"]
    rx = web_client.post("/v1/prescriptions", headers=h, json={"field_id": fid, "product_ids": [pid],
                                                               "wind_from_deg": 270}).json()["id"]
    d = web_client.get(f"/v1/prescriptions/{rx}/layers", headers=h).json()
    zone = reproject(shape(d["no_spray"]["geometry"]), "EPSG:4326", CRS)
    east = shapely.box(X0 + 91, Y0 + 1, X0 + 99, Y0 + 59)
    north = shapely.box(X0 + 20, Y0 + 51, X0 + 80, Y0 + 59)
    assert zone.contains(east)  # within 10 m of the east edge, downwind
    assert not zone.intersects(north)  # the north edge is not downwind of a west wind


def test_no_spray_zones_of_older_prescriptions_are_laid_again(web_client: TestClient, agro: dict[str, str],
                                                              docs: dict[str, Any], session: Any) -> None:
    """Prescriptions stored before their zones were (no_spray NULL) get the same zones from the masks."""
    from app.models.tables import Prescription

    (rx,) = _setup(web_client, agro, docs)
    stored = web_client.get(f"/v1/prescriptions/{rx}/layers", headers=agro).json()["no_spray"]
    session.get(Prescription, rx).no_spray = None
    session.commit()
    laid = web_client.get(f"/v1/prescriptions/{rx}/layers", headers=agro).json()["no_spray"]
    assert laid["properties"] == stored["properties"] == {"buffers_m": {"water": 5.0}}
    a, b = shape(stored["geometry"]), shape(laid["geometry"])
    assert a.symmetric_difference(b).area <= 1e-6 * a.area
