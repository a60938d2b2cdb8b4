"""Resampling the metric prescription grid onto a WGS84 latitude/longitude grid.

ISOXML grids (GRD) are laid out in degrees: row 0 is the southernmost row,
columns run west to east. The prescription grid is north-up in a metric CRS
(usually UTM), whose axes are turned against the meridians by the grid
convergence, so cells never line up one to one.

``max`` resampling (the default) gives each lat/lon cell the highest rate of
every prescription cell it overlaps, so no sprayed cell's rate is lowered;
the price is that sprayed patches grow by up to one cell into their
neighbours. ``nearest`` takes the prescription cell under each lat/lon cell's
centre: patch outlines stay put but a cell may lose part of its dose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.dosing.grid import GridSpec
from app.export.job import ExportError
from app.geo import transformer

RESAMPLING: tuple[str, ...] = ("max", "nearest")

_WGS84_A = 6378137.0
_WGS84_E2 = 6.69437999014e-3
# Overlaps thinner than this fraction of a cell are rounding, not overlap.
_EPS = 1e-6


def metres_per_degree(lat_deg: float) -> tuple[float, float]:
    """Length in metres of one degree of latitude and of longitude at ``lat_deg`` (WGS84).

    >>> [round(v) for v in metres_per_degree(45.0)]
    [111132, 78847]
    """
    phi = math.radians(lat_deg)
    w = 1.0 - _WGS84_E2 * math.sin(phi) ** 2
    meridional = _WGS84_A * (1.0 - _WGS84_E2) / w**1.5
    normal = _WGS84_A / math.sqrt(w)
    return meridional * math.pi / 180.0, normal * math.cos(phi) * math.pi / 180.0


@dataclass(frozen=True)
class LatLonGrid:
    """A grid in WGS84 degrees; row 0 is the SOUTHERNMOST row, column 0 the westernmost.

    ``min_lat``/``min_lon`` are the south and west edges, rounded to 9
    decimals (the precision ISOXML stores) before any cell is computed.
    """

    min_lat: float
    min_lon: float
    cell_lat_deg: float
    cell_lon_deg: float
    n_rows: int
    n_cols: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_rows, self.n_cols)


def _corner_lonlat(grid: GridSpec, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of the cell-corner lattice of a window of the metric grid."""
    xs = grid.x0_m + np.arange(cols.start, cols.stop + 1) * grid.cell_size_m
    ys = grid.y0_m - np.arange(rows.start, rows.stop + 1) * grid.cell_size_m
    xx, yy = np.meshgrid(xs, ys)
    lon, lat = transformer(grid.crs, "EPSG:4326").transform(xx, yy)
    return np.asarray(lon), np.asarray(lat)


def _window(inside: np.ndarray) -> tuple[slice, slice]:
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def latlon_grid_for(grid: GridSpec, inside: np.ndarray, *, oversample: int = 1) -> LatLonGrid:
    """The lat/lon grid covering every in-field cell, cells as long as the metric cells.

    Cell sizes in degrees match ``grid.cell_size_m / oversample`` at the
    latitude of the field's centre.
    """
    if not inside.any():
        raise ExportError("the prescription has no cell inside the field")
    if oversample < 1:
        raise ExportError(f"oversample must be a positive integer, got {oversample}")
    rows, cols = _window(inside)
    lon, lat = _corner_lonlat(grid, rows, cols)
    lat_c = 0.5 * (float(lat.min()) + float(lat.max()))
    m_lat, m_lon = metres_per_degree(lat_c)
    size_m = grid.cell_size_m / oversample
    # Rounded to what the XML stores, so the grid we fill is the grid the terminal reads.
    dlat, dlon = round(size_m / m_lat, 15), round(size_m / m_lon, 15)
    min_lat = math.floor(float(lat.min()) * 1e9) / 1e9
    min_lon = math.floor(float(lon.min()) * 1e9) / 1e9
    n_rows = math.ceil((float(lat.max()) - min_lat) / dlat - _EPS)
    n_cols = math.ceil((float(lon.max()) - min_lon) / dlon - _EPS)
    return LatLonGrid(min_lat, min_lon, dlat, dlon, max(n_rows, 1), max(n_cols, 1))


