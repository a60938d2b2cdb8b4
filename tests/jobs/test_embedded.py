"""Jobs on the embedded engine (no broker: Dramatiq's StubBroker and a worker pool in the API process),
on a database that really commits (SQLite file, or a PostgreSQL schema of its own)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.main import create_app
from app.models import repo
from app.models.db import make_engine, session_factory
from app.models.migrate import upgrade
from app.models.tables import Job, Prescription
from app.settings import Settings
from tests.api.conftest import FIELD, LABEL, weed_grid


def _app(url: str, *, run_jobs: bool = True, **overrides: Any) -> Any:
    settings = Settings(database_url=url, environment="test", log_json=True, **overrides)
    return create_app(settings, migrate=False, run_jobs=run_jobs)


@pytest.fixture
def db(fresh_db_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    with session_factory(engine)() as s:
        org = repo.get_or_create_org(s, "acme")
        _row, key = repo.create_api_key(s, org, "agronomist")
        s.commit()
    yield fresh_db_url, {"Authorization": f"Bearer {key}"}
    engine.dispose()


def _setup(c: TestClient, h: dict[str, str]) -> dict[str, Any]:
    fid = c.post("/v1/fields", json=FIELD, headers=h).json()["id"]
    wid = c.post(f"/v1/fields/{fid}/weed-maps", json=weed_grid(), headers=h).json()["id"]
    pid = c.post("/v1/products", json=LABEL, headers=h).json()["id"]
    return {"field_id": fid, "weed_map_id": wid, "product_ids": [pid],
            "strategy": {"name": "threshold", "threshold_plants_m2": 2}}


def _wait(c: TestClient, h: dict[str, str], url: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = c.get(url, headers=h).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {url} still {job['state']} after {timeout_s} s")


def _count(url: str, model: Any) -> int:
    engine = make_engine(url)
    with session_factory(engine)() as s:
        n = s.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return n


def test_a_large_prescription_is_a_job_with_the_same_result_as_the_synchronous_route(db) -> None:
    url, h = db
    with TestClient(_app(url, job_threshold_cells=100_000)) as sync_client:
        body = _setup(sync_client, h)  # 60 x 100 = 6,000 cells: under the threshold
        sync = sync_client.post("/v1/prescriptions", json=body, headers=h)
    assert sync.status_code == 201, sync.text
    with TestClient(_app(url, job_threshold_cells=5_999)) as c:
        r = c.post("/v1/prescriptions", json=body, headers=h)
        assert r.status_code == 202, r.text
        assert r.headers["location"] == f"/v1/jobs/{r.json()['id']}"
        assert r.json()["state"] == "queued" and r.json()["links"]["result"] is None
        job = _wait(c, h, r.headers["location"])
        assert job["state"] == "succeeded" and job["progress_pct"] == 100 and job["attempts"] == 1
        assert job["links"]["cancel"] is None
        rx = c.get(job["links"]["result"], headers=h)
    assert rx.status_code == 200
    assert rx.json()["summary"] == sync.json()["summary"]
    assert rx.json()["id"] != sync.json()["id"]


def test_idempotency_key_replays_the_job_and_stores_one_prescription(db) -> None:
    url, h = db
    with TestClient(_app(url, job_threshold_cells=0)) as c:
        body = _setup(c, h)
        k = {**h, "Idempotency-Key": "rx-once-1"}
        first = c.post("/v1/prescriptions", json=body, headers=k)
        second = c.post("/v1/prescriptions", json=body, headers=k)
        assert first.status_code == second.status_code == 202
        assert first.json()["id"] == second.json()["id"]
        assert second.headers.get("idempotent-replayed") == "true"
        assert _wait(c, h, f"/v1/jobs/{first.json()['id']}")["state"] == "succeeded"
        other = c.post("/v1/prescriptions", json={**body, "strategy": {"name": "broadcast"}}, headers=k)
        assert other.status_code == 409
    assert _count(url, Prescription) == 1
    assert _count(url, Job) == 1


def test_a_cancelled_job_never_stores_a_result(db) -> None:
    url, h = db
    app = _app(url, job_threshold_cells=0, run_jobs=False)  # no workers: the job stays queued
    with TestClient(app) as c:
        body = _setup(c, h)
        job = c.post("/v1/prescriptions", json=body, headers=h).json()
        cancelled = c.post(f"/v1/jobs/{job['id']}/cancel", headers=h)
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        app.state.jobs._run(job["id"])  # the message arrives after all: nothing happens
        assert c.get(f"/v1/jobs/{job['id']}", headers=h).json()["state"] == "cancelled"
        again = c.post(f"/v1/jobs/{job['id']}/cancel", headers=h).json()
        assert again["state"] == "cancelled"
    assert _count(url, Prescription) == 0


def test_a_repeated_message_after_success_does_nothing(db) -> None:
    url, h = db
    app = _app(url, job_threshold_cells=0, run_jobs=False)
    with TestClient(app) as c:
        job = c.post("/v1/prescriptions", json=_setup(c, h), headers=h).json()
        app.state.jobs._run(job["id"])
        app.state.jobs._run(job["id"])  # at-least-once delivery: the second is a no-op
        done = c.get(f"/v1/jobs/{job['id']}", headers=h).json()
    assert done["state"] == "succeeded" and done["attempts"] == 1
    assert _count(url, Prescription) == 1


def test_a_refused_request_fails_the_job_with_the_usual_error_shape(db) -> None:
    url, h = db
    with TestClient(_app(url, job_threshold_cells=0)) as c:
        body = _setup(c, h)
        # 9 L/ha is above the label maximum (2 L/ha): the dosing refuses, no retry helps
        body["strategy"] = {"name": "broadcast", "rates": [9.0]}
        job = _wait(c, h, c.post("/v1/prescriptions", json=body, headers=h).headers["location"])
    assert job["state"] == "failed" and job["attempts"] == 1
    assert job["error"]["code"] == "invalid_input" and job["error"]["status"] == 422
    assert "strategy.rates" in job["error"]["message"]
    assert _count(url, Prescription) == 0


def test_jobs_of_another_organisation_are_not_found(db) -> None:
    url, h = db
    engine = make_engine(url)
    with session_factory(engine)() as s:
        _row, other = repo.create_api_key(s, repo.get_or_create_org(s, "other"), "agronomist")
        s.commit()
    engine.dispose()
    app = _app(url, job_threshold_cells=0, run_jobs=False)
    with TestClient(app) as c:
        job = c.post("/v1/prescriptions", json=_setup(c, h), headers=h).json()
        r = c.get(f"/v1/jobs/{job['id']}", headers={"Authorization": f"Bearer {other}"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert c.post(f"/v1/jobs/{job['id']}/cancel", headers={"Authorization": f"Bearer {other}"}).status_code == 404
        assert c.get("/v1/jobs/no-such-job", headers=h).status_code == 404


def test_an_undispatched_job_is_sent_by_the_relay(db) -> None:
    """The API stopped between commit and send: the outbox row is picked up later."""
    url, h = db
    app = _app(url, job_threshold_cells=0, run_jobs=False)
    with TestClient(app) as c:
        body = _setup(c, h)
        app.state.jobs.dispatch = lambda ids: None  # the send is lost
        job = c.post("/v1/prescriptions", json=body, headers=h).json()
    engine = make_engine(url)
    with session_factory(engine)() as s:
        row = s.get(Job, job["id"])
        assert row is not None and row.dispatched_at is None and row.state == "queued"
    engine.dispose()
    with TestClient(_app(url, job_threshold_cells=0)) as c:  # next start: relay + pool
        done = _wait(c, h, f"/v1/jobs/{job['id']}", timeout_s=60)
    assert done["state"] == "succeeded"
    assert _count(url, Prescription) == 1
