"""Prescriptions: compute, store, read."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.background import BackgroundTask

from app.api.deps import Agronomist, PageDep, Reader, SessionDep
from app.api.idempotency import IdempotencyKey, fingerprint, respond_once
from app.api.public import PrescriptionPublic, prescription_public
from app.domain.prescription import PrescriptionCreate
from app.jobs import store as jobs_store
from app.models import repo
from app.models.tables import Prescription
from app.services.prescriptions import create_prescription, owned_prescription, prescription_cells

router = APIRouter(prefix="/v1/prescriptions", tags=["prescriptions"])


class _JobAccepted(BaseModel):
    """A job resource (see GET /v1/jobs/{id})."""

    model_config = ConfigDict(extra="allow")

    id: str


@router.post("", summary="Make a prescription", status_code=status.HTTP_201_CREATED,
             response_model=PrescriptionPublic,
             responses={202: {"description": "a large weed map: the prescription is computed as a job; poll "
                                             "the job at Location (GET /v1/jobs/{id}) for its result link"}})
def post_prescription(body: PrescriptionCreate, session: SessionDep, caller: Agronomist, request: Request,
                      idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Dose every cell of the field's weed map for the products and store the prescription.

    Weed maps above the job threshold (``DOSEWISE_JOB_THRESHOLD_CELLS`` cells) answer
    ``202 Accepted`` with a job resource instead of ``201``.
    """
    where, fp = "POST /v1/prescriptions", fingerprint("POST /v1/prescriptions", body)
    cells = prescription_cells(session, caller.org_id, body)
    if cells <= request.app.state.settings.job_threshold_cells:
        return respond_once(session, caller, idempotency_key, where, fp,
                            lambda: prescription_public(create_prescription(session, caller.org_id, body,
                                                                            end_read=True)))
    created: list[str] = []

    def enqueue() -> _JobAccepted:
        job = jobs_store.create(session, caller.org_id, "prescription", body.model_dump(mode="json"))
        created.append(job.id)
        return _JobAccepted(**jobs_store.public(job))

    # The job row commits with the idempotency record (the outbox); the message goes after:
    # the session dependency commits before the response is sent, background tasks run after it.
    resp = respond_once(session, caller, idempotency_key, where, fp, enqueue, status_code=202)
    if created:
        resp.background = BackgroundTask(request.app.state.jobs.dispatch, created)
    job_id = json.loads(bytes(resp.body))["id"] if resp.status_code == 202 else None
    if job_id:
        resp.headers["Location"] = f"/v1/jobs/{job_id}"
    return resp


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
