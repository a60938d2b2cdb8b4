"""Time every export format on a ~100 ha field at 1 m cells (1000 x 1000) with patchy zones.

Run: .venv/bin/python bench/bench_export.py
"""

from __future__ import annotations

import time

import numpy as np
import shapely
from scipy import ndimage

from app.dosing.grid import GridSpec
from app.dosing.label import ProductLabel
from app.dosing.masks import SensitiveFeature, build_masks
from app.dosing.prescribe import Prescription, Summary
from app.export import FORMATS, ExportJob, render
from app.geo import reproject


def build_job(cell_m: float = 1.0, seed: int = 7) -> ExportJob:
    n = int(round(1000 / cell_m))
    grid = GridSpec(crs="EPSG:32631", x0_m=500_000.0, y0_m=5_000_000.0, cell_size_m=cell_m, n_rows=n, n_cols=n)
    field_m = shapely.Polygon([(500_010, 4_999_010), (500_990, 4_999_030), (500_980, 4_999_990),
                               (500_400, 4_999_960), (500_020, 4_999_700)])
    rng = np.random.default_rng(seed)
    seeds = np.zeros((n, n), dtype=np.float32)
    seeds[rng.integers(0, n, 300), rng.integers(0, n, 300)] = rng.uniform(1, 4, 300)
    density = ndimage.gaussian_filter(seeds, 12 / cell_m) * 4000 / cell_m**2  # patches of 0-60 plants/m²
    product = ProductLabel("Clethodim 240", "L/ha", 0.0, 2.5, label_unit="fl oz/acre", buffers_m={"well": 30.0})
    well = shapely.Point(500_600, 4_999_500)
    masks = build_masks(grid, field_m, [SensitiveFeature("well", well)], [product])
    rates = np.full((1, n, n), np.nan, dtype=np.float32)
    rates[0][masks.in_field] = 0.0
    levels = np.array([0.0, 1.0, 1.5, 2.0, 2.5], dtype=np.float32)
    cls = np.digitize(density, [1.0, 5.0, 15.0, 30.0])
    rates[0][masks.sprayable] = levels[cls[masks.sprayable]]
    ha = grid.cell_area_ha
    summary = Summary(float(masks.in_field.sum()) * ha, float(masks.sprayable.sum()) * ha,
                      float((rates[0] > 0).sum()) * ha, [0.0], [0.0], [0.0])
    rx = Prescription(grid=grid, products=[product], rates=rates, summary=summary)
    return ExportJob(rx, "Bench field", reproject(field_m, grid.crs, "EPSG:4326"), customer_name="Bench",
                     no_spray_wgs84=reproject(masks.no_spray_m.intersection(field_m), grid.crs, "EPSG:4326"),
                     features_wgs84=(("well", "W1", reproject(well, grid.crs, "EPSG:4326")),))


def main() -> None:
    import resource
    import sys

    job = build_job()
    print(f"field {job.prescription.summary.field_area_ha:.1f} ha, grid {job.prescription.grid.shape}, "
          f"sprayed {job.prescription.summary.treated_area_ha:.1f} ha")
    print("export time includes the verifier (every file is read back before it is served); verify = its share")
    cases = [(f, {}) for f in FORMATS] + [("isoxml", {"grid_type": 1})]
    for fmt, opts in cases:
        best, verify_s = float("inf"), 0.0
        for _ in range(3):
            t0 = time.perf_counter()
            out = render(job, fmt, **opts)
            took = time.perf_counter() - t0
            if took < best:
                best, verify_s = took, float(out.stats.get("verify_seconds", 0.0))  # type: ignore[arg-type]
        label = fmt + "".join(f" {k}={v}" for k, v in opts.items())
        zones = out.stats.get("zones")
        grid = f" grid={out.stats['grid_rows']}x{out.stats['grid_cols']}" if "grid_rows" in out.stats else ""
        print(f"{label:<18} {best:6.2f} s  verify {verify_s:5.2f} s ({100 * verify_s / best:4.1f} %)  "
              f"{len(out.content) / 1e6:7.2f} MB  zones={zones} vertices={out.stats.get('vertices')}{grid}")
    if "--fine" in sys.argv:  # 100 ha at 0.25 m: 4000 x 4000 cells
        fine = build_job(0.25)
        t0 = time.perf_counter()
        out = render(fine, "isoxml")
        took = time.perf_counter() - t0
        v = float(out.stats.get("verify_seconds", 0.0))  # type: ignore[arg-type]
        print(f"isoxml 100 ha @ 0.25 m (4000 x 4000 -> {out.stats['grid_rows']} x {out.stats['grid_cols']}) "
              f"{took:6.2f} s  verify {v:5.2f} s ({100 * v / took:4.1f} %)")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
