"""Tiny hand-built grids whose right answer is obvious."""

from __future__ import annotations

import numpy as np
import shapely

from app.dosing.grid import GridSpec
from app.dosing.masks import FieldMasks


def make_grid(rows: int, cols: int, cell_m: float = 1.0) -> GridSpec:
    return GridSpec(crs="EPSG:32631", x0_m=0.0, y0_m=rows * cell_m, cell_size_m=cell_m,
                    n_rows=rows, n_cols=cols)


def make_masks(in_field: np.ndarray, sprayable: np.ndarray | None = None) -> FieldMasks:
    in_field = np.asarray(in_field, dtype=bool)
    spr = in_field.copy() if sprayable is None else np.asarray(sprayable, dtype=bool) & in_field
    return FieldMasks(in_field=in_field, sprayable=spr, no_spray_m=shapely.Polygon())


