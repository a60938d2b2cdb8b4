"""A field edge a few micrometres inside a row of cells still keeps that row unsprayed."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine

from app.dosing.masks import sprayable_cells


@pytest.mark.parametrize("inset_m", [2e-6, 3e-5, 4e-4, 5e-3, 1.5e-2])
def test_edge_a_hair_inside_a_cell_row_excludes_that_row(inset_m: float) -> None:
    """The south edge tilts from 0 to ``inset_m`` above the grid line y = 0 (lon/lat rounding does this).

    GDAL's all_touched alone keeps the bottom row sprayable although its
    cells reach up to ``inset_m`` outside the field.
    """
    field = shapely.Polygon([(0, 0), (20, inset_m), (20, 10), (0, 10)])
    inside, ok = sprayable_cells((10, 20), Affine(1, 0, 0, 0, -1, 10), field)
    assert inside[9].all()
    assert not ok[9].any() and not ok[0].any() and not ok[:, 0].any() and not ok[:, -1].any()
    assert ok[1:-1, 1:-1].all()  # and no more than the edge ring is lost
    cells = shapely.box(np.arange(20), 0, np.arange(1, 21), 1)
    outside = shapely.area(shapely.difference(cells, field))
    assert (outside > 0).any()  # the bottom row really did stick out


def test_zone_margin_applies_to_no_spray_zones_too() -> None:
    field = shapely.box(-5, -5, 25, 15)  # covers the whole grid: no edge cells
    zone = shapely.box(9 - 1e-6, 0, 30, 20)  # its west edge a micrometre into column 8
    _inside, ok = sprayable_cells((10, 20), Affine(1, 0, 0, 0, -1, 10), field, zone)
    assert not ok[:, 8:].any() and ok[:, :8].all()
