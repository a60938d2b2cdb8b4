"""The job row: every state change is one short transaction, guarded by the attempt number.

The row, not the broker, decides what happens: a message only says "look at job
<id>". A claim bumps ``attempts``; every later write of that attempt checks the
number is still its own, so an attempt the system gave up on (its worker was
presumed dead) can never overwrite the one that replaced it, and the result row
is written in the same transaction that marks the job succeeded.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.models.tables import Job

FINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"[:100]


def _rowcount(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0


def _now() -> datetime:
    return datetime.now(UTC)


def create(session: Session, org_id: int, kind: str, request: dict[str, Any]) -> Job:
    """A queued job, flushed in the caller's transaction (the outbox: it is dispatched after commit)."""
    job = Job(id=str(uuid.uuid4()), org_id=org_id, kind=kind, state="queued", progress_pct=0, request=request,
              attempts=0)
    session.add(job)
    session.flush()
    return job


def public(job: Job) -> dict[str, Any]:
    """The job resource: state, progress, result link, error in the usual ``{code, message}`` shape."""
    return {
        "id": job.id, "kind": job.kind, "state": job.state, "progress_pct": job.progress_pct,
        "attempts": job.attempts, "created_at": job.created_at.isoformat(), "updated_at": job.updated_at.isoformat()
        if job.updated_at else None,
        "error": job.error,
        "links": {"self": f"/v1/jobs/{job.id}", "result": job.result_url,
                  "cancel": None if job.state in FINAL_STATES else f"/v1/jobs/{job.id}/cancel"},
    }


class ClaimOutcome(Enum):
    DONE = "done"  # finished, cancelled or unknown: nothing to do, acknowledge the message
    BUSY = "busy"  # another attempt's heartbeat is fresh: look again later
    CLAIMED = "claimed"


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    attempt: int = 0
    kind: str = ""
    org_id: int = 0
    request: dict[str, Any] | None = None


def claim(sessions: sessionmaker[Session], job_id: str, *, stale_after_s: float, max_attempts: int) -> Claim:
    """Take the job for this worker, or say why not. A running job whose heartbeat is older than
    ``stale_after_s`` lost its worker (killed, machine gone) and is taken over."""
    with sessions() as s:
        job = s.scalar(select(Job).where(Job.id == job_id).with_for_update())
        if job is None or job.state in FINAL_STATES:
            return Claim(ClaimOutcome.DONE)
        now = _now()
        if job.state == "running" and job.heartbeat_at is not None and \
                now - job.heartbeat_at < timedelta(seconds=stale_after_s):
            return Claim(ClaimOutcome.BUSY)
        if job.attempts >= max_attempts:
            job.state, job.error = "failed", {"code": "job_failed", "message": (
                f"gave up after {job.attempts} attempts; the last one stopped without finishing")}
            s.commit()
            return Claim(ClaimOutcome.DONE)
        job.attempts += 1
        job.state, job.heartbeat_at, job.worker = "running", now, WORKER_ID
        job.progress_pct = max(job.progress_pct, 1)
        attempt, kind, org_id, request = job.attempts, job.kind, job.org_id, dict(job.request)
        s.commit()
    return Claim(ClaimOutcome.CLAIMED, attempt, kind, org_id, request)


def beat(sessions: sessionmaker[Session], job_id: str, attempt: int, progress_pct: int | None = None) -> bool:
    """Heartbeat (and progress) of a running attempt; False once the attempt is no longer current
    (cancelled, or taken over)."""
    values: dict[str, Any] = {"heartbeat_at": _now()}
    if progress_pct is not None:
        values["progress_pct"] = progress_pct
    with sessions() as s:
        n = _rowcount(s.execute(update(Job).where(Job.id == job_id, Job.attempts == attempt,
                                                  Job.state == "running").values(**values)))
        s.commit()
    return bool(n)


def finish(sessions: sessionmaker[Session], job_id: str, attempt: int,
           write: Callable[[Session], tuple[int, str]]) -> bool:
    """Write the result and mark the job succeeded in one transaction, if the attempt is still current.

    Returns False (and writes nothing) when the job was cancelled or taken over meanwhile.
    """
    with sessions() as s:
        job = s.scalar(select(Job).where(Job.id == job_id).with_for_update())
        if job is None or job.state != "running" or job.attempts != attempt:
            return False
        result_id, result_url = write(s)
        job.state, job.progress_pct, job.result_id, job.result_url = "succeeded", 100, result_id, result_url
        job.error = None
        s.commit()
    return True


def fail(sessions: sessionmaker[Session], job_id: str, attempt: int, code: str, message: str,
         status: int) -> bool:
    """Mark the job failed with an error in the API's shape (no retry: the request itself is at fault)."""
    with sessions() as s:
        n = _rowcount(s.execute(update(Job).where(Job.id == job_id, Job.attempts == attempt,
                                                  Job.state == "running")
                                .values(state="failed", error={"code": code, "message": message, "status": status},
                                        updated_at=_now())))
        s.commit()
    return bool(n)


def release(sessions: sessionmaker[Session], job_id: str, attempt: int) -> None:
    """Hand a failed attempt back to the queue so its retry can claim it at once."""
    with sessions() as s:
        s.execute(update(Job).where(Job.id == job_id, Job.attempts == attempt, Job.state == "running")
                  .values(state="queued", heartbeat_at=None, updated_at=_now()))
        s.commit()


def cancel(session: Session, job: Job) -> None:
    """Cancel a queued or running job (flushed). A running computation is not interrupted; its
    result is discarded when it ends."""
    if job.state not in FINAL_STATES:
        job.state = "cancelled"
        session.flush()


def mark_dispatched(sessions: sessionmaker[Session], job_ids: list[str]) -> None:
    with sessions() as s:
        s.execute(update(Job).where(Job.id.in_(job_ids)).values(dispatched_at=_now()))
        s.commit()


def undispatched(sessions: sessionmaker[Session], *, older_than_s: float, limit: int = 100) -> list[str]:
    """Queued jobs whose message never reached the broker (the API stopped between commit and send)."""
    cutoff = _now() - timedelta(seconds=older_than_s)
    with sessions() as s:
        return list(s.scalars(select(Job.id).where(Job.state == "queued", Job.dispatched_at.is_(None),
                                                   Job.created_at < cutoff).order_by(Job.created_at).limit(limit)))


def forget_dispatch_of_unfinished(sessions: sessionmaker[Session]) -> int:
    """Embedded mode at start: the in-memory queue died with the last process, so every unfinished
    job is sent again (running ones are taken over once their heartbeat is stale)."""
    with sessions() as s:
        n = _rowcount(s.execute(update(Job).where(Job.state.in_(("queued", "running"))).values(
            dispatched_at=None, state="queued")))
        s.commit()
    return int(n)
