"""Every error reaches its status and the ``{"error": {...}}`` shape in a freshly started server.

The test process imports every module while collecting, so an error table
filled by import side effects looks complete here and not in production. The
server therefore runs in a new interpreter that imports ``app.main`` only, as
``dosewise serve`` does. Besides the real requests, it has one extra route that
raises any class of the table by name (some, like a fact sheet error, cannot be
provoked from outside), and one that raises an unexpected error.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely

from tests.ingest.helpers import shapefile_zip

ROOT = Path(__file__).resolve().parents[2]

# Only app.main is imported before the app is built, as in `dosewise serve`.
_SERVE = r"""
import sys
import uvicorn
from app.main import create_app

app = create_app()

from fastapi import HTTPException
from app.api.errors import STATUS
from app.models import repo
from app.samples import load_samples

import app.ingest as ingest

BY_NAME = {cls.__name__: cls for cls in STATUS}
BY_NAME.update({n: getattr(ingest, n) for n in ("UnknownSpecies", "InvalidUnit", "InvalidGeometry", "UnsafeArchive")})

@app.get("/_test/raise/{name}")
def raise_named(name: str) -> None:
    cls = BY_NAME.get(name)
    if cls is None:
        raise HTTPException(404, name)
    if name == "TooLarge":
        raise cls(f"raised {name}", cap_bytes=1)
    if name == "UnknownSpecies":
        raise cls(f"raised {name}", codes=["XXXXX"])
    raise cls(f"raised {name}")

@app.get("/_test/bug")
def bug() -> None:
    raise RuntimeError("disk on fire")

with app.state.session_factory() as s:
    load_samples(s, "demo")
    org = repo.get_or_create_org(s, "demo")
    _row, key = repo.create_api_key(s, org, "agronomist")
    _row, farmer = repo.create_api_key(s, org, "farmer")
    s.commit()
