"""End to end over HTTP on a fresh server: what a user waits for, and what the server grows to.

One field of ``--ha`` hectares (default 100) at 0.25 m cells (100 ha = 4000 x 4000
= 16 M cells), a dense 3-species float32 weed-map GeoTIFF, then:

    upload GeoTIFF -> threshold prescription -> ISOXML, shapefile, GeoTIFF exports -> map layers

Each step's wall time (a 202 job answer is polled to completion and counted in
full), the server's peak RSS (``VmHWM`` of the server process and any worker
processes it started, read from ``/proc``), and the ratio to
``bench/baseline_rasterio.py`` doing the same job as a plain rasterio + NumPy
script on the same files (its peak RSS from ``getrusage``). Inputs are generated
beforehand and not timed. The machine may be shared: run it twice when in doubt.

    .venv/bin/python bench/bench_e2e.py            # 100 ha, SQLite
    .venv/bin/python bench/bench_e2e.py --ha 400   # 64 M cells: minutes and GBs
    .venv/bin/python bench/bench_e2e.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.models import repo  # noqa: E402
from app.models.db import make_engine, session_factory  # noqa: E402
from app.models.migrate import upgrade  # noqa: E402

CRS = "EPSG:32631"
X0, Y0 = 430_000.0, 5_376_000.0  # south-west corner of the field, metres
CELL_M = 0.25
SPECIES = ("ALOMY", "GALAP", "STEME")
THRESHOLD_PLANTS_M2 = 1.0
LABEL: dict[str, Any] = {
    "name": "Benchazine 500 SC", "registration": "BENCH-0001", "country": "FR", "formulation": "liquid",
    "active_ingredients": [{"name": "benchazine", "concentration": 500, "concentration_unit": "g/L"}],
    "hrac_group": "5", "rate_unit": "L/ha", "min_rate": 0.5, "max_rate": 2.0, "max_season_rate": 4.0,
    "buffers": [{"kind": "water", "distance": 5, "unit": "m"}], "weather": {"wind_max_kmh": 19},
    "crops": [{"crop": "maize", "max_bbch": 18}], "price": {"amount": 20.0, "currency": "EUR", "per": "L"},
    "efficacy": [{"species": s, "model": "LL.4", "b": 2.0, "e": 0.5} for s in SPECIES],
    "sources": [{"title": "benchmark label"}],
}


def field_docs(side_m: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The field (API document) and the same geometry for the baseline script, WGS84."""
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)

    def ll(x: float, y: float) -> list[float]:
        lon, lat = to_wgs.transform(X0 + x, Y0 + y)
        return [round(lon, 9), round(lat, 9)]

    # A field with a notch in the north, and a stream crossing its western third.
    s = side_m
    ring = [ll(0, 0), ll(s, 0), ll(s, s), ll(0.6 * s, s), ll(0.5 * s, 0.85 * s), ll(0.4 * s, s), ll(0, s), ll(0, 0)]
    boundary = {"type": "Polygon", "coordinates": [ring]}
    water = {"type": "LineString", "coordinates": [ll(0.3 * s, -5), ll(0.35 * s, 0.5 * s), ll(0.28 * s, s + 5)]}
    api = {"name": "Bench field", "crop": "maize", "growth_stage_bbch": 14, "country": "FR", "boundary": boundary,
           "sensitive_features": [{"kind": "water", "name": "stream", "geometry": water}]}
    return api, {"boundary": boundary, "water": water}


