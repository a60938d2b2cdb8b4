"""Labels are law, in geometry: no sprayed cell touches a buffer or leaves the field.

Random fields (convex and not, with holes), random streams, wells and
neighbouring crops, random buffer distances and wind: every cell that gets
product is checked as a square against the real buffered geometry.
"""

from __future__ import annotations

import numpy as np
import shapely
from dosing_helpers import make_grid
from hypothesis import given, settings
from hypothesis import strategies as st

from app.dosing.label import ProductLabel
from app.dosing.masks import SensitiveFeature, build_masks, downwind_zone
from app.dosing.prescribe import Strategy, prescribe


@st.composite
def scenes(draw: st.DrawFn) -> dict[str, object]:
    n = draw(st.integers(12, 40))
    cell = draw(st.sampled_from([0.5, 1.0, 2.0]))
    size = n * cell
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    # a star-shaped field (often concave) inside the grid, sometimes with a hole
    k = draw(st.integers(5, 9))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    rad = rng.uniform(0.25, 0.48, k) * size
    cx = cy = size / 2
    field = shapely.Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)])).buffer(0)
    if draw(st.booleans()):
        field = field.difference(shapely.Point(cx, cy).buffer(size * 0.06))
    feats = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["water", "well", "sensitive_crop"]))
        x, y = rng.uniform(-0.1, 1.1, 2) * size
        if kind == "water":
            geom = shapely.LineString([(x, -size), (x + rng.uniform(-size, size), 2 * size)])
        elif kind == "well":
            geom = shapely.Point(x, y)
        else:
            geom = shapely.box(x, y, x + size * 0.2, y + size * 0.2)
        feats.append(SensitiveFeature(kind, geom))
    buffers = {kind: draw(st.floats(0.0, size / 4)) for kind in ("water", "well", "sensitive_crop")}
    label = ProductLabel("P", "L/ha", 0.5, 2.0, buffers_m=buffers,
                         downwind_buffer_m=draw(st.sampled_from([0.0, 0.0, cell * 3])))
    wind = draw(st.one_of(st.none(), st.floats(0, 359.9)))
    return {"n": n, "cell": cell, "field": field, "feats": feats, "label": label, "wind": wind}


@settings(max_examples=60, deadline=None)
@given(scenes())
def test_no_sprayed_cell_touches_a_buffer_or_leaves_the_field(s: dict) -> None:  # type: ignore[type-arg]
    n, cell, field, feats, label, wind = s["n"], s["cell"], s["field"], s["feats"], s["label"], s["wind"]
    grid = make_grid(n, n, cell)
    masks = build_masks(grid, field, feats, [label], wind_from_deg=wind)
    dens = {"SINAR": np.full(grid.shape, 10.0, np.float32)}
    rx = prescribe(dens, grid, masks, [label], Strategy(name="broadcast"))
    rows, cols = np.nonzero(rx.rates[0] > 0)
    x0 = grid.x0_m + cols * cell
    y1 = grid.y0_m - rows * cell
    squares = shapely.box(x0, y1 - cell, x0 + cell, y1)
    # shrink by a hair: squares that only share an edge with a buffer are fine
    inner = shapely.buffer(squares, -1e-6 * cell)
    assert np.all(shapely.within(inner, field))
    for f in feats:
        zone = f.geometry.buffer(label.buffers_m[f.kind]) if label.buffers_m[f.kind] > 0 else f.geometry
        assert not np.any(shapely.intersects(inner, zone)), f.kind
    if label.downwind_buffer_m > 0:
        if wind is None:  # unknown wind: the buffer is laid all round the field edge
            edge = field.boundary.buffer(label.downwind_buffer_m)
            assert not np.any(shapely.intersects(inner, edge))
        else:
            dz = downwind_zone(field, label.downwind_buffer_m, wind, cell / 2)
            assert not np.any(shapely.intersects(inner, dz))
