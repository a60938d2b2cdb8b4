"""Rate zones: cells of equal rate, dissolved into polygons, and the units they speak.

Everything here works on the prescription grid (metric CRS, row 0 north).
Rates are never lowered: zone-count reduction rounds positive rates *up* to
fewer levels and keeps 0 (unsprayed, perhaps a buffer) and NaN (outside the
field) exactly where they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from rasterio import features
from shapely.geometry import MultiPolygon, shape

from app.domain.units import UnitError, canonical_unit, from_canonical_rate
from app.dosing.grid import GridSpec
from app.dosing.label import ProductLabel
from app.export.job import ExportError

UNIT_MODES: tuple[str, ...] = ("label", "canonical")

# Short codes for rate units in 10-character DBF column names.
UNIT_CODES: dict[str, str] = {
    "L/ha": "LHA", "mL/ha": "MLHA", "fl oz/acre": "FLOZA", "pt/acre": "PTA", "qt/acre": "QTA",
    "gal/acre": "GALA", "kg/ha": "KGHA", "g/ha": "GHA", "lb/acre": "LBA", "oz/acre": "OZA",
}


@dataclass(frozen=True)
class DisplayUnit:
    """The unit a product's rates are shown in: ``value = canonical * per_canonical``."""

    unit: str
    per_canonical: float
    note: str | None = None


def display_unit(product: ProductLabel, mode: str = "label") -> DisplayUnit:
    """The label's own unit when it is a known rate unit of the same kind, else canonical.

    >>> from app.dosing.label import ProductLabel
    >>> p = ProductLabel("X", "L/ha", 0.0, 2.0, label_unit="fl oz/acre")
    >>> u = display_unit(p)
    >>> (u.unit, round(u.per_canonical, 3))
    ('fl oz/acre', 13.684)
    """
    if mode not in UNIT_MODES:
        raise ExportError(f"unknown unit mode {mode!r}; valid: {', '.join(UNIT_MODES)}")
    if mode == "canonical" or not product.label_unit or product.label_unit == product.canonical_unit:
        return DisplayUnit(product.canonical_unit, 1.0)
    try:
        kind = canonical_unit(product.label_unit)
    except UnitError:
        return DisplayUnit(product.canonical_unit, 1.0,
                           f"{product.name}: label unit {product.label_unit!r} is unknown; rates in "
                           f"{product.canonical_unit}")
    if kind != product.canonical_unit:
        return DisplayUnit(product.canonical_unit, 1.0,
                           f"{product.name}: label unit {product.label_unit!r} is not a "
                           f"{product.canonical_unit} unit; rates in {product.canonical_unit}")
    return DisplayUnit(product.label_unit, from_canonical_rate(1.0, product.label_unit))


def significant(values: np.ndarray | float, digits: int = 7) -> np.ndarray:
    """Round to ``digits`` significant digits: float32 rates carry no more, and 0.2 should print as 0.2.

    >>> significant(np.float32(0.2) * 1000.0).tolist()
    200.0
    """
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore"):
        mag = np.floor(np.log10(np.abs(x), where=x != 0, out=np.zeros_like(x)))
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(x * scale) / scale


