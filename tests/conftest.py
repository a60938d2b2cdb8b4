"""Database fixtures: SQLite by default, PostgreSQL when DOSEWISE_TEST_DATABASE_URL says so.

Migrations run once per test session (on PostgreSQL into a schema of its
own); every test runs inside one outer transaction that is rolled back, with
the app's commits turned into SAVEPOINT releases, so tests never leak.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from app.models.db import make_engine
from app.models.migrate import upgrade


def _postgres_url() -> str | None:
    return os.environ.get("DOSEWISE_TEST_DATABASE_URL") or None


def _new_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A new empty database: a SQLite file, or a schema of its own on PostgreSQL."""
    base = _postgres_url()
    if base is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    schema = f"dw_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _new_database(tmp_path_factory)


@pytest.fixture
def fresh_db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """For tests that must commit for real (servers in subprocesses): nobody else's rows."""
    yield from _new_database(tmp_path_factory)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with Session(bind=connection, join_transaction_mode="create_savepoint",
                 expire_on_commit=False) as s:
        yield s
