"""Request guards that hold for every route: JSON bodies are finite, shallow and NUL-free.

A route's own schema checks ranges; this layer refuses what no schema should
ever have to see, before any route (or a route that reads its body by hand,
such as ``applications/import``) parses it: ``NaN``/``Infinity`` and numbers
that overflow to infinity (``1e400``), nesting deeper than
:data:`MAX_JSON_DEPTH`, and NUL characters, which PostgreSQL text columns
cannot hold. Each answers 422 in the service's error shape.
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import quote
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_DEPTH = 64
"""Deepest nesting a JSON body may have (GeoJSON MultiPolygons need 5)."""

_JSON_TYPE = re.compile(rb"^application/([a-z0-9.+-]*\+)?json\s*(;|$)", re.IGNORECASE)
_NUL_ESCAPE = re.compile(rb"\\u0000", re.IGNORECASE)


class BadJson(ValueError):
    """A JSON body the service refuses; the message says why."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"number {text[:40]} is too large to be finite")
    return value


def _no_constant(name: str) -> float:
    raise BadJson(f"{name} is not a number the API accepts: every number must be finite")


def _depth(doc: Any) -> int:
    """Nesting depth of a parsed document, without recursion (lists of scalars cost one pass)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, d = stack.pop()
        if d > deepest:
            deepest = d
            if deepest > MAX_JSON_DEPTH:
                return deepest
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, d + 1))
    return deepest


def _has_nul(doc: Any) -> bool:
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def check_json(body: bytes) -> None:
    """Raise :class:`BadJson` if ``body`` holds non-finite numbers, deep nesting or NUL characters.

    Syntax errors are left to the route (FastAPI answers them with their position).

    >>> check_json(b'{"a": [1, 2.5]}')
    >>> check_json(b'{"a": NaN}')
    Traceback (most recent call last):
    ...
    app.api.guards.BadJson: NaN is not a number the API accepts: every number must be finite
    """
    if b"\x00" in body:
        raise BadJson("the body holds a NUL byte")
    try:
        doc = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise BadJson(f"the document is nested too deeply (more than {MAX_JSON_DEPTH} levels)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, BadJson):
            raise
        return  # malformed JSON: the route's parser reports it with its position
    if isinstance(doc, dict | list) and _depth(doc) > MAX_JSON_DEPTH:
        raise BadJson(f"the document is nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    if _NUL_ESCAPE.search(body) and _has_nul(doc):
        raise BadJson("a string holds a NUL character (\\u0000), which cannot be stored")


class JsonGuard:
    """ASGI middleware: read a JSON request body whole, check it with :func:`check_json`, replay it.

    It sits inside the size-limiting middleware, so the body it buffers is
    already bounded by ``DOSEWISE_MAX_BODY_MB`` (and inflated if gzipped).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b""):
            await _refuse(send, "the query string holds a NUL character (%00)")
            return
        ctype = dict(scope.get("headers", [])).get(b"content-type", b"")
        if ctype and not _JSON_TYPE.match(ctype.strip()):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            try:
                message = await receive()
            except HTTPException as exc:  # the size limit (413) or a bad gzip stream (400) below us
                await _refuse(send, str(exc.detail), status=exc.status_code,
                              code="too_large" if exc.status_code == 413 else "http_error")
                return
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            try:
                check_json(body)
            except BadJson as exc:
                await _refuse(send, f"body: {exc}")
                return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


async def _refuse(send: Send, message: str, *, status: int = 422, code: str = "invalid_request") -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


_HEADER_SAFE = re.compile(r"[\x20-\x7e]*")


def header_text(text: str, *, max_chars: int = 1000) -> str:
    """``text`` as an HTTP header value: as is when it is printable ASCII, else RFC 8187 ``UTF-8''%..``.

    User-supplied names (products, fields) reach headers this way, so CR/LF and
    non-Latin-1 characters can neither split the response nor break it.

    >>> header_text("2 zones merged")
    '2 zones merged'
    >>> header_text("Désherbant\\r\\nSet-Cookie: x")
    "UTF-8''D%C3%A9sherbant%0D%0ASet-Cookie%3A%20x"
    """
    text = text[:max_chars]
    if _HEADER_SAFE.fullmatch(text):
        return text
    return "UTF-8''" + quote(text, safe="")


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and, when needed, the exact name as ``filename*`` (RFC 6266).

    >>> content_disposition("rx-1.zip")
    'attachment; filename="rx-1.zip"'
    >>> content_disposition('Prés "nord".zip')
    'attachment; filename="Pr_s _nord_.zip"; filename*=UTF-8\\'\\'Pr%C3%A9s%20%22nord%22.zip'
    """
    ascii_name = "".join(c if 0x20 <= ord(c) < 0x7f and c not in '"\\' else "_" for c in filename[:200])
    out = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename[:200]:
        out += f"; filename*=UTF-8''{quote(filename[:200], safe='')}"
    return out
