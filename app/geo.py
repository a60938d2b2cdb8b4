"""Geometry at the edge: GeoJSON in WGS84 lon/lat, a local UTM CRS inside."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import shapely
from pyproj import CRS, Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from app import budgets


class GeometryError(ValueError):
    """A geometry that cannot be used; the message names the field at fault."""


def utm_crs_for(lon: float, lat: float) -> str:
    """The UTM zone (WGS84) holding a point, as an EPSG code.

    >>> utm_crs_for(2.35, 48.85)
    'EPSG:32631'
    >>> utm_crs_for(-93.6, 42.0)
    'EPSG:32615'
    """
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


@lru_cache(maxsize=64)
def transformer(src: str, dst: str) -> Transformer:
    """A cached pyproj transformer with x = easting/longitude first."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def reproject(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    """Reproject a shapely geometry between two CRSs (x/lon first)."""
    if src == dst:
        return geom
    t = transformer(src, dst)
    return shapely.transform(geom, lambda xy: _stack(t.transform(xy[:, 0], xy[:, 1])))


def _stack(xy: tuple[Any, Any]) -> Any:
    import numpy as np

    return np.column_stack(xy)


def _walk_positions(coords: Any, where: str) -> None:
    """Check every [lon, lat] position: numbers, in range, not swapped."""
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        if len(coords) < 2 or not all(isinstance(v, (int, float)) for v in coords):
            raise GeometryError(f"{where}: a position must be [longitude, latitude], got {coords!r}")
        lon, lat = float(coords[0]), float(coords[1])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise GeometryError(f"{where}: position {coords!r} is not finite")
        if not -90.0 <= lat <= 90.0:
            hint = " (coordinates are [longitude, latitude]; were they swapped?)" if abs(lon) <= 90 else ""
            raise GeometryError(f"{where}: latitude {lat:g} is out of range [-90, 90]{hint}")
        if not -180.0 <= lon <= 180.0:
            raise GeometryError(f"{where}: longitude {lon:g} is out of range [-180, 180]")
        return
    if not isinstance(coords, (list, tuple)) or not coords:
        raise GeometryError(f"{where}: empty or malformed coordinates")
    for i, c in enumerate(coords):
        _walk_positions(c, f"{where}[{i}]")


_POSITION_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "Polygon": 2, "MultiLineString": 2,
                   "MultiPolygon": 3}


def count_positions(gtype: str, coords: Any) -> int:
    """Positions in a GeoJSON ``coordinates`` member of type ``gtype``, counted without building anything.

    Malformed nesting counts what it can; :func:`parse_geojson` reports it.

    >>> count_positions("Polygon", [[[0, 0], [1, 0], [1, 1], [0, 0]]])
    4
    """
    level: list[Any] = [coords]
    for _ in range(_POSITION_DEPTH.get(gtype, 0)):
        level = [c for part in level if isinstance(part, list | tuple) for c in part]
    return len(level)


def parse_geojson(obj: Any, *, allowed: tuple[str, ...], where: str) -> BaseGeometry:
    """Validate a GeoJSON geometry (WGS84 lon/lat) and return it as shapely.

    Rings must be closed, positions in range, polygons valid (no
    self-intersection) and of positive area. ``where`` names the field in
    error messages, e.g. ``"boundary"``.
    """
    if not isinstance(obj, dict):
        raise GeometryError(f"{where}: expected a GeoJSON geometry object")
    gtype = obj.get("type")
    if gtype not in allowed:
        raise GeometryError(f"{where}: geometry type {gtype!r} not allowed; expected one of {', '.join(allowed)}")
    coords: Any = obj.get("coordinates")  # untyped JSON until _walk_positions has checked it
    # before any per-position work: a 1M-vertex boundary took 47 s, and again on every read
    budgets.current().check("geometry_vertices", count_positions(gtype, coords), f"{where}: vertices")
    _walk_positions(coords, f"{where}.coordinates")
    if gtype in ("Polygon", "MultiPolygon"):
        polys = [coords] if gtype == "Polygon" else coords
        for p, rings in enumerate(polys):
            for r, ring in enumerate(rings):
                at = f"{where}.coordinates" + (f"[{p}]" if gtype == "MultiPolygon" else "") + f"[{r}]"
                if len(ring) < 4:
                    raise GeometryError(f"{at}: a ring needs at least 4 positions, got {len(ring)}")
                if list(ring[0][:2]) != list(ring[-1][:2]):
                    raise GeometryError(f"{at}: ring is not closed (first and last positions differ)")
    try:
        geom = shape(obj)
    except Exception as exc:  # shapely's messages are good but its types vary
        raise GeometryError(f"{where}: invalid geometry: {exc}") from None
    if not geom.is_valid:
        raise GeometryError(f"{where}: invalid geometry: {explain_validity(geom)}")
    if gtype in ("Polygon", "MultiPolygon") and geom.area <= 0:
        raise GeometryError(f"{where}: polygon has no area")
    return geom


# Rough (west, south, east, north) boxes, enough to catch swapped axes or a
# field pasted into the wrong hemisphere; overseas territories are not covered.
COUNTRY_BOXES: dict[str, tuple[float, float, float, float]] = {
    "FR": (-5.5, 41.2, 9.8, 51.2),
    "GB": (-8.7, 49.8, 1.9, 60.9),
    "IE": (-10.7, 51.3, -5.9, 55.5),
    "DE": (5.8, 47.2, 15.1, 55.1),
    "BE": (2.5, 49.4, 6.5, 51.6),
    "NL": (3.3, 50.7, 7.3, 53.6),
    "DK": (8.0, 54.5, 15.3, 57.8),
    "ES": (-9.4, 35.9, 4.4, 43.9),
    "IT": (6.6, 36.6, 18.6, 47.1),
    "PL": (14.1, 49.0, 24.2, 54.9),
    "US": (-125.0, 24.4, -66.9, 49.4),
    "CA": (-141.0, 41.7, -52.6, 70.0),
    "BR": (-74.0, -33.8, -34.8, 5.3),
    "AR": (-73.6, -55.1, -53.6, -21.8),
    "AU": (113.0, -43.7, 153.7, -10.6),
}


def check_in_country(geom: BaseGeometry, country: str | None, where: str) -> None:
    """Refuse a geometry whose centre is outside the country it claims (axis-order check)."""
    if not country or country.upper() not in COUNTRY_BOXES:
        return
    w, s, e, n = COUNTRY_BOXES[country.upper()]
    c = geom.centroid
    if not (w <= c.x <= e and s <= c.y <= n):
        raise GeometryError(
            f"{where}: centre (lon {c.x:.4f}, lat {c.y:.4f}) lies outside {country.upper()}; "
            f"positions must be [longitude, latitude] — were they swapped?"
        )


def check_near(feature: BaseGeometry, field: BaseGeometry, max_km: float, where: str) -> None:
    """Refuse a sensitive feature implausibly far from its field (wrong axis order or CRS)."""
    # degrees → km at this latitude, good enough for a plausibility check
    d_deg = feature.distance(field)
    km = d_deg * 111.0
    if km > max_km:
        raise GeometryError(f"{where}: lies about {km:.0f} km from the field boundary (more than {max_km:g} km); "
                            f"check the [longitude, latitude] order")
