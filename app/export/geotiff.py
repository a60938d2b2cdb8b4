"""Cloud-optimised GeoTIFF of the rate grid: one float32 band per product, working CRS, NaN nodata."""

from __future__ import annotations

import numpy as np
from rasterio.io import MemoryFile

from app.export.job import ExportFile, ExportJob
from app.export.names import file_stem
from app.export.terminals import Terminal
from app.export.zones import display_unit


def render_geotiff(job: ExportJob, terminal: Terminal, *, unit: str = "label") -> ExportFile:
    """COG (deflate, 512 px tiles, overviews) in the prescription grid's CRS.

    Band ``k+1`` holds product ``k`` in its label unit (or canonical with
    ``unit="canonical"``); its description reads ``"<product> (<unit>)"``.
    """
    pres = job.prescription
    g = pres.grid
    notes: list[str] = []
    bands = np.empty(pres.rates.shape, dtype=np.float32)
    descriptions = []
    for k, product in enumerate(pres.products):
        shown = display_unit(product, unit)
        if shown.note:
            notes.append(shown.note)
        np.multiply(pres.rates[k], np.float32(shown.per_canonical), out=bands[k])
        descriptions.append((f"{product.name} ({shown.unit})", shown.unit))
    profile = {
        "driver": "COG", "width": g.n_cols, "height": g.n_rows, "count": len(pres.products),
        "dtype": "float32", "crs": g.crs, "transform": g.transform, "nodata": float("nan"),
        "compress": "DEFLATE", "predictor": 3, "blocksize": 512, "overview_resampling": "nearest",
    }
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(bands)
            for k, (desc, unit_name) in enumerate(descriptions, start=1):
                dst.set_band_description(k, desc)
                dst.set_band_unit(k, unit_name)
            dst.update_tags(field=job.field_name, prescription_id=job.prescription_id or "")
        content = mem.read()
    stats = {"width": g.n_cols, "height": g.n_rows, "bands": len(pres.products), "crs": g.crs,
             "bytes_unzipped": len(content), "zones": None, "vertices": None}
    return ExportFile(f"{file_stem(job.field_name)}_rates.tif", "image/tiff", content, notes, stats)
