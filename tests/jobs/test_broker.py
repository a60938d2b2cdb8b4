"""The real engine: RabbitMQ on 127.0.0.1, two worker processes started here, a database that
commits (SQLite file, or PostgreSQL when DOSEWISE_TEST_DATABASE_URL is set; .ci/run does both).

The crash test kills a worker with SIGKILL while it runs a job: the broker redelivers the
message, the other worker waits out the dead one's heartbeat with backoff, takes the job over,
and the job completes once.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.main import create_app
from app.models import repo
from app.models.db import make_engine, session_factory
from app.models.migrate import upgrade
from app.models.tables import Job, Prescription
from app.settings import Settings
from tests.api.conftest import CRS, FIELD, LABEL, X0, Y0

ROOT = Path(__file__).resolve().parents[2]
AMQP = os.environ.get("DOSEWISE_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def _rabbitmq_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _rabbitmq_up(), reason="RabbitMQ is not listening on 127.0.0.1:5672; "
                                                          ".ci/run starts it")


class Workers:
    """``python -m app.jobs.worker`` processes on one queue of their own."""

    def __init__(self, url: str, queue: str, n: int) -> None:
        self.env = {**os.environ, "DOSEWISE_DATABASE_URL": url, "DOSEWISE_BROKER_URL": AMQP,
                    "DOSEWISE_JOB_QUEUE": queue, "DOSEWISE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        self.procs: list[subprocess.Popen[str]] = []
        for _ in range(n):
            self.start_one()

    def start_one(self) -> subprocess.Popen[str]:
        p = subprocess.Popen([sys.executable, "-m", "app.jobs.worker", "--threads", "1"], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        line = p.stdout.readline() if p.stdout else ""
        assert line.startswith("worker ready"), f"worker did not start: {line!r}"
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdout is not None:
                p.stdout.close()


def _delete_queue(queue: str) -> None:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(AMQP))
    ch = conn.channel()
    for q in (queue, f"{queue}.DQ", f"{queue}.XQ"):
        ch.queue_delete(q)
    conn.close()


@pytest.fixture
def setup(fresh_db_url: str) -> Iterator[dict[str, Any]]:
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    with session_factory(engine)() as s:
        org = repo.get_or_create_org(s, "acme")
        _row, key = repo.create_api_key(s, org, "agronomist")
        s.commit()
    queue = f"dosewise-test-{uuid.uuid4().hex[:10]}"
    settings = Settings(database_url=fresh_db_url, environment="test", broker_url=AMQP, job_queue=queue,
                        job_threshold_cells=0, max_body_mb=64)
    workers = Workers(fresh_db_url, queue, 2)
    try:
        with TestClient(create_app(settings, migrate=False)) as c:
            yield {"client": c, "h": {"Authorization": f"Bearer {key}"}, "workers": workers, "engine": engine}
    finally:
        workers.stop()
        _delete_queue(queue)
        engine.dispose()


def _big_map(n: int) -> dict[str, Any]:
    """An n x n, 0.1 m, two-species map over the test field: enough cells that the economic
    strategy runs for seconds, so a worker can be killed mid-job."""
    rng = np.random.default_rng(5)
    species = {}
    for code in ("ALOMY", "GALAP"):
        a = (rng.random((n // 16, n // 16), dtype=np.float32) < 0.3).repeat(16, 0).repeat(16, 1)
        a = (a * rng.gamma(2.0, 8.0, size=(n, n))).astype("<f4")
        species[code] = {"encoding": "zlib-base64-float32le", "shape": [n, n],
                         "data": base64.b64encode(zlib.compress(a.tobytes(), 1)).decode()}
    return {"crs": CRS, "origin": {"x": X0, "y": Y0 + 60}, "cell_size_m": 0.1, "source": "drone", "species": species}


def _post_field(c: TestClient, h: dict[str, str], n: int) -> dict[str, Any]:
    fid = c.post("/v1/fields", json=FIELD, headers=h).json()["id"]
    r = c.post(f"/v1/fields/{fid}/weed-maps", json=_big_map(n), headers=h)
    assert r.status_code == 201, r.text
    pid = c.post("/v1/products", json=LABEL, headers=h).json()["id"]
    # The map covers 64 % of the field: declare what the rest gets (the coverage rule refuses otherwise).
    return {"field_id": fid, "product_ids": [pid], "uncovered": "no_spray",
            "strategy": {"name": "economic", "economic_candidates": 65}}


def _job(c: TestClient, h: dict[str, str], jid: str) -> dict[str, Any]:
    r = c.get(f"/v1/jobs/{jid}", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def _wait(c: TestClient, h: dict[str, str], jid: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = _job(c, h, jid)
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {jid} still {job['state']} after {timeout_s} s: {job}")


def _rows(engine: Any, model: Any) -> int:
    with session_factory(engine)() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_jobs_spread_over_two_worker_processes(setup) -> None:
    c, h = setup["client"], setup["h"]
    body = _post_field(c, h, 640)
    ids = []
    for _ in range(4):
        r = c.post("/v1/prescriptions", json=body, headers=h)
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    jobs = [_wait(c, h, jid, 120) for jid in ids]
    assert [j["state"] for j in jobs] == ["succeeded"] * 4
    with session_factory(setup["engine"])() as s:
        workers = {w for (w,) in s.execute(select(Job.worker))}
    assert len(workers) == 2, f"all four jobs ran on {workers}"
    assert _rows(setup["engine"], Prescription) == 4
    for j in jobs:
        assert c.get(j["links"]["result"], headers=h).status_code == 200


def test_a_worker_killed_mid_job_the_job_completes_once_on_the_other(setup) -> None:
    c, h, workers = setup["client"], setup["h"], setup["workers"]
    body = _post_field(c, h, 2400)  # 5.8 M cells: seconds of work
    r = c.post("/v1/prescriptions", json=body, headers=h)
    assert r.status_code == 202, r.text
    jid = r.json()["id"]
    deadline = time.monotonic() + 60
    while True:
        job = _job(c, h, jid)
        if job["state"] == "running":
            break
        assert job["state"] == "queued" and time.monotonic() < deadline, job
        time.sleep(0.02)
    with session_factory(setup["engine"])() as s:
        claimed_by = s.get(Job, jid).worker  # type: ignore[union-attr]
    pid = int(claimed_by.rsplit(":", 1)[1])
    assert pid in [p.pid for p in workers.procs]
    os.kill(pid, signal.SIGKILL)
    done = _wait(c, h, jid, 180)
    assert done["state"] == "succeeded", done
    assert done["attempts"] == 2, "the killed attempt, then the one that finished"
    with session_factory(setup["engine"])() as s:
        assert s.get(Job, jid).worker != claimed_by  # type: ignore[union-attr]
    assert _rows(setup["engine"], Prescription) == 1
    assert c.get(done["links"]["result"], headers=h).status_code == 200
