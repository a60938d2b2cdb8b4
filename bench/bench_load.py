"""Load: N concurrent clients post 1 ha weed maps (0.5 m cells) and economic prescriptions on them
to a real server for T seconds.

Runs the service in a subprocess on 127.0.0.1 against SQLite (a temp file) and,
when reachable, PostgreSQL (a schema of its own), then checks that every 201
is exactly one stored weed map or prescription: none lost, none doubled (each
post carries an Idempotency-Key and a share of posts are retried with the same
key). Each client alternates: a weed map, then an economic prescription on it
(``--no-prescriptions``: weed maps only, as before).

    .venv/bin/python bench/bench_load.py --clients 32 --seconds 60
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.models import repo  # noqa: E402
from app.models.db import make_engine, session_factory  # noqa: E402
from app.models.migrate import upgrade  # noqa: E402
from app.models.tables import Prescription, WeedMap  # noqa: E402
from tests.api.conftest import CRS, FIELD, LABEL, X0, Y0  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _grid_b64(arr: np.ndarray) -> dict[str, object]:
    a = np.ascontiguousarray(arr, dtype="<f4")
    return {"encoding": "zlib-base64-float32le", "shape": list(a.shape),
            "data": base64.b64encode(zlib.compress(a.tobytes())).decode()}


def one_ha_map(seed: int) -> bytes:
    """A 100 m x 100 m map at 0.5 m (200 x 200 cells), two species, a few patches."""
    rng = np.random.default_rng(seed)
    maps = {}
    for code in ("ALOMY", "GALAP"):
        a = np.zeros((200, 200), np.float32)
        for _ in range(4):
            r, c = rng.integers(10, 190, 2)
            a[r - 8:r + 8, c - 8:c + 8] = rng.uniform(2, 60)
        maps[code] = _grid_b64(a)
    # Origin at the field's north-west corner; the field is 100 m x 60 m so the map overlaps it.
    return json.dumps({"crs": CRS, "origin": {"x": X0, "y": Y0 + 60}, "cell_size_m": 0.5,
                       "source": "bench", "species": maps}).encode()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(url: str, clients: int, seconds: float, prescriptions: bool = True) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        org = repo.get_or_create_org(s, f"load-{uuid.uuid4().hex[:6]}")
        _r, key = repo.create_api_key(s, org, "agronomist")
        s.commit()
        org_id = org.id
    port = _port()
    env = {**os.environ, "DOSEWISE_DATABASE_URL": url, "DOSEWISE_LOG_LEVEL": "WARNING"}
    code = ("import uvicorn; from app.main import create_app; "
            f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    h = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        field_ids = [httpx.post(f"{base}/v1/fields", headers=h, json=dict(FIELD, name=f"f{i}"),
                                timeout=30).json()["id"] for i in range(clients)]
        product_id = httpx.post(f"{base}/v1/products", headers=h, json=LABEL, timeout=30).json()["id"]
        bodies = [one_ha_map(i) for i in range(8)]
        lat: list[float] = []
        created, replayed, errors = [0], [0], []
        rx_created, rx_lat = [0], []
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def client(i: int) -> None:
            rnd = random.Random(i)

            def post_counted(c: httpx.Client, url: str, latencies: list[float], made: list[int], what: str,
                             **request: Any) -> None:
                """One POST under a fresh Idempotency-Key, 10 % of them retried with the same key."""
                key = uuid.uuid4().hex
                for t in range(2 if rnd.random() < 0.1 else 1):
                    t0 = time.perf_counter()
                    try:
                        r = c.post(url, headers={**h, "Idempotency-Key": key}, **request)
                    except httpx.HTTPError as exc:
                        with lock:
                            errors.append(repr(exc))
                        continue
                    dt = time.perf_counter() - t0
                    with lock:
                        latencies.append(dt)
                        if r.status_code != 201:
                            errors.append(f"{what}{r.status_code} {r.text[:200]}")
                        elif r.headers.get("idempotent-replayed"):
                            replayed[0] += 1
                        elif t == 0:
                            made[0] += 1

            with httpx.Client(timeout=60) as c:
                while time.monotonic() < stop:
                    body = bodies[rnd.randrange(len(bodies))]
                    post_counted(c, f"{base}/v1/fields/{field_ids[i]}/weed-maps", lat, created, "", content=body)
                    if not prescriptions or time.monotonic() >= stop:
                        continue
                    post_counted(c, f"{base}/v1/prescriptions", rx_lat, rx_created, "prescription ",
                                 json={"field_id": field_ids[i], "product_ids": [product_id],
                                       "strategy": {"name": "economic"}})

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        with session_factory(engine)() as s:
            stored = s.scalar(select(func.count()).select_from(WeedMap).where(WeedMap.org_id == org_id)) or 0
            rx_stored = s.scalar(select(func.count()).select_from(Prescription)
                                 .where(Prescription.org_id == org_id)) or 0
        arr = np.array(lat) if lat else np.array([np.nan])
        rx_arr = np.array(rx_lat) if rx_lat else np.array([np.nan])
        return {"requests": len(lat) + len(rx_lat), "created": created[0], "replayed": replayed[0], "stored": stored,
                "rx_requests": len(rx_lat), "rx_created": rx_created[0], "rx_stored": rx_stored,
                "rx_p50_ms": float(np.percentile(rx_arr, 50) * 1000),
                "rx_p99_ms": float(np.percentile(rx_arr, 99) * 1000),
                "errors": len(errors), "throughput_rps": (len(lat) + len(rx_lat)) / wall,
                "p50_ms": float(np.percentile(arr, 50) * 1000), "p99_ms": float(np.percentile(arr, 99) * 1000),
                "first_error": errors[0] if errors else ""}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-prescriptions", action="store_true", help="weed maps only")
    args = ap.parse_args()
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("sqlite", f"sqlite:///{tmp}/load.sqlite3"))
        schema = None
        if not args.no_postgres:
            try:
                admin = make_engine(PG)
                schema = f"dw_load_{uuid.uuid4().hex[:8]}"
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                targets.append(("postgresql", f"{PG}?options=-csearch_path%3D{schema}"))
            except Exception as exc:  # no server: report and go on with SQLite
                print(f"postgresql skipped: {exc}")
        print(f"{args.clients} clients x {args.seconds:g} s, 1 ha maps at 0.5 m (200 x 200 = 40,000 cells, "
              f"2 species)" + ("" if args.no_prescriptions else ", each followed by an economic prescription"))
        for name, url in targets:
            r = run(url, args.clients, args.seconds, prescriptions=not args.no_prescriptions)
            ok = r["stored"] == r["created"] and r["rx_stored"] == r["rx_created"] and r["errors"] == 0
            print(f"{name:11s} requests {r['requests']:6d}  throughput {r['throughput_rps']:7.1f} req/s  "
                  f"p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  errors {r['errors']}  "
                  f"maps created {r['created']} stored {r['stored']}, prescriptions {r['rx_requests']} requests "
                  f"(p50 {r['rx_p50_ms']:.0f} ms, p99 {r['rx_p99_ms']:.0f} ms) created {r['rx_created']} "
                  f"stored {r['rx_stored']}, replayed {r['replayed']}  "
                  f"{'OK: none lost or doubled' if ok else 'MISMATCH ' + r['first_error']}")
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
