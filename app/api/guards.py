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
from typing import Any
from urllib.parse import quote

import numpy as np
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_DEPTH = 64
"""Deepest nesting a JSON body may have (GeoJSON MultiPolygons need 5)."""

_JSON_TYPE = re.compile(rb"^application/([a-z0-9.+-]*\+)?json\s*(;|$)", re.IGNORECASE)
_NUL_ESCAPE = re.compile(rb"\\u0000", re.IGNORECASE)
# numbers that may overflow a double: an exponent of 3+ digits (or 300+ digits in a row, see below)
_BIG_EXPONENT = re.compile(rb"[eE]\+?[0-9]{3}")


class BadJson(ValueError):
    """A JSON body the service refuses; the message says why."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"number {text[:40]} is too large to be finite")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 300:
        raise BadJson(f"integer {text[:20]}… has {len(text)} digits; no quantity or id is that large")
    return int(text)


def _no_constant(name: str) -> float:
    raise BadJson(f"{name} is not a number the API accepts: every number must be finite")


_CHUNK = 4 * 2**20  # bytes scanned at a time: the scan's scratch memory stays ~5 × this, whatever the body


def json_depth(body: bytes) -> int:
    """Deepest ``[``/``{`` nesting of a JSON text, brackets inside strings left out; no parsing, no recursion.

    Vectorised over the bytes in chunks, so a 25 MB body costs a few NumPy
    passes rather than a walk over millions of parsed objects.

    >>> json_depth(b'{"a": [[1], "]]"], "b": {}}')
    3
    """
    a = np.frombuffer(body, dtype=np.uint8)
    inside = 0  # in a string at the start of the chunk
    depth = deepest = 0
    for start in range(0, a.size, _CHUNK):
        c = a[start:start + _CHUNK]
        quote = c == 0x22
        # a quote is escaped when an odd run of backslashes precedes it (rare: checked one by one)
        qpos = np.flatnonzero(quote)
        before = start + qpos - 1
        for q in qpos[(before >= 0) & (a[np.maximum(before, 0)] == 0x5C)]:
            at, run = start + int(q), 0
            while at - run - 1 >= 0 and a[at - run - 1] == 0x5C:
                run += 1
            quote[q] = run % 2 == 0
        flips = np.bitwise_xor.accumulate(quote.view(np.uint8))
        outside = flips == inside  # even number of real quotes since the last string closed
        inside = int(flips[-1]) ^ inside if c.size else inside
        opening = ((c == 0x5B) | (c == 0x7B)) & outside
        closing = ((c == 0x5D) | (c == 0x7D)) & outside
        where = np.flatnonzero(opening | closing)
        if where.size:
            level = depth + np.cumsum(np.where(opening[where], 1, -1), dtype=np.int64)
            deepest = max(deepest, int(level.max()))
            depth = int(level[-1])
    return deepest


def _longest_digit_run(body: bytes) -> int:
    """Longest run of ASCII digits in ``body`` (chunks overlap, so a run across a boundary is seen whole)."""
    a = np.frombuffer(body, dtype=np.uint8)
    longest = 0
    for start in range(0, a.size, _CHUNK):
        c = a[max(0, start - 400):start + _CHUNK]
        digit = ((c >= 0x30) & (c <= 0x39)).view(np.int8)
        if not digit.any():
            continue
        edges = np.flatnonzero(np.diff(digit, prepend=np.int8(0), append=np.int8(0)))
        longest = max(longest, int((edges[1::2] - edges[::2]).max()))
        if longest >= 400:
            break
    return longest


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
    if json_depth(body) > MAX_JSON_DEPTH:
        raise BadJson(f"the document is nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    constants = b"NaN" in body or b"Infinity" in body
    overflow = _BIG_EXPONENT.search(body) is not None or _longest_digit_run(body) >= 300
    nul = _NUL_ESCAPE.search(body) is not None
    if not (constants or overflow or nul):
        return  # the common case: nothing worth a second parse
    try:
        doc = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float if overflow else None,
                         parse_int=_bounded_int if overflow else None)
    except RecursionError:
        raise BadJson(f"the document is nested too deeply (more than {MAX_JSON_DEPTH} levels)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, BadJson):
            raise
        return  # malformed JSON: the route's parser reports it with its position
    if nul and _has_nul(doc):
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
