"""A real ``dosewise serve`` process for hostile requests, with its peak memory measured per case.

Each case resets the server's peak RSS (``/proc/PID/clear_refs``), sends its
request, and records status, wall time and the server's ``VmHWM`` (peak
resident set) afterwards; the table is printed at the end of the run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOSEWISE = [sys.executable, "-m", "app.cli"]

# A 9.6 ha field near Paris (WGS84 lon/lat).
BOUNDARY = {"type": "Polygon",
            "coordinates": [[[2.100, 48.500], [2.104, 48.500], [2.104, 48.503], [2.100, 48.503], [2.100, 48.500]]]}
LABEL = {"name": "Hostile Test 500", "formulation": "liquid", "country": "FR",
         "active_ingredients": [{"name": "mesotrione", "concentration": 100, "concentration_unit": "g/L"}],
         "hrac_group": "27", "rate_unit": "L/ha", "min_rate": 0.5, "max_rate": 1.5,
         "efficacy": [{"species": "ALOMY", "model": "LL.4", "b": 2.0, "e": 0.5}]}

RESULTS: list[dict[str, Any]] = []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


@dataclass
class Hostile:
    url: str
    key: str
    pid: int
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def client(self, timeout: float = 120.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def send(self, method: str, path: str, *, timeout: float = 120.0, **kw: Any) -> httpx.Response:
        with self.client(timeout) as c:
            return c.request(method, path, **kw)

    def rss_mib(self) -> float:
        return _kib(self.pid, "VmRSS") / 1024

    def case(self, name: str, send: Any, *, expect: set[int], max_s: float, max_rss_mib: float) -> httpx.Response:
        """Run one hostile request; assert its status, its time and the server's peak RSS during it."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        t0 = time.perf_counter()
        res = send()
        took = time.perf_counter() - t0
        peak = _kib(self.pid, "VmHWM") / 1024
        with self.client(10) as c:
            health = c.get("/health").status_code
        RESULTS.append({"case": name, "status": res.status_code, "seconds": took, "peak_rss_mib": peak,
                        "health": health})
        assert res.status_code in expect, f"{name}: {res.status_code} {res.text[:300]}"
        assert res.status_code < 500
        if res.status_code >= 400 and res.headers.get("content-type", "").startswith("application/json"):
            body = res.json()
            assert set(body) == {"error"} and body["error"]["message"], body
        assert took < max_s, f"{name}: {took:.1f} s (limit {max_s} s)"
        assert peak < max_rss_mib, f"{name}: server peak RSS {peak:.0f} MiB (limit {max_rss_mib} MiB)"
        assert health == 200, f"{name}: /health answered {health} afterwards"
        return res


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    data = tmp_path_factory.mktemp("hostile")
    env = {**os.environ, "DOSEWISE_DATA_DIR": str(data), "DOSEWISE_ENVIRONMENT": "test",
           "DOSEWISE_LOG_LEVEL": "WARNING"}
    env.pop("DOSEWISE_DATABASE_URL", None)
    key = subprocess.run([*DOSEWISE, "keys", "create", "--org", "hostile", "--role", "agronomist"], env=env,
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    port = _free_port()
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([*DOSEWISE, "serve", "--no-samples", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)
        h = Hostile(url=url, key=key, pid=proc.pid)
        with h.client() as c:
            f = c.post("/v1/fields", headers=h.auth, json={"name": "Hostile", "crop": "maize", "country": "FR",
                                                           "boundary": BOUNDARY})
            assert f.status_code == 201, f.text
            p = c.post("/v1/products", headers=h.auth, json=LABEL)
            assert p.status_code == 201, p.text
            h.ids = {"field": f.json()["id"], "product": p.json()["id"]}
        yield h
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RESULTS:
        return
    tr = terminalreporter
    tr.section("hostile input: per-case status, time and server peak RSS")
    tr.write_line(f"{'case':<44} {'status':>6} {'seconds':>8} {'peak RSS MiB':>13} {'/health':>8}")
    for r in RESULTS:
        tr.write_line(f"{r['case']:<44} {r['status']:>6} {r['seconds']:>8.2f} {r['peak_rss_mib']:>13.0f} "
                      f"{r['health']:>8}")
    tr.write_line(json.dumps({"cases": len(RESULTS), "max_peak_rss_mib": round(max(r['peak_rss_mib'] for r in RESULTS)),
                              "max_seconds": round(max(r['seconds'] for r in RESULTS), 2)}))
