"""Peak server memory for the largest requests the default budgets admit.

Starts ``dosewise serve`` on a temporary SQLite database, creates a square
field, then for each size posts a weed map (3 species, encoded grids) and a
prescription over it, printing the server's peak RSS (``VmHWM``, reset before
each request) and the time of each step, and the ratio of the peak to the
weed map's raw float32 size.

    .venv/bin/python bench/bench_limits.py              # 100 ha at 0.25 m (16 M cells) and the 24 M-cell budget
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import httpx
import numpy as np
from pyproj import Transformer

ROOT = Path(__file__).resolve().parents[1]
LABEL = {"name": "Bench 500", "formulation": "liquid", "country": "FR",
         "active_ingredients": [{"name": "mesotrione", "concentration": 100, "concentration_unit": "g/L"}],
         "hrac_group": "27", "rate_unit": "L/ha", "min_rate": 0.5, "max_rate": 1.5,
         "efficacy": [{"species": s, "model": "LL.4", "b": 2.0, "e": 0.5} for s in ("ALOMY", "GALAP", "STEME")]}


def _kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _patchy(rows: int, cols: int, seed: int) -> np.ndarray:
    """Weed patches on bare ground: mostly zeros, as real maps are (and so it compresses under the body cap)."""
    rng = np.random.default_rng(seed)
    coarse = rng.gamma(0.3, 8.0, size=(rows // 64 + 1, cols // 64 + 1)).astype(np.float32)
    coarse[coarse < 4] = 0
    return np.repeat(np.repeat(coarse, 64, axis=0), 64, axis=1)[:rows, :cols]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, nargs="*", default=[16_000_000, 24_000_000])
    ap.add_argument("--cell-size-m", type=float, default=0.25)
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="dosewise-bench-limits-"))
    env = {**os.environ, "DOSEWISE_DATA_DIR": str(data), "DOSEWISE_LOG_LEVEL": "WARNING"}
    env.pop("DOSEWISE_DATABASE_URL", None)
    key = subprocess.run([sys.executable, "-m", "app.cli", "keys", "create", "--org", "bench", "--role",
                          "agronomist"], env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--no-samples", "--port", str(port)],
                            env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {key}"}
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        c = httpx.Client(base_url=base, headers=auth, timeout=600)
        product = c.post("/v1/products", json=LABEL).json()["id"]
        print(f"server at rest: {_kib(proc.pid, 'VmRSS') / 1024:.0f} MiB RSS")
        print(f"{'cells':>11} {'ha':>6} {'step':<14} {'seconds':>8} {'peak RSS MiB':>13} {'peak / map float32':>19}")
        to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True)
        to_wgs = Transformer.from_crs("EPSG:32631", "EPSG:4326", always_xy=True)
        for cells in args.cells:
            side = int(math.sqrt(cells)) - 8  # a little inside the budget: the grid snaps outwards
            side_m = side * args.cell_size_m
            x0, y0 = (round(v) for v in to_utm.transform(2.5, 48.5))
            ring = [to_wgs.transform(x, y) for x, y in ((x0, y0), (x0 + side_m, y0), (x0 + side_m, y0 - side_m),
                                                        (x0, y0 - side_m), (x0, y0))]
            f = c.post("/v1/fields", json={"name": f"Bench {cells}", "crop": "maize", "country": "FR",
                                           "boundary": {"type": "Polygon", "coordinates": [ring]}})
            f.raise_for_status()
            fid = f.json()["id"]
            species = {}
            for i, code in enumerate(("ALOMY", "GALAP", "STEME")):
                arr = _patchy(side, side, i)
                species[code] = {"encoding": "zlib-base64-float32le", "shape": [side, side],
                                 "data": base64.b64encode(zlib.compress(arr.tobytes(), 6)).decode()}
            raw_mib = 3 * side * side * 4 / 2**20
            steps = [("weed map", "POST", f"/v1/fields/{fid}/weed-maps",
                      {"crs": "EPSG:32631", "origin": {"x": float(x0), "y": float(y0)},
                       "cell_size_m": args.cell_size_m, "species": species}),
                     ("prescription", "POST", "/v1/prescriptions",
                      {"field_id": fid, "product_ids": [product], "strategy": {"name": "threshold"}})]
            for name, method, path, body in steps:
                Path(f"/proc/{proc.pid}/clear_refs").write_text("5")
                t0 = time.perf_counter()
                r = c.request(method, path, json=body)
                took = time.perf_counter() - t0
                peak = _kib(proc.pid, "VmHWM") / 1024
                print(f"{side * side:>11,} {side_m ** 2 / 1e4:>6.0f} {name:<14} {took:>8.1f} {peak:>13.0f} "
                      f"{peak / raw_mib:>18.1f}x   ({r.status_code})", flush=True)
                if r.status_code >= 300:
                    print(r.text[:500])
                    return 1
        return 0
    finally:
        proc.terminate()
        proc.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
