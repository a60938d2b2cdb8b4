"""Property: for random fields, features, labels and prescriptions, every format for every terminal,
read back by the verifier, sprays nothing where the label forbids and nothing above it."""

from __future__ import annotations

import numpy as np
import shapely
from conftest import CRS, make_job
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.dosing.grid import GridSpec
from app.dosing.label import ProductLabel
from app.dosing.masks import SensitiveFeature, build_masks
from app.dosing.prescribe import Strategy, prescribe
from app.dosing.response import DoseResponse
from app.export import render
from app.export.registry import ExportRefused
from app.export.terminals import TERMINALS
from app.export.verify import GroundTruth, verify
from app.geo import reproject

X0, Y0 = 500_000.0, 5_000_000.0


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    w=st.floats(20, 45), h=st.floats(20, 35), cell=st.sampled_from([0.5, 1.0, 2.0]),
    fx=st.floats(0.2, 0.8), fy=st.floats(0.2, 0.8), kind=st.sampled_from(["water", "lake", "well", "ditch"]),
    dist=st.floats(1.0, 8.0), max_rate=st.floats(0.1, 3.0), solid=st.booleans(), seed=st.integers(0, 2**16),
    terminal=st.sampled_from(sorted(TERMINALS)),
)
def test_every_format_stays_inside_the_label(w, h, cell, fx, fy, kind, dist, max_rate, solid, seed, terminal):
    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(np.ceil((h + 4) / cell)), int(np.ceil((w + 4) / cell))
    grid = GridSpec(crs=CRS, x0_m=X0, y0_m=Y0, cell_size_m=cell, n_rows=n_rows, n_cols=n_cols)
    field_m = shapely.box(X0 + 1.3, Y0 - 1.7 - h, X0 + 1.3 + w, Y0 - 1.7)
    feature = shapely.Point(X0 + 1.3 + fx * w, Y0 - 1.7 - fy * h)
    label = ProductLabel("Prod", "kg/ha" if solid else "L/ha", 0.2 * max_rate, max_rate,
                         buffers_m={"water" if kind != "well" else "well": dist},
                         efficacy={"AVEFA": DoseResponse(model="LL.4", b=2.0, c=0.0, d=1.0, e=0.3 * max_rate)})
    masks = build_masks(grid, field_m, [SensitiveFeature(kind, feature)], [label])
    dens = rng.gamma(0.6, 4.0, grid.shape).astype(np.float32)
    rx = prescribe({"AVEFA": dens}, grid, masks, [label], Strategy("target_efficacy"))
    job = make_job(rx, no_spray_wgs84=reproject(masks.no_spray_m.intersection(field_m), CRS, "EPSG:4326"),
                   features_wgs84=((kind, "f", reproject(feature, CRS, "EPSG:4326")),))
    job = __import__("dataclasses").replace(job, field_boundary_wgs84=reproject(field_m, CRS, "EPSG:4326"))
    truth = GroundTruth.from_job(job)
    for fmt in ("isoxml", "shapefile", "geojson", "geotiff"):
        try:
            out = render(job, fmt, terminal=terminal)
        except ExportRefused as exc:  # pragma: no cover - a refusal is a failure of this property
            raise AssertionError(f"{fmt}/{terminal} refused: {exc}") from None
        report = verify(out.content, fmt, truth)
        assert report.ok, (fmt, terminal, report.problems)
        assert all(z.area_m2 <= 1e-6 for z in report.zones)
        (feat,) = report.features
        assert feat.closest_sprayed_m is None or feat.closest_sprayed_m >= dist - 1e-6
        (p,) = report.products
        assert p.over_max_area_m2 == 0 and p.below_min_area_m2 == 0
        # the delta is exactly the file's amount minus the prescription's
        assert p.delta == p.file_total - p.prescribed_total
        expected = float(np.nansum(rx.rates[0], dtype=np.float64)) * grid.cell_area_ha
        assert abs(p.prescribed_total - expected) <= 1e-9 * max(expected, 1.0)