def rate_classes(rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number each distinct rate tuple of the in-field cells.

    ``rates`` is ``[n_products, rows, cols]``. Returns ``codes`` (int32
    ``[rows, cols]``, -1 outside the field, classes ordered by their rates) and
    ``table`` (``[n_classes, n_products]``, the rates of each class).

    >>> r = np.array([[[np.nan, 0.0], [2.0, 2.0]]], dtype=np.float32)
    >>> codes, table = rate_classes(r)
    >>> codes.tolist(), table.ravel().tolist()
    ([[-1, 0], [1, 1]], [0.0, 2.0])
    """
    n, rows, cols = rates.shape
    flat = rates.reshape(n, -1)
    inside = ~np.isnan(flat).any(axis=0)
    codes = np.full(rows * cols, -1, dtype=np.int32)
    if not inside.any():
        return codes.reshape(rows, cols), np.zeros((0, n), dtype=np.float64)
    if n == 1:
        table, inv = np.unique(flat[0, inside], return_inverse=True)
        table = table[:, None]
    else:
        table, inv = np.unique(flat[:, inside].T, axis=0, return_inverse=True)
    codes[inside] = inv.ravel()
    return codes.reshape(rows, cols), table.astype(np.float64)


def _levels_up(values: np.ndarray, n_levels: int) -> np.ndarray:
    """At most ``n_levels`` levels taken from ``values`` (positive), always including the max."""
    q = np.linspace(0.0, 1.0, n_levels + 1)[1:]
    return np.unique(np.quantile(values, q, method="higher"))


def quantise_up(rates: np.ndarray, max_classes: int) -> tuple[np.ndarray, list[str]]:
    """Round positive rates up to fewer levels until at most ``max_classes`` rate classes remain.

    0 and NaN cells are untouched; each positive rate becomes the smallest
    chosen level at or above it, so no cell gets less than it needs. Raises
    ``ExportError`` when even one level per product leaves too many classes.
    """
    _, table = rate_classes(rates)
    if len(table) <= max_classes:
        return rates, []
    n = rates.shape[0]
    out = rates.copy()
    positive = [rates[k][rates[k] > 0] for k in range(n)]
    for n_levels in range(max_classes, 0, -1):
        for k in range(n):
            if positive[k].size == 0:
                continue
            levels = _levels_up(positive[k], n_levels)
            mask = rates[k] > 0
            out[k][mask] = levels[np.searchsorted(levels, rates[k][mask], side="left")]
        _, table = rate_classes(out)
        if len(table) <= max_classes:
            break
    else:
        raise ExportError(
            f"the prescription needs {len(table)} rate zones even with one rate per product; "
            f"the limit is {max_classes}"
        )
    before = [float(np.nansum(rates[k], dtype=np.float64)) for k in range(n)]
    after = [float(np.nansum(out[k], dtype=np.float64)) for k in range(n)]
    extra = ", ".join(
        f"+{100.0 * (a - b) / b:.1f}%" if b > 0 else "+0%" for a, b in zip(after, before, strict=True)
    )
    return out, [
        f"rates rounded up to at most {n_levels} level(s) per product to fit {max_classes} zones; "
        f"no cell gets less than prescribed; product use {extra}"
    ]


@dataclass
class ZoneSet:
    """Dissolved rate zones in the grid's metric CRS.

    ``geometries[i]`` is a MultiPolygon of all cells whose rates equal
    ``rates[i]`` (``[n_zones, n_products]``, canonical units); ``area_ha``
    is its area.
    """

    crs: str
    geometries: np.ndarray
    rates: np.ndarray
    area_ha: np.ndarray

    @property
    def n_zones(self) -> int:
        return len(self.geometries)

    @property
    def n_parts(self) -> int:
        return int(shapely.get_num_geometries(self.geometries).sum())

    @property
    def n_vertices(self) -> int:
        return int(shapely.get_num_coordinates(self.geometries).sum())


def dissolve(rates: np.ndarray, grid: GridSpec) -> ZoneSet:
    """Dissolve equal-rate cells (4-connected) into one MultiPolygon per rate class.

    >>> from app.dosing.grid import GridSpec
    >>> g = GridSpec("EPSG:32631", 500000.0, 5000002.0, 1.0, 2, 2)
    >>> z = dissolve(np.array([[[0, 0], [3, np.nan]]], dtype=np.float32), g)
    >>> z.rates.ravel().tolist(), z.area_ha.tolist()
    ([0.0, 3.0], [0.0002, 0.0001])
    """
    codes, table = rate_classes(rates)
    parts: list[list[shapely.Polygon]] = [[] for _ in range(len(table))]
    for geom, value in features.shapes(codes, mask=codes >= 0, transform=grid.transform, connectivity=4):
        parts[int(value)].append(shape(geom))
    counts = np.bincount(codes[codes >= 0], minlength=len(table))
    geoms = np.empty(len(table), dtype=object)
    for i, p in enumerate(parts):
        geoms[i] = MultiPolygon(p)
    return ZoneSet(crs=grid.crs, geometries=geoms, rates=table, area_ha=counts * grid.cell_area_ha)

