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
from app.dosing.prescribe import Prescription, Summary
from app.export import FORMATS, ExportJob, render
from app.geo import reproject


def build_job(n: int = 1000, seed: int = 7) -> ExportJob:
    grid = GridSpec(crs="EPSG:32631", x0_m=500_000.0, y0_m=5_000_000.0, cell_size_m=1.0, n_rows=n, n_cols=n)
    field_m = shapely.Polygon([(500_010, 4_999_010), (500_990, 4_999_030), (500_980, 4_999_990),
                               (500_400, 4_999_960), (500_020, 4_999_700)])
    rng = np.random.default_rng(seed)
    seeds = np.zeros((n, n), dtype=np.float32)
    seeds[rng.integers(0, n, 300), rng.integers(0, n, 300)] = rng.uniform(1, 4, 300)
    density = ndimage.gaussian_filter(seeds, 12) * 4000  # patches of 0-60 plants/m²
    from rasterio import features

    in_field = features.rasterize([(field_m, 1)], out_shape=grid.shape, transform=grid.transform).astype(bool)
    rates = np.full((1, n, n), np.nan, dtype=np.float32)
    rates[0][in_field] = 0.0
    levels = np.array([0.0, 1.0, 1.5, 2.0, 2.5], dtype=np.float32)
    cls = np.digitize(density, [1.0, 5.0, 15.0, 30.0])
    rates[0][in_field] = levels[cls[in_field]]
    product = ProductLabel("Clethodim 240", "L/ha", 0.0, 2.5, label_unit="fl oz/acre")
    ha = grid.cell_area_ha
    summary = Summary(float(in_field.sum()) * ha, float(in_field.sum()) * ha,
                      float((rates[0] > 0).sum()) * ha, [0.0], [0.0], [0.0])
    rx = Prescription(grid=grid, products=[product], rates=rates, summary=summary)
    return ExportJob(rx, "Bench field", reproject(field_m, grid.crs, "EPSG:4326"), customer_name="Bench")


def main() -> None:
    job = build_job()
    print(f"field {job.prescription.summary.field_area_ha:.1f} ha, grid {job.prescription.grid.shape}, "
          f"sprayed {job.prescription.summary.treated_area_ha:.1f} ha")
    cases = [(f, {}) for f in FORMATS] + [("isoxml", {"grid_type": 1})]
    for fmt, opts in cases:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            out = render(job, fmt, **opts)
            best = min(best, time.perf_counter() - t0)
        label = fmt + "".join(f" {k}={v}" for k, v in opts.items())
        zones = out.stats.get("zones")
        print(f"{label:<18} {best:6.2f} s  {len(out.content) / 1e6:7.2f} MB  zones={zones} "
              f"vertices={out.stats.get('vertices')}")


if __name__ == "__main__":
    main()
