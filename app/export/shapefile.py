"""ESRI shapefile prescriptions: one multi-part polygon per rate zone, WGS84, zipped per brand.

Exterior rings are clockwise, as ESRI's specification wants (the reverse of
GeoJSON). Rate columns carry their unit in the name (``RATE_LHA``) because
users pick units by hand at upload and a wrong pick is a tenfold error.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import cast

import numpy as np
import shapely
from numpy.typing import NDArray
from pyogrio.raw import write as ogr_write

from app.dosing.masks import sprayable_cells
from app.export.coarsen import FACTORS, coarsen_up
from app.export.job import ExportError, ExportFile, ExportJob
from app.export.names import dos_name, file_stem
from app.export.terminals import Terminal
from app.export.vector import WgsZones, fitted_zones
from app.export.zones import UNIT_CODES, display_unit, significant
from app.geo import reproject

SHAPEFILE_PARTS: tuple[str, ...] = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def rate_column(unit: str, k: int, n: int) -> str:
    """DBF column name (at most 10 characters) for product ``k`` of ``n`` in ``unit``.

    >>> rate_column("L/ha", 0, 1), rate_column("fl oz/acre", 1, 2)
    ('RATE_LHA', 'R2_FLOZA')
    """
    code = UNIT_CODES.get(unit, "X")
    name = f"RATE_{code}" if n == 1 else f"R{k + 1}_{code}"
    return name[:10]


SHAPEFILE_LAYOUTS: tuple[str, ...] = ("usb", "ops-center")


def render_shapefile(job: ExportJob, terminal: Terminal, *, unit: str = "label",
                     max_zones: int | None = None, fit: bool = True, layout: str = "usb") -> ExportFile:
    """A zip of a polygon shapefile laid out for ``terminal``.

    ``layout`` ``usb`` (default) puts the files in the terminal's folder on the
    stick (``Rx/`` for John Deere); ``ops-center`` writes them flat at the root
    of the zip, which is what an upload to John Deere Operations Center (or any
    web portal) takes.
    """
    if layout not in SHAPEFILE_LAYOUTS:
        raise ExportError(f"unknown layout {layout!r}; valid layouts: {', '.join(SHAPEFILE_LAYOUTS)}")
    pres = job.prescription
    n = len(pres.products)
    wz, notes = fitted_zones(job, terminal, products=tuple(range(n)), max_zones=max_zones, fit=fit)
    fields, parts, size = _write(job, wz, unit, notes)
    if terminal.max_bytes is not None and size > terminal.max_bytes:
        first = (size, wz.zones.n_zones, wz.zones.n_vertices)
        if fit and job.no_spray_wgs84 is not None:
            wz, fields, parts, size, notes = _shrink(job, terminal, unit, max_zones, notes)
        if size > terminal.max_bytes:
            raise ExportError(
                f"shapefile is {first[0]} bytes ({first[1]} zones, {first[2]} vertices); {terminal.name} accepts "
                f"at most {terminal.max_bytes} bytes"
                + (f", and still {size} bytes after merging cells into blocks of up to {FACTORS[-1]} x "
                   f"{FACTORS[-1]}" if fit and job.no_spray_wgs84 is not None else
                   "; zones can only grow where the no-spray zones are known (prescriptions made by the service)")
                + ". Use a coarser dosing grid or ISOXML")
    folder = terminal.shapefile_folder if layout == "usb" else ""
    base = dos_name(job.field_name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for suffix in SHAPEFILE_PARTS:
            if suffix in parts:
                zf.writestr(f"{folder}/{base}{suffix}" if folder else f"{base}{suffix}", parts[suffix])
    flat = "_flat" if layout == "ops-center" and terminal.shapefile_folder else ""
    name = f"{file_stem(job.field_name)}_{terminal.name}{flat}_shp.zip"
    stats = {"zones": wz.zones.n_zones, "parts": wz.zones.n_parts, "vertices": wz.zones.n_vertices,
             "bytes_unzipped": size, "crs": "EPSG:4326", "columns": fields}
    return ExportFile(name, "application/zip", buf.getvalue(), notes, stats)


def _write(job: ExportJob, wz: WgsZones, unit: str, notes: list[str]) -> tuple[list[str], dict[str, bytes], int]:
    """The shapefile's parts (by suffix) for zones ``wz``; notes name the rate columns."""
    pres = job.prescription
    n = len(pres.products)
    geoms = shapely.orient_polygons(wz.geometries_wgs84, exterior_cw=True)
    # Full double precision: a 2 m² zone is 0.0002 ha, and 4 decimals would be off by up to 25 %.
    fields, data = ["ZONE", "AREA_HA"], [np.arange(1, wz.zones.n_zones + 1, dtype=np.int32),
                                        np.asarray(wz.zones.area_ha, dtype=np.float64)]
    for k, product in enumerate(pres.products):
        shown = display_unit(product, unit)
        if shown.note:
            notes.append(shown.note)
        col = rate_column(shown.unit, k, n)
        fields.append(col)
        data.append(significant(wz.zones.rates[:, k] * shown.per_canonical))
        notes.append(f"column {col} = {product.name} in {shown.unit}")
    base = dos_name(job.field_name)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{base}.shp"
        ogr_write(str(path), shapely.to_wkb(geoms), data, fields, driver="ESRI Shapefile",
                  geometry_type="MultiPolygon", crs="EPSG:4326", encoding="UTF-8")
        parts = {p.suffix.lower(): p.read_bytes() for p in Path(tmp).iterdir()}
    missing = [s for s in (".shp", ".shx", ".dbf", ".prj") if s not in parts]
    if missing:
        raise ExportError(f"GDAL did not write {', '.join(missing)}")  # pragma: no cover
    return fields, parts, sum(len(b) for b in parts.values())


