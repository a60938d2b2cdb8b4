"""Every query lives here. Functions flush; the caller commits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.budgets import MAX_ID
from app.domain.vocabulary import ROLES
from app.models.tables import (
    Advice,
    ApiKey,
    Application,
    Field,
    IdempotencyRecord,
    Organisation,
    Prescription,
    Product,
    WeedMap,
)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def get_or_create_org(session: Session, name: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        org = Organisation(name=name)
        session.add(org)
        session.flush()
    return org


def create_api_key(session: Session, org: Organisation, role: str, *, name: str | None = None,
                   expires_in_days: float | None = None,
                   field_ids: Sequence[int] | None = None) -> tuple[ApiKey, str]:
    """A new key for ``org``; returns the row and the plaintext key (shown once).

    ``field_ids`` limits a farmer key to those fields (and their maps,
    prescriptions and advice); they must belong to ``org``.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
    if field_ids is not None:
        if role != "farmer":
            raise ValueError("only farmer keys can be limited to fields")
        found = set(session.scalars(select(Field.id).where(Field.org_id == org.id, Field.id.in_(field_ids))))
        missing = sorted(set(field_ids) - found)
        if missing:
            raise ValueError(f"field(s) {', '.join(map(str, missing))} not found in organisation {org.name!r}")
    prefix = secrets.token_hex(6)
    plaintext = f"dw_{prefix}_{secrets.token_urlsafe(24)}"
    expires = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    row = ApiKey(org_id=org.id, role=role, prefix=prefix, key_hash=_hash(plaintext), name=name,
                 expires_at=expires, field_ids=sorted(set(field_ids)) if field_ids is not None else None)
    session.add(row)
    session.flush()
    return row, plaintext


def find_api_key(session: Session, plaintext: str) -> ApiKey | None:
    """The live key matching ``plaintext``, or None (unknown, revoked or expired)."""
    parts = plaintext.split("_")
    if len(parts) < 3 or parts[0] != "dw":
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if row is None or not hmac.compare_digest(row.key_hash, _hash(plaintext)):
        return None
    now = datetime.now(UTC)
    if row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return row


def key_prefix(text: str) -> str:
    """The stored prefix from what a user pastes: ``dw_fc1a6409d1b2``, the 12 hex digits, or the whole key.

    >>> key_prefix("dw_fc1a6409d1b2"), key_prefix("fc1a6409d1b2"), key_prefix("dw_fc1a6409d1b2_Zx-secret")
    ('fc1a6409d1b2', 'fc1a6409d1b2', 'fc1a6409d1b2')
    """
    text = text.strip()
    return text[3:].split("_", 1)[0] if text.startswith("dw_") else text


def revoke_api_key(session: Session, prefix: str) -> bool:
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None:
        return False
    row.revoked_at = datetime.now(UTC)
    session.flush()
    return True


def add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def get_owned(session: Session, model: type[Any], org_id: int, row_id: int) -> Any | None:
    """A row of ``model`` with ``row_id`` if it belongs to ``org_id``.

    An id no column can hold (< 1 or > :data:`MAX_ID`) names no row: it is
    answered without a query, which the database would refuse with an overflow.
    """
    if not 1 <= row_id <= MAX_ID:
        return None
    return session.scalar(select(model).where(model.id == row_id, model.org_id == org_id))


def list_owned(session: Session, model: type[Any], org_id: int, *, limit: int = 100,
               offset: int = 0, field_ids: Sequence[int] | None = None) -> Sequence[Any]:
    """Rows of ``model`` in ``org_id``; ``field_ids`` keeps only those of these fields."""
    stmt = select(model).where(model.org_id == org_id)
    if field_ids is not None:
        column = model.id if model is Field else model.field_id
        stmt = stmt.where(column.in_(field_ids))
    return session.scalars(stmt.order_by(model.id).limit(limit).offset(offset)).all()


def next_weed_map_version(session: Session, field_id: int) -> int:
    """The next version number; locks the field row so concurrent uploads queue (PostgreSQL)."""
    session.execute(select(Field.id).where(Field.id == field_id).with_for_update())
    current = session.scalar(select(func.max(WeedMap.version)).where(WeedMap.field_id == field_id))
    return (current or 0) + 1


def latest_weed_map(session: Session, field_id: int) -> WeedMap | None:
    return session.scalar(
        select(WeedMap).where(WeedMap.field_id == field_id).order_by(WeedMap.version.desc()).limit(1)
    )


def weed_maps_of_field(session: Session, field_id: int) -> Sequence[WeedMap]:
    return session.scalars(select(WeedMap).where(WeedMap.field_id == field_id).order_by(WeedMap.version)).all()


def prescriptions_of_field(session: Session, field_id: int) -> Sequence[Prescription]:
    return session.scalars(select(Prescription).where(Prescription.field_id == field_id)
                           .order_by(Prescription.id)).all()


def find_product_by_name(session: Session, org_id: int, name: str) -> Product | None:
    return session.scalar(select(Product).where(Product.org_id == org_id, Product.name == name))


def find_field_by_name(session: Session, org_id: int, name: str) -> Field | None:
    return session.scalar(select(Field).where(Field.org_id == org_id, Field.name == name))


def get_advice(session: Session, prescription_id: int, lang: str) -> Advice | None:
    return session.scalar(select(Advice).where(Advice.prescription_id == prescription_id,
                                               Advice.lang == lang))


def find_idempotency(session: Session, org_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.org_id == org_id,
                                                          IdempotencyRecord.key == key))


def applications_of_field(session: Session, field_id: int) -> Sequence[Application]:
    return session.scalars(select(Application).where(Application.field_id == field_id)
                           .order_by(Application.applied_at)).all()


def season_used(session: Session, field_id: int, product_ids: Sequence[int], since: datetime
                ) -> tuple[dict[int, float], list[dict[str, Any]]]:
    """Canonical amount per ha (L/ha or kg/ha) of each product applied since ``since``, and the records counted.

    Season limits follow the crop, not the calendar (a winter crop's autumn
    and spring sprays count together), so the caller passes the crop season's
    start or, when unknown, a rolling 12 months back. An application on part
    of the field counts in full: the cells it covered are not known here, so
    the season remainder errs on the safe side.
    """
    out = dict.fromkeys(product_ids, 0.0)
    records: list[dict[str, Any]] = []
    for app in applications_of_field(session, field_id):
        if app.product_id in out and app.applied_at >= since:
            out[app.product_id] += app.rate_canonical
            records.append({"application_id": app.id, "product_id": app.product_id,
                            "applied_at": app.applied_at.isoformat(), "rate_canonical": app.rate_canonical})
    return out, records


def drop_advice_of_field(session: Session, field_id: int) -> None:
    """Forget stored advice of a field's prescriptions (its facts changed)."""
    ids = select(Prescription.id).where(Prescription.field_id == field_id)
    for row in session.scalars(select(Advice).where(Advice.prescription_id.in_(ids))):
        session.delete(row)
    session.flush()
