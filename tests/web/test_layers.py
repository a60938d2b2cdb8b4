"""The map's numeric core on tiny hand-built grids whose right answer is obvious."""

from __future__ import annotations

import doctest
from io import BytesIO

import numpy as np
import pytest
import shapely
from PIL import Image

from app.dosing.grid import GridSpec
from app.geo import reproject
from app.web import layers

# 20 x 10 one-metre cells in UTM 31N, 3 degrees east of the central meridian
# so the grid is visibly rotated against lat/lon.
GRID = GridSpec(crs="EPSG:32631", x0_m=700_000.0, y0_m=5_400_010.0, cell_size_m=1.0, n_rows=10, n_cols=20)


def test_doctests() -> None:
    result = doctest.testmod(layers, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_density_classes_edges() -> None:
    d = np.array([-1.0, 0.0, 0.5, 1.0, 1.99, 2.0, 10.0, 99.9, 100.0, 5000.0, np.nan], dtype=np.float32)
    assert layers.density_classes(d).tolist() == [0, 0, 1, 2, 2, 3, 5, 7, 8, 8, 0]


def test_overlay_covers_the_grid_in_lat_lon() -> None:
    ov = layers.mercator_overlay(GRID)
    corners = reproject(shapely.box(*GRID.bounds_m), GRID.crs, "EPSG:4326")
    w, s, e, n = corners.bounds
    eps = 1e-9  # degrees, float round-off of the round trip
    assert ov.west <= w + eps and ov.south <= s + eps and ov.east >= e - eps and ov.north >= n - eps
    # rotated grid: the box grows a little, but stays within two cells each side
    assert (ov.east - ov.west) < (e - w) * 1.2


def test_overlay_is_capped() -> None:
    big = GridSpec(crs="EPSG:32631", x0_m=500_000.0, y0_m=5_410_000.0, cell_size_m=1.0, n_rows=10_000,
                   n_cols=5_000)
    ov = layers.mercator_overlay(big, max_px=1024)
    assert max(ov.width, ov.height) <= 1024


def test_warped_patch_lands_where_it_was() -> None:
    """A 4 x 4 m patch in the grid's north-east corner stays in the overlay's north-east."""
    classes = np.zeros(GRID.shape, dtype=np.uint8)
    classes[0:4, 16:20] = 5
    ov = layers.mercator_overlay(GRID)
    out = layers.warp_classes(classes, GRID, ov)
    rows, cols = np.nonzero(out)
    assert set(np.unique(out).tolist()) == {0, 5}
    assert rows.max() < ov.height / 2 and cols.min() > ov.width / 2
    # area is kept within a pixel's rounding on each edge (Mercator pixels here are ~1.5 m)
    pixel_m2 = (ov.transform.a ** 2) * np.cos(np.radians((ov.north + ov.south) / 2)) ** 2
    assert 16 * 0.5 < len(rows) * pixel_m2 < 16 * 2


def test_palette_png_is_transparent_where_bare() -> None:
    idx = np.array([[0, 1], [8, 0]], dtype=np.uint8)
    img = Image.open(BytesIO(layers.palette_png(idx))).convert("RGBA")
    px = np.asarray(img)
    assert px[0, 0, 3] == 0 and px[1, 1, 3] == 0
    assert tuple(px[0, 1]) == (255, 243, 176, 255)  # #fff3b0
    assert tuple(px[1, 0]) == (128, 0, 38, 255)  # #800026


def test_palette_png_refuses_floats() -> None:
    with pytest.raises(ValueError, match="uint8"):
        layers.palette_png(np.zeros((2, 2), dtype=np.float32))


def test_density_legend_stops_at_the_peak() -> None:
    assert [r["from"] for r in layers.density_legend(150.0)][-1] == 100.0
    assert layers.density_legend(150.0)[-1]["to"] is None
    assert len(layers.density_legend(0.0)) == 1


def test_rate_zones_cover_the_field_once() -> None:
    rates = np.full(GRID.shape, np.nan)
    rates[:, :10] = 0.0
    rates[:, 10:15] = 1.0
    rates[:, 15:] = 2.0
    rates[0, 0] = np.nan
    geoms, values, areas = layers.rate_zones(rates, GRID)
    assert sorted(set(values.tolist())) == [0.0, 1.0, 2.0]
    assert areas.sum() * 10_000 == pytest.approx(199.0)
    by_rate = {v: a * 10_000 for v, a in zip(values.tolist(), areas.tolist(), strict=True)}
    assert by_rate[1.0] == pytest.approx(50.0) and by_rate[2.0] == pytest.approx(50.0)
    lon, lat = shapely.get_coordinates(np.asarray(geoms, dtype=object)).T
    assert (lon > 5.0).all() and (48 < lat).all() and (lat < 49).all()  # lon/lat, not swapped


def test_rate_zones_bin_a_continuous_grid() -> None:
    rates = np.linspace(0.2, 2.0, GRID.n_rows * GRID.n_cols).reshape(GRID.shape)
    _g, values, areas = layers.rate_zones(rates, GRID, max_classes=6)
    assert len(set(values.tolist())) <= 6
    assert values.max() == pytest.approx(2.0)  # each class shown at its highest rate: never under-states
    assert areas.sum() * 10_000 == pytest.approx(200.0)


def test_rate_legend_and_colours() -> None:
    legend = layers.rate_legend(np.array([1.5, 0.0, 1.5, 0.75]), np.array([1.0, 2.0, 0.5, 0.25]), 1.5)
    assert [r["rate"] for r in legend] == [0.0, 0.75, 1.5]
    assert [r["area_ha"] for r in legend] == [2.0, 0.25, 1.5]
    assert legend[0]["colour"] == layers.UNSPRAYED_COLOUR
    assert legend[-1]["colour"] == layers.RATE_RAMP[-1]
