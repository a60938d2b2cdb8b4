"""Jobs: heavy work done off the request path (app/jobs/); poll, read the result link, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.deps import Agronomist, Reader, SessionDep
from app.domain.errors import NotFound
from app.jobs import store
from app.models.tables import Job

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def _owned(session: SessionDep, org_id: int, job_id: str) -> Job:
    job = session.get(Job, job_id) if len(job_id) <= 36 else None
    if job is None or job.org_id != org_id:
        raise NotFound(f"job {job_id} not found")
    return job


@router.get("/{job_id}", summary="Read a job: state, progress, result link")
def get_job(job_id: str, session: SessionDep, caller: Reader) -> dict[str, Any]:
    """The job: ``state`` (queued, running, succeeded, failed, cancelled), ``progress_pct``,
    ``links.result`` once it succeeded, ``error`` (``{code, message}``) when it failed."""
    return store.public(_owned(session, caller.org_id, job_id))


@router.post("/{job_id}/cancel", summary="Cancel a job")
def cancel_job(job_id: str, session: SessionDep, caller: Agronomist) -> dict[str, Any]:
    """Cancel a queued or running job; a finished one is returned unchanged. A running
    computation finishes in the background but its result is not stored."""
    job = _owned(session, caller.org_id, job_id)
    store.cancel(session, job)
    session.commit()
    return store.public(job)

