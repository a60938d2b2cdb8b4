"""What a web map draws, made from stored grids: no requests, no database.

Leaflet places an image overlay by stretching it linearly in Web Mercator
between two lat/lon corners. A UTM grid is rotated against that (grid
convergence reaches a degree or two away from the central meridian: tens of
metres across a large field), so density grids are warped to EPSG:3857 before
they become PNGs. Densities are classified first and the class indices warped
with nearest neighbour: one byte per cell and a legend that stays exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

import numpy as np
import shapely
from affine import Affine
from PIL import Image
from rasterio import features
from rasterio.warp import Resampling, reproject
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.dosing.grid import GridSpec
from app.export.palette import RATE_RAMP, UNSPRAYED_COLOUR, ramp_index
from app.geo import transformer

WEB_MERCATOR = "EPSG:3857"

# Lower edges (plants/m²) of density classes 2..8; class 1 is anything above 0
# and below 1 plant/m², class 0 is bare (transparent). Fixed edges keep the
# same colour meaning the same density on every species and every field.
DENSITY_EDGES_PLANTS_M2: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
DENSITY_COLOURS: tuple[str, ...] = (
    "#fff3b0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026",
)


@dataclass(frozen=True)
class Overlay:
    """A north-up pixel grid in Web Mercator and its (south, west, north, east) box in degrees."""

    width: int
    height: int
    transform: Affine
    south: float
    west: float
    north: float
    east: float

    @property
    def bounds_latlon(self) -> list[list[float]]:
        """``[[south, west], [north, east]]``: latitude first, as Leaflet's LatLngBounds."""
        return [[round(self.south, 8), round(self.west, 8)], [round(self.north, 8), round(self.east, 8)]]


def mercator_overlay(grid: GridSpec, *, max_px: int = 2048) -> Overlay:
    """The Web Mercator pixel grid covering ``grid``, at most ``max_px`` pixels a side.

    Examples
    --------
    >>> g = GridSpec(crs="EPSG:32631", x0_m=500000.0, y0_m=5400100.0, cell_size_m=1.0, n_rows=100, n_cols=100)
    >>> ov = mercator_overlay(g)
    >>> 100 <= ov.width <= 102 and 100 <= ov.height <= 102, round(ov.west, 3), round(ov.north, 3)
    (True, 3.0, 48.754)
    """
    left, bottom, right, top = grid.bounds_m
    # The grid's outline, densely sampled: its edges bend a little in Mercator.
    t = np.linspace(0.0, 1.0, 33)
    xs = np.concatenate([left + (right - left) * t, np.full_like(t, right), right - (right - left) * t,
                         np.full_like(t, left)])
    ys = np.concatenate([np.full_like(t, top), top - (top - bottom) * t, np.full_like(t, bottom),
                         bottom + (top - bottom) * t])
    mx, my = transformer(grid.crs, WEB_MERCATOR).transform(xs, ys)
    x0, x1, y0, y1 = float(np.min(mx)), float(np.max(mx)), float(np.max(my)), float(np.min(my))
    # As GDAL's default: keep the number of pixels along the diagonal.
    res = math.hypot(x1 - x0, y0 - y1) / math.hypot(grid.n_cols, grid.n_rows)
    res = max(res, max(x1 - x0, y0 - y1) / max_px)
    width, height = max(1, math.ceil((x1 - x0) / res)), max(1, math.ceil((y0 - y1) / res))
    dst = Affine(res, 0.0, x0, 0.0, -res, y0)
    x1, y1 = x0 + width * res, y0 - height * res
    lon, lat = transformer(WEB_MERCATOR, "EPSG:4326").transform([x0, x1], [y1, y0])
    return Overlay(width=int(width), height=int(height), transform=dst,
                   south=float(lat[0]), west=float(lon[0]), north=float(lat[1]), east=float(lon[1]))


def density_classes(density_plants_m2: np.ndarray) -> np.ndarray:
    """Class index per cell (uint8): 0 bare or no data, 1..8 by ``DENSITY_EDGES_PLANTS_M2``.

    Examples
    --------
    >>> density_classes(np.array([0.0, 0.2, 1.0, 4.9, 100.0, np.nan])).tolist()
    [0, 1, 2, 3, 8, 0]
    """
    d = np.asarray(density_plants_m2, dtype=np.float32)
    out = np.searchsorted(np.asarray(DENSITY_EDGES_PLANTS_M2, dtype=np.float32), d, side="right")
    out = (out + 1).astype(np.uint8)
    out[~(d > 0)] = 0  # also NaN
    return out


