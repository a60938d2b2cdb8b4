"""What each job kind does: the same read -> compute -> write steps as the synchronous route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.api import errors
from app.jobs.engine import Refused, Runner, Writer


def prescription(sessions: sessionmaker[Session], org_id: int, request: dict[str, Any],
                 progress: Callable[[int], None]) -> Writer:
    from app.domain.prescription import PrescriptionCreate
    from app.services.prescriptions import compute_prescription, gather_inputs, store_prescription

    body = PrescriptionCreate.model_validate(request)
    with sessions() as s:
        inputs = gather_inputs(s, org_id, body)
    progress(10)
    row = compute_prescription(inputs)  # no session open: no transaction, lock or pooled connection
    progress(90)

    def write(s: Session) -> tuple[int, str]:
        stored = store_prescription(s, inputs, row)
        return stored.id, f"/v1/prescriptions/{stored.id}"

    return write


RUNNERS: dict[str, Runner] = {"prescription": prescription}


def classify(exc: Exception) -> Refused | None:
    """Errors the API maps to a 4xx fail the job at once, in the same shape; others are retried."""
    found = errors.status_for(exc)
    if found is None or found[0] >= 500:
        return None
    return Refused(found[0], found[1], str(exc))
