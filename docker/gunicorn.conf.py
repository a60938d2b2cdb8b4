"""Gunicorn settings for the container: several uvicorn workers behind a proxy.

Environment: ``WEB_CONCURRENCY`` (workers, default 4), ``PORT`` (8000),
``FORWARDED_ALLOW_IPS`` (proxies whose X-Forwarded-* headers are trusted,
default 127.0.0.1; set it to the load balancer's address or ``*`` behind a
private network), ``GUNICORN_TIMEOUT`` (seconds, 120: large GeoTIFF uploads).
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "uvicorn_worker.UvicornWorker"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
accesslog = None  # the app writes one JSON line per request (app/logging.py)
errorlog = "-"
