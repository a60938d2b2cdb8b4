"""Speed and memory of the dosing core alone, measured in one run.

Run: ``.venv/bin/python bench/bench_dosing.py [--quick]``

This is the NumPy core from arrays already in memory: no upload decoding, no
database, no export. What a user waits for end to end over HTTP is
``bench/bench_e2e.py``.

1. dosing step alone vs one ``numpy.copyto`` pass over the same densities
   (100 ha at 0.25 m: 4000 x 4000 cells, 3 species, float32);
2. the dosing core from arrays (masks, dosing, sprayer mapping, quantisation,
   summary; 4000 x 4000 cells): wall time, and peak memory traced by
   ``tracemalloc`` vs the input;
3. vs a per-cell Python loop applying the same rule on a subset of cells, as
   one would write it: values taken out of NumPy first (``tolist``), floats
   and ``math`` in the loop;
4. vs what a competent GeoPandas user writes for the same map on a 1000 x 1000
   (1 M-cell) grid: whole cells as polygons in a GeoDataFrame, the cells inside
   the field minus the buffers found through the spatial index
   (``sjoin(predicate="within")``), a vectorised rate per cell, ``dissolve`` by
   rate. Needs ``pip install -e '.[bench]'`` (GeoPandas).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.dosing.grid import GridSpec  # noqa: E402
from app.dosing.label import ProductLabel  # noqa: E402
from app.dosing.masks import SensitiveFeature, build_masks  # noqa: E402
from app.dosing.prescribe import Strategy, prescribe  # noqa: E402
from app.dosing.response import DoseResponse  # noqa: E402
from app.dosing.sprayer import SprayerProfile  # noqa: E402

SPECIES = ("ALOMY", "GALAP", "STEME")
LABEL = ProductLabel(
    name="herbicide", canonical_unit="L/ha", min_rate=0.25, max_rate=1.0, max_season_rate=2.0,
    buffers_m={"water": 5.0}, price_per_unit=25.0,
    efficacy={
        "ALOMY": DoseResponse(model="LL.4", b=2.4, c=0.0, d=1.0, e=0.30),
        "GALAP": DoseResponse(model="LL.4", b=1.8, c=0.0, d=1.0, e=0.20),
        "STEME": DoseResponse(model="W1.4", b=1.2, c=0.0, d=1.0, e=0.15),
    },
)
SPRAYER = SprayerProfile(boom_width_m=36.0, section_width_m=0.5, along_track_m=0.5, patch_buffer_m=0.5,
                         rate_levels=(0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 1.0), turndown_ratio=5.0)
STRATEGY = Strategy(name="target_efficacy")


def field_setup(n: int, cell_m: float) -> tuple[GridSpec, shapely.Polygon, list[SensitiveFeature]]:
    side = n * cell_m
    grid = GridSpec(crs="EPSG:32631", x0_m=500000.0, y0_m=5000000.0 + side, cell_size_m=cell_m,
                    n_rows=n, n_cols=n)
    x0, y0 = 500000.0, 5000000.0
    # An irregular field with a notch, and a stream crossing it.
    field = shapely.Polygon([(x0 + 0.01 * side, y0 + 0.02 * side), (x0 + 0.98 * side, y0 + 0.01 * side),
                             (x0 + 0.99 * side, y0 + 0.97 * side), (x0 + 0.6 * side, y0 + 0.99 * side),
                             (x0 + 0.5 * side, y0 + 0.8 * side), (x0 + 0.4 * side, y0 + 0.99 * side),
                             (x0 + 0.02 * side, y0 + 0.98 * side)])
    stream = shapely.LineString([(x0, y0 + 0.3 * side), (x0 + 0.5 * side, y0 + 0.35 * side),
                                 (x0 + side, y0 + 0.2 * side)])
    return grid, field, [SensitiveFeature("water", stream)]


def densities(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Patchy weeds: ~25 % of cells infested per species, 0-60 plants/m², float32."""
    rng = np.random.default_rng(seed)
    out = {}
    coarse = -(-n // 32)
    for s in SPECIES:
        patch = rng.random((coarse, coarse), dtype=np.float32) < 0.25
        level = rng.gamma(1.5, 8.0, size=(coarse, coarse)).astype(np.float32)
        base = np.where(patch, level, np.float32(0)).repeat(32, 0).repeat(32, 1)[:n, :n]
        noise = rng.random((n, n), dtype=np.float32)
        base *= noise
        out[s] = np.ascontiguousarray(base)
    return out


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def pipeline(grid, field, feats, dens, timings=None):
    masks = build_masks(grid, field, feats, [LABEL], wind_from_deg=None)
    return prescribe(dens, grid, masks, [LABEL], STRATEGY, SPRAYER, timings=timings)


def per_cell_loop(dens: dict[str, np.ndarray], spray_ok: np.ndarray, cells: np.ndarray) -> list[float]:
    """The same target_efficacy rule, one cell at a time in plain Python (floats, not NumPy scalars)."""
    s = STRATEGY
    lam_max = 1.0
    rows, cols = cells[:, 0], cells[:, 1]
    ok = spray_ok[rows, cols].tolist()
    values = [dens[sp][rows, cols].tolist() for sp in SPECIES]
    curves = [LABEL.efficacy[sp] for sp in SPECIES]
    presence, h = s.presence_plants_m2, s.control_half_density_plants_m2
    top, span = s.control_target, s.control_target - s.control_min
    out = []
    for i in range(len(ok)):
        if not ok[i]:
            out.append(0.0)
            continue
        need = 0.0
        for k in range(len(SPECIES)):
            n = values[k][i]
            if n > presence:
                need = max(need, curves[k].dose_for_control(top - span * h / (n + h)) / LABEL.max_rate)
        need = min(need, lam_max)
        if 0 < need < LABEL.min_rate:
            need = LABEL.min_rate
        out.append(need)
    return out


def vector_workflow(grid: GridSpec, field, feats, dens) -> object:
    """What a competent GeoPandas user writes: whole cells, spatial index, dissolve."""
    import geopandas as gpd

    n_rows, n_cols = grid.shape
    cs = grid.cell_size_m
    cols, rows = np.meshgrid(np.arange(n_cols), np.arange(n_rows))
    xmin = grid.x0_m + cols.ravel() * cs
    ymax = grid.y0_m - rows.ravel() * cs
    cells = gpd.GeoDataFrame({f"d_{sp}": dens[sp].ravel() for sp in SPECIES},
                             geometry=shapely.box(xmin, ymax - cs, xmin + cs, ymax), crs=grid.crs)
    buffers = gpd.GeoSeries([f.geometry.buffer(LABEL.buffers_m[f.kind]) for f in feats], crs=grid.crs).union_all()
    area = gpd.GeoDataFrame(geometry=[field.difference(buffers)], crs=grid.crs)
    inside = gpd.sjoin(cells, area, predicate="within", how="inner")  # spatial index under the hood
    s = STRATEGY
    h = s.control_half_density_plants_m2
    rate = np.zeros(len(inside))
    for sp in SPECIES:
        nd = inside[f"d_{sp}"].to_numpy(np.float64)
        ctl = s.control_target - (s.control_target - s.control_min) * h / (nd + h)
        # dose_for_control is scalar; a competent user tabulates it once and interpolates
        grid_ctl = np.linspace(ctl.min(), ctl.max(), 512)
        need = np.interp(ctl, grid_ctl, [LABEL.efficacy[sp].dose_for_control(c) for c in grid_ctl]) / LABEL.max_rate
        rate = np.maximum(rate, np.where(nd > s.presence_plants_m2, need, 0.0))
    rate = np.minimum(rate, 1.0)
    rate = np.where((rate > 0) & (rate < LABEL.min_rate), LABEL.min_rate, rate)
    levels = np.array(SPRAYER.rate_levels)
    inside["rate"] = np.where(rate > 0, levels[np.minimum(np.searchsorted(levels, rate), len(levels) - 1)], 0.0)
    return inside[["rate", "geometry"]].dissolve(by="rate")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller grids, for a smoke run")
    args = ap.parse_args()
    n = 1000 if args.quick else 4000
    cell_m = 0.25
    grid, field, feats = field_setup(n, cell_m)
    dens = densities(n)
    in_bytes = sum(a.nbytes for a in dens.values())
    print(f"grid {n} x {n} = {n * n / 1e6:.1f} M cells at {cell_m} m ({n * n * cell_m**2 / 1e4:.0f} ha), "
          f"{len(dens)} species float32, input {in_bytes / 2**20:.0f} MiB")

    # (1) dosing step vs one copyto pass over the same densities
    dst = {s: np.empty_like(a) for s, a in dens.items()}

    def copy_all() -> None:
        for s, a in dens.items():
            np.copyto(dst[s], a)

    t_copy = best_of(copy_all, 5)
    masks = build_masks(grid, field, feats, [LABEL])
    dose_times = []
    for _ in range(3):
        tm: dict[str, float] = {}
        prescribe(dens, grid, masks, [LABEL], STRATEGY, SPRAYER, timings=tm)
        dose_times.append(tm)
    t_dose = min(t["dose"] for t in dose_times)
    print(f"(1) copyto pass {t_copy * 1e3:.1f} ms; dosing step {t_dose * 1e3:.1f} ms; "
          f"ratio {t_dose / t_copy:.1f}x (target <= 10x)")

    # (2) whole pipeline: time, then peak traced memory in a separate run
    stages: dict[str, float] = {}
    t_masks = best_of(lambda: build_masks(grid, field, feats, [LABEL]), 1)
    t_pipe = best_of(lambda: pipeline(grid, field, feats, dens, stages), 3)
    tracemalloc.start()
    presc = pipeline(grid, field, feats, dens)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"(2) dosing core from arrays, {n} x {n} cells (no decoding, DB or export; see bench_e2e.py) "
          f"{t_pipe:.3f} s (target < 1.5 s): masks {t_masks:.3f} s, "
          + ", ".join(f"{k} {v:.3f} s" for k, v in stages.items()))
    print(f"    peak traced memory {peak / 2**20:.0f} MiB = {peak / in_bytes:.2f}x input (target < 3x; "
          f"includes the {presc.rates.nbytes / 2**20:.0f} MiB rates output)")
    sm = presc.summary
    print(f"    treated {sm.treated_area_ha:.1f} of {sm.sprayable_area_ha:.1f} ha sprayable, "
          f"saving {sm.saving_pct[0]:.1f} %, control "
          + ", ".join(f"{s} {c:.1f} %" for s, c in zip(sm.species, sm.control_pct, strict=True)
                      if c is not None)
          + f", yield loss {sm.yield_loss_pct:.2f} % (untreated {sm.yield_loss_untreated_pct:.2f} %)")
    del presc

    # (3) vs a per-cell Python loop on a subset
    rng = np.random.default_rng(3)
    sub = np.column_stack([rng.integers(0, n, 20000), rng.integers(0, n, 20000)])
    t_loop = best_of(lambda: per_cell_loop(dens, masks.sprayable, sub), 1)
    per_cell_loop_s = t_loop / len(sub)
    per_cell_vec_s = t_dose / (n * n)
    print(f"(3) per-cell Python loop (floats) {per_cell_loop_s * 1e6:.2f} us/cell vs dosing step "
          f"{per_cell_vec_s * 1e9:.2f} ns/cell: {per_cell_loop_s / per_cell_vec_s:.0f}x (target >= 300x)")

    # (4) vs a competent GeoPandas workflow on a 1M-cell field
    g1, f1, feats1 = field_setup(1000, cell_m)
    d1 = densities(1000, seed=2)
    t_ras = best_of(lambda: pipeline(g1, f1, feats1, d1), 3)
    try:
        import geopandas  # noqa: F401
    except ImportError:
        print("(4) skipped: GeoPandas is not installed (pip install -e '.[bench]')")
        t_vec = float("nan")
    else:
        t_vec = best_of(lambda: vector_workflow(g1, f1, feats1, d1), 1)
        print(f"(4) 1000 x 1000 cells (1 M): GeoPandas (whole cells, sjoin, dissolve) {t_vec:.2f} s vs dosing core "
              f"{t_ras * 1e3:.1f} ms: {t_vec / t_ras:.0f}x")
    ok = (t_dose / t_copy <= 10 and t_pipe < 1.5 and peak < 3 * in_bytes
          and per_cell_loop_s / per_cell_vec_s >= 300)
    print("all targets met" if ok else "SOME TARGETS MISSED")


if __name__ == "__main__":
    main()
