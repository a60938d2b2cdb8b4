"""Rate zones as WGS84 polygons, fitted to a terminal's zone cap, ready for a vector format."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from app.export.job import ExportError, ExportJob
from app.export.terminals import Terminal
from app.export.zones import ZoneSet, dissolve, quantise_up
from app.geo import transformer


@dataclass
class WgsZones:
    """Zones of one or more products: geometries in WGS84 lon/lat, areas from the metric grid."""

    zones: ZoneSet
    geometries_wgs84: np.ndarray
    product_index: tuple[int, ...]


def to_wgs84(geoms: np.ndarray, crs: str) -> np.ndarray:
    """Reproject an array of shapely geometries from ``crs`` to WGS84 lon/lat."""
    t = transformer(crs, "EPSG:4326")

    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, fn)


def zone_cap(terminal: Terminal, max_zones: int | None) -> int | None:
    caps = [c for c in (terminal.max_zones, max_zones) if c is not None]
    if any(c < 1 for c in caps):
        raise ExportError(f"max_zones must be at least 1, got {max_zones}")
    return min(caps) if caps else None


def fitted_zones(job: ExportJob, terminal: Terminal, *, products: tuple[int, ...],
                 max_zones: int | None = None, fit: bool = True) -> tuple[WgsZones, list[str]]:
    """Dissolved zones of ``products`` (indices), rates rounded up if a zone cap demands it.

    A zone is one rate tuple (one rate per listed product); each becomes one
    multi-part feature, so the zone count is the feature count.
    """
    pres = job.prescription
    rates = pres.rates[list(products)]
    notes: list[str] = []
    cap = zone_cap(terminal, max_zones)
    if cap is not None:
        zs = dissolve(rates, pres.grid)
        if zs.n_zones > cap:
            if not fit and max_zones is None:
                raise ExportError(
                    f"{zs.n_zones} rate zones; {terminal.name} accepts at most {cap}. "
                    "Allow fitting (fit=True) to round rates up into fewer zones"
                )
            rates, notes = quantise_up(rates, cap)
            zs = dissolve(rates, pres.grid)
    else:
        zs = dissolve(rates, pres.grid)
    return WgsZones(zs, to_wgs84(zs.geometries, zs.crs), products), notes
