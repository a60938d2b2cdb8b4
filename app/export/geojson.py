"""RFC 7946 GeoJSON: rate zones (or cells) per product, WGS84 lon/lat, CCW exteriors, ~1 cm precision.

Coordinates are rounded to 7 decimals and printed as the shortest decimal
that reads back as the same number; sprayed zones keep 1 cm clear of the
field edge and of every no-spray zone first, so rounding cannot carry a
sprayed edge into one.
"""

from __future__ import annotations

import json

import numpy as np
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from app.dosing.masks import exact_buffer
from app.export.job import ExportFile, ExportJob
from app.export.names import file_stem
from app.export.terminals import Terminal
from app.export.vector import fitted_zones, to_wgs84
from app.export.verify import GroundTruth
from app.export.zones import display_unit, significant

COORD_DECIMALS = 7  # 1e-7 degree is about 1 cm
# Rounding to 7 decimals moves a vertex by at most 0.56 cm (half of 1e-7 degree of latitude, diagonal 0.79 cm);
# sprayed zones are kept this far inside the field and outside every no-spray zone, so no rounding moves a
# sprayed edge into one.
ROUNDING_CLEARANCE_M = 0.01


def _finish(geoms: np.ndarray) -> list[str]:
    """GeoJSON geometries, coordinates rounded and printed as their shortest decimal (no float noise)."""
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    oriented = shapely.orient_polygons(rounded, exterior_cw=False)
    return [json.dumps(shapely.geometry.mapping(g), separators=(",", ":")) for g in oriented]


def _safe_region_m(job: ExportJob) -> BaseGeometry:
    """Where a sprayed zone may lie with room for rounding: inside the field, clear of every zone."""
    truth = GroundTruth.from_job(job)
    safe = truth.field_m.buffer(-ROUNDING_CLEARANCE_M, join_style="mitre")
    forbidden = [truth.no_spray_m, *(exact_buffer(f.geometry_m, f.distance_m) for f in truth.features)]
    forbidden = [g for g in forbidden if not g.is_empty]
    if forbidden:
        safe = safe.difference(shapely.union_all(forbidden).buffer(ROUNDING_CLEARANCE_M, join_style="mitre"))
    return safe


def _clear_of_zones(geoms_m: np.ndarray, rates: np.ndarray, safe_m: BaseGeometry) -> np.ndarray:
    """Sprayed geometries trimmed to ``safe_m`` (only where they come within the clearance of its edge)."""
    out = geoms_m.copy()
    sprayed = np.flatnonzero(rates > 0)
    if len(sprayed):
        shapely.prepare(safe_m)
        near = sprayed[~shapely.contains_properly(safe_m, geoms_m[sprayed])]
        if len(near):
            out[near] = shapely.intersection(geoms_m[near], safe_m)
    return out


def _cells(job: ExportJob, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    g = job.prescription.grid
    rates = job.prescription.rates[k]
    rows, cols = np.nonzero(~np.isnan(rates))
    x0 = g.x0_m + cols * g.cell_size_m
    y1 = g.y0_m - rows * g.cell_size_m
    boxes = shapely.box(x0, y1 - g.cell_size_m, x0 + g.cell_size_m, y1)
    return boxes, rates[rows, cols].astype(np.float64), g.cell_area_ha


def render_geojson(job: ExportJob, terminal: Terminal, *, cells: bool = False, unit: str = "label",
                   max_zones: int | None = None, fit: bool = True) -> ExportFile:
    """A FeatureCollection with one feature per rate zone and product (or per cell with ``cells=True``).

    Properties: ``product``, ``rate`` and ``unit`` (label unit unless
    ``unit="canonical"``), ``canonical_rate``, ``canonical_unit``, ``area_ha``.
    """
    notes: list[str] = []
    features: list[str] = []
    n_vertices = 0
    safe_m = _safe_region_m(job)
    crs = job.prescription.grid.crs
    for k, product in enumerate(job.prescription.products):
        shown = display_unit(product, unit)
        if shown.note:
            notes.append(shown.note)
        if cells:
            geoms_m, rates, cell_ha = _cells(job, k)
            areas = np.full(len(rates), cell_ha)
        else:
            wz, fit_notes = fitted_zones(job, terminal, products=(k,), max_zones=max_zones, fit=fit)
            notes.extend(f"{product.name}: {m}" for m in fit_notes)
            geoms_m, rates, areas = wz.zones.geometries, wz.zones.rates[:, 0], wz.zones.area_ha
        clear = _clear_of_zones(geoms_m, rates, safe_m)
        lost_m2 = float(np.sum(shapely.area(geoms_m) - shapely.area(clear)))
        if lost_m2 > 1.0:
            notes.append(f"{product.name}: sprayed zones trimmed by {lost_m2:.1f} m² that lay in a no-spray zone "
                         "or outside the field")
        geoms = to_wgs84(clear, crs)
        n_vertices += int(shapely.get_num_coordinates(geoms).sum())
        shown_rates = significant(rates * shown.per_canonical)
        canonical_rates = significant(rates)
        for i, geom in enumerate(_finish(geoms)):
            props = {
                "product": product.name,
                "rate": float(shown_rates[i]),
                "unit": shown.unit,
                "canonical_rate": float(canonical_rates[i]),
                "canonical_unit": product.canonical_unit,
                "area_ha": round(float(areas[i]), 6),
            }
            features.append(f'{{"type":"Feature","properties":{json.dumps(props)},"geometry":{geom}}}')
    body = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
    name = f"{file_stem(job.field_name)}_{'cells' if cells else 'zones'}.geojson"
    content = body.encode("utf-8")
    stats = {"zones": len(features), "vertices": n_vertices, "bytes_unzipped": len(content),
             "crs": "EPSG:4326"}
    return ExportFile(name, "application/geo+json", content, notes, stats)
