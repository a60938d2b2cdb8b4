"""Where the sprayer may spray: the field, minus buffers, on the dosing grid."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from rasterio import features
from shapely.geometry.base import BaseGeometry

from app.dosing.grid import GridSpec
from app.dosing.label import ProductLabel


@dataclass(frozen=True)
class SensitiveFeature:
    """A feature the label protects (``kind`` e.g. ``water``), in the grid's metric CRS."""

    kind: str
    geometry: BaseGeometry


@dataclass
class FieldMasks:
    """Boolean grids: ``in_field`` counts area, ``sprayable`` may receive product.

    ``sprayable`` excludes every cell a buffer or the field boundary touches,
    so no part of a sprayed cell lies outside the field or inside a buffer.
    ``no_spray_m`` is the union of buffer zones (metric CRS) for reports.

    ``buffers_m`` (feature kind → metres) and ``downwind_buffer_m`` record the
    distances the masks were built with, so :func:`app.dosing.prescribe.prescribe`
    can check them against the products it doses; ``None`` means unknown (masks
    built by hand) and the check is reported as not done. ``wind_from_deg`` is
    ``None`` when the downwind buffer was laid all round the field edge
    because the wind direction was not known.
    """

    in_field: np.ndarray
    sprayable: np.ndarray
    no_spray_m: BaseGeometry
    buffers_m: dict[str, float] | None = None
    downwind_buffer_m: float | None = None
    wind_from_deg: float | None = None


def _rasterize(geom: BaseGeometry, grid: GridSpec, *, all_touched: bool) -> np.ndarray:
    if geom.is_empty:
        return np.zeros(grid.shape, dtype=bool)
    out = features.rasterize(
        [(geom, 1)], out_shape=grid.shape, transform=grid.transform,
        all_touched=all_touched, fill=0, dtype="uint8",
    )
    return out.view(bool)  # uint8 0/1 reinterpreted: no copy


def downwind_zone(field_m: BaseGeometry, distance_m: float, wind_from_deg: float | None,
                  step_m: float = 0.0) -> BaseGeometry:
    """Part of the field within ``distance_m`` of its edge, measured downwind.

    ``wind_from_deg`` is the meteorological direction the wind blows *from*
    (0 = north, 90 = east). A point is safe when the whole downwind segment of
    length ``distance_m`` from it stays inside the field, so the unsafe zone is
    the field edge swept upwind by ``distance_m`` (one parallelogram per edge,
    built in one vectorised call). With ``wind_from_deg=None`` the wind may
    blow from anywhere and the zone is every point within ``distance_m`` of
    the edge. ``step_m`` is kept for callers of the old sampled version.

    Examples
    --------
    >>> field = shapely.box(0, 0, 100, 100)
    >>> round(downwind_zone(field, 10, 270).area)  # wind from the west: east strip
    1000
    >>> round(downwind_zone(field, 10, None).area)  # unknown wind: all round
    3600
    """
    del step_m
    if distance_m <= 0 or field_m.is_empty:
        return shapely.Polygon()
    if wind_from_deg is None:
        return field_m.intersection(field_m.boundary.buffer(distance_m))
    to_rad = math.radians(wind_from_deg + 180.0)
    dx, dy = distance_m * math.sin(to_rad), distance_m * math.cos(to_rad)
    rings = shapely.get_rings(shapely.get_parts(field_m))
    starts, ends = [], []
    for ring in rings:
        xy = shapely.get_coordinates(ring)
        starts.append(xy[:-1])
        ends.append(xy[1:])
    a, b = np.concatenate(starts), np.concatenate(ends)
    shift = np.array([dx, dy])
    # Parallelogram a, b, b - shift, a - shift for every edge: the points whose
    # downwind segment crosses that edge.
    quads = np.stack([a, b, b - shift, a - shift, a], axis=1)
    polys = shapely.polygons(quads)
    polys = polys[shapely.area(polys) > 0]  # edges parallel to the wind sweep no area
    swept = shapely.union_all(shapely.make_valid(polys)) if len(polys) else shapely.Polygon()
    return field_m.intersection(swept)


def label_buffers(products: Sequence[ProductLabel]) -> tuple[dict[str, float], float]:
    """The buffers a mix demands: metres per feature kind (largest over the products), and downwind.

    >>> a = ProductLabel("A", "L/ha", 0.5, 1.0, buffers_m={"water": 5.0}, downwind_buffer_m=10.0)
    >>> b = ProductLabel("B", "L/ha", 0.5, 1.0, buffers_m={"water": 20.0, "well": 15.0})
    >>> label_buffers([a, b])
    ({'water': 20.0, 'well': 15.0}, 10.0)
    """
    kinds = dict.fromkeys(k for p in products for k in p.buffers_m)
    applied = {k: max(p.buffers_m.get(k, 0.0) for p in products) for k in kinds}
    return applied, max((p.downwind_buffer_m for p in products), default=0.0)


def build_masks(grid: GridSpec, field_m: BaseGeometry, features_m: Iterable[SensitiveFeature],
                products: Sequence[ProductLabel], *, wind_from_deg: float | None = None) -> FieldMasks:
    """Rasterise the field and every label buffer onto ``grid``.

    Each feature kind gets the largest buffer any product in the mix demands;
    the downwind buffer (``ProductLabel.downwind_buffer_m``) is laid downwind
    of ``wind_from_deg`` or, when the wind is unknown, all round the edge.

    Examples
    --------
    >>> g = GridSpec(crs="EPSG:32631", x0_m=0.0, y0_m=10.0, cell_size_m=1.0, n_rows=10, n_cols=10)
    >>> m = build_masks(g, shapely.box(0.2, 0.2, 9.8, 9.8), [], [])
    >>> int(m.in_field.sum()), int(m.sprayable.sum())
    (100, 64)
    """
    applied, downwind = label_buffers(products)
    zones: list[BaseGeometry] = []
    for feat in features_m:
        dist = applied.get(feat.kind, 0.0)
        # The feature itself is never sprayed, whatever the buffer.
        zones.append(feat.geometry.buffer(dist) if dist > 0 else feat.geometry)
    if downwind > 0:
        zones.append(downwind_zone(field_m, downwind, wind_from_deg))
    no_spray = shapely.union_all(zones) if zones else shapely.Polygon()

    in_field = _rasterize(field_m, grid, all_touched=False)
    sprayable = in_field & ~_rasterize(field_m.boundary, grid, all_touched=True)
    if not no_spray.is_empty:
        sprayable &= ~_rasterize(no_spray, grid, all_touched=True)
    return FieldMasks(in_field=in_field, sprayable=sprayable, no_spray_m=no_spray,
                      buffers_m=applied, downwind_buffer_m=downwind, wind_from_deg=wind_from_deg)
