"""Fixtures for the map pages: an in-process app with the web router, and a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.web.routes import router
from tests.api.conftest import FIELD, LABEL, app, docs, make_key, weed_grid  # noqa: F401 (fixtures)
from tests.web import server as srv


@pytest.fixture
def web_client(app: FastAPI) -> Iterator[TestClient]:  # noqa: F811
    """The API app with the map router included, as ``app/main.py`` will include it."""
    if not any(getattr(r, "path", None) == "/v1/map" for r in app.routes):
        app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[srv.Server]:
    """uvicorn on 127.0.0.1 with a temp SQLite database: the small test field and the three samples."""
    tmp = tmp_path_factory.mktemp("webserver")
    server = srv.start(f"sqlite:///{tmp / 'web.sqlite3'}", tmp)
    try:
        srv.load_documents(server, {"field": FIELD, "weed_map": weed_grid(), "label": LABEL}, "small",
                           ("threshold", "broadcast"))
        for name in srv.SAMPLE_LABELS:
            srv.load_sample(server, name)
        yield server
    finally:
        server.stop()


@pytest.fixture
def chrome(tmp_path: Path) -> Iterator[object]:
    if srv.chromium_paths() is None:
        pytest.skip("headless Chromium not found (/usr/bin/chromium and /usr/bin/chromedriver); "
                    "install the Debian packages chromium and chromium-driver")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = srv.browser(tmp_path / "profile", download_dir=downloads)
    driver.download_dir = downloads
    try:
        yield driver
    finally:
        driver.quit()
