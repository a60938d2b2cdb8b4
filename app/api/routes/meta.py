"""Health and version."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app import __version__

router = APIRouter(tags=["meta"])


@router.get("/health", summary="Health check")
def health(request: Request) -> JSONResponse:
    """200 when the database answers, 503 when it does not."""
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not healthy"
        return JSONResponse(status_code=503, content={"status": "unhealthy", "database": str(exc)[:200]})
    return JSONResponse(content={"status": "ok", "database": "ok"})


@router.get("/version", summary="Service version")
def version(request: Request) -> dict[str, str]:
    """The service's version; no key needed."""
    return {"name": "dosewise", "version": __version__,
            "database": request.app.state.engine.dialect.name}
