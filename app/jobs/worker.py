"""A worker process: ``python -m app.jobs.worker [--threads N]``.

Reads the same ``DOSEWISE_*`` settings as the API (``DOSEWISE_BROKER_URL`` is
required: without a broker the API runs its jobs itself) and runs jobs until
SIGTERM or SIGINT, finishing the ones in hand. Start as many as the machine has
cores; each runs ``--threads`` jobs at a time (NumPy releases the GIL, so 1-2).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

import dramatiq

from app import logging as dw_logging
from app.jobs.engine import JobEngine
from app.jobs.runners import RUNNERS, classify
from app.models.db import make_engine
from app.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.jobs.worker", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="jobs run at a time in this process")
    args = ap.parse_args(argv)
    settings = get_settings()
    dw_logging.configure(settings.log_level, settings.log_json)
    if settings.broker_url is None:
        print("DOSEWISE_BROKER_URL is not set: without a broker the API runs jobs in-process; "
              "set it (amqp://... or redis://...) to run separate workers", file=sys.stderr)
        return 2
    engine = make_engine(settings.resolved_database_url)
    jobs = JobEngine(engine, RUNNERS, broker_url=settings.broker_url, queue=settings.job_queue,
                     threads=args.threads, classify=classify)
    worker = dramatiq.Worker(jobs.broker, worker_threads=args.threads, worker_timeout=200)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_a: stop.set())
    worker.start()
    print(f"worker ready: queue {settings.job_queue}, {args.threads} thread(s)", flush=True)
    stop.wait()
    worker.stop(timeout=30_000)
    jobs.broker.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
