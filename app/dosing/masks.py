"""Where the sprayer may spray: the field, minus buffers, on the dosing grid."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from rasterio import features
from shapely.geometry.base import BaseGeometry

from app.dosing.grid import GridSpec
from app.dosing.label import ProductLabel

# Labels' water buffers (EU "points d'eau", UK LERAP "watercourse", US "surface water") cover every
# body of surface water; a lake/reservoir setback, where a label has one, is added on top (atrazine).
BUFFER_CLASSES: dict[str, tuple[str, ...]] = {
    "water": ("water",),
    "stream": ("stream", "water"),
    "river": ("river", "water"),
    "ditch": ("ditch", "water"),
    "canal": ("canal", "water"),
    "pond": ("pond", "water"),
    "lake": ("lake", "water"),
    "reservoir": ("reservoir", "lake", "water"),
}
# Arc segments per quarter circle of every buffer; the distance is inflated so chords never cut inside.
BUFFER_QUAD_SEGS = 16


def buffer_classes(kind: str) -> tuple[str, ...]:
    """The label buffer classes a feature of ``kind`` falls under (itself first).

    >>> buffer_classes("pond"), buffer_classes("well")
    (('pond', 'water'), ('well',))
    """
    return BUFFER_CLASSES.get(kind, (kind,))


def feature_buffer_m(kind: str, applied: Mapping[str, float]) -> tuple[float, str | None]:
    """The distance (metres) a feature of ``kind`` gets from ``applied`` (class → metres) and the class it came from.

    >>> feature_buffer_m("lake", {"water": 20.0})
    (20.0, 'water')
    >>> feature_buffer_m("reservoir", {"water": 5.0, "lake": 61.0})
    (61.0, 'lake')
    """
    best, source = 0.0, None
    for cls in buffer_classes(kind):
        d = float(applied.get(cls, 0.0))
        if d > best:
            best, source = d, cls
    return best, source


def exact_buffer(geom: BaseGeometry, distance_m: float) -> BaseGeometry:
    """A polygon holding every point within ``distance_m`` of ``geom`` (never smaller, on the ground).

    GEOS draws arcs as chords between points on the circle; a chord of a
    ``quad_segs`` arc sits ``cos(pi / (4 quad_segs))`` of the radius from the
    centre, so the radius is inflated by that factor (0.12 % at 16 segments).

    >>> round(exact_buffer(shapely.Point(0, 0), 100.0).exterior.distance(shapely.Point(0, 0)), 6)
    100.0
    """
    if distance_m <= 0:
        return geom
    inflate = 1.0 / math.cos(math.pi / (4 * BUFFER_QUAD_SEGS))
    return geom.buffer(distance_m * inflate, quad_segs=BUFFER_QUAD_SEGS)


def grid_bearing_deg(crs: str, x_m: float, y_m: float, true_bearing_deg: float) -> float:
    """A true bearing (clockwise from true north) as a bearing on the grid of ``crs`` at (x, y).

    Grid north and true north differ by the grid convergence (about 0.6° on a
    field 1° from its UTM zone's central meridian at 52° N).
    """
    to_ll = Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)
    to_xy = Transformer.from_crs("EPSG:4326", CRS.from_user_input(crs), always_xy=True)
    lon, lat = to_ll.transform(x_m, y_m)
    x1, y1 = to_xy.transform(lon, lat + 1e-4)
    true_north_on_grid = math.degrees(math.atan2(x1 - x_m, y1 - y_m))
    return (true_bearing_deg + true_north_on_grid) % 360.0


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

    ``full_rate`` (optional) marks cells dosed at the reference rate whatever
    the strategy (a weed map that does not cover them, with the caller's
    declared ``broadcast`` fallback); it never widens ``sprayable``.
    """

    in_field: np.ndarray
    sprayable: np.ndarray
    no_spray_m: BaseGeometry
    buffers_m: dict[str, float] | None = None
    downwind_buffer_m: float | None = None
    wind_from_deg: float | None = None
    features_applied: list[dict[str, object]] | None = None
    full_rate: np.ndarray | None = None


# GDAL's all_touched misses a line running within about 1 % of a cell of the cell's edge (a field edge
# drawn on the grid lines, moved by lon/lat rounding), so edges and zones are burnt grown by this share
# of a cell (3 cm at 1 m): a cell that close to the edge is given up rather than risked.
EDGE_MARGIN_CELLS = 0.03


def _burn(geom: BaseGeometry, shape: tuple[int, int], transform: Affine, *, all_touched: bool) -> np.ndarray:
    if geom.is_empty:
        return np.zeros(shape, dtype=bool)
    out = features.rasterize([(geom, 1)], out_shape=shape, transform=transform,
                             all_touched=all_touched, fill=0, dtype="uint8")
    return out.view(bool)  # uint8 0/1 reinterpreted: no copy


def sprayable_cells(shape: tuple[int, int], transform: Affine, field: BaseGeometry,
                    no_spray: BaseGeometry | None = None, *, margin: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(in_field, sprayable)`` on a north-up grid ``shape`` placed by ``transform``.

    ``in_field``: cell centres inside ``field``. ``sprayable``: cells wholly
    inside the field and clear of ``no_spray`` (``all_touched`` on the field
    edge and the zones, each grown by ``margin``, default
    :data:`EDGE_MARGIN_CELLS` of a cell). Geometries and ``margin`` are in the
    grid's CRS units (metres for the dosing grid, degrees for a lat/lon export
    grid). The dosing masks and every export grid use this one function, so
    they agree on what "touches" means.

    >>> from affine import Affine
    >>> inside, ok = sprayable_cells((4, 4), Affine(1, 0, 0, 0, -1, 4), shapely.box(0, 0, 4, 4))
    >>> int(inside.sum()), int(ok.sum())
    (16, 4)
    """
    if margin is None:
        margin = EDGE_MARGIN_CELLS * max(abs(transform.a), abs(transform.e))
    in_field = _burn(field, shape, transform, all_touched=False)
    edge = shapely.buffer(field.boundary, margin, quad_segs=1) if margin > 0 else field.boundary
    sprayable = in_field & ~_burn(edge, shape, transform, all_touched=True)
    if no_spray is not None and not no_spray.is_empty:
        zone = shapely.buffer(no_spray, margin, quad_segs=1) if margin > 0 else no_spray
        sprayable &= ~_burn(zone, shape, transform, all_touched=True)
    return in_field, sprayable


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
    >>> round(downwind_zone(field, 10, None).area)  # unknown wind: all round, never under 10 m
    3604
    """
    del step_m
    if distance_m <= 0 or field_m.is_empty:
        return shapely.Polygon()
    if wind_from_deg is None:
        return field_m.intersection(exact_buffer(field_m.boundary, distance_m))
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

    Each feature gets the largest buffer any product in the mix demands for
    any of its buffer classes (a ``lake`` gets the ``water`` buffer too, see
    :data:`BUFFER_CLASSES`), built so that it is never smaller than the
    distance (:func:`exact_buffer`). The downwind buffer
    (``ProductLabel.downwind_buffer_m``) is laid downwind of ``wind_from_deg``
    (a true bearing, turned to the grid by the convergence) or, when the wind
    is unknown, all round the edge.

    Examples
    --------
    >>> g = GridSpec(crs="EPSG:32631", x0_m=0.0, y0_m=10.0, cell_size_m=1.0, n_rows=10, n_cols=10)
    >>> m = build_masks(g, shapely.box(0.2, 0.2, 9.8, 9.8), [], [])
    >>> int(m.in_field.sum()), int(m.sprayable.sum())
    (100, 64)
    """
    applied, downwind = label_buffers(products)
    zones: list[BaseGeometry] = []
    report: list[dict[str, object]] = []
    for feat in features_m:
        dist, source = feature_buffer_m(feat.kind, applied)
        # The feature itself is never sprayed, whatever the buffer.
        zones.append(exact_buffer(feat.geometry, dist) if dist > 0 else feat.geometry)
        report.append({"kind": feat.kind, "buffer_class": source, "distance_m": dist})
    if downwind > 0:
        grid_wind = None
        if wind_from_deg is not None:
            c = field_m.centroid
            grid_wind = grid_bearing_deg(grid.crs, c.x, c.y, wind_from_deg)
        zones.append(downwind_zone(field_m, downwind, grid_wind))
    no_spray = shapely.union_all(zones) if zones else shapely.Polygon()

    in_field, sprayable = sprayable_cells(grid.shape, grid.transform, field_m, no_spray)
    return FieldMasks(in_field=in_field, sprayable=sprayable, no_spray_m=no_spray,
                      buffers_m=applied, downwind_buffer_m=downwind, wind_from_deg=wind_from_deg,
                      features_applied=report)
