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

Either way the label wins afterwards: :func:`sprayable_latlon` marks, on the
export's own grid, every cell the field edge or a no-spray zone touches, and
the exporter sets those to 0 (see ``app.export.isoxml``).

Speed: the map from lon/lat to grid metres is smooth, so it is computed
exactly (pyproj) on a coarse lattice of grid lines only and interpolated
bilinearly in between; the interpolation error is measured and added to the
overlap margin, so "max never lowers a rate" still holds. Windows are
gathered with whole-array indexing, chunk by chunk, never cell by cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from shapely.geometry.base import BaseGeometry

from app.dosing.grid import GridSpec
from app.dosing.masks import sprayable_cells
from app.export.job import ExportError
from app.geo import reproject, transformer

RESAMPLING: tuple[str, ...] = ("max", "nearest")

_WGS84_A = 6378137.0
_WGS84_E2 = 6.69437999014e-3
# Overlaps thinner than this fraction of a cell are rounding, not overlap.
_EPS = 1e-6
# Exact transforms at most this far apart (metres); the interpolation error in between is ~ h² / 8R.
_LATTICE_M = 64.0
# Target cells per chunk: bounds the scratch arrays (a dozen float64/int64 arrays of this size).
_CHUNK_CELLS = 1 << 20


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

    @property
    def transform_north_up(self) -> Affine:
        """Affine of the same grid as a north-up image (row 0 NORTH), for rasterio."""
        max_lat = self.min_lat + self.n_rows * self.cell_lat_deg
        return Affine(self.cell_lon_deg, 0.0, self.min_lon, 0.0, -self.cell_lat_deg, max_lat)


