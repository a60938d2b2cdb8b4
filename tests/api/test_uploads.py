"""Uploads in machine formats over HTTP: boundary files, GeoTIFFs, detections, gzip bodies."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.tables import Field, WeedMap
from tests.api.conftest import CRS, X0, Y0, lonlat


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _field(client: TestClient, h: dict[str, str], docs: dict[str, Any]) -> int:
    r = client.post("/v1/fields", json=docs["field"], headers=h)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _geotiff(values: np.ndarray, crs: str = CRS, x0: float = X0, y0: float = Y0 + 60, px: float = 0.25,
             descriptions: tuple[str, ...] = ("ALOMY",)) -> bytes:
    buf = io.BytesIO()
    bands = values if values.ndim == 3 else values[None]
    with rasterio.open(buf, "w", driver="GTiff", width=bands.shape[2], height=bands.shape[1], count=bands.shape[0],
                       dtype="float32", crs=crs, transform=Affine(px, 0.0, x0, 0.0, -px, y0)) as dst:
        dst.write(bands.astype("float32"))
        for i, d in enumerate(descriptions, start=1):
            dst.set_band_description(i, d)
    return buf.getvalue()


def test_geotiff_weed_map_is_warped_onto_the_field_grid(client: TestClient, agro: dict[str, str],
                                                        docs: dict[str, Any]) -> None:
    fid = _field(client, agro, docs)
    dens = np.zeros((240, 400), np.float32)  # 60 m x 100 m at 0.25 m
    dens[80:120, 320:360] = 16.0  # a 10 m x 10 m patch of 16 plants/m²
    r = client.post(f"/v1/fields/{fid}/weed-maps/geotiff?cell_size_m=1", content=_geotiff(dens),
                    headers={**agro, "Content-Type": "image/tiff"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["species"] == ["ALOMY"] and body["cell_size_m"] == 1.0
    assert body["stats"]["_ingest"]["resampling"] == "average"
    # plants are conserved by averaging: 16 plants/m² on 100 m²
    stats = body["stats"]["ALOMY"]
    assert stats["max_plants_m2"] == pytest.approx(16.0, rel=1e-3)
    rx = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": fid, "product_ids": [client.post("/v1/products", json=docs["label"], headers=agro).json()["id"]],
        "strategy": {"name": "threshold"}, "sprayer": {"patch_buffer_m": 0, "section_width_m": 1,
                                                       "along_track_m": 1}})
    assert rx.status_code == 201, rx.text
    assert rx.json()["summary"]["treated_area_ha"] == pytest.approx(0.01, abs=0.0025)


def test_bad_geotiffs_are_refused(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                  session: Session) -> None:
    fid = _field(client, agro, docs)
    before = _count(session, WeedMap)
    h = {**agro, "Content-Type": "image/tiff"}
    good = _geotiff(np.ones((40, 40), np.float32))
    r = client.post(f"/v1/fields/{fid}/weed-maps/geotiff", content=good[: len(good) // 2], headers=h)
    assert r.status_code == 422, r.text
    far = _geotiff(np.ones((40, 40), np.float32), x0=X0 + 50_000)
    r = client.post(f"/v1/fields/{fid}/weed-maps/geotiff", content=far, headers=h)
    assert r.status_code == 422 and "overlap" in r.json()["error"]["message"]
    r = client.post(f"/v1/fields/{fid}/weed-maps/geotiff?species=ALOMY,GALAP", content=good, headers=h)
    assert r.status_code == 422 and "band" in r.json()["error"]["message"].lower()
    r = client.post(f"/v1/fields/{fid}/weed-maps/geotiff?species=XXXXX", content=good, headers=h)
    assert r.status_code == 422 and "XXXXX" in r.json()["error"]["message"]
    assert _count(session, WeedMap) == before


def test_detections_geojson_and_csv(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    fid = _field(client, agro, docs)
    pts = [lonlat(X0 + 50.5, Y0 + 30.5)] * 4 + [lonlat(X0 + 10.5, Y0 + 10.5)]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": p},
         "properties": {"species": "ALOMY", "confidence": 1.0}} for p in pts]}
    r = client.post(f"/v1/fields/{fid}/weed-maps/detections?cell_size_m=1", content=json.dumps(fc),
                    headers={**agro, "Content-Type": "application/geo+json"})
    assert r.status_code == 201, r.text
    assert r.json()["stats"]["ALOMY"]["max_plants_m2"] == pytest.approx(4.0)
    assert r.json()["stats"]["_ingest"]["points_used"] == 5
    csv = "lon,lat,species,confidence\n" + "".join(f"{p[0]},{p[1]},GALAP,0.5\n" for p in pts)
    r = client.post(f"/v1/fields/{fid}/weed-maps/detections?cell_size_m=1", content=csv,
                    headers={**agro, "Content-Type": "text/csv"})
    assert r.status_code == 201, r.text
    assert r.json()["stats"]["GALAP"]["max_plants_m2"] == pytest.approx(2.0)  # confidence-weighted


def test_gzip_body(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    fid = _field(client, agro, docs)
    body = gzip.compress(json.dumps(docs["weed_map"]).encode())
    r = client.post(f"/v1/fields/{fid}/weed-maps", content=body,
                    headers={**agro, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 201, r.text
    r = client.post(f"/v1/fields/{fid}/weed-maps", content=b"not gzip at all",
                    headers={**agro, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 400


def test_gzip_bomb_is_413(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    fid = _field(client, agro, docs)
    bomb = gzip.compress(b" " * (3 * 1024 * 1024))  # inflates past the 2 MB test limit
    assert len(bomb) < 100_000
    r = client.post(f"/v1/fields/{fid}/weed-maps", content=bomb,
                    headers={**agro, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 413, r.text


def test_import_field_from_rings_and_shapefile(client: TestClient, agro: dict[str, str],
                                               docs: dict[str, Any], tmp_path: Any) -> None:
    ring = docs["field"]["boundary"]["coordinates"][0]
    rings = {"rings": [{"type": "exterior", "points": [{"lat": p[1], "lon": p[0]} for p in ring]}]}
    r = client.post("/v1/fields/import", headers=agro, data={"name": "From rings", "crop": "maize"},
                    files={"boundary": ("boundary.json", json.dumps(rings), "application/json")})
    assert r.status_code == 201, r.text
    assert r.json()["area_ha"] == pytest.approx(0.6, rel=1e-3)

    import pyogrio
    import shapely

    path = tmp_path / "field.shp"
    pyogrio.raw.write(str(path), geometry=np.array([shapely.to_wkb(shapely.Polygon(ring))], dtype=object),
                      field_data=[np.array(["f1"])], fields=["name"], geometry_type="Polygon", crs="EPSG:4326",
                      driver="ESRI Shapefile")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in tmp_path.glob("field.*"):
            z.write(p, p.name)
    r = client.post("/v1/fields/import", headers=agro, data={"name": "From shapefile", "crop": "maize"},
                    files={"boundary": ("field.zip", buf.getvalue(), "application/zip")})
    assert r.status_code == 201, r.text
    assert r.json()["area_ha"] == pytest.approx(0.6, rel=1e-3)


def test_import_refuses_path_traversal_zip(client: TestClient, agro: dict[str, str], session: Session) -> None:
    before = _count(session, Field)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../etc/evil.shp", b"x")
    r = client.post("/v1/fields/import", headers=agro, data={"name": "Evil", "crop": "maize"},
                    files={"boundary": ("evil.zip", buf.getvalue(), "application/zip")})
    assert r.status_code == 422, r.text
    assert ".." in r.json()["error"]["message"] or "path" in r.json()["error"]["message"].lower()
    assert _count(session, Field) == before



def test_import_refuses_entities_behind_a_long_comment(client: TestClient, agro: dict[str, str],
                                                        session: Session) -> None:
    """A billion-laughs TASKDATA.XML whose DOCTYPE sits after 5 KB of comment: refused, nothing stored."""
    before = _count(session, Field)
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!--{"x" * 5000}--><!DOCTYPE t [<!ENTITY l0 "lol">{laughs}]>'
           f'<ISO11783_TaskData><PFD A="PFD1" C="&l9;"/></ISO11783_TaskData>').encode()
    r = client.post("/v1/fields/import", headers=agro, data={"name": "Laughs", "crop": "maize"},
                    files={"boundary": ("TASKDATA.XML", xml, "application/xml")})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_upload" and "DOCTYPE" in err["message"]
    assert _count(session, Field) == before

def test_import_as_applied_from_machine_data(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                            session: Session) -> None:
    from datetime import UTC, datetime

    from app.models.tables import Application

    fid = _field(client, agro, docs)
    client.post("/v1/products", json=docs["label"], headers=agro)
    day = datetime.now(UTC).date().isoformat()
    rec = {"product": {"name": "Testazine 500 SC"}, "appliedRate": {"valueAsDouble": 1.0, "unit": "l1ha-1"},
           "area": {"valueAsDouble": 1.5, "unit": "ac"}, "startDate": f"{day}T08:00:00Z"}
    r = client.post(f"/v1/fields/{fid}/applications/import", content=json.dumps({"values": [rec, rec]}),
                    headers={**agro, "Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    items = r.json()["items"]
    assert len(items) == 2 and items[0]["rate_label_unit"] == pytest.approx(1.0)
    assert items[0]["area_ha"] == pytest.approx(1.5 * 0.40468564224)
    before = _count(session, Application)
    bad = {**rec, "product": {"name": "Nonexistent 50 WG"}}
    r = client.post(f"/v1/fields/{fid}/applications/import", content=json.dumps([rec, bad]),
                    headers={**agro, "Content-Type": "application/json"})
    assert r.status_code == 404 and "Nonexistent 50 WG" in r.json()["error"]["message"]
    assert _count(session, Application) == before  # all or nothing
    # 2 x 1.0 L/ha already applied, season max 3.0: one more application of at most 1.0 L/ha
    client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=agro)
    rx = client.post("/v1/prescriptions", headers=agro, json={
        "field_id": fid, "product_ids": [items[0]["product_id"]], "strategy": {"name": "broadcast"}})
    assert rx.status_code == 201, rx.text
    prod = rx.json()["products"][0]
    assert prod["total"] == pytest.approx(1.0 * rx.json()["summary"]["sprayable_area_ha"], rel=1e-4)


def test_rasters_have_their_own_larger_upload_limit(client: TestClient, agro: dict[str, str],
                                                    docs: dict[str, Any]) -> None:
    """The test app takes 2 MB of JSON but 8 MB of GeoTIFF (streamed to disk)."""
    fid = _field(client, agro, docs)
    dens = np.zeros((1200, 1200), np.float32)  # 5.5 MB uncompressed, 60 m x 100 m is covered at 0.25 m
    dens[100:140, 300:340] = 4.0
    tif = _geotiff(dens, px=0.1)
    assert 2 * 1024 * 1024 < len(tif) < 8 * 1024 * 1024
    r = client.post(f"/v1/fields/{fid}/weed-maps/geotiff?cell_size_m=1", content=tif,
                    headers={**agro, "Content-Type": "image/tiff"})
    assert r.status_code == 201, r.text
    big = _geotiff(np.zeros((1600, 1600), np.float32), px=0.1)
    assert len(big) > 8 * 1024 * 1024
    r = client.post(f"/v1/fields/{fid}/weed-maps/geotiff", content=big, headers={**agro, "Content-Type": "image/tiff"})
    assert r.status_code == 413 and "DOSEWISE_MAX_UPLOAD_MB" in r.json()["error"]["message"]


def test_chunked_upload_over_the_limit_leaves_no_temp_file(client: TestClient, agro: dict[str, str],
                                                            docs: dict[str, Any]) -> None:
    import tempfile
    from pathlib import Path

    fid = _field(client, agro, docs)
    before = set(Path(tempfile.gettempdir()).glob("dosewise-upload-*"))

    def chunks() -> Any:
        for _ in range(10):
            yield b"\0" * (1024 * 1024)  # 10 MB, no Content-Length

    r = client.post(f"/v1/fields/{fid}/weed-maps/geotiff", content=chunks(),
                    headers={**agro, "Content-Type": "image/tiff"})
    assert r.status_code == 413
    assert set(Path(tempfile.gettempdir()).glob("dosewise-upload-*")) == before
