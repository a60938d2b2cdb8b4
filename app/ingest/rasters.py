"""Weed-density GeoTIFFs, in any CRS, warped onto a field's working grid.

One band per species, values in plants/m². Because the values are densities
(not counts per pixel), an area-weighted ``average`` is the resampling that
keeps the plant total when the target cells are larger than the source
pixels; when they are smaller, ``nearest`` copies the measured density
without inventing smooth gradients across patch edges.

Memory: the file is read from disk (``spooled`` for uploads), only the window
that overlaps the grid is read, and bands are read and warped one at a time,
so the peak is about one source band plus the output grids.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.warp import reproject as warp_reproject
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app import budgets
from app.dosing.grid import GridSpec
from app.geo import reproject, utm_crs_for
from app.ingest.errors import (
    BandMismatch,
    CorruptFile,
    IngestError,
    InvalidData,
    NoOverlap,
    UnknownSpecies,
    UnsupportedFormat,
)
from app.ingest.spool import DEFAULT_MAX_BYTES, Source, spooled
from app.species import unknown_codes

RESAMPLINGS: tuple[str, ...] = ("average", "bilinear", "nearest")

_GDAL_CACHE_BYTES = 32 * 2**20
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def grid_for_field(boundary_wgs84: BaseGeometry | Mapping[str, Any], cell_size_m: float, *,
                   margin_m: float = 0.0) -> GridSpec:
    """The working grid of a field: its UTM zone, edges snapped to multiples of the cell size.

    Parameters
    ----------
    boundary_wgs84 : shapely geometry or GeoJSON dict
        The field boundary in WGS84 lon/lat.
    cell_size_m : float
        Cell side in metres.
    margin_m : float, keyword-only
        Extra ground around the boundary, metres.

    Examples
    --------
    >>> import shapely
    >>> sq = shapely.box(2.0, 48.0, 2.01, 48.01)
    >>> g = grid_for_field(sq, 1.0)
    >>> g.crs, g.x0_m % 1.0, g.n_cols, g.n_rows
    ('EPSG:32631', 0.0, 762, 1122)
    """
    if not cell_size_m > 0 or not math.isfinite(cell_size_m):
        raise IngestError(f"cell_size_m: must be a positive number of metres, got {cell_size_m!r}")
    geom = shape(boundary_wgs84) if isinstance(boundary_wgs84, Mapping) else boundary_wgs84
    if geom.is_empty:
        raise IngestError("boundary: empty geometry, no grid can be laid over it")
    c = geom.centroid
    crs = utm_crs_for(c.x, c.y)
    w, s, e, n = reproject(geom, "EPSG:4326", crs).buffer(margin_m).bounds if margin_m else \
        reproject(geom, "EPSG:4326", crs).bounds
    # before any rounding: a subnormal cell size makes the cell count infinite, not an integer
    budgets.current().check("grid_cells", ((e - w) / cell_size_m + 2) * ((n - s) / cell_size_m + 2),
                            f"cell_size_m: {cell_size_m:g} m cells over the field")
    # the small tolerance keeps an edge already on the lattice from gaining a cell to rounding
    x0 = math.floor(w / cell_size_m + 1e-9) * cell_size_m
    y0 = math.ceil(n / cell_size_m - 1e-9) * cell_size_m
    n_cols = max(1, math.ceil((e - x0) / cell_size_m - 1e-9))
    n_rows = max(1, math.ceil((y0 - s) / cell_size_m - 1e-9))
    budgets.current().check("grid_cells", n_cols * n_rows,
                            f"cell_size_m: {cell_size_m:g} m cells over the field ({n_cols} × {n_rows} cells)")
    return GridSpec(crs=crs, x0_m=x0, y0_m=y0, cell_size_m=float(cell_size_m), n_rows=n_rows, n_cols=n_cols)


@dataclass(frozen=True)
class WeedRaster:
    """Densities warped onto a grid, with how it was done.

    ``covered`` marks the cells that received data; cells outside the raster
    or under its nodata are 0 in ``densities_plants_m2`` and False here.
    """

    grid: GridSpec
    densities_plants_m2: dict[str, np.ndarray]
    resampling: str
    covered: np.ndarray
    coverage: float
    source_crs: str
    source_pixel_m: float
    notes: list[str] = field(default_factory=list)


def _band_species(src: Any, species: Sequence[str] | Mapping[int, str] | None, name: str) -> list[str]:
    n = src.count
    if species is None:
        desc = list(src.descriptions)
        missing = [i + 1 for i, d in enumerate(desc) if not d or not d.strip()]
        if missing:
            raise BandMismatch(f"{name}: band {missing[0]} has no description naming its species; "
                               f"pass a band → species mapping ({n} band{'s' if n > 1 else ''})")
        codes = [str(d).strip().upper() for d in desc]
    elif isinstance(species, Mapping):
        bad = sorted(b for b in species if not isinstance(b, int) or not 1 <= b <= n)
        if bad:
            raise BandMismatch(f"{name}: the mapping names band {bad[0]}, but the raster has bands 1..{n}")
        if len(species) != n:
            missing = sorted(set(range(1, n + 1)) - set(species))
            raise BandMismatch(f"{name}: the mapping covers {len(species)} bands, the raster has {n} "
                               f"(band {missing[0]} has no species)")
        codes = [str(species[b]).strip().upper() for b in range(1, n + 1)]
    else:
        if isinstance(species, str):
            species = [species]
        if len(species) != n:
            raise BandMismatch(f"{name}: {len(species)} species given ({', '.join(species)}) "
                               f"but the raster has {n} band{'s' if n > 1 else ''}")
        codes = [str(s).strip().upper() for s in species]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise BandMismatch(f"{name}: species {dup[0]} is given to more than one band")
    unknown = unknown_codes(codes)
    if unknown:
        bands = [codes.index(u) + 1 for u in unknown]
        raise UnknownSpecies(f"{name}: unknown species code{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(f'{u} (band {b})' for u, b in zip(unknown, bands, strict=True))}; "
                             f"use EPPO codes from the catalogue", codes=unknown)
    return codes


def _source_window(src: Any, grid: GridSpec, name: str) -> tuple[Window, float]:
    """The part of the raster over the grid (with a pixel margin) and its pixel size in grid metres."""
    try:
        sb = transform_bounds(src.crs, grid.crs, *src.bounds, densify_pts=21)
    except Exception as exc:
        raise UnsupportedFormat(f"{name}: its CRS cannot be transformed to {grid.crs} ({exc})") from None
    gb = grid.bounds_m
    if not (sb[0] < gb[2] and sb[2] > gb[0] and sb[1] < gb[3] and sb[3] > gb[1]):
        raise NoOverlap(f"{name}: the raster (x {sb[0]:.0f}..{sb[2]:.0f}, y {sb[1]:.0f}..{sb[3]:.0f} in "
                        f"{grid.crs}) does not overlap the field grid (x {gb[0]:.0f}..{gb[2]:.0f}, "
                        f"y {gb[1]:.0f}..{gb[3]:.0f})")
    pixel_m = math.sqrt(((sb[2] - sb[0]) / src.width) * ((sb[3] - sb[1]) / src.height))
    gsrc = transform_bounds(grid.crs, src.crs, *gb, densify_pts=21)
    win = from_bounds(*gsrc, transform=src.transform)
    col0 = max(0, math.floor(win.col_off) - 2)
    row0 = max(0, math.floor(win.row_off) - 2)
    col1 = min(src.width, math.ceil(win.col_off + win.width) + 2)
    row1 = min(src.height, math.ceil(win.row_off + win.height) + 2)
    if col1 <= col0 or row1 <= row0:
        raise NoOverlap(f"{name}: the raster does not overlap the field grid")
    # Checked before any pixel is read: a sparse 34 KB TIFF can declare 50,000² pixels over a field.
    budgets.current().check("grid_cells", (col1 - col0) * (row1 - row0),
                            f"{name}: pixels over the field ({col1 - col0} × {row1 - row0}; resample the raster "
                            f"coarser)")
    return Window(col0, row0, col1 - col0, row1 - row0), pixel_m


def _clean_band(a: np.ndarray, nodata: float | None, where: str) -> None:
    """Nodata → NaN in place; refuse NaN that is not nodata, and negative densities."""
    nodata_is_nan = nodata is not None and math.isnan(nodata)
    if not nodata_is_nan:
        nan = np.isnan(a)
        if nan.any():
            r, c = np.argwhere(nan)[0]
            raise InvalidData(f"{where}: NaN at row {r}, column {c} but the raster's nodata is "
                              f"{nodata!r}; set nodata=nan if NaN marks missing data")
        del nan
    if nodata is not None and not nodata_is_nan:
        a[a == np.float32(nodata)] = np.nan
    inf = np.isinf(a)
    if inf.any():
        r, c = np.argwhere(inf)[0]
        raise InvalidData(f"{where}: infinite value at row {r}, column {c}")
    del inf
    if a.size and np.nanmin(a, initial=0.0) < 0:
        r, c = np.argwhere(a < 0)[0]
        raise InvalidData(f"{where}: negative density {a[r, c]:g} plants/m² at row {r}, column {c}")


def read_weed_geotiff(source: Source, grid: GridSpec, *, species: Sequence[str] | Mapping[int, str] | None = None,
                      resampling: str | None = None, name: str = "weed map",
                      max_bytes: int = DEFAULT_MAX_BYTES, num_threads: int | None = None) -> WeedRaster:
    """Read a weed-density GeoTIFF (plants/m², one band per species) onto ``grid``.

    Parameters
    ----------
    source : path, bytes, binary file object or iterator of byte chunks
        The GeoTIFF; anything but a path is spooled to a temporary file.
    grid : GridSpec
        The field's working grid (see ``grid_for_field``).
    species : list of EPPO codes (one per band) or {band number (1-based): code}, keyword-only
        Default: the band descriptions.
    resampling : {'average', 'bilinear', 'nearest'}, keyword-only
        Default: 'average' when source pixels are no larger than the grid cells,
        else 'nearest'.
    name : str
        The upload's name, used in error messages.

    Returns
    -------
    WeedRaster
        float32 densities per species, shape ``grid.shape``, row 0 north.

    Raises
    ------
    UnsupportedFormat, CorruptFile, BandMismatch, UnknownSpecies, InvalidData, NoOverlap, TooLarge

    Examples
    --------
    >>> import shapely
    >>> read_weed_geotiff(b"GIF89a", grid_for_field(shapely.box(2, 48, 2.001, 48.001), 1.0), name="m.gif")
    Traceback (most recent call last):
    ...
    app.ingest.errors.UnsupportedFormat: m.gif: not a TIFF file (it starts with b'GIF89a')
    """
    if resampling is not None and resampling not in RESAMPLINGS:
        raise IngestError(f"resampling: {resampling!r} is not one of {', '.join(RESAMPLINGS)}")
    with spooled(source, max_bytes=max_bytes, suffix=".tif", name=name) as path:
        return _read(path, grid, species, resampling, name, num_threads or min(4, os.cpu_count() or 1))


def _read(path: Path, grid: GridSpec, species: Any, resampling: str | None, name: str,
          num_threads: int) -> WeedRaster:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head[:4] not in _TIFF_MAGIC:
        raise UnsupportedFormat(f"{name}: not a TIFF file (it starts with {head[:6]!r})")
    # Each block is read once, so GDAL's block cache (5 % of RAM by default)
    # would only hold a second copy of the raster: keep it small.
    with rasterio.Env(GDAL_CACHEMAX=_GDAL_CACHE_BYTES):
        return _read_open(path, grid, species, resampling, name, num_threads)


def _read_open(path: Path, grid: GridSpec, species: Any, resampling: str | None, name: str,
               num_threads: int) -> WeedRaster:
    try:
        src_ctx = rasterio.open(path)
    except RasterioError as exc:
        raise CorruptFile(f"{name}: the TIFF cannot be opened, truncated or damaged? ({exc})") from None
    with src_ctx as src:
        if src.driver != "GTiff":
            raise UnsupportedFormat(f"{name}: read as {src.driver}, not GeoTIFF")
        if src.crs is None:
            raise UnsupportedFormat(f"{name}: the raster has no CRS; export it as a GeoTIFF with its CRS")
        if src.transform.is_identity or src.transform.b != 0 or src.transform.d != 0:
            raise UnsupportedFormat(f"{name}: the raster has no north-up georeferencing "
                                    f"(geotransform {tuple(src.transform)[:6]})")
        codes = _band_species(src, species, name)
        win, pixel_m = _source_window(src, grid, name)
        chosen = resampling or ("average" if pixel_m <= grid.cell_size_m * 1.0001 else "nearest")
        t = src.transform  # north-up (checked above); src.window_transform warns under affine 3
        win_transform = Affine(t.a, 0.0, t.c + win.col_off * t.a, 0.0, t.e, t.f + win.row_off * t.e)
        densities: dict[str, np.ndarray] = {}
        covered = np.zeros(grid.shape, dtype=bool)
        gap = np.empty(grid.shape, dtype=bool)  # reused: no fresh temporaries per band
        for b, code in enumerate(codes, start=1):
            where = f"{name}: band {b} ({code})"
            try:
                a = src.read(b, window=win, out_dtype="float32")
            except RasterioError as exc:
                raise CorruptFile(f"{where}: pixels cannot be read, truncated or damaged? ({exc})") from None
            _clean_band(a, src.nodatavals[b - 1], where)
            dst = np.full(grid.shape, np.nan, dtype=np.float32)
            warp_reproject(a, dst, src_transform=win_transform, src_crs=src.crs, src_nodata=np.nan,
                           dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=np.nan,
                           resampling=Resampling[chosen], num_threads=num_threads)
            del a
            np.isnan(dst, out=gap)
            np.copyto(dst, 0.0, where=gap)
            covered |= np.logical_not(gap, out=gap)
            densities[code] = dst
        src_crs = src.crs.to_string()
    n_cov = int(covered.sum())
    if n_cov == 0:
        raise NoOverlap(f"{name}: the raster holds only nodata over the field grid")
    notes = [f"resampled with '{chosen}' from ~{pixel_m:.3g} m pixels in {src_crs} to {grid.cell_size_m:g} m "
             f"cells in {grid.crs}"]
    coverage = n_cov / covered.size
    if coverage < 1.0:
        notes.append(f"{100 * (1 - coverage):.1f} % of the grid cells have no data (set to 0 plants/m²)")
    return WeedRaster(grid=grid, densities_plants_m2=densities, resampling=chosen, covered=covered,
                      coverage=coverage, source_crs=src_crs, source_pixel_m=pixel_m, notes=notes)


def plant_total(densities_plants_m2: np.ndarray, grid: GridSpec) -> float:
    """Plants on the grid: the sum of densities times the cell area (m²).

    >>> g = GridSpec("EPSG:32631", 0.0, 2.0, 1.0, 2, 2)
    >>> plant_total(np.full((2, 2), 3.0, dtype=np.float32), g)
    12.0
    """
    return float(np.sum(densities_plants_m2, dtype=np.float64) * grid.cell_area_m2)


__all__ = ["RESAMPLINGS", "WeedRaster", "grid_for_field", "plant_total", "read_weed_geotiff"]
