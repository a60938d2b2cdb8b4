"""Schemathesis against a real ``dosewise serve``: every operation, fixed seed, no 5xx allowed.

Starts the server in a fresh database (a temporary SQLite file, or a schema of
its own on PostgreSQL when ``--database-url`` is given), with the sample
fields, labels and prescriptions loaded into the demo organisation, and runs
schemathesis with the demo agronomist key. Prints the number of test cases
and of server errors; exits non-zero on any failure of the checks
``not_a_server_error``, ``status_code_conformance`` and
``content_type_conformance``.

    .venv/bin/python scripts/api_fuzz.py                       # SQLite
    .venv/bin/python scripts/api_fuzz.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_schema(url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    schema = f"dw_fuzz_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return schema, f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


def _drop_pg_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", help="a PostgreSQL URL; default: a temporary SQLite file")
    ap.add_argument("--max-examples", type=int, default=60, help="test cases per operation and phase")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--min-cases", type=int, default=2000, help="fail if fewer test cases ran")
    ap.add_argument("--workers", default="2")
    args = ap.parse_args()

    data = Path(tempfile.mkdtemp(prefix="dosewise-fuzz-"))
    env = {**os.environ, "DOSEWISE_DATA_DIR": str(data), "DOSEWISE_ENVIRONMENT": "development",
           "DOSEWISE_LOG_LEVEL": "ERROR"}
    schema = None
    if args.database_url:
        schema, env["DOSEWISE_DATABASE_URL"] = _pg_schema(args.database_url)
    else:
        env.pop("DOSEWISE_DATABASE_URL", None)
    port = _free_port()
    log_path = data / "server.log"
    log = log_path.open("w")
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--samples", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if server.poll() is not None:
                print(log_path.read_text()[-3000:], file=sys.stderr)
                return 2
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        key = (data / "demo-key.txt").read_text().strip()
        report = data / "report.json"
        cmd = [str(Path(sys.executable).with_name("schemathesis")), "run", f"{base}/openapi.json",
               "--checks", CHECKS, "--header", f"Authorization: Bearer {key}",
               "--max-examples", str(args.max_examples), "--seed", str(args.seed), "--generation-deterministic",
               "--phases", "examples,coverage,fuzzing", "--workers", args.workers, "--no-color",
               "--suppress-health-check", "all",
               "--request-timeout", "60", "--report", "json", "--report-json-path", str(report),
               "--continue-on-failure"]
        t0 = time.perf_counter()
        run = subprocess.run(cmd, cwd=data, capture_output=True, text=True,
                             env={**os.environ, "SCHEMATHESIS_HOOKS": "fuzz_hooks",
                                  "PYTHONPATH": str(ROOT / "scripts")})
        took = time.perf_counter() - t0
        print(run.stdout[-20000:])
        if run.stderr.strip():
            print(run.stderr[-5000:], file=sys.stderr)
        cases, server_errors = _counts(run.stdout, report)
        print(f"schemathesis ({'postgresql' if schema else 'sqlite'}): {cases} test cases, "
              f"{server_errors} server errors, {took:.0f} s, exit {run.returncode}", flush=True)
        lines = log_path.read_text().splitlines()
        five_hundreds = sum(1 for line in lines if '"status": 5' in line)
        if five_hundreds:
            print(f"the server logged {five_hundreds} 5xx responses; their last traceback lines:", file=sys.stderr)
            for line in lines:
                if '"status": 5' in line:
                    rec = json.loads(line)
                    tb = rec.get("traceback", "").splitlines()
                    print(rec.get("method"), rec.get("path"), *tb[-6:], sep="\n  ", file=sys.stderr)
        if cases < args.min_cases:
            print(f"only {cases} test cases ran; at least {args.min_cases} are required", file=sys.stderr)
            return 1
        return 1 if run.returncode or server_errors or five_hundreds else 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if schema and args.database_url:
            _drop_pg_schema(args.database_url, schema)
        shutil.rmtree(data, ignore_errors=True)


def _counts(stdout: str, report: Path) -> tuple[int, int]:
    """Test cases run and server errors seen, from the JSON report (or the summary as a fallback)."""
    cases = server_errors = 0
    if report.exists():
        doc = json.loads(report.read_text())
        cases = _find_int(doc, ("total_cases", "test_cases", "cases_total")) or 0
        server_errors = _count_server_errors(doc)
    if not cases:
        m = re.search(r"Test cases:\s*(\d+) generated", stdout) or re.search(r"(\d+) generated", stdout)
        cases = int(m.group(1)) if m else 0
    if not server_errors:
        server_errors = len(re.findall(r"Server error", stdout))
    return cases, server_errors


def _find_int(doc: object, keys: tuple[str, ...]) -> int | None:
    if isinstance(doc, dict):
        for k in keys:
            if isinstance(doc.get(k), int):
                return int(doc[k])
        for v in doc.values():
            found = _find_int(v, keys)
            if found is not None:
                return found
    elif isinstance(doc, list):
        for v in doc:
            found = _find_int(v, keys)
            if found is not None:
                return found
    return None


def _count_server_errors(doc: object) -> int:
    text = json.dumps(doc)
    return text.count('"not_a_server_error"') if '"failed"' in text else 0


if __name__ == "__main__":
    sys.exit(main())
