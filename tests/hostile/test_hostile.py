"""Hostile requests against a real server: each gets its 4xx within a time and memory limit.

Limits: the server process must stay under ``MAX_RSS_MIB`` while answering
(its resting RSS is ~150-250 MiB), and ``/health`` must answer 200 after each.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyogrio.raw import write as ogr_write
from pyproj import Transformer

from tests.hostile.conftest import Hostile

MAX_RSS_MIB = 1200.0
# north-west corner of the test field in its UTM zone (EPSG:32631), metres
X0_M, Y0_M = (round(v) for v in Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True)
              .transform(2.100, 48.503))
pytestmark = pytest.mark.slow


def _json(h: Hostile, method: str, path: str, body: object | bytes, *, headers: dict[str, str] | None = None,
          timeout: float = 120.0):  # type: ignore[no-untyped-def]
    data = body if isinstance(body, bytes) else json.dumps(body, allow_nan=True).encode()
    hdrs = {**h.auth, "Content-Type": "application/json", **(headers or {})}
    return lambda: h.send(method, path, timeout=timeout, content=data, headers=hdrs)


def _grid_doc(shape: tuple[int, int], packed: bytes, **extra: object) -> dict[str, object]:
    return {"crs": "EPSG:32631", "origin": {"x": 429000.0, "y": 5376200.0}, "cell_size_m": 1.0,
            "species": {"ALOMY": {"encoding": "zlib-base64-float32le", "shape": list(shape),
                                  "data": base64.b64encode(packed).decode()}}, **extra}


# ----------------------------------------------------------------------------- memory from a few bytes

def test_zlib_bomb_grid_declaring_32768_squared(hostile: Hostile) -> None:
    packed = zlib.compress(np.zeros(1024, dtype="<f4").tobytes())
    res = hostile.case("weed map: shape [32768, 32768]",
                       _json(hostile, "POST", f"/v1/fields/{hostile.ids['field']}/weed-maps",
                             _grid_doc((32768, 32768), packed)),
                       expect={413, 422}, max_s=10, max_rss_mib=MAX_RSS_MIB)
    assert "DOSEWISE_MAX_GRID_CELLS" in res.text


def test_zlib_bomb_grid_inflating_past_its_shape(hostile: Hostile) -> None:
    # 1 GiB of zeros packs into ~1 MiB; the declared shape (1000 × 1000) needs 4 MB.
    comp = zlib.compressobj(9)
    chunk = bytes(16 * 2**20)
    packed = b"".join(comp.compress(chunk) for _ in range(64)) + comp.flush()
    res = hostile.case("weed map: 1 GiB zlib bomb, shape 1000²",
                       _json(hostile, "POST", f"/v1/fields/{hostile.ids['field']}/weed-maps",
                             _grid_doc((1000, 1000), packed)),
                       expect={422}, max_s=20, max_rss_mib=MAX_RSS_MIB)
    assert "more than" in res.text


def test_detections_with_a_centimetre_cell(hostile: Hostile) -> None:
    csv = b"lon,lat,species\n2.101,48.501,ALOMY\n"
    res = hostile.case("detections: 43-byte CSV, cell_size_m=0.01",
                       lambda: hostile.send("POST",
                           f"/v1/fields/{hostile.ids['field']}/weed-maps/detections?cell_size_m=0.01",
                           content=csv, headers={**hostile.auth, "Content-Type": "text/csv"}),
                       expect={413}, max_s=10, max_rss_mib=MAX_RSS_MIB)
    assert "DOSEWISE_MAX_GRID_CELLS" in res.text


def test_sparse_huge_geotiff(hostile: Hostile, tmp_path: Path) -> None:
    # 50,000² pixels of 1 cm over the field, no block written: a few KB on disk.
    path = tmp_path / "sparse.tif"
    with rasterio.Env(SPARSE_OK=True), rasterio.open(
            path, "w", driver="GTiff", width=50_000, height=50_000, count=1, dtype="float32",
            crs="EPSG:32631", transform=Affine(0.01, 0.0, X0_M, 0.0, -0.01, Y0_M), nodata=0.0,
            tiled=True, blockxsize=512, blockysize=512, compress="deflate", SPARSE_OK=True):
        pass
    raw = path.read_bytes()
    assert len(raw) < 1_000_000
    res = hostile.case(f"GeoTIFF: sparse 50000², {len(raw) // 1024} KiB",
                       lambda: hostile.send("POST",
                           f"/v1/fields/{hostile.ids['field']}/weed-maps/geotiff?species=ALOMY&cell_size_m=1",
                           content=raw, headers={**hostile.auth, "Content-Type": "image/tiff"}),
                       expect={413, 422}, max_s=20, max_rss_mib=MAX_RSS_MIB)
    assert res.status_code == 413 and "DOSEWISE_MAX_GRID_CELLS" in res.text


# ----------------------------------------------------------------------------- deep JSON

@pytest.mark.parametrize("path", ["/v1/fields", "/v1/fields/{field}/applications/import",
                                  "/v1/fields/{field}/weed-maps/detections"])
def test_deeply_nested_json(hostile: Hostile, path: str) -> None:
    body = b"[" * 200_000 + b"]" * 200_000
    hostile.case(f"deep JSON (200k levels) {path.split('/')[-1]}",
                 _json(hostile, "POST", path.format(field=hostile.ids["field"]), body),
                 expect={400, 422}, max_s=10, max_rss_mib=MAX_RSS_MIB)


# ----------------------------------------------------------------------------- non-finite numbers

def _field(h: Hostile) -> int:
    return h.ids["field"]


NONFINITE = [
    ("as-applied rate Infinity", "POST", "/v1/fields/{field}/applications",
     b'{"product_id": {product}, "rate": {"value": Infinity, "unit": "L/ha"}, "applied_at": "2026-05-02T09:30:00Z"}'),
    ("as-applied rate 1e400", "POST", "/v1/fields/{field}/applications",
     b'{"product_id": {product}, "rate": {"value": 1e400, "unit": "L/ha"}, "applied_at": "2026-05-02T09:30:00Z"}'),
    ("as-applied import Infinity", "POST", "/v1/fields/{field}/applications/import",
     b'[{"product": "Hostile Test 500", "rate": Infinity, "rate_unit": "L/ha", "area_ha": 1, "date": "2026-05-02"}]'),
    ("label max_rate Infinity", "POST", "/v1/products",
     json.dumps({**__import__("tests.hostile.conftest", fromlist=["LABEL"]).LABEL}).replace(
         '"max_rate": 1.5', '"max_rate": Infinity').encode()),
    ("forecast temp_c NaN", "PUT", "/v1/fields/{field}/forecast",
     b'{"lat": 48.5, "lon": 2.1, "hours": [{"time": "2026-05-02T09:00:00Z", "wind_kmh": 5, '
     b'"wind_dir_deg": 90, "temp_c": NaN}]}'),
    ("detection count inf (GeoJSON)", "POST", "/v1/fields/{field}/weed-maps/detections",
     b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", '
     b'"coordinates": [2.101, 48.501]}, "properties": {"species": "ALOMY", "count": Infinity}}]}'),
    ("weed map origin.x NaN", "POST", "/v1/fields/{field}/weed-maps",
     b'{"crs": "EPSG:32631", "origin": {"x": NaN, "y": 5376200.0}, "cell_size_m": 1.0, '
     b'"species": {"ALOMY": [[0, 1], [2, 3]]}}'),
    ("prescription boom_width_m 1e300", "POST", "/v1/prescriptions",
     b'{"field_id": {field}, "product_ids": [{product}], "sprayer": {"boom_width_m": 1e300}}'),
    ("prescription patch_buffer_m 1e6", "POST", "/v1/prescriptions",
     b'{"field_id": {field}, "product_ids": [{product}], "sprayer": {"patch_buffer_m": 1e6}}'),
    ("fit dose -Infinity", "POST", "/v1/dose-response/fit",
     b'{"dose": [0, 1, -Infinity], "response": [1, 2, 3]}'),
]


@pytest.mark.parametrize(("name", "method", "path", "body"), NONFINITE, ids=[c[0] for c in NONFINITE])
def test_non_finite_and_absurd_numbers(hostile: Hostile, name: str, method: str, path: str, body: bytes) -> None:
    body = body.replace(b"{field}", str(hostile.ids["field"]).encode()).replace(
        b"{product}", str(hostile.ids["product"]).encode())
    res = hostile.case(name, _json(hostile, method, path.format(field=_field(hostile)), body),
                       expect={422}, max_s=10, max_rss_mib=MAX_RSS_MIB)
    assert res.json()["error"]["code"] in {"invalid_request", "invalid_upload", "invalid_input"}


def test_detection_csv_count_inf(hostile: Hostile) -> None:
    csv = b"lon,lat,species,count\n2.101,48.501,ALOMY,inf\n"
    hostile.case("detections CSV count inf",
                 lambda: hostile.send("POST", f"/v1/fields/{hostile.ids['field']}/weed-maps/detections",
                                               content=csv, headers={**hostile.auth, "Content-Type": "text/csv"}),
                 expect={422}, max_s=10, max_rss_mib=MAX_RSS_MIB)


# ----------------------------------------------------------------------------- ids, strings, headers

@pytest.mark.parametrize("path", ["/v1/fields/9223372036854775808", "/v1/fields/2147483648",
                                  "/v1/products/-1", "/v1/prescriptions/99999999999999999999",
                                  "/v1/fields?offset=9223372036854775808", "/v1/fields?offset=2147483648",
                                  "/v1/fields?limit=100000000000000000000"])
def test_huge_ids_and_paging(hostile: Hostile, path: str) -> None:
    hostile.case(f"GET {path}", lambda: hostile.send("GET", path, headers=hostile.auth),
                 expect={404, 422}, max_s=5, max_rss_mib=MAX_RSS_MIB)


def test_huge_ids_in_bodies(hostile: Hostile) -> None:
    body = {"field_id": 2**63, "product_ids": [2**40]}
    hostile.case("prescription with ids 2^63, 2^40", _json(hostile, "POST", "/v1/prescriptions", body),
                 expect={404, 422}, max_s=5, max_rss_mib=MAX_RSS_MIB)


def test_nul_and_long_strings(hostile: Hostile) -> None:
    nul = {"name": "a\u0000b", "crop": "maize", "country": "FR",
           "boundary": __import__("tests.hostile.conftest", fromlist=["BOUNDARY"]).BOUNDARY}
    hostile.case("field name with NUL", _json(hostile, "POST", "/v1/fields", nul),
                 expect={422}, max_s=5, max_rss_mib=MAX_RSS_MIB)
    doc = {"crs": "EPSG:" + "3" * 80, "origin": {"x": 429000.0, "y": 5376200.0}, "cell_size_m": 1.0,
           "species": {"ALOMY": [[0, 1], [2, 3]]}}
    hostile.case("weed map crs of 85 characters",
                 _json(hostile, "POST", f"/v1/fields/{hostile.ids['field']}/weed-maps", doc),
                 expect={422}, max_s=5, max_rss_mib=MAX_RSS_MIB)


def test_non_utf8_request_id_everywhere(hostile: Hostile) -> None:
    for path in ("/health", "/v1/fields"):
        res = hostile.case(f"X-Request-Id non-UTF-8 on {path}",
                           lambda p=path: hostile.send("GET", p, headers={**hostile.auth,
                                                                           "X-Request-Id": b"\xff\xfe\xc3"}),
                           expect={200}, max_s=5, max_rss_mib=MAX_RSS_MIB)
        rid = res.headers["x-request-id"]
        assert rid.isascii() and rid.isalnum()


def test_100kb_header_is_refused(hostile: Hostile) -> None:
    res = hostile.case("100 KB header", lambda: hostile.send("GET", "/health", headers={"X-Junk": "a" * 100_000}),
                       expect={431}, max_s=5, max_rss_mib=MAX_RSS_MIB)
    assert "DOSEWISE_MAX_HEADER_KB" in res.json()["error"]["message"]


def test_gzip_with_two_members_is_read_whole(hostile: Hostile) -> None:
    label = __import__("tests.hostile.conftest", fromlist=["LABEL"]).LABEL
    text = json.dumps({**label, "name": "Two members"}).encode()
    body = gzip.compress(text[:40]) + gzip.compress(text[40:])
    res = hostile.case("gzip body in two members",
                       lambda: hostile.send("POST", "/v1/products", content=body,
                                                     headers={**hostile.auth, "Content-Type": "application/json",
                                                              "Content-Encoding": "gzip"}),
                       expect={201}, max_s=5, max_rss_mib=MAX_RSS_MIB)
    assert res.json()["label"]["name"] == "Two members"


def test_header_injection_through_a_product_name(hostile: Hostile) -> None:
    """A product named with CR/LF and non-Latin-1 text: its export notes reach a header encoded."""
    label = __import__("tests.hostile.conftest", fromlist=["LABEL"]).LABEL
    with hostile.client() as c:
        p = c.post("/v1/products", headers=hostile.auth,
                   json={**label, "name": "Désherbant 草\r\nSet-Cookie: pwned=1"})
        assert p.status_code in (201, 422), p.text
        if p.status_code == 422:  # refused at the door is as good as encoded
            return
        grid = (np.arange(300 * 300, dtype="<f4").reshape(300, 300) % 7)
        m = c.post(f"/v1/fields/{hostile.ids['field']}/weed-maps", headers=hostile.auth,
                   json=_grid_doc((300, 300), zlib.compress(grid.tobytes()),
                                  origin={"x": float(X0_M), "y": float(Y0_M)}))
        assert m.status_code == 201, m.text
        rx = c.post("/v1/prescriptions", headers=hostile.auth,
                    json={"field_id": hostile.ids["field"], "product_ids": [p.json()["id"]],
                          "uncovered": "no_spray",  # the 300 x 300 map covers 89 % of the field
                          "strategy": {"name": "broadcast"}})
        assert rx.status_code == 201, rx.text
        rx_id = rx.json()["id"]
    for fmt in ("shapefile", "isoxml", "geojson"):
        res = hostile.case(f"export {fmt} of a CRLF/non-Latin-1 product",
                           lambda f=fmt: hostile.send("GET", f"/v1/prescriptions/{rx_id}/export/{f}",
                                                              headers=hostile.auth),
                           expect={200, 422}, max_s=30, max_rss_mib=MAX_RSS_MIB)
        assert "set-cookie" not in res.headers
        for value in res.headers.values():
            assert "\r" not in value and "\n" not in value and value.isascii()


def test_llm_writer_without_llm(hostile: Hostile) -> None:
    # any prescription id: the request must not 500 whether or not it exists
    hostile.case("advice writer=llm, no LLM configured",
                 _json(hostile, "POST", "/v1/prescriptions/1/advice", {"writer": "llm"}),
                 expect={404, 422}, max_s=10, max_rss_mib=MAX_RSS_MIB)


# ----------------------------------------------------------------------------- unbounded CPU

def test_million_vertex_boundary(hostile: Hostile) -> None:
    n = 1_000_000
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    ring = np.column_stack([2.102 + 0.001 * np.cos(t), 48.5015 + 0.001 * np.sin(t)]).round(7).tolist()
    ring.append(ring[0])
    body = {"name": "Million", "crop": "maize", "boundary": {"type": "Polygon", "coordinates": [ring]}}
    res = hostile.case("boundary of 1M vertices", _json(hostile, "POST", "/v1/fields", body),
                       expect={413, 422}, max_s=60, max_rss_mib=MAX_RSS_MIB)
    assert "DOSEWISE_MAX_GEOMETRY_VERTICES" in res.text


def test_shapefile_of_100k_records(hostile: Hostile, tmp_path: Path) -> None:
    xs, ys = np.meshgrid(np.arange(400) * 1e-5 + 2.1, np.arange(250) * 1e-5 + 48.5)
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 5e-6, ys.ravel() + 5e-6)
    shp = tmp_path / "cells.shp"
    ogr_write(shp, shapely.to_wkb(boxes), field_data=[], fields=[], crs="EPSG:4326", driver="ESRI Shapefile",
              geometry_type="Polygon")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in tmp_path.glob("cells.*"):
            zf.write(part, part.name)
    res = hostile.case("shapefile of 100,000 records",
                       lambda: hostile.send("POST", "/v1/fields/import", headers=hostile.auth,
                                                     data={"name": "Cells", "crop": "maize"},
                                                     files={"boundary": ("cells.zip", buf.getvalue(),
                                                                         "application/zip")}),
                       expect={413}, max_s=30, max_rss_mib=MAX_RSS_MIB)
    assert "DOSEWISE_MAX_IMPORT_RECORDS" in res.text


def test_fit_of_400_curves(hostile: Hostile) -> None:
    doses = [0, 1, 3, 10, 30, 100] * 400
    resp = [100, 95, 80, 50, 20, 5] * 400
    curve = [f"c{i // 6}" for i in range(len(doses))]
    res = hostile.case("dose-response fit of 400 curves",
                       _json(hostile, "POST", "/v1/dose-response/fit",
                             {"dose": doses, "response": resp, "curve": curve}),
                       expect={422}, max_s=10, max_rss_mib=MAX_RSS_MIB)
    assert "curves" in res.json()["error"]["message"]
