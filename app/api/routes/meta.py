"""Health and version."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app import __version__

router = APIRouter(tags=["meta"])
log = logging.getLogger("dosewise.health")


@router.get("/health", summary="Health check")
def health(request: Request) -> JSONResponse:
    """200 when the database answers, 503 when it does not.

    The body says only ``ok`` or ``unavailable``: anyone may call this, and a
    driver's error names hosts, ports and databases. The cause goes to the log.
    """
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not healthy"
        log.warning("health check: the database does not answer", exc_info=True)
        return JSONResponse(status_code=503, content={"status": "unavailable", "database": "unavailable"})
    return JSONResponse(content={"status": "ok", "database": "ok"})


@router.get("/version", summary="Service version")
def version(request: Request) -> dict[str, str]:
    """The service's version; no key needed."""
    return {"name": "dosewise", "version": __version__,
            "database": request.app.state.engine.dialect.name}
