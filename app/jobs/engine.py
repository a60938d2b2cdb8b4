"""Dramatiq behind one small interface: the API dispatches a job id, a worker runs it.

With a broker URL (``amqp://`` RabbitMQ, ``redis://`` Redis) workers are separate
processes (``python -m app.jobs.worker``); without one (the embedded default) a
``StubBroker`` and a pool of worker threads live in the API process. Both run
the same actor, so the same code path is tested either way.

Delivery is at least once (Dramatiq acknowledges a message after the actor
returns); the job row (app/jobs/store.py) makes every delivery after the first
a no-op, so a job completes once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.jobs import store
from app.jobs.store import ClaimOutcome
from app.models.db import session_factory

log = logging.getLogger("dosewise.jobs")

HEARTBEAT_S = 2.0
# A running job whose heartbeat is this old lost its worker; well above HEARTBEAT_S so a
# busy machine does not make two workers run one job.
STALE_AFTER_S = 15.0
MAX_ATTEMPTS = 4
MIN_BACKOFF_MS = 2_000
MAX_BACKOFF_MS = 60_000
# Dramatiq's own retry budget covers both real failures and "another attempt may be alive,
# look again later"; MAX_ATTEMPTS (on the row) is what bounds the work.
MAX_DELIVERIES = 30
TIME_LIMIT_MS = 3_600_000
RELAY_EVERY_S = 5.0
RELAY_GRACE_S = 3.0


class JobBusy(Exception):
    """Another attempt's heartbeat is fresh: Dramatiq retries the message after a backoff."""


class Refused(Exception):
    """A job that can never succeed (the request is at fault): failed at once, not retried."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# A kind's runner: (sessions, org_id, request, progress) -> writer of the result in the
# finishing transaction, returning (result id, result URL).
Writer = Callable[[Session], tuple[int, str]]
Runner = Callable[[sessionmaker[Session], int, dict[str, Any], Callable[[int], None]], Writer]


def make_broker(url: str | None) -> dramatiq.Broker:
    if url is None:
        return StubBroker()
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url)
    raise ValueError(f"broker_url: {url.split('://')[0]!r} is not a broker scheme; use amqp://... or redis://...")


class JobEngine:
    """One broker, one actor, the runners per job kind, and (embedded) the worker pool."""

    def __init__(self, engine: Engine, runners: dict[str, Runner], *, broker_url: str | None = None,
                 queue: str = "dosewise", threads: int = 2, classify: Callable[[Exception], Refused | None]
                 = lambda _e: None) -> None:
        self.embedded = broker_url is None
        self.broker = make_broker(broker_url)
        self.sessions = session_factory(engine, write=True)
        self.runners = runners
        self.threads = threads
        self.classify = classify
        self.actor: dramatiq.Actor[[str], None] = dramatiq.actor(  # type: ignore[call-overload]
            self._run, broker=self.broker, actor_name="dosewise_run_job", queue_name=queue,
            max_retries=MAX_DELIVERIES, min_backoff=MIN_BACKOFF_MS, max_backoff=MAX_BACKOFF_MS,
            time_limit=TIME_LIMIT_MS)
        self._worker: dramatiq.Worker | None = None
        self._relay_stop = threading.Event()
        self._relay: threading.Thread | None = None

    # --- the API side -------------------------------------------------------------------

    def dispatch(self, job_ids: list[str]) -> None:
        """Send after the job rows committed; a failure here is repaired by the relay."""
        sent = []
        for jid in job_ids:
            try:
                self.actor.send(jid)
                sent.append(jid)
            except Exception:  # broker down: the row stays undispatched and the relay retries
                log.warning("job %s not dispatched yet; the relay will retry", jid, exc_info=True)
        if sent:
            store.mark_dispatched(self.sessions, sent)

    def relay_once(self) -> int:
        ids = store.undispatched(self.sessions, older_than_s=RELAY_GRACE_S)
        if ids:
            self.dispatch(ids)
        return len(ids)

    def start(self, *, relay: bool = True) -> None:
        """Embedded: start the worker threads. Both: start the outbox relay."""
        if self.embedded:
            n = store.forget_dispatch_of_unfinished(self.sessions)
            if n:
                log.info("re-queued %d unfinished jobs from the last run", n)
            self._worker = dramatiq.Worker(self.broker, worker_threads=self.threads, worker_timeout=100)
            self._worker.start()
        if relay:
            self._relay = threading.Thread(target=self._relay_loop, name="dosewise-job-relay", daemon=True)
            self._relay.start()

    def stop(self) -> None:
        self._relay_stop.set()
        if self._relay is not None:
            self._relay.join(timeout=10)
        if self._worker is not None:
            self._worker.stop(timeout=10_000)
        self.broker.close()

    def _relay_loop(self) -> None:
        while not self._relay_stop.wait(RELAY_EVERY_S):
            try:
                self.relay_once()
            except Exception:  # database briefly away: try again next round
                log.warning("job relay round failed", exc_info=True)

    # --- the worker side ----------------------------------------------------------------

    def _run(self, job_id: str) -> None:
        c = store.claim(self.sessions, job_id, stale_after_s=STALE_AFTER_S, max_attempts=MAX_ATTEMPTS)
        if c.outcome is ClaimOutcome.DONE:
            return
        if c.outcome is ClaimOutcome.BUSY:
            raise JobBusy(job_id)
        runner = self.runners.get(c.kind)
        if runner is None:
            store.fail(self.sessions, job_id, c.attempt, "job_failed", f"no runner for job kind {c.kind!r}", 500)
            return
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job_id, c.attempt, stop), daemon=True)
        beat.start()
        try:
            def progress(pct: int) -> None:
                store.beat(self.sessions, job_id, c.attempt, min(99, max(1, pct)))

            writer = runner(self.sessions, c.org_id, c.request or {}, progress)
            if not store.finish(self.sessions, job_id, c.attempt, writer):
                log.info("job %s attempt %d: cancelled or taken over meanwhile; result dropped", job_id, c.attempt)
        except Exception as exc:
            refused = exc if isinstance(exc, Refused) else self.classify(exc)
            if refused is not None:
                store.fail(self.sessions, job_id, c.attempt, refused.code, refused.message, refused.status)
                return
            log.warning("job %s attempt %d failed; retrying with backoff", job_id, c.attempt, exc_info=True)
            store.release(self.sessions, job_id, c.attempt)
            raise
        finally:
            stop.set()
            beat.join(timeout=HEARTBEAT_S * 2)

    def _beat(self, job_id: str, attempt: int, stop: threading.Event) -> None:
        while not stop.wait(HEARTBEAT_S):
            try:
                if not store.beat(self.sessions, job_id, attempt):
                    return
            except Exception:  # a missed beat is harmless unless many are missed in a row
                log.warning("job %s heartbeat failed", job_id, exc_info=True)
