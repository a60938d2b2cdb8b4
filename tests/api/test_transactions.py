"""Who commits, and when: the session dependency only; advice is worded with no transaction open.

These tests use the app's real session factories on a database of their own
(not the rolled-back test transaction), and watch every connection with
SQLAlchemy events: which transactions are open, which statements write, and
on which kind of session.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection

from app.main import create_app
from app.models import repo
from app.models.db import WRITE_OPTION, make_engine, session_factory
from app.models.migrate import upgrade
from app.settings import Settings


class _Watch:
    """Open transactions and writing statements, per connection."""

    def __init__(self, engine: Engine) -> None:
        self.open: set[int] = set()
        self.writes: list[tuple[bool, str]] = []  # (on a write session?, statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)
        event.listen(engine, "before_cursor_execute", self._execute)

    def _begin(self, conn: Connection) -> None:
        self.open.add(id(conn.connection.dbapi_connection))

    def _end(self, conn: Connection) -> None:
        self.open.discard(id(conn.connection.dbapi_connection))

    def _execute(self, conn: Connection, _cursor: Any, statement: str, *_a: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            self.writes.append((bool(conn.get_execution_options().get(WRITE_OPTION)), statement.split()[0:3][-1]))


@pytest.fixture
def real(fresh_db_url: str) -> Iterator[tuple[TestClient, _Watch, dict[str, str]]]:
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    with session_factory(engine)() as s:
        org = repo.get_or_create_org(s, "tx")
        _row, key = repo.create_api_key(s, org, "agronomist")
        s.commit()
    settings = Settings(database_url=fresh_db_url, environment="test")
    app = create_app(settings, engine=engine, migrate=False)
    watch = _Watch(engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, watch, {"Authorization": f"Bearer {key}"}
    engine.dispose()


def _prescription(client: TestClient, h: dict[str, str], docs: dict[str, Any]) -> int:
    fid = client.post("/v1/fields", json=docs["field"], headers=h).json()["id"]
    assert client.post(f"/v1/fields/{fid}/weed-maps", json=docs["weed_map"], headers=h).status_code == 201
    pid = client.post("/v1/products", json=docs["label"], headers=h).json()["id"]
    r = client.post("/v1/prescriptions", headers=h, json={"field_id": fid, "product_ids": [pid]})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_get_advice_words_outside_any_transaction_and_writes_on_a_write_session(
        real: tuple[TestClient, _Watch, dict[str, str]], docs: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    client, watch, h = real
    rx = _prescription(client, h, docs)
    import app.api.routes.advice as advice_routes

    open_while_wording: list[int] = []
    real_word = advice_routes.word

    def word(*args: Any, **kwargs: Any) -> Any:
        open_while_wording.append(len(watch.open))  # the model would be called here
        return real_word(*args, **kwargs)

    monkeypatch.setattr(advice_routes, "word", word)
    watch.writes.clear()
    r = client.get(f"/v1/prescriptions/{rx}/advice", headers=h)
    assert r.status_code == 200, r.text
    assert open_while_wording == [0]
    assert watch.writes and all(on_write for on_write, _ in watch.writes), watch.writes
    assert not watch.open  # committed, nothing left open
    # stored: the second read words nothing and writes nothing
    watch.writes.clear()
    assert client.get(f"/v1/prescriptions/{rx}/advice", headers=h).json()["stored_at"] == r.json()["stored_at"]
    assert open_while_wording == [0] and watch.writes == []


def test_post_advice_holds_no_write_lock_while_wording(real: tuple[TestClient, _Watch, dict[str, str]],
                                                      docs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client, watch, h = real
    rx = _prescription(client, h, docs)
    import app.api.routes.advice as advice_routes

    open_while_wording: list[int] = []
    real_word = advice_routes.word
    monkeypatch.setattr(advice_routes, "word", lambda *a, **k: (open_while_wording.append(len(watch.open)),
                                                                 real_word(*a, **k))[1])
    r = client.post(f"/v1/prescriptions/{rx}/advice", headers=h, json={"lang": "fr"})
    assert r.status_code == 200, r.text
    assert open_while_wording == [0]


def test_a_failure_after_flush_commits_nothing(real: tuple[TestClient, _Watch, dict[str, str]],
                                               docs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    client, _watch, h = real
    import app.api.routes.fields as field_routes

    def fail(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("after the flush")

    monkeypatch.setattr(field_routes, "field_public", fail)  # runs after create_field flushed the row
    assert client.post("/v1/fields", json=docs["field"], headers=h).status_code == 500
    assert client.get("/v1/fields", headers=h).json() == []
