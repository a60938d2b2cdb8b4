"""ESRI shapefile prescriptions: one multi-part polygon per rate zone, WGS84, zipped per brand.

Exterior rings are clockwise, as ESRI's specification wants (the reverse of
GeoJSON). Rate columns carry their unit in the name (``RATE_LHA``) because
users pick units by hand at upload and a wrong pick is a tenfold error.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import write as ogr_write

from app.export.job import ExportError, ExportFile, ExportJob
from app.export.names import dos_name, file_stem
from app.export.terminals import Terminal
from app.export.vector import fitted_zones
from app.export.zones import UNIT_CODES, display_unit, significant

SHAPEFILE_PARTS: tuple[str, ...] = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def rate_column(unit: str, k: int, n: int) -> str:
    """DBF column name (at most 10 characters) for product ``k`` of ``n`` in ``unit``.

    >>> rate_column("L/ha", 0, 1), rate_column("fl oz/acre", 1, 2)
    ('RATE_LHA', 'R2_FLOZA')
    """
    code = UNIT_CODES.get(unit, "X")
    name = f"RATE_{code}" if n == 1 else f"R{k + 1}_{code}"
    return name[:10]


def render_shapefile(job: ExportJob, terminal: Terminal, *, unit: str = "label",
                     max_zones: int | None = None, fit: bool = True) -> ExportFile:
    """A zip of a polygon shapefile laid out for ``terminal`` (``Rx/`` for John Deere)."""
    pres = job.prescription
    n = len(pres.products)
    wz, notes = fitted_zones(job, terminal, products=tuple(range(n)), max_zones=max_zones, fit=fit)
    geoms = shapely.orient_polygons(wz.geometries_wgs84, exterior_cw=True)

    fields, data = ["ZONE", "AREA_HA"], [np.arange(1, wz.zones.n_zones + 1, dtype=np.int32),
                                        np.round(wz.zones.area_ha, 4)]
    for k, product in enumerate(pres.products):
        shown = display_unit(product, unit)
        if shown.note:
            notes.append(shown.note)
        col = rate_column(shown.unit, k, n)
        fields.append(col)
        data.append(significant(wz.zones.rates[:, k] * shown.per_canonical))
        notes.append(f"column {col} = {product.name} in {shown.unit}")

    base = dos_name(job.field_name)
    folder = terminal.shapefile_folder
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{base}.shp"
        ogr_write(str(path), shapely.to_wkb(geoms), data, fields, driver="ESRI Shapefile",
                      geometry_type="MultiPolygon", crs="EPSG:4326", encoding="UTF-8")
        parts = {p.suffix.lower(): p.read_bytes() for p in Path(tmp).iterdir()}
    missing = [s for s in (".shp", ".shx", ".dbf", ".prj") if s not in parts]
    if missing:
        raise ExportError(f"GDAL did not write {', '.join(missing)}")  # pragma: no cover
    size = sum(len(b) for b in parts.values())
    if terminal.max_bytes is not None and size > terminal.max_bytes:
        raise ExportError(
            f"shapefile is {size} bytes ({wz.zones.n_zones} zones, {wz.zones.n_vertices} vertices); "
            f"{terminal.name} accepts at most {terminal.max_bytes} bytes. Zone outlines are cell edges and "
            "cannot be simplified without spraying cells the prescription leaves unsprayed; "
            "use a coarser dosing grid or ISOXML"
        )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for suffix in SHAPEFILE_PARTS:
            if suffix in parts:
                zf.writestr(f"{folder}/{base}{suffix}" if folder else f"{base}{suffix}", parts[suffix])
    name = f"{file_stem(job.field_name)}_{terminal.name}_shp.zip"
    stats = {"zones": wz.zones.n_zones, "parts": wz.zones.n_parts, "vertices": wz.zones.n_vertices,
             "bytes_unzipped": size, "crs": "EPSG:4326", "columns": fields}
    return ExportFile(name, "application/zip", buf.getvalue(), notes, stats)
