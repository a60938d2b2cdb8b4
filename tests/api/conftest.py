"""An app bound to the test transaction, a client, keys and small documents."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from app.main import create_app
from app.models import repo
from app.settings import Settings

# A 100 m x 60 m field in France (UTM 31N), a stream 3 m west of it.
CRS = "EPSG:32631"
X0, Y0 = 430_000.0, 5_376_000.0  # south-west corner, metres
_to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


def lonlat(x: float, y: float) -> list[float]:
    lon, lat = _to_wgs.transform(x, y)
    return [round(lon, 9), round(lat, 9)]


def ring(x0: float, y0: float, w: float, h: float) -> list[list[float]]:
    pts = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h), (x0, y0)]
    return [lonlat(x, y) for x, y in pts]


FIELD: dict[str, Any] = {
    "name": "Test field",
    "crop": "maize",
    "growth_stage_bbch": 14,
    "country": "FR",
    "boundary": {"type": "Polygon", "coordinates": [ring(X0, Y0, 100, 60)]},
    "sensitive_features": [{
        "kind": "water", "name": "stream",
        "geometry": {"type": "LineString", "coordinates": [lonlat(X0 - 3, Y0 - 10), lonlat(X0 - 3, Y0 + 70)]},
    }],
}

# 1 m cells covering the field exactly: 60 rows (north to south) x 100 columns.
# A 10 x 10 m patch of 20 plants/m² in the east, 5 plants/m² of a second species
# in a patch 0-2 m from the west edge (inside the 5 m water buffer).
def weed_grid() -> dict[str, Any]:
    a = [[0.0] * 100 for _ in range(60)]
    b = [[0.0] * 100 for _ in range(60)]
    for r in range(20, 30):
        for c in range(80, 90):
            a[r][c] = 20.0
    for r in range(10, 20):
        for c in range(0, 2):
            b[r][c] = 5.0
    return {"crs": CRS, "origin": {"x": X0, "y": Y0 + 60}, "cell_size_m": 1.0, "source": "drone",
            "species": {"ALOMY": a, "GALAP": b}}


LABEL: dict[str, Any] = {
    "name": "Testazine 500 SC",
    "registration": "TEST-0001",
    "country": "FR",
    "formulation": "liquid",
    "active_ingredients": [{"name": "testazine", "concentration": 500, "concentration_unit": "g/L"}],
    "hrac_group": "5",
    "rate_unit": "L/ha",
    "min_rate": 0.5,
    "max_rate": 2.0,
    "max_season_rate": 3.0,
    "buffers": [{"kind": "water", "distance": 5, "unit": "m"}],
    "weather": {"wind_max_kmh": 19},
    "crops": [{"crop": "maize", "max_bbch": 18}],
    "price": {"amount": 20.0, "currency": "EUR", "per": "L"},
    "efficacy": [{"species": "ALOMY", "model": "LL.4", "b": 2.0, "e": 0.5},
                 {"species": "GALAP", "model": "LL.4", "b": 2.0, "e": 0.4}],
    "sources": [{"title": "hand-made test label"}],
}


@pytest.fixture
def docs() -> dict[str, Any]:
    return {"field": copy.deepcopy(FIELD), "weed_map": weed_grid(), "label": copy.deepcopy(LABEL)}


@pytest.fixture
def app(db_url: str, engine: Engine, connection: Connection) -> Iterator[FastAPI]:
    settings = Settings(database_url=db_url, environment="test", max_body_mb=2.0, max_upload_mb=8.0, log_json=True)
    application = create_app(settings, engine=engine, migrate=False, run_jobs=False)
    # The app's own session dependency (it commits or rolls back) on the test's transaction:
    # its commits release SAVEPOINTs, the outer transaction is rolled back after the test.
    bound = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    application.state.session_factory = bound
    application.state.write_session_factory = bound
    yield application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_key(session: Session) -> Callable[..., dict[str, str]]:
    """Headers for a new key of ``role`` in organisation ``org``."""

    def _make(role: str = "agronomist", org: str = "acme") -> dict[str, str]:
        o = repo.get_or_create_org(session, org)
        _row, key = repo.create_api_key(session, o, role)
        session.commit()
        return {"Authorization": f"Bearer {key}"}

    return _make


@pytest.fixture
def agro(make_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_key("agronomist", "acme")