print(key, farmer, flush=True)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    def __init__(self, url: str, key: str, farmer: str, log: Path) -> None:
        self.url, self.key, self.farmer, self.log = url, key, farmer, log

    def call(self, method: str, path: str, *, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.key}", **kw.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kw)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    tmp = tmp_path_factory.mktemp("fresh")
    db = os.environ.get("DOSEWISE_TEST_DATABASE_URL")
    port = _free_port()
    env = {**os.environ, "DOSEWISE_DATA_DIR": str(tmp), "DOSEWISE_ENVIRONMENT": "test",
           "DOSEWISE_SHARE_DIR": str(ROOT / "data"), "DOSEWISE_LOG_JSON": "true", "PYTHONPATH": str(ROOT)}
    env.pop("DOSEWISE_DATABASE_URL", None)
    if db:  # PostgreSQL run: a schema of its own, dropped afterwards
        schema = f"dw_fresh_{port}"
        from sqlalchemy import text

        from app.models.db import make_engine

        admin = make_engine(db)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        env["DOSEWISE_DATABASE_URL"] = f"{db}{'&' if '?' in db else '?'}options=-csearch_path%3D{schema}"
    log = tmp / "server.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", _SERVE, str(port)], cwd=tmp, env=env,
                                stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert len(line) == 2, f"server did not start: {log.read_text()[-3000:]}"
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail(f"server did not answer: {log.read_text()[-3000:]}")
        yield _Server(url, line[0], line[1], log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
        if db:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    err = r.json()["error"]
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"]
    return dict(err)


@pytest.fixture(scope="module")
def ids(server: _Server) -> dict[str, int]:
    rx = server.call("GET", "/v1/prescriptions").json()
    assert rx, "the sample loader made no prescription"
    return {"prescription": rx[0]["id"], "field": rx[0]["field_id"]}


def test_unknown_export_format(server: _Server, ids: dict[str, int]) -> None:
    err = _error(server.call("GET", f"/v1/prescriptions/{ids['prescription']}/export/kml"), 422, "export_refused")
    assert "kml" in err["message"] and "geojson" in err["message"]  # names the bad one and the valid ones


def test_unknown_terminal(server: _Server, ids: dict[str, int]) -> None:
    err = _error(server.call("GET", f"/v1/prescriptions/{ids['prescription']}/export/shapefile",
                             params={"terminal": "deere"}), 422, "export_refused")
    assert "deere" in err["message"]


def test_garbage_geotiff(server: _Server, ids: dict[str, int]) -> None:
    r = server.call("POST", f"/v1/fields/{ids['field']}/weed-maps/geotiff", content=b"II*\x00 not a tiff" * 50,
                    headers={"Content-Type": "image/tiff"})
    _error(r, 422, "invalid_upload")


def test_shapefile_zip_without_dbf(server: _Server) -> None:
    square = shapely.box(2.1, 48.5, 2.102, 48.5015)
    data = shapefile_zip([square], keep=(".shp", ".shx", ".prj"))
    r = server.call("POST", "/v1/fields/import", data={"name": "no dbf", "crop": "maize"},
                    files={"boundary": ("field.zip", data, "application/zip")})
    err = _error(r, 422, "invalid_upload")
    assert ".dbf" in err["message"]


def test_bad_detections_csv(server: _Server, ids: dict[str, int]) -> None:
    r = server.call("POST", f"/v1/fields/{ids['field']}/weed-maps/detections",
                    content=b"colour,size\nred,3\n", headers={"Content-Type": "text/csv"})
    _error(r, 422, "invalid_upload")


def test_zip_bomb_is_413_not_422(server: _Server) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("field.shp", b"\0" * (20 * 2**20))  # inflates ~1000 times
    r = server.call("POST", "/v1/fields/import", data={"name": "bomb", "crop": "maize"},
                    files={"boundary": ("field.zip", buf.getvalue(), "application/zip")})
    _error(r, 413, "too_large")


def test_not_found_forbidden_conflict(server: _Server, ids: dict[str, int]) -> None:
    _error(server.call("GET", "/v1/prescriptions/99999999"), 404, "not_found")
    _error(server.call("POST", "/v1/prescriptions", key=server.farmer, json={"field_id": ids["field"],
                                                                              "product_ids": [1]}),
           403, "forbidden")
    doc = {"dose": [0, 10, 30, 90], "response": [4.0, 3.0, 2.0, 1.0], "model": "LL.4"}
    _error(server.call("POST", "/v1/dose-response/fit", json={**doc, "response": [1.0]}), 422, "fit_failed")
    label = json.loads((ROOT / "data" / "labels" / "callisto-fr.json").read_text())
    first = server.call("POST", "/v1/products", json={**label, "name": "idem A"}, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201, first.text
    _error(server.call("POST", "/v1/products", json={**label, "name": "idem B"}, headers={"Idempotency-Key": "k1"}),
           409, "conflict")


def test_every_class_of_the_table(server: _Server) -> None:
    from app.api.errors import STATUS

    for cls, (status, code) in STATUS.items():
        err = _error(server.call("GET", f"/_test/raise/{cls.__name__}"), status, code)
        assert err["message"] == f"raised {cls.__name__}"
    # classes not in the table take their nearest listed base along the MRO: an upload's
    # unit or geometry error is an upload error first (as before), an unsafe zip too
    for name in ("UnknownSpecies", "InvalidUnit", "InvalidGeometry", "UnsafeArchive"):
        assert name not in {c.__name__ for c in STATUS}
        _error(server.call("GET", f"/_test/raise/{name}"), 422, "invalid_upload")


def test_unexpected_error_is_a_json_500_with_request_id(server: _Server) -> None:
    r = server.call("GET", "/_test/bug", headers={"X-Request-Id": "req-fresh-500"})
    err = _error(r, 500, "internal_error")
    assert err["request_id"] == "req-fresh-500" and "req-fresh-500" in err["message"]
    assert "disk on fire" not in r.text  # no internals in the answer ...
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [json.loads(x) for x in server.log.read_text().splitlines() if x.startswith("{")]
        failed = [x for x in lines if x.get("request_id") == "req-fresh-500" and x.get("status") == 500]
        if failed:
            break
        time.sleep(0.1)
    assert failed, server.log.read_text()[-2000:]
    assert "disk on fire" in failed[0]["traceback"]  # ... but in the log, under the same request id
