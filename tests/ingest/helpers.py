"""Inputs for the ingest tests, written with the real tools (rasterio, pyogrio, zipfile)."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyogrio.raw import write as ogr_write
from rasterio.transform import Affine

# A field near Paris with a pond (hole), as WGS84 lon/lat, exterior CCW.
FIELD = shapely.Polygon(
    [(2.100, 48.500), (2.104, 48.500), (2.104, 48.503), (2.100, 48.503)],
    [[(2.101, 48.501), (2.101, 48.5015), (2.1015, 48.5015), (2.1015, 48.501)]],
)
# A second, disjoint block of the same farm.
BLOCK = shapely.box(2.106, 48.500, 2.108, 48.502)


def zip_bytes(members: dict[str, bytes], *, symlinks: Sequence[str] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.create_system = 3
                info.external_attr = (0o120777 << 16)
            zf.writestr(info, data)
    return buf.getvalue()


def shapefile_zip(geoms: Sequence[shapely.Geometry], *, crs: str | None = "EPSG:4326",
                  columns: dict[str, Sequence[object]] | None = None, folder: str = "",
                  geometry_type: str = "Polygon", keep: Sequence[str] = (".shp", ".shx", ".dbf", ".prj")) -> bytes:
    """A zipped shapefile written by GDAL (pyogrio); geoms are in ``crs``."""
    columns = columns or {"id": list(range(len(geoms)))}
    fields = list(columns)
    data = [np.asarray(v) for v in columns.values()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "field.shp"
        ogr_write(str(path), shapely.to_wkb(np.asarray(geoms, dtype=object)), data, fields,
                  driver="ESRI Shapefile", geometry_type=geometry_type, crs=crs, encoding="UTF-8")
        parts = {p.suffix.lower(): p.read_bytes() for p in Path(tmp).iterdir()}
    prefix = f"{folder}/" if folder else ""
    return zip_bytes({f"{prefix}field{s}": parts[s] for s in keep if s in parts})


def origin(west: float, north: float, xres: float, yres: float) -> Affine:
    """North-up geotransform (``rasterio.transform.from_origin`` warns under affine 3)."""
    return Affine(xres, 0.0, west, 0.0, -yres, north)


def write_geotiff(path: Path, bands: np.ndarray, *, crs: str | None, transform: Affine,
                  descriptions: Sequence[str | None] | None = None, nodata: float | None = None,
                  dtype: str = "float32") -> Path:
    bands = np.asarray(bands)
    if bands.ndim == 2:
        bands = bands[None]
    count, h, w = bands.shape
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=count, dtype=dtype, crs=crs,
                       transform=transform, nodata=nodata) as dst:
        dst.write(bands.astype(dtype))
        if descriptions:
            for i, d in enumerate(descriptions, start=1):
                if d is not None:
                    dst.set_band_description(i, d)
    return path


def isoxml(partfields: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ISO11783_TaskData VersionMajor="4" VersionMinor="3" ManagementSoftwareManufacturer="t" '
            'ManagementSoftwareVersion="1" DataTransferOrigin="1">' + partfields + "</ISO11783_TaskData>")


def lsg(kind: str, ring: Sequence[tuple[float, float]]) -> str:
    pts = "".join(f'<PNT A="2" C="{lat!r}" D="{lon!r}"/>' for lon, lat in ring)
    return f'<LSG A="{kind}">{pts}</LSG>'


def same_shape(a: shapely.Geometry, b: shapely.Geometry, tol: float = 1e-7) -> bool:
    """Same polygons and rings (any start vertex, any winding), every vertex within ``tol`` degrees."""
    def rings(g: shapely.Geometry) -> list[int]:
        return sorted(len(p.interiors) for p in getattr(g, "geoms", [g]))
    return (a.geom_type == b.geom_type and rings(a) == rings(b)
            and shapely.hausdorff_distance(a.boundary, b.boundary) <= tol)
