"""Budgets, finite numbers, id and string ranges, header safety: each answered 4xx, nothing stored.

These run on SQLite and, in CI, on PostgreSQL, where NUL characters, long
strings and ids past 2^31 used to answer 500.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import budgets
from app.api.guards import check_json, content_disposition, header_text, json_depth
from app.domain.weed_map import EncodedGrid
from app.main import create_app
from app.models.tables import Field, Product, WeedMap
from app.settings import Settings


@pytest.fixture
def small_budgets() -> Iterator[budgets.Budgets]:
    small = budgets.Budgets(grid_cells=1000, species_per_map=2, map_values=1500, geometry_vertices=50,
                            import_records=3, detection_points=5)
    before = budgets.current()
    budgets.configure(small)
    yield small
    budgets.configure(before)


def _field(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> int:
    r = client.post("/v1/fields", json=docs["field"], headers=agro)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _encoded(arr: np.ndarray) -> dict[str, Any]:
    a = np.ascontiguousarray(arr, dtype="<f4")
    return {"encoding": "zlib-base64-float32le", "shape": list(a.shape),
            "data": base64.b64encode(zlib.compress(a.tobytes())).decode()}


# ----------------------------------------------------------------------------- budgets

def test_settings_declare_every_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in budgets.BUDGET_NAMES:
        monkeypatch.setenv(budgets.setting_name(name), "7")
    assert Settings().budgets == budgets.Budgets(**dict.fromkeys(budgets.BUDGET_NAMES, 7))


def test_a_100_ha_map_at_a_quarter_metre_fits_the_default_budgets() -> None:
    b = budgets.DEFAULT
    b.check("grid_cells", 4000 * 4000)
    b.check("map_values", 4000 * 4000 * 3)
    b.check("species_per_map", 3)


def test_weed_map_over_the_cell_budget_names_its_setting(client: TestClient, agro: dict[str, str],
                                                         docs: dict[str, Any], session: Session,
                                                         small_budgets: budgets.Budgets) -> None:
    fid = _field(client, agro, docs)
    doc = {**docs["weed_map"], "species": {"ALOMY": _encoded(np.zeros((40, 40), np.float32))}}
    r = client.post(f"/v1/fields/{fid}/weed-maps", json=doc, headers=agro)
    assert r.status_code == 422
    assert "1600 is over the budget of 1000 (DOSEWISE_MAX_GRID_CELLS)" in r.json()["error"]["message"]
    doc["species"] = {c: _encoded(np.zeros((20, 20), np.float32)) for c in ("ALOMY", "GALAP", "STEME")}
    r = client.post(f"/v1/fields/{fid}/weed-maps", json=doc, headers=agro)
    assert r.status_code == 422 and "DOSEWISE_MAX_SPECIES_PER_MAP" in r.text
    assert session.scalar(select(func.count()).select_from(WeedMap)) == 0


def test_detections_cell_size_over_the_field_is_refused_before_the_grid(
        client: TestClient, agro: dict[str, str], docs: dict[str, Any], small_budgets: budgets.Budgets) -> None:
    fid = _field(client, agro, docs)
    lon, lat = docs["field"]["boundary"]["coordinates"][0][0]
    csv = f"lon,lat,species\n{lon + 1e-5},{lat + 1e-5},ALOMY\n".encode()
    r = client.post(f"/v1/fields/{fid}/weed-maps/detections?cell_size_m=0.01", content=csv,
                    headers={**agro, "Content-Type": "text/csv"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "over_budget" and "DOSEWISE_MAX_GRID_CELLS" in r.text


def test_detection_points_and_import_records_have_budgets(client: TestClient, agro: dict[str, str],
                                                          docs: dict[str, Any],
                                                          small_budgets: budgets.Budgets) -> None:
    fid = _field(client, agro, docs)
    lon, lat = docs["field"]["boundary"]["coordinates"][0][0]
    csv = "lon,lat,species\n" + "".join(f"{lon + 1e-5},{lat + 1e-5},ALOMY\n" for _ in range(6))
    r = client.post(f"/v1/fields/{fid}/weed-maps/detections", content=csv.encode(),
                    headers={**agro, "Content-Type": "text/csv"})
    assert r.status_code == 413 and "DOSEWISE_MAX_DETECTION_POINTS" in r.text
    recs = [{"product": "X", "rate": 1, "rate_unit": "L/ha", "area_ha": 1, "date": "2026-05-02"}] * 4
    r = client.post(f"/v1/fields/{fid}/applications/import", json=recs, headers=agro)
    assert r.status_code == 413 and "DOSEWISE_MAX_IMPORT_RECORDS" in r.text


def test_boundary_vertices_have_a_budget(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                         session: Session, small_budgets: budgets.Budgets) -> None:
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    lon, lat = docs["field"]["boundary"]["coordinates"][0][0]
    ring = [[lon + 1e-3 * np.cos(a), lat + 1e-3 * np.sin(a)] for a in t]
    field = {**docs["field"], "boundary": {"type": "Polygon", "coordinates": [ring + [ring[0]]]},
             "sensitive_features": []}
    r = client.post("/v1/fields", json=field, headers=agro)
    assert r.status_code == 422 and "61 is over the budget of 50 (DOSEWISE_MAX_GEOMETRY_VERTICES)" in r.text
    assert session.scalar(select(func.count()).select_from(Field)) == 0


def test_encoded_grid_inflates_no_further_than_its_shape() -> None:
    comp = zlib.compressobj()
    bomb = comp.compress(bytes(64 * 2**20)) + comp.flush()  # 64 MiB of zeros in ~64 KiB
    grid = EncodedGrid(encoding="zlib-base64-float32le", shape=(10, 10), data=base64.b64encode(bomb).decode())
    with pytest.raises(ValueError, match="more than the 100 values"):
        grid.to_array()
    good = zlib.compress(np.arange(4, dtype="<f4").tobytes())
    with pytest.raises(ValueError, match="after the end"):
        EncodedGrid(encoding="zlib-base64-float32le", shape=(2, 2),
                    data=base64.b64encode(good + b"junk").decode()).to_array()
    with pytest.raises(ValueError, match="truncated|needs 4"):
        EncodedGrid(encoding="zlib-base64-float32le", shape=(2, 2),
                    data=base64.b64encode(good[:-6]).decode()).to_array()
    ok = EncodedGrid(encoding="zlib-base64-float32le", shape=(2, 2), data=base64.b64encode(good).decode())
    assert ok.to_array().tolist() == [[0.0, 1.0], [2.0, 3.0]]


# ----------------------------------------------------------------------------- finite numbers, ranges

@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": [1, -Infinity]}', '{"a": 1e400}', '{"a": -2E+999}'])
def test_non_finite_json_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        check_json(text.encode())


def test_json_depth_skips_brackets_in_strings() -> None:
    assert json_depth(b'{"a": "[[[[\\"[[[", "b": [[1]]}') == 3
    assert json_depth(b"[" * 100 + b"]" * 100) == 100
    check_json(b'{"text": "1e400 NaN Infinity as words"}')


def test_nothing_non_finite_or_absurd_is_stored(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                                session: Session) -> None:
    fid = _field(client, agro, docs)
    label = json.dumps(docs["label"]).replace('"max_rate": ', '"max_rate": Infinity, "x_": ')
    r = client.post("/v1/products", content=label.encode(), headers={**agro, "Content-Type": "application/json"})
    assert r.status_code == 422 and "finite" in r.json()["error"]["message"]
    assert session.scalar(select(func.count()).select_from(Product)) == 0
    r = client.post("/v1/prescriptions", json={"field_id": fid, "product_ids": [1],
                                               "sprayer": {"boom_width_m": 1e300}}, headers=agro)
    assert r.status_code == 422 and "boom_width_m" in r.json()["error"]["message"]
    hour = {"time": "2026-05-02T09:00:00Z", "wind_kmh": 5, "wind_dir_deg": 90, "temp_c": 1e6}
    r = client.put(f"/v1/fields/{fid}/forecast", json={"lat": 48.5, "lon": 2.1, "hours": [hour]}, headers=agro)
    assert r.status_code == 422 and "temp_c" in r.text


def test_deep_json_is_a_422(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    fid = _field(client, agro, docs)
    body = b"[" * 5000 + b"]" * 5000
    for path in ("/v1/fields", f"/v1/fields/{fid}/applications/import"):
        r = client.post(path, content=body, headers={**agro, "Content-Type": "application/json"})
        assert r.status_code == 422 and "nested too deeply" in r.json()["error"]["message"], path


# ----------------------------------------------------------------------------- ids and strings (PostgreSQL)

@pytest.mark.parametrize("path", ["/v1/fields/2147483648", "/v1/fields/9223372036854775808",
                                  "/v1/products/0", "/v1/prescriptions/-5"])
def test_ids_no_column_can_hold_are_not_found(client: TestClient, agro: dict[str, str], path: str) -> None:
    r = client.get(path, headers=agro)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_paging_and_body_ids_are_range_checked(client: TestClient, agro: dict[str, str]) -> None:
    assert client.get("/v1/fields?offset=2147483648", headers=agro).status_code == 422
    assert client.get("/v1/fields?offset=2147483647", headers=agro).status_code == 200
    r = client.post("/v1/prescriptions", json={"field_id": 2**63, "product_ids": [1]}, headers=agro)
    assert r.status_code == 422 and "field_id" in r.json()["error"]["message"]


def test_nul_and_overlong_strings_are_422(client: TestClient, agro: dict[str, str], docs: dict[str, Any],
                                          session: Session) -> None:
    r = client.post("/v1/fields", json={**docs["field"], "name": "Les\u0000Prés"}, headers=agro)
    assert r.status_code == 422 and "NUL" in r.json()["error"]["message"]
    fid = _field(client, agro, docs)
    r = client.post(f"/v1/fields/{fid}/weed-maps", json={**docs["weed_map"], "crs": "EPSG:" + "9" * 70},
                    headers=agro)
    assert r.status_code == 422 and "crs" in r.json()["error"]["message"]
    assert client.get("/v1/fields?crop=%00", headers=agro).status_code == 200  # GET query strings: ignored field
    r = client.post(f"/v1/fields/{fid}/weed-maps/detections?crs=%00", content=b"x,y,species\n",
                    headers={**agro, "Content-Type": "text/csv"})
    assert r.status_code == 422
    assert session.scalar(select(func.count()).select_from(WeedMap)) == 0


# ----------------------------------------------------------------------------- headers, health, advice

def test_header_text_is_ascii_and_single_line() -> None:
    for text in ("Désherbant 草\r\nSet-Cookie: x=1", "plain notes", "tab\there"):
        out = header_text(text)
        assert out.isascii() and "\r" not in out and "\n" not in out
    assert header_text("plain notes") == "plain notes"
    cd = content_disposition('Prés "nord"\r\n.zip')
    assert cd.isascii() and "\n" not in cd and "filename*=UTF-8''" in cd


def test_request_id_is_echoed_only_when_safe(client: TestClient) -> None:
    assert client.get("/health", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"] == "abc-123"
    for bad in (b"\xff\xfe", b"a b", b"x" * 65):
        rid = client.get("/health", headers={"X-Request-Id": bad}).headers["x-request-id"]
        assert rid != bad.decode("latin-1") and rid.isalnum()


def test_gzip_body_of_two_members_is_read_whole(client: TestClient, agro: dict[str, str],
                                                docs: dict[str, Any]) -> None:
    text = json.dumps(docs["label"]).encode()
    body = gzip.compress(text[:25]) + gzip.compress(text[25:])
    r = client.post("/v1/products", content=body,
                    headers={**agro, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 201, r.text


def test_health_says_unavailable_without_driver_details() -> None:
    settings = Settings(database_url="postgresql+psycopg://secretuser@127.0.0.1:1/secretdb", environment="test")
    app = create_app(settings, migrate=False)
    # no lifespan (the job engine needs the database at start): the database is lost after start
    r = TestClient(app).get("/health")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable", "database": "unavailable"}


def test_llm_writer_without_an_llm_is_a_422(client: TestClient, agro: dict[str, str], docs: dict[str, Any]) -> None:
    fid = _field(client, agro, docs)
    assert client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=agro).status_code == 201
    pid = client.post("/v1/products", json=docs["label"], headers=agro).json()["id"]
    rx = client.post("/v1/prescriptions", json={"field_id": fid, "product_ids": [pid]}, headers=agro)
    assert rx.status_code == 201, rx.text
    r = client.post(f"/v1/prescriptions/{rx.json()['id']}/advice", json={"writer": "llm"}, headers=agro)
    assert r.status_code == 422 and "DOSEWISE_LLM_BASE_URL" in r.json()["error"]["message"]


def test_openapi_documents_the_error_shape_on_every_operation(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(doc)
    for path, ops in doc["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, op in ops.items():
            for status in ("401", "404", "413", "422"):
                schema = op["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
                     lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=3), kids, max_size=4),
                     max_leaves=30)


def _depth_of(doc: Any) -> int:
    if isinstance(doc, list):
        return 1 + max((_depth_of(v) for v in doc), default=0)
    if isinstance(doc, dict):
        return 1 + max((_depth_of(v) for v in doc.values()), default=0)
    return 0


@given(doc=_JSON, chunk=st.sampled_from([1, 2, 5, 64]))
@settings(max_examples=200, deadline=None)
def test_json_depth_matches_the_parsed_document(doc: Any, chunk: int) -> None:
    import app.api.guards as guards

    before = guards._CHUNK
    guards._CHUNK = chunk  # chunk boundaries anywhere, even inside escapes
    try:
        assert json_depth(json.dumps(doc).encode()) == _depth_of(doc)
    finally:
        guards._CHUNK = before


def test_unknown_crs_for_csv_detections_is_a_422(client: TestClient, agro: dict[str, str],
                                                  docs: dict[str, Any]) -> None:
    fid = _field(client, agro, docs)
    for crs in ("", "nonsense"):
        r = client.post(f"/v1/fields/{fid}/weed-maps/detections?crs={crs}",
                        content=b"lon,lat,species\n2.1,48.5,ALOMY\n", headers={**agro, "Content-Type": "text/csv"})
        assert r.status_code == 422 and "crs" in r.json()["error"]["message"], r.text
