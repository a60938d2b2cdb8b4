"""Retried POSTs from machines on flaky links: the same ``Idempotency-Key`` and body
return the first response and store nothing new; the same key with another body is 409."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.api.deps import Caller
from app.domain.errors import Conflict
from app.models import repo
from app.models.tables import IdempotencyRecord

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                              description="retry-safe key chosen by the client")]


def fingerprint(method_path: str, *parts: BaseModel | str | None) -> str:
    """A hash of what the request asks for (its path and parsed body)."""
    h = hashlib.sha256(method_path.encode())
    for p in parts:
        h.update(b"\0")
        if isinstance(p, BaseModel):
            h.update(p.model_dump_json().encode())
        elif p is not None:
            h.update(p.encode())
    return h.hexdigest()


def _replay(record: IdempotencyRecord, request_hash: str) -> JSONResponse:
    if record.request_hash != request_hash:
        raise Conflict(f"Idempotency-Key {record.key!r} was already used with a different request "
                       f"({record.method_path}); use a new key for a new request")
    return JSONResponse(record.response, status_code=record.status_code, headers={"Idempotent-Replayed": "true"})


def respond_once(session: Session, caller: Caller, key: str | None, method_path: str, request_hash: str,
                 produce: Callable[[], BaseModel], status_code: int = 201) -> JSONResponse:
    """Run ``produce`` (and store its answer under ``key``), or replay the answer stored under ``key``.

    The request's session dependency commits both together.
    """
    if key is not None:
        existing = repo.find_idempotency(session, caller.org_id, key)
        if existing is not None:
            return _replay(existing, request_hash)
    body = jsonable_encoder(produce())
    if key is not None:
        try:
            repo.add(session, IdempotencyRecord(org_id=caller.org_id, key=key, request_hash=request_hash,
                                                method_path=method_path, status_code=status_code,
                                                response=body))
        except IntegrityError:
            # A concurrent retry with the same key won the race: keep its result, drop ours.
            session.rollback()
            existing = repo.find_idempotency(session, caller.org_id, key)
            if existing is None:
                raise
            return _replay(existing, request_hash)
    return JSONResponse(body, status_code=status_code)