def write_weed_tif(path: Path, side_m: float, seed: int = 1) -> tuple[int, int]:
    """A dense camera-scale map: patches of 8 m with per-cell noise, float32, tiled, deflate."""
    n = math.ceil(side_m / CELL_M)
    rng = np.random.default_rng(seed)
    coarse = -(-n // 32)
    profile = {"driver": "GTiff", "width": n, "height": n, "count": len(SPECIES), "dtype": "float32",
               "crs": CRS, "transform": from_origin(X0, Y0 + n * CELL_M, CELL_M, CELL_M),
               "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate", "predictor": 3}
    with rasterio.open(path, "w", **profile) as dst:
        for b, code in enumerate(SPECIES, start=1):
            patch = rng.random((coarse, coarse), dtype=np.float32) < 0.25
            level = rng.gamma(1.5, 8.0, size=(coarse, coarse)).astype(np.float32)
            a = np.where(patch, level, np.float32(0)).repeat(32, 0).repeat(32, 1)[:n, :n]
            a *= rng.random((n, n), dtype=np.float32)
            dst.write(a, b)
            dst.set_band_description(b, code)
    return n, n


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                pass
    return out


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    """The service in a fresh process on 127.0.0.1; peak RSS over it and its children."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.port = _port()
        env = {**os.environ, "DOSEWISE_DATABASE_URL": url, "DOSEWISE_DATA_DIR": str(data_dir),
               "DOSEWISE_LOG_LEVEL": "WARNING", "DOSEWISE_MAX_UPLOAD_MB": "4096"}
        code = ("import uvicorn; from app.main import create_app; "
                f"uvicorn.run(create_app(), host='127.0.0.1', port={self.port}, log_level='warning')")
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        self.peak_kb: dict[int, int] = {}
        for _ in range(300):
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit("the server exited at start")
            time.sleep(0.2)
        raise SystemExit("the server did not answer /health within 60 s")

    def sample(self) -> int:
        """The largest VmHWM (KiB) of any of the server's processes seen so far."""
        for p in _descendants(self.proc.pid):
            self.peak_kb[p] = max(self.peak_kb.get(p, 0), _status_kb(p, "VmHWM"))
        return max(self.peak_kb.values(), default=0)

    def rss_kb(self) -> int:
        return sum(_status_kb(p, "VmRSS") for p in _descendants(self.proc.pid))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _finish(c: httpx.Client, server: Server, r: httpx.Response) -> httpx.Response:
    """A 202 job answer polled until the job ends; then its result (or the error) is fetched."""
    if r.status_code != 202:
        return r
    job_url = r.headers.get("location") or r.json()["links"]["self"]
    while True:
        server.sample()
        j = c.get(job_url)
        body = j.json()
        if body.get("state") in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.2)
    if body["state"] != "succeeded":
        raise SystemExit(f"job {job_url} ended {body['state']}: {body.get('error')}")
    return c.get(body["links"]["result"])


def _step(name: str, c: httpx.Client, server: Server, call: Any, times: dict[str, float],
          expect: tuple[int, ...] = (200, 201)) -> httpx.Response:
    t = time.perf_counter()
    r = _finish(c, server, call())
    times[name] = time.perf_counter() - t
    peak = server.sample()
    if r.status_code not in expect:
        raise SystemExit(f"{name}: HTTP {r.status_code} {r.text[:500]}")
    print(f"  {name:24s} {times[name]:7.2f} s   {len(r.content) / 2**20:8.1f} MiB body   "
          f"server RSS now {server.rss_kb() / 2**10:6.0f} MiB, peak {peak / 2**10:6.0f} MiB", flush=True)
    return r


def run_service(url: str, tmp: Path, tif: Path, field: dict[str, Any]) -> tuple[dict[str, float], int, list[int]]:
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as s:
        org = repo.get_or_create_org(s, f"e2e-{uuid.uuid4().hex[:6]}")
        _r, key = repo.create_api_key(s, org, "agronomist")
        s.commit()
    engine.dispose()
    server = Server(url, tmp / "server")
    h = {"Authorization": f"Bearer {key}"}
    times: dict[str, float] = {}
    try:
        print(f"  server pid {server.proc.pid}: RSS at start {server.rss_kb() / 2**10:.0f} MiB")
        with httpx.Client(base_url=server.base, headers=h, timeout=3600) as c:
            fid = c.post("/v1/fields", json=field).raise_for_status().json()["id"]
            pid = c.post("/v1/products", json=LABEL).raise_for_status().json()["id"]
            with open(tif, "rb") as fh:
                wm = _step("upload GeoTIFF", c, server, lambda: c.post(
                    f"/v1/fields/{fid}/weed-maps/geotiff", params={"cell_size_m": CELL_M},
                    content=fh, headers={"Content-Type": "image/tiff"}), times).json()
            rx = _step("prescription", c, server, lambda: c.post("/v1/prescriptions", json={
                "field_id": fid, "weed_map_id": wm["id"], "product_ids": [pid],
                "strategy": {"name": "threshold", "threshold_plants_m2": THRESHOLD_PLANTS_M2}}), times).json()
            grid = [rx["grid"]["n_rows"], rx["grid"]["n_cols"]]
            for fmt in ("isoxml", "shapefile", "geotiff"):
                _step(f"export {fmt}", c, server, lambda f=fmt: c.get(f"/v1/prescriptions/{rx['id']}/export/{f}"),
                      times)
            _step("map layers", c, server, lambda: c.get(f"/v1/prescriptions/{rx['id']}/layers"), times)
        return times, server.sample(), grid
    finally:
        server.stop()


