"""Migrations: they build the schema the models describe, and go down and up again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from app.models.db import make_engine
from app.models.migrate import alembic_config, upgrade
from app.models.tables import Base


def test_migrations_match_models_and_round_trip(fresh_db_url: str) -> None:
    upgrade(fresh_db_url)
    cfg = alembic_config(fresh_db_url)
    command.check(cfg)  # raises if the models have changes no migration holds
    engine = make_engine(fresh_db_url)
    try:
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        command.downgrade(cfg, "base")
        assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
        command.upgrade(cfg, "head")
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
