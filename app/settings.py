"""Service settings, read from the environment with a ``DOSEWISE_`` prefix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.budgets import DEFAULT as DEFAULT_BUDGETS
from app.budgets import Budgets


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    ``DOSEWISE_DATABASE_URL`` defaults to a SQLite file in ``data_dir``
    (created on first run); any SQLAlchemy URL works, e.g.
    ``postgresql+psycopg://user@127.0.0.1:5432/dosewise``.
    """

    model_config = SettingsConfigDict(env_prefix="DOSEWISE_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("var"), description="where the SQLite file and exports live")
    database_url: str | None = None
    max_body_mb: float = Field(default=64.0, gt=0, description="requests above this get 413")
    max_upload_mb: float = Field(default=1024.0, gt=0, description="raster uploads (streamed to disk) above "
                                                                     "this get 413")
    log_level: str = "INFO"
    log_json: bool = True
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = Field(default=20.0, gt=0, description="bounds the whole exchange with the model")
    llm_max_tokens: int = Field(default=1200, ge=100, le=8000, description="cap on one answer, in tokens")
    llm_max_chars: int = Field(default=12_000, ge=1000, le=100_000, description="cap on one answer, in characters")
    llm_second_opinion: bool = Field(default=False, description="ask the same model to list contradicting "
                                                                "instructions before accepting its advice")
    map_tiles_url: str | None = Field(default=None, description="optional background tiles, {z}/{x}/{y}")
    broker_url: str | None = Field(default=None, description="job broker, amqp://... (RabbitMQ) or redis://...; "
                                                             "none: an in-process worker pool (embedded)")
    job_queue: str = Field(default="dosewise", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$",
                           description="the broker queue jobs go to")
    job_threshold_cells: int = Field(default=4_000_000, ge=0, description="prescriptions on weed maps with more "
                                     "cells than this run as jobs (202 + /v1/jobs/{id}); 0: always")
    job_workers: int = Field(default=2, ge=1, le=64, description="threads of the in-process worker pool")
    # Per-request budgets (app/budgets.py; README "Limits"): checked before anything is allocated.
    max_grid_cells: int = Field(default=DEFAULT_BUDGETS.grid_cells, gt=0)
    max_species_per_map: int = Field(default=DEFAULT_BUDGETS.species_per_map, gt=0)
    max_map_values: int = Field(default=DEFAULT_BUDGETS.map_values, gt=0)
    max_geometry_vertices: int = Field(default=DEFAULT_BUDGETS.geometry_vertices, gt=0)
    max_import_records: int = Field(default=DEFAULT_BUDGETS.import_records, gt=0)
    max_detection_points: int = Field(default=DEFAULT_BUDGETS.detection_points, gt=0)
    max_header_kb: int = Field(default=16, gt=0, description="request line + headers above this are refused "
                                                               "by the HTTP server (431/400)")
    shutdown_grace_s: float = Field(default=30.0, gt=0, description="on SIGTERM, requests still running after "
                                                                      "this are cut off")
    fit_max_curves: int = Field(default=50, gt=0, description="dose-response fits with more curves get 422")
    fit_max_observations: int = Field(default=5000, gt=0,
                                      description="dose-response fits with more observations get 422")

    @model_validator(mode="after")
    def _safe_outside_development(self) -> Settings:
        if self.environment == "production" and self.resolved_database_url.startswith("sqlite"):
            raise ValueError("production needs DOSEWISE_DATABASE_URL set to a server database")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dosewise.sqlite3').resolve()}"

    @property
    def budgets(self) -> Budgets:
        return Budgets(grid_cells=self.max_grid_cells, species_per_map=self.max_species_per_map,
                       map_values=self.max_map_values, geometry_vertices=self.max_geometry_vertices,
                       import_records=self.max_import_records, detection_points=self.max_detection_points)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


@lru_cache
def get_settings() -> Settings:
    return Settings()