def _shrink(job: ExportJob, terminal: Terminal, unit: str, max_zones: int | None,
            notes: list[str]) -> tuple[WgsZones, list[str], dict[str, bytes], int, list[str]]:
    """Merge cells into ever larger blocks (rates raised, buffers kept) until the file fits."""
    pres = job.prescription
    ns = job.no_spray_wgs84
    _inside, ok = sprayable_cells(pres.grid.shape, pres.grid.transform,
                                  reproject(job.field_boundary_wgs84, "EPSG:4326", pres.grid.crs),
                                  reproject(ns, "EPSG:4326", pres.grid.crs) if ns is not None else None)
    # rates is (products, rows, cols): summing axes 1 and 2 leaves one total per product, a 1-D
    # array; NumPy's stubs cannot see the rank and also allow a scalar.
    before = cast("NDArray[np.float64]", np.nansum(pres.rates, axis=(1, 2), dtype=np.float64)) * pres.grid.cell_area_ha
    for k in FACTORS:
        coarse = coarsen_up(pres.rates, ok, k)
        shrunk = replace(job, prescription=replace(pres, rates=coarse))
        wz, n2 = fitted_zones(shrunk, terminal, products=tuple(range(len(pres.products))),
                              max_zones=max_zones, fit=True)
        fields, parts, size = _write(shrunk, wz, unit, list(n2))
        if size <= (terminal.max_bytes or size):
            after = cast("NDArray[np.float64]",
                         np.nansum(coarse, axis=(1, 2), dtype=np.float64)) * pres.grid.cell_area_ha
            extra = ", ".join(f"{p.name} +{a - b:.2f} {p.canonical_unit.split('/')[0]}"
                              for p, a, b in zip(pres.products, after, before, strict=True))
            return wz, fields, parts, size, [*n2, (
                f"zones merged into blocks of {k} x {k} cells ({k * pres.grid.cell_size_m:g} m) to fit "
                f"{terminal.name}'s {terminal.max_bytes} bytes: each block sprays the highest rate any of its "
                f"cells needs, buffers and the field edge stay unsprayed ({extra})")]
    return wz, fields, parts, size, n2
