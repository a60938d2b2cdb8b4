"""Structured logs: one JSON line per request, tracebacks for 5xx only."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
import zlib
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("dosewise.request")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}))
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("dosewise")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class RequestMiddleware:
    """Request id, size limit (413) and one log line per request.

    The size limit is enforced on Content-Length and, for chunked bodies, on
    the bytes actually received, so nothing over the limit reaches a route.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int | None = None,
                 upload_suffixes: tuple[str, ...] = (), max_header_bytes: int | None = None) -> None:
        self.app = app
        # The HTTP server caps headers that arrive in pieces (h11); one that arrives whole is
        # checked here, so the cap holds however the bytes came.
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        # Routes that stream their body to disk (rasters of hundreds of MB) get their own limit.
        self.max_upload_bytes = max_upload_bytes or max_body_bytes
        self.upload_suffixes = upload_suffixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        request_id = _request_id(headers.get(b"x-request-id", b""))
        # The error handlers (app.api.errors) put it in a 500's body; scope["state"] is
        # request.state, shared by the copies of the scope made below.
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = {"code": 500}
        path = scope.get("path", "")
        streamed = bool(self.upload_suffixes) and path.endswith(self.upload_suffixes)
        limit = self.max_upload_bytes if streamed else self.max_body_bytes

        if self.max_header_bytes is not None:
            size = sum(len(k) + len(v) + 4 for k, v in scope.get("headers", []))
            if size > self.max_header_bytes:
                await _send_error(send, 431, "headers_too_large",
                                  f"request headers of {size} bytes exceed the limit of {self.max_header_bytes} "
                                  f"bytes (DOSEWISE_MAX_HEADER_KB)", request_id)
                _log(scope, 431, start, request_id)
                return

        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _send_413(send, limit, request_id, streamed)
            _log(scope, 413, start, request_id)
            return

        received = 0
        gunzip = None
        if headers.get(b"content-encoding", b"").strip().lower() == b"gzip":
            # Bodies from mobile links often come gzipped: inflate as they arrive,
            # holding the inflated size to the same limit (no zip bombs).
            gunzip = _Gunzip()
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in scope["headers"]
                                if k not in (b"content-encoding", b"content-length")]

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                if gunzip is not None:
                    try:
                        body = gunzip.inflate(body, limit - received + 1,
                                              last=not message.get("more_body", False))
                    except zlib.error as exc:
                        raise HTTPException(400, f"gzip body cannot be inflated: {exc}") from None
                    message = {**message, "body": body}
                received += len(body)
                if received > limit:
                    # An HTTPException, not a private error: the framework turns any other
                    # exception raised while it parses a body into a vague 400.
                    raise HTTPException(413, _too_large(limit, streamed))
            return message

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except Exception:
            _log(scope, 500, start, request_id, exc_info=True)
            raise
        _log(scope, status["code"], start, request_id)


_ID_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")


def _request_id(given: bytes) -> str:
    """The caller's X-Request-Id if it is a short token of safe ASCII, else a fresh id.

    It is echoed in a response header and in logs, so nothing else (non-UTF-8
    bytes, spaces, control characters) may pass through.
    """
    if 0 < len(given) <= 64 and all(b in _ID_CHARS for b in given):
        return given.decode("ascii")
    return uuid.uuid4().hex[:16]


class _Gunzip:
    """Inflates a gzip body of one or more members (RFC 1952 allows several), bounded in output."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._started = False  # the current member has received input

    def inflate(self, data: bytes, max_out: int, *, last: bool) -> bytes:
        out = b""
        while data:
            self._started = True
            out += self._z.decompress(data, max(1, max_out - len(out)))
            if len(out) >= max_out or not self._z.eof:
                break  # over the cap (the caller answers 413) or the member goes on in the next chunk
            data = self._z.unused_data
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self._started = False
        if last and self._started and not self._z.eof and len(out) < max_out:
            out += self._z.flush()
            if not self._z.eof:
                raise zlib.error("the gzip stream is truncated")
        return out


def _too_large(limit: int, streamed: bool) -> str:
    setting = "DOSEWISE_MAX_UPLOAD_MB" if streamed else "DOSEWISE_MAX_BODY_MB"
    return f"request body exceeds the limit of {limit} bytes ({setting})"


async def _send_413(send: Send, limit: int, request_id: str, streamed: bool) -> None:
    await _send_error(send, 413, "too_large", _too_large(limit, streamed), request_id)


async def _send_error(send: Send, status: int, code: str, message: str, request_id: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"x-request-id", request_id.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _log(scope: Scope, code: int, start: float, request_id: str, exc_info: bool = False) -> None:
    fields = {"request_id": request_id, "method": scope.get("method"), "path": scope.get("path"),
              "status": code, "duration_ms": round((time.perf_counter() - start) * 1000, 2)}
    if exc_info:
        log.error("request failed", exc_info=True, extra={"fields": fields})
    elif code >= 500:
        log.error("request", extra={"fields": fields})
    else:
        log.info("request", extra={"fields": fields})