def warp_classes(classes: np.ndarray, grid: GridSpec, overlay: Overlay) -> np.ndarray:
    """Warp class indices (``(bands, rows, cols)`` or ``(rows, cols)``) onto ``overlay``; 0 stays no data."""
    shape_out = (*classes.shape[:-2], overlay.height, overlay.width)
    out = np.zeros(shape_out, dtype=np.uint8)
    reproject(source=classes, destination=out, src_transform=grid.transform, src_crs=grid.crs,
              dst_transform=overlay.transform, dst_crs=WEB_MERCATOR, resampling=Resampling.nearest,
              src_nodata=0, dst_nodata=0)
    return out


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def palette_png(indexed: np.ndarray, colours: Sequence[str] = DENSITY_COLOURS) -> bytes:
    """An 8-bit palette PNG: index 0 transparent, index ``i`` opaque ``colours[i - 1]``.

    Examples
    --------
    >>> png = palette_png(np.array([[0, 1], [2, 8]], dtype=np.uint8))
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    if indexed.dtype != np.uint8 or indexed.ndim != 2:
        raise ValueError(f"indexed must be a 2-D uint8 array, got {indexed.dtype} {indexed.shape}")
    img = Image.frombytes("P", (indexed.shape[1], indexed.shape[0]), np.ascontiguousarray(indexed).tobytes())
    palette = [0, 0, 0]
    for c in colours:
        palette.extend(_rgb(c))
    img.putpalette(palette)
    buf = BytesIO()
    # Fast zlib level: these images are mostly runs of one index and compress well anyway.
    img.save(buf, format="PNG", transparency=bytes([0] + [255] * len(colours)), compress_level=1)
    return buf.getvalue()


def density_legend(max_plants_m2: float) -> list[dict[str, object]]:
    """Legend rows (``from``, ``to`` in plants/m², ``colour``) up to the class holding the maximum.

    Examples
    --------
    >>> [(r["from"], r["to"]) for r in density_legend(4.0)]
    [(0.0, 1.0), (1.0, 2.0), (2.0, 5.0)]
    """
    edges = (0.0, *DENSITY_EDGES_PLANTS_M2, None)
    top = int(density_classes(np.array([max_plants_m2]))[0])
    return [{"from": edges[i], "to": edges[i + 1], "colour": DENSITY_COLOURS[i]} for i in range(max(top, 1))]


def rate_colour(rate: float, max_rate: float) -> str:
    """Fill colour of a rate (any unit) as a share of ``max_rate`` in the same unit; grey for 0.

    Examples
    --------
    >>> rate_colour(0.0, 2.0), rate_colour(2.0, 2.0), rate_colour(1.0, 2.0)
    ('#bdbdbd', '#0c2c84', '#41b6c4')
    """
    if not rate > 0:
        return UNSPRAYED_COLOUR
    return RATE_RAMP[ramp_index(rate, max_rate)]


def nice_step(span: float, classes: int) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n not below ``span / classes`` (a readable class width).

    >>> nice_step(0.835, 6), nice_step(32, 6), nice_step(0.0, 6)
    (0.2, 10.0, 1.0)
    """
    if not span > 0:
        return 1.0
    raw = span / classes
    exp = 10.0 ** math.floor(math.log10(raw))
    return next(round(m * exp, 12) for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * exp >= raw * (1 - 1e-9))


