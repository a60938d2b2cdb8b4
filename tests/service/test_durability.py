"""A server killed in the middle of an upload leaves nothing behind.

The service runs in a subprocess on 127.0.0.1 (real uvicorn, real database);
an upload is streamed slowly and the process gets SIGKILL half way.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.models import repo
from app.models.db import make_engine, session_factory
from app.models.migrate import upgrade
from app.models.tables import Field, WeedMap
from tests.api.conftest import FIELD, weed_grid


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DOSEWISE_DATABASE_URL": url, "DOSEWISE_DATA_DIR": str(tmp)}
    code = ("import uvicorn; from app.main import create_app; "
            f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    # Generous: importing the app costs seconds of CPU, and a loaded 2-core machine stretches that.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    raise RuntimeError("server did not start within 90 s")


@pytest.fixture
def server(fresh_db_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    with session_factory(engine)() as s:
        org = repo.get_or_create_org(s, "durable")
        _row, key = repo.create_api_key(s, org, "agronomist")
        s.commit()
    port = _free_port()
    proc = _start(fresh_db_url, port, tmp_path)
    info = {"url": f"http://127.0.0.1:{port}", "key": key, "proc": proc, "engine": engine}
    try:
        yield info
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        engine.dispose()


def _counts(engine: Any) -> tuple[int, int]:
    with session_factory(engine)() as s:
        return (s.scalar(select(func.count()).select_from(Field)) or 0,
                s.scalar(select(func.count()).select_from(WeedMap)) or 0)


def test_kill_during_upload_leaves_nothing(server: dict[str, Any]) -> None:
    h = {"Authorization": f"Bearer {server['key']}"}
    r = httpx.post(f"{server['url']}/v1/fields", json=FIELD, headers=h, timeout=10)
    assert r.status_code == 201
    fid = r.json()["id"]
    before = _counts(server["engine"])

    body = json.dumps(weed_grid()).encode()
    killed = {"done": False}

    def slow_chunks() -> Iterator[bytes]:
        step = max(1, len(body) // 20)
        for i in range(0, len(body), step):
            if i >= len(body) // 2 and not killed["done"]:
                server["proc"].send_signal(signal.SIGKILL)
                server["proc"].wait(timeout=10)
                killed["done"] = True
            yield body[i:i + step]
            time.sleep(0.02)

    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{server['url']}/v1/fields/{fid}/weed-maps", content=slow_chunks(),
                   headers={**h, "Content-Type": "application/json"}, timeout=10)
    assert killed["done"]
    assert _counts(server["engine"]) == before  # no weed map, no partial row


def test_client_disconnect_stores_nothing(server: dict[str, Any]) -> None:
    h = {"Authorization": f"Bearer {server['key']}"}
    fid = httpx.post(f"{server['url']}/v1/fields", json=FIELD, headers=h, timeout=10).json()["id"]
    before = _counts(server["engine"])
    body = json.dumps(weed_grid()).encode()
    # Announce the whole body, send half of it, hang up.
    with socket.create_connection(("127.0.0.1", int(server["url"].rsplit(":", 1)[1]))) as sock:
        head = (f"POST /v1/fields/{fid}/weed-maps HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {server['key']}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        sock.sendall(head + body[: len(body) // 2])
        time.sleep(0.3)
    time.sleep(0.5)
    assert server["proc"].poll() is None  # the server survived
    assert _counts(server["engine"]) == before
    # and still takes the full upload afterwards
    r = httpx.post(f"{server['url']}/v1/fields/{fid}/weed-maps", content=body,
                   headers={**h, "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 201 and _counts(server["engine"])[1] == before[1] + 1


@pytest.mark.skipif(not os.environ.get("DOSEWISE_TEST_DATABASE_URL"),
                    reason="needs PostgreSQL (DOSEWISE_TEST_DATABASE_URL) to hold the server between its "
                           "INSERT and its COMMIT; .ci/run runs it")
def test_kill_between_insert_and_commit_leaves_nothing(server: dict[str, Any]) -> None:
    """The server is stopped after it wrote the weed map's row, before it committed.

    The test holds an uncommitted idempotency record with the key the upload
    will use, so the server's own record insert waits on the unique index after
    the weed map row is in. Then the server gets SIGKILL.
    """
    import threading

    from sqlalchemy import text

    from app.models.tables import IdempotencyRecord

    h = {"Authorization": f"Bearer {server['key']}"}
    fid = httpx.post(f"{server['url']}/v1/fields", json=FIELD, headers=h, timeout=10).json()["id"]
    before = _counts(server["engine"])
    engine = server["engine"]
    blocker = engine.connect()
    tx = blocker.begin()
    org_id = blocker.execute(select(Field.org_id).where(Field.id == fid)).scalar_one()
    blocker.execute(IdempotencyRecord.__table__.insert().values(
        org_id=org_id, key="held", request_hash="0" * 64, method_path="test", status_code=201, response={}))

    def upload() -> None:
        try:
            httpx.post(f"{server['url']}/v1/fields/{fid}/weed-maps", json=weed_grid(),
                       headers={**h, "Idempotency-Key": "held"}, timeout=30)
        except httpx.HTTPError:
            pass  # the server dies under it

    t = threading.Thread(target=upload)
    t.start()
    waiting_pid = None
    deadline = time.monotonic() + 20
    try:
        with engine.connect() as watch:
            while waiting_pid is None and time.monotonic() < deadline:
                waiting_pid = watch.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query ILIKE '%INSERT INTO idempotency_records%' AND pid <> pg_backend_pid()")).scalar()
                watch.rollback()
                time.sleep(0.05)
            assert waiting_pid is not None, "the upload never reached its idempotency insert"
            # the weed map row is already written in the server's open transaction
            wrote = watch.execute(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON l.relation = c.oid "
                "WHERE l.pid = :p AND c.relname = 'weed_maps' AND l.mode = 'RowExclusiveLock'"),
                {"p": waiting_pid}).scalar()
            assert wrote, "the server had not inserted the weed map yet"
            server["proc"].send_signal(signal.SIGKILL)
            server["proc"].wait(timeout=10)
    finally:
        tx.rollback()
        blocker.close()
    t.join(timeout=30)
    with engine.connect() as watch:  # the orphaned backend aborts once its lock wait ends
        while watch.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                            {"p": waiting_pid}).scalar() and time.monotonic() < deadline + 20:
            watch.rollback()
            time.sleep(0.1)
    assert _counts(engine) == before  # the orphaned transaction was rolled back: no weed map
    with session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
