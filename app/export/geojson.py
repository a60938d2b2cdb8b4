"""RFC 7946 GeoJSON: rate zones (or cells) per product, WGS84 lon/lat, CCW exteriors, ~1 cm precision."""

from __future__ import annotations

import json

import numpy as np
import shapely

from app.export.job import ExportFile, ExportJob
from app.export.names import file_stem
from app.export.terminals import Terminal
from app.export.vector import fitted_zones, to_wgs84
from app.export.zones import display_unit, significant

COORD_DECIMALS = 7  # 1e-7 degree is about 1 cm


def _finish(geoms: np.ndarray) -> list[str]:
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    return list(shapely.to_geojson(shapely.orient_polygons(rounded, exterior_cw=False)))


def _cells(job: ExportJob, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    g = job.prescription.grid
    rates = job.prescription.rates[k]
    rows, cols = np.nonzero(~np.isnan(rates))
    x0 = g.x0_m + cols * g.cell_size_m
    y1 = g.y0_m - rows * g.cell_size_m
    boxes = shapely.box(x0, y1 - g.cell_size_m, x0 + g.cell_size_m, y1)
    return to_wgs84(boxes, g.crs), rates[rows, cols].astype(np.float64), g.cell_area_ha


def render_geojson(job: ExportJob, terminal: Terminal, *, cells: bool = False, unit: str = "label",
                   max_zones: int | None = None, fit: bool = True) -> ExportFile:
    """A FeatureCollection with one feature per rate zone and product (or per cell with ``cells=True``).

    Properties: ``product``, ``rate`` and ``unit`` (label unit unless
    ``unit="canonical"``), ``canonical_rate``, ``canonical_unit``, ``area_ha``.
    """
    notes: list[str] = []
    features: list[str] = []
    n_vertices = 0
    for k, product in enumerate(job.prescription.products):
        shown = display_unit(product, unit)
        if shown.note:
            notes.append(shown.note)
        if cells:
            geoms, rates, cell_ha = _cells(job, k)
            areas = np.full(len(rates), cell_ha)
        else:
            wz, fit_notes = fitted_zones(job, terminal, products=(k,), max_zones=max_zones, fit=fit)
            notes.extend(f"{product.name}: {m}" for m in fit_notes)
            geoms, rates, areas = wz.geometries_wgs84, wz.zones.rates[:, 0], wz.zones.area_ha
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
