"""GeoTIFF read back with rasterio; PNG opened with Pillow."""

from __future__ import annotations

import io

import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.io import MemoryFile

from app.domain.units import to_canonical_rate
from app.export import render


def test_geotiff_values_nodata_crs_and_descriptions(mix_job):
    out = render(mix_job, "geotiff", unit="canonical")
    rx = mix_job.prescription
    with MemoryFile(out.content) as mem, mem.open() as ds:
        assert ds.crs.to_epsg() == 32631
        assert ds.transform == rx.grid.transform
        assert ds.count == 2 and ds.dtypes == ("float32", "float32")
        assert np.isnan(ds.nodata)
        assert ds.descriptions == ("Clethodim 240 (L/ha)", "Tribenuron WG (kg/ha)")
        assert ds.profile["tiled"]
        data = ds.read()
        np.testing.assert_array_equal(np.isnan(data), np.isnan(rx.rates))
        np.testing.assert_array_equal(data, rx.rates)
        masked = ds.read(1, masked=True)
        assert masked.mask.sum() == np.isnan(rx.rates[0]).sum()


def test_geotiff_in_label_units(job):
    out = render(job, "geotiff")
    with MemoryFile(out.content) as mem, mem.open() as ds:
        assert ds.descriptions == ("Clethodim 240 (fl oz/acre)",)
        assert np.nanmax(ds.read(1)) == pytest.approx(2.0 / to_canonical_rate(1.0, "fl oz/acre"), rel=1e-6)


def test_geotiff_large_grid_is_a_cog_with_overviews(job, tmp_path):
    from dataclasses import replace

    rx = job.prescription
    big = np.kron(rx.rates, np.ones((1, 20, 20), dtype=np.float32))  # 1200 x 1600 cells
    rx.grid = replace(rx.grid, cell_size_m=0.05, n_rows=big.shape[1], n_cols=big.shape[2])
    rx.rates = big
    out = render(job, "geotiff")
    path = tmp_path / "r.tif"
    path.write_bytes(out.content)
    with rasterio.open(path) as ds:
        assert ds.overviews(1), "a COG carries overviews"
        assert ds.block_shapes[0] == (512, 512)
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def test_png_preview_colours_sprayed_cells(job):
    out = render(job, "png")
    img = Image.open(io.BytesIO(out.content)).convert("RGB")
    assert img.width > 600 and img.height > 400
    px = np.asarray(img)
    # Map origin at (16, 52), zoom = 640 // 80 = 8 px per cell; image cell (25, 15) is sprayed.
    sprayed = px[52 + 25 * 8 + 4, 16 + 15 * 8 + 4]
    unsprayed = px[52 + 40 * 8 + 4, 16 + 20 * 8 + 4]
    outside = px[52 + 2 * 8 + 4, 16 + 2 * 8 + 4]
    assert tuple(unsprayed) == (222, 226, 214)
    assert tuple(outside) == (255, 255, 255)
    assert sprayed[2] < 150 and sprayed[0] > 200  # warm colour of the ramp