def _window(inside: np.ndarray) -> tuple[slice, slice]:
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def _perimeter_lonlat(grid: GridSpec, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of the corner points on the outline of a window of the metric grid.

    A rectangle's image under a smooth, nearly conformal map has its extreme
    latitudes and longitudes on its outline, so the outline is all we need.
    """
    xs = grid.x0_m + np.arange(cols.start, cols.stop + 1) * grid.cell_size_m
    ys = grid.y0_m - np.arange(rows.start, rows.stop + 1) * grid.cell_size_m
    x = np.concatenate([xs, xs, np.full(len(ys), xs[0]), np.full(len(ys), xs[-1])])
    y = np.concatenate([np.full(len(xs), ys[0]), np.full(len(xs), ys[-1]), ys, ys])
    lon, lat = transformer(grid.crs, "EPSG:4326").transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def latlon_grid_for(grid: GridSpec, inside: np.ndarray, *, oversample: int = 1, coarsen: int = 1) -> LatLonGrid:
    """The lat/lon grid covering every in-field cell, cells as long as the metric cells.

    Cell sizes in degrees match ``grid.cell_size_m * coarsen / oversample`` at
    the latitude of the field's centre.
    """
    if not inside.any():
        raise ExportError("the prescription has no cell inside the field")
    if oversample < 1:
        raise ExportError(f"oversample must be a positive integer, got {oversample}")
    if coarsen < 1:
        raise ExportError(f"coarsen must be a positive integer, got {coarsen}")
    rows, cols = _window(inside)
    lon, lat = _perimeter_lonlat(grid, rows, cols)
    lat_c = 0.5 * (float(lat.min()) + float(lat.max()))
    m_lat, m_lon = metres_per_degree(lat_c)
    size_m = grid.cell_size_m * coarsen / oversample
    # Rounded to what the XML stores, so the grid we fill is the grid the terminal reads.
    dlat, dlon = round(size_m / m_lat, 15), round(size_m / m_lon, 15)
    min_lat = math.floor(float(lat.min()) * 1e9) / 1e9
    min_lon = math.floor(float(lon.min()) * 1e9) / 1e9
    n_rows = math.ceil((float(lat.max()) - min_lat) / dlat - _EPS)
    n_cols = math.ceil((float(lon.max()) - min_lon) / dlon - _EPS)
    return LatLonGrid(min_lat, min_lon, dlat, dlon, max(n_rows, 1), max(n_cols, 1))


class _LatticeMap:
    """Fractional (column, row) of ``grid`` at the target's corner or centre lattice, interpolated.

    Exact pyproj transforms are made on every ``step``-th line of the target
    lattice only; ``error_cells`` is the largest interpolation error found at
    the midpoints between them, in source cells.
    """

    def __init__(self, grid: GridSpec, target: LatLonGrid, *, centres: bool) -> None:
        off = 0.5 if centres else 0.0
        n_r = target.n_rows + (0 if centres else 1)
        n_c = target.n_cols + (0 if centres else 1)
        cell_m = min(target.cell_lat_deg * metres_per_degree(target.min_lat)[0],
                     target.cell_lon_deg * metres_per_degree(target.min_lat)[1])
        step = max(1, int(_LATTICE_M // max(cell_m, 1e-9)))
        self._grid, self._target, self._off = grid, target, off
        self.n_rows, self.n_cols = n_r, n_c
        self._r_lines = np.unique(np.r_[np.arange(0, n_r, step), n_r - 1])
        self._c_lines = np.unique(np.r_[np.arange(0, n_c, step), n_c - 1])
        fc, fr = self._exact(self._r_lines[:, None], self._c_lines[None, :])
        # Interpolate along columns once: (coarse rows, all columns).
        cols = np.arange(n_c)
        self._fc_rows = np.stack([np.interp(cols, self._c_lines, fc[i]) for i in range(len(self._r_lines))])
        self._fr_rows = np.stack([np.interp(cols, self._c_lines, fr[i]) for i in range(len(self._r_lines))])
        self.error_cells = self._measure_error()

    def _exact(self, r: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t, g = self._target, self._grid
        lat = t.min_lat + (r + self._off) * t.cell_lat_deg
        lon = t.min_lon + (c + self._off) * t.cell_lon_deg
        lon, lat = np.broadcast_arrays(lon, lat)
        x, y = transformer("EPSG:4326", g.crs).transform(lon, lat)
        return (np.asarray(x) - g.x0_m) / g.cell_size_m, (g.y0_m - np.asarray(y)) / g.cell_size_m

    def rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Fractional source (col, row) of lattice rows ``start:stop``, each ``[stop - start, n_cols]``."""
        i = np.arange(start, stop)
        a = np.clip(np.searchsorted(self._r_lines, i, side="right") - 1, 0, max(len(self._r_lines) - 2, 0))
        if len(self._r_lines) == 1:
            return self._fc_rows[a], self._fr_rows[a]
        lo, hi = self._r_lines[a], self._r_lines[a + 1]
        t = ((i - lo) / (hi - lo))[:, None]
        fc = (1.0 - t) * self._fc_rows[a] + t * self._fc_rows[a + 1]
        fr = (1.0 - t) * self._fr_rows[a] + t * self._fr_rows[a + 1]
        return fc, fr

    def _measure_error(self) -> float:
        rl, cl = self._r_lines, self._c_lines
        r = (rl[:-1] + rl[1:]) // 2 if len(rl) > 1 else rl
        c = (cl[:-1] + cl[1:]) // 2 if len(cl) > 1 else cl
        fc_x, fr_x = self._exact(r[:, None], c[None, :])
        worst = 0.0
        for j, row in enumerate(r):
            fc_i, fr_i = self.rows(int(row), int(row) + 1)
            worst = max(worst, float(np.abs(fc_i[0, c] - fc_x[j]).max()), float(np.abs(fr_i[0, c] - fr_x[j]).max()))
        return worst


def resample_to_latlon(rates: np.ndarray, grid: GridSpec, target: LatLonGrid, *,
                       method: str = "max") -> np.ndarray:
    """Rates ``[n, rows, cols]`` on ``grid`` → ``[n, target rows, target cols]``, row 0 south.

    Lat/lon cells that overlap no in-field cell are NaN.
    """
    if method not in RESAMPLING:
        raise ExportError(f"unknown resampling {method!r}; valid: {', '.join(RESAMPLING)}")
    if method == "nearest":
        return _nearest(rates, grid, target)
    n = rates.shape[0]
    out = np.full((n, *target.shape), np.nan, dtype=np.float32)
    lattice = _LatticeMap(grid, target, centres=False)
    margin = _EPS + 2.0 * lattice.error_cells
    chunk = max(1, _CHUNK_CELLS // max(target.n_cols, 1))
    for r0 in range(0, target.n_rows, chunk):
        r1 = min(target.n_rows, r0 + chunk)
        fc, fr = lattice.rows(r0, r1 + 1)  # corner rows r0..r1
        quad = (fc[:-1, :-1], fc[:-1, 1:], fc[1:, :-1], fc[1:, 1:])
        c_lo = np.floor(np.minimum.reduce(quad) + margin).astype(np.int64)
        c_hi = np.ceil(np.maximum.reduce(quad) - margin).astype(np.int64) - 1
        quad = (fr[:-1, :-1], fr[:-1, 1:], fr[1:, :-1], fr[1:, 1:])
        r_lo = np.floor(np.minimum.reduce(quad) + margin).astype(np.int64)
        r_hi = np.ceil(np.maximum.reduce(quad) - margin).astype(np.int64) - 1
        # Cells overlapping the grid only: clip the window to it.
        np.maximum(c_lo, 0, out=c_lo)
        np.maximum(r_lo, 0, out=r_lo)
        np.minimum(c_hi, grid.n_cols - 1, out=c_hi)
        np.minimum(r_hi, grid.n_rows - 1, out=r_hi)
        span_c = int((c_hi - c_lo).max(initial=0)) + 1
        span_r = int((r_hi - r_lo).max(initial=0)) + 1
        block = out[:, r0:r1]
        for dr in range(span_r):
            rr = r_lo + dr
            ok_r = rr <= r_hi
            for dc in range(span_c):
                cc = c_lo + dc
                ok = ok_r & (cc <= c_hi)
                if not ok.any():
                    continue
                flat = np.where(ok, rr * grid.n_cols + cc, 0)
                for k in range(n):
                    vals = rates[k].ravel()[flat]
                    vals[~ok] = np.nan
                    np.fmax(block[k], vals, out=block[k])  # fmax ignores NaN (out of field)
    return out


def _nearest(rates: np.ndarray, grid: GridSpec, target: LatLonGrid) -> np.ndarray:
    lattice = _LatticeMap(grid, target, centres=True)
    out = np.full((rates.shape[0], *target.shape), np.nan, dtype=np.float32)
    chunk = max(1, _CHUNK_CELLS // max(target.n_cols, 1))
    for r0 in range(0, target.n_rows, chunk):
        r1 = min(target.n_rows, r0 + chunk)
        fc, fr = lattice.rows(r0, r1)
        col = np.floor(fc).astype(np.int64)
        row = np.floor(fr).astype(np.int64)
        ok = (row >= 0) & (row < grid.n_rows) & (col >= 0) & (col < grid.n_cols)
        out[:, r0:r1][:, ok] = rates[:, row[ok], col[ok]]
    return out


def _densified_wgs84(geom: BaseGeometry, crs: str, max_segment_m: float = 5.0) -> BaseGeometry:
    """``geom`` (WGS84) with vertices every ``max_segment_m`` on the ground.

    Its edges are straight in the metric CRS; between sparse vertices the same
    edge drawn straight in degrees bows by millimetres, so vertices are added.
    """
    metric = reproject(geom, "EPSG:4326", crs)
    return reproject(shapely.segmentize(metric, max_segment_m), crs, "EPSG:4326")


def sprayable_latlon(target: LatLonGrid, field_wgs84: BaseGeometry, no_spray_wgs84: BaseGeometry | None,
                     crs: str) -> np.ndarray:
    """Cells of ``target`` (row 0 south) wholly inside the field and touching no no-spray zone.

    :func:`app.dosing.masks.sprayable_cells` on the export's own grid, with
    the geometries densified (their edges are straight in ``crs``).
    """
    ns = _densified_wgs84(no_spray_wgs84, crs) if no_spray_wgs84 is not None else None
    _inside, ok = sprayable_cells(target.shape, target.transform_north_up, _densified_wgs84(field_wgs84, crs), ns)
    return ok[::-1]