def run_baseline(tif: Path, field_geo: dict[str, Any], tmp: Path) -> tuple[dict[str, float], int]:
    fpath = tmp / "field.json"
    fpath.write_text(json.dumps(field_geo))
    script = Path(__file__).resolve().parent / "baseline_rasterio.py"
    out = subprocess.run([sys.executable, str(script), str(tif), str(fpath), str(tmp / "baseline"),
                          "--threshold", str(THRESHOLD_PLANTS_M2), "--rate", str(LABEL["max_rate"])],
                         check=True, capture_output=True, text=True)
    doc = json.loads(out.stdout.splitlines()[-1])
    return doc["seconds"], int(doc["peak_rss_kib"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ha", type=float, default=100.0, help="field size in hectares (square, 0.25 m cells)")
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file; a postgresql URL gets "
                                                         "a schema of its own, dropped afterwards")
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    side_m = math.sqrt(args.ha) * 100.0
    with tempfile.TemporaryDirectory(prefix="dosewise-e2e-") as tmpd:
        tmp = Path(tmpd)
        tif = tmp / "weeds.tif"
        t = time.perf_counter()
        rows, cols = write_weed_tif(tif, side_m)
        stack_mib = rows * cols * len(SPECIES) * 4 / 2**20
        head = (f"{args.ha:g} ha @ {CELL_M} m = {rows} x {cols} = {rows * cols / 1e6:.1f} M cells, "
                f"{len(SPECIES)} species float32 ({stack_mib:.0f} MiB stack)")
        print(f"{head}: GeoTIFF {tif.stat().st_size / 2**20:.0f} MiB written in {time.perf_counter() - t:.1f} s "
              f"(not timed)", flush=True)
        field_api, field_geo = field_docs(side_m)

        url, schema, admin = args.database_url, None, None
        if url is None:
            url = f"sqlite:///{tmp}/e2e.sqlite3"
        elif url.startswith("postgresql"):
            admin = make_engine(url)
            schema = f"dw_e2e_{uuid.uuid4().hex[:8]}"
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{url}?options=-csearch_path%3D{schema}"
        db = url.split(":", 1)[0].split("+")[0]
        print(f"service ({db}, fresh server):", flush=True)
        try:
            times, peak_kb, grid = run_service(url, tmp, tif, field_api)
        finally:
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        total = sum(times.values())
        print(f"  {'total':24s} {total:7.2f} s   server peak RSS {peak_kb / 2**10:.0f} MiB = "
              f"{peak_kb / 1024 / stack_mib:.1f}x the weed-map stack (target <= 3x); prescription grid "
              f"{grid[0]} x {grid[1]}", flush=True)
        if args.skip_baseline:
            return
        print("baseline (bench/baseline_rasterio.py, rasterio + NumPy script):", flush=True)
        base, base_kb = run_baseline(tif, field_geo, tmp)
        for k, v in base.items():
            print(f"  {k:24s} {v:7.2f} s")
        print(f"  peak RSS {base_kb / 2**10:.0f} MiB")
        b_total = base["total"]
        print(f"\n{head}, HTTP end to end on {db}:")
        print(f"  service {total:.1f} s vs rasterio+NumPy script {b_total:.1f} s: {total / b_total:.2f}x "
              f"(target <= 2x)")
        presc_base = base["read_warp"] + base["prescription"]
        print(f"  upload+prescription {times['upload GeoTIFF'] + times['prescription']:.1f} s vs script read+rule "
              f"{presc_base:.1f} s: {(times['upload GeoTIFF'] + times['prescription']) / presc_base:.2f}x")
        exp = sum(v for k, v in times.items() if k.startswith("export") or k == "map layers")
        b_exp = base["geotiff"] + base["zones"] + base["shapefile"] + base["isoxml"] + base["layers"]
        print(f"  exports+layers {exp:.1f} s vs script {b_exp:.1f} s: {exp / b_exp:.2f}x")
        print(f"  server peak RSS {peak_kb / 2**10:.0f} MiB ({peak_kb / 1024 / stack_mib:.1f}x stack) vs script "
              f"{base_kb / 2**10:.0f} MiB")


if __name__ == "__main__":
    main()
