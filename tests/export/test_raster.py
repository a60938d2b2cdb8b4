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
    from app.export.palette import RATE_RAMP, UNSPRAYED_COLOUR, ramp_index, rgb

    out = render(job, "png")
    img = Image.open(io.BytesIO(out.content)).convert("RGB")
    assert img.width > 600 and img.height > 400
    px = np.asarray(img)
    # Map origin at (16, 52), zoom = 640 // 80 = 8 px per cell; image cell (25, 15) is sprayed.
    sprayed = px[52 + 25 * 8 + 4, 16 + 15 * 8 + 4]
    unsprayed = px[52 + 40 * 8 + 4, 16 + 20 * 8 + 4]
    outside = px[52 + 2 * 8 + 4, 16 + 2 * 8 + 4]
    assert tuple(unsprayed) == rgb(UNSPRAYED_COLOUR)
    assert tuple(outside) == (255, 255, 255)
    # the web map's colour for the same rate (share of the label maximum), not a second palette
    product = job.prescription.products[0]
    rate = float(job.prescription.rates[0, 25, 15])
    assert rate > 0
    assert tuple(sprayed) == rgb(RATE_RAMP[ramp_index(rate, product.max_rate)])

def test_png_draws_accented_names_with_a_real_font(job):
    """"Prés" and "maïs" are glyphs of the vendored DejaVu Sans, and the title is drawn with them."""
    from dataclasses import replace

    from PIL import ImageDraw

    from app.export.preview import _font, font_has_glyphs

    assert font_has_glyphs("Les Prés du Ru de Vaux – maïs, Weißer Gänsefuß, blé d’hiver")
    out = render(replace(job, field_name="Prés du Ru de Vaux maïs"), "png")
    img = np.asarray(Image.open(io.BytesIO(out.content)).convert("L"))
    # the title row, drawn again from the expected string with the same font, matches the PNG's pixels
    expected = Image.new("L", (img.shape[1], 30), 255)
    text = f"Prés du Ru de Vaux maïs – {job.prescription.products[0].name}"
    ImageDraw.Draw(expected).text((16, 8), text, fill=33, font=_font(17))
    got = img[:30].astype(int)
    want = np.asarray(expected).astype(int)
    box = want < 200  # the strokes of the expected title
    assert box.sum() > 200
    assert np.abs(got[box] - want[box]).mean() < 10


def test_png_hatches_buffers_apart_from_unsprayed_and_keeps_north_off_the_map(job):
    from dataclasses import replace

    from app.export.palette import BUFFER_FILL, UNSPRAYED_COLOUR, rgb
    from app.geo import reproject

    field_m = reproject(job.field_boundary_wgs84, "EPSG:4326", job.prescription.grid.crs)
    minx, miny, maxx, maxy = field_m.bounds
    import shapely

    strip = shapely.box(minx, miny, maxx, miny + 0.25 * (maxy - miny)).intersection(field_m)
    with_buffer = replace(job, no_spray_wgs84=reproject(strip, job.prescription.grid.crs, "EPSG:4326"))
    px = np.asarray(Image.open(io.BytesIO(render(with_buffer, "png").content)).convert("RGB"))
    plain = np.asarray(Image.open(io.BytesIO(render(job, "png").content)).convert("RGB"))
    grid = job.prescription.grid
    zoom = 640 // max(grid.n_rows, grid.n_cols)
    # a block of the map inside the buffer strip (south quarter of the field)
    r0 = 52 + int(grid.n_rows * 0.85) * zoom
    c0 = 16 + int(grid.n_cols * 0.5) * zoom
    block = px[r0:r0 + 14, c0:c0 + 14].reshape(-1, 3)
    buffer_rgb = np.array(rgb(BUFFER_FILL))
    assert (np.abs(block - buffer_rgb).sum(axis=1) < 30).sum() > 20, "buffer hatch in the buffer"
    assert not (np.abs(block - np.array(rgb(UNSPRAYED_COLOUR))).sum(axis=1) == 0).all()
    # the plain render has no red there
    plain_block = plain[r0:r0 + 14, c0:c0 + 14].reshape(-1, 3)
    assert (np.abs(plain_block - buffer_rgb).sum(axis=1) < 30).sum() == 0
    # the north arrow is drawn in the header above the legend (y < 52, right edge), never on the map
    header = px[:50, -40:].reshape(-1, 3)
    assert (header.sum(axis=1) < 200).sum() > 30


def test_png_words_and_areas_follow_language_and_units(job):
    en = render(job, "png", lang="en", units="metric").content
    de = render(job, "png", lang="de", units="us").content
    assert en != de
    with pytest.raises(ValueError, match="valid languages"):
        render(job, "png", lang="xx")
    with pytest.raises(ValueError, match="valid unit systems"):
        render(job, "png", units="imperial")