def rate_legend(rates: np.ndarray, areas_ha: np.ndarray, max_rate: float, *,
                max_classes: int = 7) -> list[dict[str, object]]:
    """Legend rows (label unit), low to high, each with its area in ha and colour; at most ``max_classes``.

    Up to ``max_classes - 1`` distinct sprayed rates each get a row (plus one
    for 0, not sprayed); more are binned into classes of a nice width
    (:func:`nice_step`) with ``rate_from``/``rate_to`` bounds, coloured as the
    highest rate they hold. A ``target_efficacy`` map with 20 distinct rates
    reads as 5 or 6 classes like "0.4–0.6 L/ha".

    Examples
    --------
    >>> rate_legend(np.array([2.0, 0.0, 2.0]), np.array([1.0, 0.5, 0.25]), 2.0)
    [{'rate': 0.0, 'area_ha': 0.5, 'colour': '#bdbdbd'}, {'rate': 2.0, 'area_ha': 1.25, 'colour': '#0c2c84'}]
    >>> rows = rate_legend(np.linspace(0.1, 0.835, 20), np.ones(20), 1.5)
    >>> [(r["rate_from"], r["rate_to"]) for r in rows]
    [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0)]
    """
    values, inverse = np.unique(np.round(np.asarray(rates, dtype=np.float64), 6), return_inverse=True)
    area = np.bincount(inverse.ravel(), weights=np.asarray(areas_ha, dtype=np.float64), minlength=len(values))
    positive = values > 0
    if int(positive.sum()) <= max_classes - 1:
        return [{"rate": float(v), "area_ha": round(float(a), 4), "colour": rate_colour(float(v), max_rate)}
                for v, a in zip(values, area, strict=True)]
    rows: list[dict[str, object]] = []
    if not positive.all():
        rows.append({"rate": 0.0, "area_ha": round(float(area[~positive].sum()), 4), "colour": UNSPRAYED_COLOUR})
    pv, pa = values[positive], area[positive]
    lo, hi = float(pv[0]), float(pv[-1])
    classes = max_classes - (1 if rows else 0)
    step = nice_step(hi - lo, classes)
    while True:
        start = math.floor(lo / step + 1e-9) * step
        n = max(1, math.ceil((hi - start) / step - 1e-9))
        if n <= classes:
            break
        step = nice_step(step * 1.01 * classes, classes)
    # a rate on an edge belongs to the class below (the class "0.2-0.4" holds 0.4)
    idx = np.clip(np.ceil((pv - start) / step - 1e-9).astype(int) - 1, 0, n - 1)
    for k in range(n):
        sel = idx == k
        if not sel.any():
            continue
        top = float(pv[sel].max())
        rows.append({"rate": round(start + (k + 1) * step, 10), "rate_from": round(start + k * step, 10),
                     "rate_to": round(start + (k + 1) * step, 10), "area_ha": round(float(pa[sel].sum()), 4),
                     "colour": rate_colour(top, max_rate)})
    return rows


def legend_colour(rate: float, legend: Sequence[dict[str, object]]) -> str:
    """The colour of the legend row holding ``rate``, so zones and legend always agree."""
    if not rate > 0:
        return UNSPRAYED_COLOUR
    for row in legend:
        lo, hi = row.get("rate_from"), row.get("rate_to")
        if lo is None or hi is None:
            if abs(float(row["rate"]) - rate) <= 1e-6:  # type: ignore[arg-type]
                return str(row["colour"])
        elif float(lo) - 1e-9 < rate <= float(hi) + 1e-9:  # type: ignore[arg-type]
            return str(row["colour"])
    return str(legend[-1]["colour"]) if legend else UNSPRAYED_COLOUR


def rate_zones(rates_label: np.ndarray, grid: GridSpec, *, max_classes: int = 8,
               decimals: int = 3) -> tuple[list[BaseGeometry], np.ndarray, np.ndarray]:
    """Polygons of equal rate from one product's grid (label unit, NaN outside the field).

    Rates are rounded to ``decimals``; with more than ``max_classes`` distinct
    values they are binned into equal-width classes, each shown at its
    highest rate. Returns WGS84 polygons, their rate and their area in ha.

    Examples
    --------
    >>> g = GridSpec(crs="EPSG:32631", x0_m=500000.0, y0_m=5400002.0, cell_size_m=1.0, n_rows=2, n_cols=2)
    >>> geoms, rates, areas = rate_zones(np.array([[0.0, 2.0], [2.0, np.nan]]), g)
    >>> sorted(zip(rates.tolist(), areas.round(4).tolist()))
    [(0.0, 0.0001), (2.0, 0.0001), (2.0, 0.0001)]
    """
    finite = np.isfinite(rates_label)
    if not finite.any():
        return [], np.empty(0), np.empty(0)
    rounded = np.round(np.where(finite, rates_label, 0.0), decimals)
    levels = np.unique(rounded[finite])
    if len(levels) > max_classes:
        positive = levels[levels > 0]
        uppers = np.linspace(positive.min(), positive.max(), max_classes - 1)[1:] if len(positive) > 1 else positive
        levels = np.unique(np.concatenate([[0.0] if (levels == 0).any() else [], positive[:1], uppers]))
        idx = np.searchsorted(levels, rounded, side="left")
    else:
        idx = np.searchsorted(levels, rounded)
    idx = np.minimum(idx, len(levels) - 1).astype(np.int32)
    geoms_m: list[BaseGeometry] = []
    values: list[float] = []
    for geom, k in features.shapes(idx, mask=finite, transform=grid.transform, connectivity=4):
        geoms_m.append(shape(geom))
        values.append(float(levels[int(k)]))
    arr = np.asarray(geoms_m, dtype=object)
    areas = shapely.area(arr) / 10_000.0
    t = transformer(grid.crs, "EPSG:4326")
    wgs = shapely.transform(arr, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    return list(wgs), np.asarray(values), np.asarray(areas, dtype=np.float64)
