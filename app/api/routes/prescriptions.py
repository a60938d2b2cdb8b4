"""Prescriptions: compute, store, read."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from app.api.deps import Agronomist, PageDep, Reader, SessionDep
from app.api.idempotency import IdempotencyKey, fingerprint, respond_once
from app.api.public import PrescriptionPublic, prescription_public
from app.domain.prescription import PrescriptionCreate
from app.models import repo
from app.models.tables import Prescription
from app.services.prescriptions import create_prescription, owned_prescription

router = APIRouter(prefix="/v1/prescriptions", tags=["prescriptions"])


@router.post("", summary="Make a prescription", status_code=status.HTTP_201_CREATED, response_model=PrescriptionPublic)
def post_prescription(body: PrescriptionCreate, session: SessionDep, caller: Agronomist,
                      idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Dose every cell of the field's weed map for the products and store the prescription."""
    return respond_once(session, caller, idempotency_key, "POST /v1/prescriptions",
                        fingerprint("POST /v1/prescriptions", body),
                        lambda: prescription_public(create_prescription(session, caller.org_id, body)))


@router.get("", summary="List prescriptions", response_model=list[PrescriptionPublic])
def list_prescriptions(session: SessionDep, caller: Reader, page: PageDep) -> list[PrescriptionPublic]:
    """The organisation's prescriptions with their summaries; paged with `limit`/`offset`."""
    rows = repo.list_owned(session, Prescription, caller.org_id, limit=page.limit, offset=page.offset,
                           field_ids=caller.field_scope)
    return [prescription_public(r) for r in rows]


@router.get("/{prescription_id}", summary="Get a prescription", response_model=PrescriptionPublic)
def get_prescription(prescription_id: int, session: SessionDep, caller: Reader) -> PrescriptionPublic:
    """One prescription: summary, product totals, compliance report, no-spray zones and links."""
    return prescription_public(owned_prescription(session, caller.org_id, prescription_id, caller.field_ids))
