"""One table from domain errors to HTTP status codes, and one error body shape.

Every error response is ``{"error": {"code", "message", "details"?}}`` where
``message`` names the input at fault.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.dosing.prescribe import DosingError
from app.dosing.units import UnitError
from app.geo import GeometryError
from app.pipeline import InputError

log = logging.getLogger("dosewise.errors")


class NotFound(LookupError):
    """A resource that does not exist or belongs to another organisation."""


class Forbidden(PermissionError):
    """The key's role may not do this."""


class Conflict(RuntimeError):
    """The request clashes with what is stored."""


STATUS: list[tuple[type[Exception], int, str]] = [
    (NotFound, 404, "not_found"),
    (Forbidden, 403, "forbidden"),
    (Conflict, 409, "conflict"),
    (GeometryError, 422, "invalid_geometry"),
    (UnitError, 422, "invalid_unit"),
    (DosingError, 422, "dosing_refused"),
    (InputError, 422, "invalid_input"),
]


def register_extra(exc_type: type[Exception], status: int, code: str) -> None:
    """Let a capability (export, advice, ...) add its errors to the table."""
    STATUS.insert(0, (exc_type, status, code))


def status_of(exc: Exception) -> tuple[int | None, str]:
    """The status and code the table gives ``exc`` (None: not a domain error, a 500)."""
    for exc_type, status, code in STATUS:
        if isinstance(exc, exc_type):
            return status, code
    return None, "internal_error"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for err in exc.errors():
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            details.append({"field": _loc(tuple(err.get("loc", ()))), "message": msg})
        first = details[0] if details else {"field": "body", "message": "invalid request"}
        message = first["message"] if first["message"].startswith(first["field"]) else \
            f"{first['field']}: {first['message']}"
        return JSONResponse(status_code=422, content=error_body("invalid_request", message, details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                413: "too_large"}.get(exc.status_code, "http_error")
        return JSONResponse(status_code=exc.status_code, content=error_body(code, str(exc.detail)),
                            headers=getattr(exc, "headers", None))

    for exc_type, _status, _code in STATUS:
        app.add_exception_handler(exc_type, _domain)


async def _domain(_req: Request, exc: Exception) -> JSONResponse:
    for exc_type, status, code in STATUS:
        if isinstance(exc, exc_type):
            return JSONResponse(status_code=status, content=error_body(code, str(exc)))
    raise exc
