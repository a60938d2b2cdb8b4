"""Compute holds no transaction: while a prescription is being computed (request or job), another
writer takes the SQLite write lock at once and the pool has no connection checked out."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.main import create_app
from app.models import repo
from app.models.db import make_engine, session_factory
from app.models.migrate import upgrade
from app.models.tables import Application, Prescription
from app.services import prescriptions as rx_service
from app.settings import Settings
from tests.api.conftest import FIELD, LABEL, weed_grid


@pytest.fixture
def db(fresh_db_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    with session_factory(engine)() as s:
        _row, key = repo.create_api_key(s, repo.get_or_create_org(s, "acme"), "agronomist")
        s.commit()
    yield fresh_db_url, {"Authorization": f"Bearer {key}"}
    engine.dispose()


def _setup(c: TestClient, h: dict[str, str]) -> dict[str, Any]:
    fid = c.post("/v1/fields", json=FIELD, headers=h).json()["id"]
    c.post(f"/v1/fields/{fid}/weed-maps", json=weed_grid(), headers=h)
    pid = c.post("/v1/products", json=LABEL, headers=h).json()["id"]
    return {"field_id": fid, "product_ids": [pid], "strategy": {"name": "economic"}}


def _probe(url: str, app: Any) -> dict[str, Any]:
    """What a concurrent writer sees right now."""
    seen: dict[str, Any] = {"checked_out": app.state.engine.pool.checkedout()}
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # fails at once with "database is locked" if a writer holds it
            conn.execute("ROLLBACK")
            seen["write_lock_free"] = True
        except sqlite3.OperationalError as exc:
            seen["write_lock_free"] = str(exc)
        finally:
            conn.close()
    return seen


@pytest.mark.parametrize("threshold", [10**9, 0], ids=["request", "job"])
def test_nothing_is_held_while_computing(db, monkeypatch: pytest.MonkeyPatch, threshold: int) -> None:
    url, h = db
    app = create_app(Settings(database_url=url, environment="test", job_threshold_cells=threshold),
                     migrate=False)
    probes: list[dict[str, Any]] = []
    real = rx_service.compute_prescription

    def spy(inputs: Any) -> Any:
        # Other threads (the request finishing, the relay, the heartbeat) hold a connection for
        # milliseconds; this thread holds what it holds for as long as it waits here. So wait
        # for the pool to drain: it only fails to if the computing thread itself holds one.
        deadline = time.monotonic() + 5
        seen = _probe(url, app)
        while (seen["checked_out"] or seen.get("write_lock_free", True) is not True) and \
                time.monotonic() < deadline:
            time.sleep(0.02)
            seen = _probe(url, app)
        probes.append(seen)
        return real(inputs)

    monkeypatch.setattr(rx_service, "compute_prescription", spy)
    with TestClient(app) as c:
        body = _setup(c, h)
        r = c.post("/v1/prescriptions", json=body, headers=h)
        assert r.status_code == (201 if threshold else 202), r.text
        if threshold == 0:
            deadline = time.monotonic() + 60
            while not probes:  # no polling until the probe ran: a GET would hold a connection itself
                assert time.monotonic() < deadline
                time.sleep(0.05)
            while c.get(r.headers["location"], headers=h).json()["state"] != "succeeded":
                assert time.monotonic() < deadline
                time.sleep(0.05)
    assert len(probes) == 1
    assert probes[0]["checked_out"] == 0, "a pooled connection was held across the computation"
    if url.startswith("sqlite"):
        assert probes[0]["write_lock_free"] is True


def test_an_application_recorded_while_computing_refuses_the_stale_prescription(db, monkeypatch) -> None:
    """The season remainder capped the rates when read; a new application lowers it: 409, nothing stored."""
    url, h = db
    app = create_app(Settings(database_url=url, environment="test"), migrate=False, run_jobs=False)
    real = rx_service.compute_prescription

    def meanwhile(inputs: Any) -> Any:
        with session_factory(app.state.engine)() as s:
            s.add(Application(org_id=inputs.org_id, field_id=inputs.field_id, product_id=inputs.product_ids[0],
                              rate_value=1.0, rate_unit="L/ha", rate_canonical=1.0, area_ha=0.6,
                              applied_at=datetime.now(UTC), source="manual"))
            s.commit()
        return real(inputs)

    monkeypatch.setattr(rx_service, "compute_prescription", meanwhile)
    with TestClient(app) as c:
        r = c.post("/v1/prescriptions", json=_setup(c, h), headers=h)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "conflict" and "season maximum" in r.json()["error"]["message"]
    with session_factory(app.state.engine)() as s:
        assert s.scalar(select(func.count()).select_from(Prescription)) == 0
