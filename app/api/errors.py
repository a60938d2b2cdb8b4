"""One table from errors to HTTP status codes, and one error body shape.

Every error response is ``{"error": {"code", "message", "details"?, "request_id"?}}``
where ``message`` names the input at fault. The table is declared here, whole,
so a freshly started server and a test process that imported everything agree.
An error is matched by the most specific class in the table: ``TooLarge`` (a
kind of ``IngestError``) is 413, not 422. Anything not in the table is a bug:
500 in the same shape, with the request id to find its traceback in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.advice import FactsError
from app.budgets import BudgetExceeded
from app.domain.errors import Conflict, Forbidden, NotFound, did_you_mean
from app.domain.units import UnitError
from app.dosing.errors import DosingError
from app.dosing.fit import FitError
from app.export import ExportError
from app.geo import GeometryError
from app.ingest import IngestError, TooLarge
from app.pipeline import InputError

log = logging.getLogger("dosewise.errors")

__all__ = ["STATUS", "Conflict", "Forbidden", "NotFound", "error_body", "install", "status_for"]

# exception class -> (HTTP status, error code). Order does not matter: see status_for.
STATUS: Mapping[type[Exception], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    Forbidden: (403, "forbidden"),
    Conflict: (409, "conflict"),
    GeometryError: (422, "invalid_geometry"),
    UnitError: (422, "invalid_unit"),
    DosingError: (422, "dosing_refused"),
    InputError: (422, "invalid_input"),
    FitError: (422, "fit_failed"),
    ExportError: (422, "export_refused"),
    FactsError: (422, "advice_facts"),
    IngestError: (422, "invalid_upload"),
    TooLarge: (413, "too_large"),
    BudgetExceeded: (413, "over_budget"),
}


def status_for(exc: BaseException) -> tuple[int, str] | None:
    """The table's entry for the most specific class of ``exc`` (its MRO order), or ``None``.

    >>> from app.ingest import TooLarge
    >>> status_for(TooLarge("zip bomb", cap_bytes=1))
    (413, 'too_large')
    >>> status_for(KeyError("x")) is None
    True
    """
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return None


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable error code, e.g. not_found, invalid_request, over_budget")
    message: str = Field(description="what is wrong, naming the input at fault")
    details: Any = Field(default=None, description="per-field problems for invalid_request")


class ErrorBody(BaseModel):
    """The shape of every error response."""

    error: ErrorDetail


_ERROR_STATUSES: dict[int, str] = {
    400: "The body cannot be read (bad gzip, unparseable multipart).",
    401: "Missing, invalid, revoked or expired API key.",
    403: "The key's role or field scope does not allow this.",
    404: "No such resource in the caller's organisation.",
    409: "Clashes with what is stored (e.g. an idempotency key reused with another body).",
    413: "Over a size limit or budget; the message names the setting (DOSEWISE_...).",
    422: "Invalid input; the message names the field at fault.",
    431: "Request headers over DOSEWISE_MAX_HEADER_KB.",
}


def document_errors(app: FastAPI) -> None:
    """Declare, on every ``/v1`` operation, the error statuses it can answer, with the real ``ErrorBody`` shape.

    Done on the generated document rather than per route, so that no route can
    be missed and FastAPI's own 422 schema (which this service never sends) is
    replaced everywhere. Health and version take no input and need no key.
    """
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = default_openapi()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        body_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body_schema.pop("$defs", {}))
        schemas["ErrorBody"] = body_schema
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        for path, ops in doc.get("paths", {}).items():
            if not path.startswith("/v1"):
                continue
            for op in ops.values():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                for status, description in _ERROR_STATUSES.items():
                    op["responses"][str(status)] = {"description": description, **ref}
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def error_body(code: str, message: str, details: Any = None, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    if request_id:
        body["request_id"] = request_id
    return {"error": body}


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def _known_names(app: FastAPI) -> list[str]:
    """Every property name of every request and response schema (for "did you mean" hints)."""
    names: set[str] = set()
    for schema in app.openapi().get("components", {}).get("schemas", {}).values():
        names.update(schema.get("properties", {}))
    return sorted(names)


def install(app: FastAPI) -> None:
    """Register the handlers: validation errors, HTTP errors, the table, and the catch-all 500."""

    @app.exception_handler(RequestValidationError)
    async def _validation(req: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for err in exc.errors():
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            loc = tuple(err.get("loc", ()))
            if err.get("type") == "extra_forbidden" and loc:
                hint = did_you_mean(str(loc[-1]), _known_names(req.app))
                if hint:
                    msg = f"{msg}; did you mean {hint}?"
            details.append({"field": _loc(loc), "message": msg})
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

    # Starlette looks a handler up along the exception's MRO, and so does _domain,
    # so registering every class of the table sends each error to its own entry.
    for exc_type in STATUS:
        app.add_exception_handler(exc_type, _domain)
    # Exception (not a subclass) goes to Starlette's outermost ServerErrorMiddleware:
    # it also catches errors raised in middleware. The traceback is logged with the
    # request line (app.logging.RequestMiddleware) under the same request id.
    app.add_exception_handler(Exception, _unexpected)


async def _domain(_req: Request, exc: Exception) -> JSONResponse:
    found = status_for(exc)
    if found is None:  # pragma: no cover - only table classes are registered with this handler
        raise exc
    status, code = found
    return JSONResponse(status_code=status, content=error_body(code, str(exc)))


def _request_id(request: Request) -> str | None:
    state = request.scope.get("state") or {}
    rid = state.get("request_id") if isinstance(state, dict) else None
    return str(rid) if rid else None


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = _request_id(request)
    if request_id is None:  # raised before the request middleware saw it: log here
        log.error("unhandled error", exc_info=exc)
    headers = {"X-Request-ID": request_id} if request_id else None
    return JSONResponse(status_code=500, headers=headers, content=error_body(
        "internal_error", "the server failed to answer this request; the error is logged"
        + (f" under request id {request_id}" if request_id else ""), request_id=request_id))