def resample_to_latlon(rates: np.ndarray, grid: GridSpec, target: LatLonGrid, *,
                       method: str = "max") -> np.ndarray:
    """Rates ``[n, rows, cols]`` on ``grid`` → ``[n, target rows, target cols]``, row 0 south.

    Lat/lon cells that overlap no in-field cell are NaN.
    """
    if method not in RESAMPLING:
        raise ExportError(f"unknown resampling {method!r}; valid: {', '.join(RESAMPLING)}")
    inside = ~np.isnan(rates).any(axis=0)
    if method == "nearest":
        return _nearest(rates, grid, target)
    rows, cols = _window(inside)
    lon, lat = _corner_lonlat(grid, rows, cols)
    # Fractional target column/row of every corner.
    fc = (lon - target.min_lon) / target.cell_lon_deg
    fr = (lat - target.min_lat) / target.cell_lat_deg
    quad = (fc[:-1, :-1], fc[:-1, 1:], fc[1:, :-1], fc[1:, 1:])
    c_lo = np.floor(np.minimum.reduce(quad) + _EPS).astype(np.int64)
    c_hi = np.ceil(np.maximum.reduce(quad) - _EPS).astype(np.int64) - 1
    quad = (fr[:-1, :-1], fr[:-1, 1:], fr[1:, :-1], fr[1:, 1:])
    r_lo = np.floor(np.minimum.reduce(quad) + _EPS).astype(np.int64)
    r_hi = np.ceil(np.maximum.reduce(quad) - _EPS).astype(np.int64) - 1

    sel = inside[rows, cols]
    c_lo, c_hi, r_lo, r_hi = c_lo[sel], c_hi[sel], r_lo[sel], r_hi[sel]
    np.clip(c_lo, 0, target.n_cols - 1, out=c_lo)
    np.clip(c_hi, 0, target.n_cols - 1, out=c_hi)
    np.clip(r_lo, 0, target.n_rows - 1, out=r_lo)
    np.clip(r_hi, 0, target.n_rows - 1, out=r_hi)
    span_c = int((c_hi - c_lo).max()) + 1
    span_r = int((r_hi - r_lo).max()) + 1

    idx_parts, src_parts = [], []
    src = np.flatnonzero(sel)
    for dr in range(span_r):
        for dc in range(span_c):
            ok = (r_lo + dr <= r_hi) & (c_lo + dc <= c_hi)
            idx_parts.append((r_lo[ok] + dr) * target.n_cols + (c_lo[ok] + dc))
            src_parts.append(src[ok])
    idx = np.concatenate(idx_parts)
    src_idx = np.concatenate(src_parts)

    n = rates.shape[0]
    out = np.full((n, target.n_rows * target.n_cols), -np.inf, dtype=np.float32)
    for k in range(n):
        vals = rates[k][rows, cols].ravel()[src_idx]
        np.maximum.at(out[k], idx, vals)
    out[np.isneginf(out)] = np.nan
    return out.reshape(n, target.n_rows, target.n_cols)


def _nearest(rates: np.ndarray, grid: GridSpec, target: LatLonGrid) -> np.ndarray:
    lat = target.min_lat + (np.arange(target.n_rows) + 0.5) * target.cell_lat_deg
    lon = target.min_lon + (np.arange(target.n_cols) + 0.5) * target.cell_lon_deg
    lon2, lat2 = np.meshgrid(lon, lat)
    x, y = transformer("EPSG:4326", grid.crs).transform(lon2, lat2)
    col = np.floor((np.asarray(x) - grid.x0_m) / grid.cell_size_m).astype(np.int64)
    row = np.floor((grid.y0_m - np.asarray(y)) / grid.cell_size_m).astype(np.int64)
    ok = (row >= 0) & (row < grid.n_rows) & (col >= 0) & (col < grid.n_cols)
    out = np.full((rates.shape[0], *target.shape), np.nan, dtype=np.float32)
    out[:, ok] = rates[:, row[ok], col[ok]]
    return out
