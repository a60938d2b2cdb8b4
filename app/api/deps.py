"""Request dependencies: settings, the database session, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.budgets import MAX_ID
from app.domain.errors import Forbidden
from app.domain.vocabulary import ROLES
from app.models import repo
from app.models.db import session_scope

# What each role may do. "read": GET fields, maps, prescriptions, advice, exports;
# "field_data": POST fields, weed maps (telematics, drones); "agronomy": products,
# prescriptions, fits.
PERMISSIONS: dict[str, frozenset[str]] = {
    "agronomist": frozenset({"read", "field_data", "agronomy"}),
    "telematics": frozenset({"field_data"}),
    "farmer": frozenset({"read"}),
}
assert set(PERMISSIONS) == set(ROLES), "every role of the vocabulary has its permissions"


def get_session(request: Request) -> Iterator[Session]:
    """The request's session: committed when the route returns, rolled back when it raises.

    Reads (GET, HEAD, OPTIONS) get a plain session; writes one that takes
    SQLite's write lock when its transaction begins. Nothing else commits.
    """
    read_only = request.method in ("GET", "HEAD", "OPTIONS")
    state = request.app.state
    yield from session_scope(state.session_factory if read_only else state.write_session_factory)


def get_write_session(request: Request) -> Iterator[Session]:
    """A second, writing session for a read route that stores what it computed (advice on first read).

    Its transaction begins at its first statement, so the route can end its
    read and do slow work (a language model) before it writes.
    """
    yield from session_scope(request.app.state.write_session_factory)


# scope="function": the session is committed (or rolled back) before the response
# is sent, so a failed commit is an error response, never a 201 for nothing stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's organisation and role, and the fields a limited key may see."""

    org_id: int
    org_name: str
    role: str
    key_prefix: str
    field_ids: frozenset[int] | None = None

    def sees_field(self, field_id: int) -> bool:
        return self.field_ids is None or field_id in self.field_ids

    @property
    def field_scope(self) -> list[int] | None:
        return None if self.field_ids is None else sorted(self.field_ids)

    def require(self, permission: str) -> None:
        if permission not in PERMISSIONS.get(self.role, frozenset()):
            raise Forbidden(f"a {self.role} key may not do this (needs '{permission}' permission)")


# Declared as a security scheme so the OpenAPI schema carries it (Swagger UI's "Authorize" button, generated
# clients' token argument); auto_error is off so a missing key gets our own 401 body.
bearer_scheme = HTTPBearer(
    scheme_name="ApiKey", bearerFormat="dw_<prefix>_<secret>", auto_error=False,
    description="An API key: `Authorization: Bearer dw_...`. Create one with "
                "`dosewise keys create --org NAME --role agronomist`; `make run` prints a demo key.")


def get_caller(request: Request, session: SessionDep,
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None) -> Caller:
    token = credentials.credentials if credentials is not None else ""
    if not token:
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>'",
                            headers={"WWW-Authenticate": "Bearer"})
    key = repo.find_api_key(session, token.strip())
    if key is None:
        raise HTTPException(401, "invalid, revoked or expired API key", headers={"WWW-Authenticate": "Bearer"})
    caller = Caller(org_id=key.org_id, org_name=key.organisation.name, role=key.role, key_prefix=key.prefix,
                    field_ids=None if key.field_ids is None else frozenset(key.field_ids))
    request.state.caller = caller
    # End the read so a slow upload streamed after this holds no database lock.
    session.rollback()
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def reader(caller: CallerDep) -> Caller:
    caller.require("read")
    return caller


def field_writer(caller: CallerDep) -> Caller:
    caller.require("field_data")
    return caller


def agronomist(caller: CallerDep) -> Caller:
    caller.require("agronomy")
    return caller


Reader = Annotated[Caller, Depends(reader)]


@dataclass(frozen=True)
class Page:
    """A page of a listing: at most ``limit`` rows (1..500) after ``offset``."""

    limit: int
    offset: int


def page(limit: Annotated[int, Query(ge=1, le=500)] = 100,
         offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> Page:
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(page)]
FieldWriter = Annotated[Caller, Depends(field_writer)]
Agronomist = Annotated[Caller, Depends(agronomist)]
