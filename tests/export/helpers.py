"""Readers shared by the export tests: unzip, read back with third-party tools."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import read as ogr_read

from app.geo import transformer


def unzip(content: bytes, into: Path) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        zf.extractall(into)
        return zf.namelist()


def read_vector(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, object]]:
    """Geometries (shapely) and columns as GDAL reads them."""
    meta, _, wkb, data = ogr_read(str(path))
    geoms = shapely.from_wkb(wkb)
    return geoms, dict(zip(meta["fields"], data, strict=True)), meta


def to_metric(geoms: np.ndarray, crs: str) -> np.ndarray:
    t = transformer("EPSG:4326", crs)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def shp_ring_signed_areas(shp: bytes) -> list[list[float]]:
    """Signed areas (shoelace, + = counter-clockwise) of every ring of every record, read from raw .shp bytes.

    Parsed by hand so GDAL's reader cannot silently re-orient rings.
    """
    out: list[list[float]] = []
    pos = 100
    while pos < len(shp):
        _, length_words = struct.unpack(">ii", shp[pos:pos + 8])
        rec = shp[pos + 8: pos + 8 + 2 * length_words]
        pos += 8 + 2 * length_words
        shape_type, = struct.unpack("<i", rec[:4])
        assert shape_type == 5, shape_type
        n_parts, n_points = struct.unpack("<ii", rec[36:44])
        parts = list(struct.unpack(f"<{n_parts}i", rec[44:44 + 4 * n_parts])) + [n_points]
        start = 44 + 4 * n_parts
        pts = np.frombuffer(rec[start:start + 16 * n_points], dtype="<f8").reshape(-1, 2)
        areas = []
        for a, b in zip(parts[:-1], parts[1:], strict=True):
            x, y = pts[a:b, 0], pts[a:b, 1]
            areas.append(0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1])))
        out.append(areas)
    return out
