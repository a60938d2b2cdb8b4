"""Fewer, larger zones for terminals with a file-size cap, never lowering a cell's rate.

Each k x k block of cells takes the highest rate any of its cells needs; the
raised rate spreads only over cells that may be sprayed (inside the field,
off its edge, outside every buffer). Cells that must stay unsprayed keep 0,
cells outside the field stay NaN. So the label maximum still holds (a block
maximum is one of the legal rates) and no buffer gains product.
"""

from __future__ import annotations

import numpy as np
from rasterio import features
from shapely.geometry.base import BaseGeometry

from app.dosing.grid import GridSpec
from app.geo import reproject

FACTORS: tuple[int, ...] = (2, 3, 4, 6, 8, 12, 16)


def sprayable_cells(grid: GridSpec, field_wgs84: BaseGeometry, no_spray_wgs84: BaseGeometry | None) -> np.ndarray:
    """Cells wholly inside the field and clear of the no-spray zones (all-touched, so conservative)."""
    field_m = reproject(field_wgs84, "EPSG:4326", grid.crs)

    def burn(geom: BaseGeometry, all_touched: bool) -> np.ndarray:
        if geom.is_empty:
            return np.zeros(grid.shape, dtype=bool)
        return features.rasterize([(geom, 1)], out_shape=grid.shape, transform=grid.transform,
                                  all_touched=all_touched, fill=0, dtype="uint8").astype(bool)

    ok = burn(field_m, False) & ~burn(field_m.boundary, True)
    if no_spray_wgs84 is not None and not no_spray_wgs84.is_empty:
        ok &= ~burn(reproject(no_spray_wgs84, "EPSG:4326", grid.crs), True)
    return ok


def coarsen_up(rates: np.ndarray, sprayable: np.ndarray, k: int) -> np.ndarray:
    """Rates ``[n, rows, cols]`` raised to the block maximum on sprayable cells.

    >>> r = np.array([[[0, 2, 0], [0, 0, 0], [0, 0, 5]]], dtype=np.float32)
    >>> ok = np.ones((3, 3), bool); ok[0, 0] = False
    >>> coarsen_up(r, ok, 2)[0].tolist()
    [[0.0, 2.0, 0.0], [2.0, 2.0, 0.0], [0.0, 0.0, 5.0]]
    """
    n, rows, cols = rates.shape
    rb, cb = -(-rows // k), -(-cols // k)
    padded = np.zeros((n, rb * k, cb * k), dtype=np.float32)
    padded[:, :rows, :cols] = np.nan_to_num(rates, nan=0.0)
    block_max = padded.reshape(n, rb, k, cb, k).max(axis=(2, 4))
    spread = np.repeat(np.repeat(block_max, k, axis=1), k, axis=2)[:, :rows, :cols]
    out = rates.copy()
    np.maximum(out, np.where(sprayable, spread, 0.0).astype(np.float32), out=out, where=sprayable)
    return out
