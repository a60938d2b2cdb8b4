"""Speed and memory of ingest, measured in one run.

Run: ``.venv/bin/python bench/bench_ingest.py [--quick]``

1. A 100 ha weed-density GeoTIFF at 0.25 m (4000 x 4000, 3 float32 bands,
   192 MB of pixels, tiled) read onto the field's working grid with
   ``read_weed_geotiff``: same-CRS to 0.5 m and to 0.25 m cells, from a
   Lambert-93 raster, and uploaded as 1 MiB chunks (spooled to disk). Each
   case runs in a fresh process: wall time, peak Python/NumPy heap
   (tracemalloc) and peak RSS growth over the process's start, both against
   the raster's in-memory size. Targets: < 3 s, < 3x the raster.
2. 1,000,000 point detections (lon/lat, 3 species, confidences) binned into
   the 0.5 m grid with ``aggregate_points`` (transform + bincount): < 1 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from affine import Affine  # noqa: E402

from app.geo import reproject  # noqa: E402
from app.ingest import PointDetections, aggregate_points, grid_for_field, read_weed_geotiff  # noqa: E402

SPECIES = ("ALOMY", "GALAP", "STEME")
UTM = "EPSG:32631"
X0, Y1 = 430000.0, 5376000.0  # north-west corner, near Paris


def _field(side_m: float):  # type: ignore[no-untyped-def]
    import shapely

    box = shapely.box(X0 + 1.0, Y1 - side_m + 1.0, X0 + side_m - 1.0, Y1 - 1.0)
    return reproject(box, UTM, "EPSG:4326")


def _write_raster(path: Path, n: int, crs: str, transform: Affine) -> None:
    import rasterio

    rng = np.random.default_rng(7)
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=3, dtype="float32", crs=crs,
                       transform=transform, tiled=True, blockxsize=512, blockysize=512) as dst:
        for b in range(3):
            # patchy densities: mostly 0, gamma-distributed where weeds are
            a = rng.gamma(0.6, 8.0, size=(n, n)).astype(np.float32)
            a[a < 3.0] = 0.0
            dst.write(a, b + 1)
            dst.set_band_description(b + 1, SPECIES[b])


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _child(args: argparse.Namespace) -> None:
    """One raster case in this (fresh) process; prints a JSON line."""
    field = _field(args.side)
    grid = grid_for_field(field, args.cell)
    source: object = args.path
    fh = None
    if args.chunks:
        fh = open(args.path, "rb")  # noqa: SIM115
        source = iter(lambda: fh.read(1 << 20), b"")
    rss0 = _rss_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the RSS high-water mark
    except OSError:
        pass
    tracemalloc.start()
    t0 = time.perf_counter()
    r = read_weed_geotiff(source, grid, max_bytes=1 << 30)
    dt = time.perf_counter() - t0
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hwm = _rss_kib("VmHWM")
    if fh:
        fh.close()
    print(json.dumps({"seconds": dt, "traced_peak": peak, "rss_growth": (hwm - rss0) * 1024,
                      "grid": list(grid.shape), "resampling": r.resampling, "coverage": r.coverage,
                      "alomy_mean": float(r.densities_plants_m2["ALOMY"].mean())}))


def bench_rasters(n: int, side: float, tmp: Path) -> None:
    res = side / n
    raster_bytes = n * n * 3 * 4
    utm = tmp / "utm.tif"
    _write_raster(utm, n, UTM, Affine(res, 0, X0, 0, -res, Y1))
    from pyproj import Transformer

    lx, ly = Transformer.from_crs(UTM, "EPSG:2154", always_xy=True).transform(X0 - 5, Y1 + 5)
    l93 = tmp / "l93.tif"
    _write_raster(l93, n, "EPSG:2154", Affine(res, 0, lx, 0, -res, ly))
    print(f"\n1. GeoTIFF {n} x {n} x 3 float32 at {res:g} m ({side * side / 1e4:.0f} ha), "
          f"{raster_bytes / 2**20:.0f} MiB of pixels; file {utm.stat().st_size / 2**20:.0f} MiB")
    print(f"   {'case':<36}{'grid':>12}{'resampling':>11}{'time s':>8}{'heap MiB':>10}{'x':>6}"
          f"{'RSS MiB':>9}{'x':>6}")
    cases = [("UTM 0.25 m -> 0.5 m grid", utm, 0.5, False), ("UTM 0.25 m -> 0.25 m grid", utm, 0.25, False),
             ("Lambert-93 -> UTM 0.5 m grid", l93, 0.5, False),
             ("UTM, uploaded in 1 MiB chunks -> 0.5", utm, 0.5, True)]
    for label, path, cell, chunks in cases:
        cmd = [sys.executable, __file__, "--child", str(path), "--cell", str(cell), "--side", str(side)]
        out = subprocess.run(cmd + (["--chunks"] if chunks else []), capture_output=True, text=True, check=True)
        m = json.loads(out.stdout.strip().splitlines()[-1])
        g = f"{m['grid'][0]}x{m['grid'][1]}"
        print(f"   {label:<36}{g:>12}{m['resampling']:>11}{m['seconds']:>8.2f}"
              f"{m['traced_peak'] / 2**20:>10.0f}{m['traced_peak'] / raster_bytes:>6.2f}"
              f"{m['rss_growth'] / 2**20:>9.0f}{m['rss_growth'] / raster_bytes:>6.2f}")
    print("   targets: < 3 s, < 3.00x the raster (heap = NumPy/Python allocations; RSS adds GDAL's cache)")


def bench_points(n_points: int, side: float) -> None:
    from pyproj import Transformer

    grid = grid_for_field(_field(side), 0.5)
    w, s, e, nn = grid.bounds_m
    rng = np.random.default_rng(1)
    # positions drawn inside the grid, sent out as lon/lat with a transformer of our own
    lon, lat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(
        rng.uniform(w, e, n_points), rng.uniform(s, nn, n_points))
    species = np.array(SPECIES)[rng.integers(0, 3, n_points)]
    conf = rng.uniform(0.2, 1.0, n_points).astype(np.float32)
    t0 = time.perf_counter()
    det = PointDetections.from_arrays(lon, lat, species, confidence=conf)
    t_pack = time.perf_counter() - t0
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        r = aggregate_points(det, grid, min_confidence=0.3)
        times.append(time.perf_counter() - t0)
    total = sum(float(d.sum()) for d in r.densities_plants_m2.values()) * grid.cell_area_m2
    expect = float(conf[conf >= 0.3].sum())
    print(f"\n2. {n_points:,} point detections (lon/lat, 3 species) -> {grid.shape[0]}x{grid.shape[1]} grid "
          f"at 0.5 m")
    print(f"   validate + pack (np.unique of species, range checks): {t_pack:.3f} s")
    print(f"   aggregate_points (transform + bincount), first / best of 3: {times[0]:.3f} s / {min(times):.3f} s "
          f"(target < 1 s, ratio {min(times) / 1.0:.2f})")
    print(f"   plants kept {total:,.1f} vs expected {expect:,.1f}; used {r.n_used:,}, below confidence "
          f"{r.n_below_confidence:,}, outside {r.n_outside:,}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="1000 x 1000 raster, 100k points")
    p.add_argument("--child")
    p.add_argument("--cell", type=float, default=0.5)
    p.add_argument("--side", type=float, default=1000.0)
    p.add_argument("--chunks", action="store_true")
    args = p.parse_args()
    if args.child:
        args.path = args.child
        _child(args)
        return
    n, side, n_points = (1000, 250.0, 100_000) if args.quick else (4000, 1000.0, 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        bench_rasters(n, side, Path(tmp))
    bench_points(n_points, side)


if __name__ == "__main__":
    main()
