from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from app.dosing.grid import GridSpec
from app.geo import reproject, transformer
from app.ingest import (
    BandMismatch,
    CorruptFile,
    IngestError,
    InvalidData,
    NoOverlap,
    TooLarge,
    UnknownSpecies,
    UnsupportedFormat,
    grid_for_field,
    plant_total,
    read_weed_geotiff,
)
from tests.ingest.helpers import FIELD, origin, write_geotiff

UTM = "EPSG:32631"


@pytest.fixture
def grid() -> GridSpec:
    return grid_for_field(FIELD, 1.0)


def _patchy(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Weed patches: zero most places, dense blobs elsewhere (plants/m²)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    out = np.zeros(shape, dtype=np.float32)
    for _ in range(6):
        r, c, s = rng.uniform(0, shape[0]), rng.uniform(0, shape[1]), rng.uniform(5, 40)
        out += (60 * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * s * s))).astype(np.float32)
    return out


def _pixel_areas_m2(t: Affine, crs: str, shape: tuple[int, int]) -> np.ndarray:
    """Ground area of every pixel (m², in UTM) of a north-up raster."""
    h, w = shape
    cols, rows = np.meshgrid(np.arange(w + 1), np.arange(h + 1))
    xs, ys = t.c + t.a * cols.ravel(), t.f + t.e * rows.ravel()
    ex, ny = transformer(crs, UTM).transform(xs, ys)
    ex, ny = np.asarray(ex).reshape(h + 1, w + 1), np.asarray(ny).reshape(h + 1, w + 1)
    # shoelace on each pixel's four corners
    x = [ex[:-1, :-1], ex[:-1, 1:], ex[1:, 1:], ex[1:, :-1]]
    y = [ny[:-1, :-1], ny[:-1, 1:], ny[1:, 1:], ny[1:, :-1]]
    return 0.5 * np.abs(sum(x[i] * y[(i + 1) % 4] - x[(i + 1) % 4] * y[i] for i in range(4)))


def test_grid_for_field_is_snapped_utm() -> None:
    g = grid_for_field(FIELD, 0.5)
    assert g.crs == UTM
    assert g.x0_m % 0.5 == 0 and g.y0_m % 0.5 == 0
    w, s, e, n = reproject(FIELD, "EPSG:4326", UTM).bounds
    gw, gs, ge, gn = g.bounds_m
    assert gw <= w < gw + 0.5 and gn - 0.5 < n <= gn and ge - 0.5 < e <= ge and gs <= s < gs + 0.5
    assert grid_for_field(FIELD, 2.0, margin_m=10).n_cols == pytest.approx(g.n_cols / 4 + 10, abs=2)
    with pytest.raises(IngestError, match=r"cell_size_m: must be a positive"):
        grid_for_field(FIELD, 0)


def test_average_of_aligned_blocks_is_exact(tmp_path: Path) -> None:
    g = GridSpec(UTM, 500000.0, 5400002.0, 1.0, 2, 2)
    a = np.arange(16, dtype=np.float32).reshape(4, 4)
    p = write_geotiff(tmp_path / "m.tif", a, crs=UTM, transform=origin(500000, 5400002, 0.5, 0.5),
                      descriptions=["ALOMY"])
    r = read_weed_geotiff(p, g)
    assert r.resampling == "average" and r.coverage == 1.0
    expect = a.reshape(2, 2, 2, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(r.densities_plants_m2["ALOMY"], expect, rtol=1e-6)


def test_geographic_raster_is_warped_and_total_kept(tmp_path: Path, grid: GridSpec) -> None:
    # ~0.3 m pixels in degrees over the middle of the field, inside the grid
    dlon, dlat = 4e-6, 3e-6
    h, w = 700, 600
    t = origin(2.1008, 48.5025, dlon, dlat)
    bands = np.stack([_patchy((h, w), 1), _patchy((h, w), 2)])
    p = write_geotiff(tmp_path / "wgs84.tif", bands, crs="EPSG:4326", transform=t, descriptions=["ALOMY", "galap"])
    r = read_weed_geotiff(p.read_bytes(), grid)  # bytes are spooled
    assert r.resampling == "average" and r.source_crs == "EPSG:4326"
    assert set(r.densities_plants_m2) == {"ALOMY", "GALAP"}
    areas = _pixel_areas_m2(t, "EPSG:4326", (h, w))
    for k, code in enumerate(("ALOMY", "GALAP")):
        src_total = float((bands[k].astype(np.float64) * areas).sum())
        assert plant_total(r.densities_plants_m2[code], grid) == pytest.approx(src_total, rel=0.02)
        assert r.densities_plants_m2[code].dtype == np.float32
    assert 0.05 < r.coverage < 0.6
    assert not r.covered[0, 0] and r.densities_plants_m2["ALOMY"][0, 0] == 0
    assert any("have no data" in n for n in r.notes)


def test_lambert_raster_is_warped_and_total_kept(tmp_path: Path, grid: GridSpec) -> None:
    c = reproject(FIELD.centroid, "EPSG:4326", "EPSG:2154")
    t = origin(c.x - 100, c.y + 100, 0.25, 0.25)
    a = _patchy((800, 800), 3)
    p = write_geotiff(tmp_path / "l93.tif", a, crs="EPSG:2154", transform=t)
    r = read_weed_geotiff(p, grid, species=["STEME"])
    src_total = float(a.astype(np.float64).sum() * 0.0625)  # Lambert-93 scale error is ~1e-4 here
    assert plant_total(r.densities_plants_m2["STEME"], grid) == pytest.approx(src_total, rel=0.02)


def test_coarse_raster_upsampled_with_nearest_and_options(tmp_path: Path, grid: GridSpec) -> None:
    x0, _s, _e, y1 = grid.bounds_m
    a = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    p = write_geotiff(tmp_path / "c.tif", a, crs=UTM, transform=origin(x0, y1, 10, 10), nodata=-1)
    r = read_weed_geotiff(p, grid, species={1: "ALOMY"})
    assert r.resampling == "nearest"
    d = r.densities_plants_m2["ALOMY"]
    assert d[0, 0] == 1 and d[0, 15] == 2 and d[15, 0] == 3 and d[19, 19] == 4 and d[25, 25] == 0
    assert r.covered[:20, :20].all() and not r.covered[20:, :].any()
    assert read_weed_geotiff(p, grid, species=["ALOMY"], resampling="bilinear").resampling == "bilinear"
    with pytest.raises(IngestError, match=r"resampling: 'cubic' is not one of average, bilinear, nearest"):
        read_weed_geotiff(p, grid, species=["ALOMY"], resampling="cubic")


def test_nodata_is_missing_not_negative(tmp_path: Path, grid: GridSpec) -> None:
    x0, _s, _e, y1 = grid.bounds_m
    a = np.full((8, 8), 5.0, dtype=np.float32)
    a[:4, :] = -9999
    p = write_geotiff(tmp_path / "nd.tif", a, crs=UTM, transform=origin(x0, y1, 1, 1), nodata=-9999)
    r = read_weed_geotiff(p, grid, species=["ALOMY"])
    assert not r.covered[:4, :8].any() and r.covered[4:8, :8].all()
    assert r.densities_plants_m2["ALOMY"][:4].max() == 0 and r.densities_plants_m2["ALOMY"][5, 5] == 5


def test_streamed_chunks_and_size_cap(tmp_path: Path, grid: GridSpec) -> None:
    x0, _s, _e, y1 = grid.bounds_m
    p = write_geotiff(tmp_path / "s.tif", np.ones((50, 50)), crs=UTM, transform=origin(x0, y1, 1, 1))
    data = p.read_bytes()
    chunks = (data[i:i + 1000] for i in range(0, len(data), 1000))
    assert read_weed_geotiff(chunks, grid, species=["ALOMY"]).densities_plants_m2["ALOMY"][10, 10] == 1
    with p.open("rb") as fh:
        with pytest.raises(TooLarge, match=r"drone.tif: larger than the 1 KiB limit") as exc:
            read_weed_geotiff(fh, grid, species=["ALOMY"], name="drone.tif", max_bytes=1024)
    assert exc.value.cap_bytes == 1024


# ------------------------------------------------------------------ errors

@pytest.fixture
def good_tif(tmp_path: Path, grid: GridSpec) -> Path:
    x0, _s, _e, y1 = grid.bounds_m
    rng = np.random.default_rng(0)
    return write_geotiff(tmp_path / "good.tif", rng.uniform(0, 5, (2, 64, 64)), crs=UTM,
                         transform=origin(x0, y1, 1, 1), descriptions=["ALOMY", "GALAP"])


def test_band_count_mismatch(good_tif: Path, grid: GridSpec) -> None:
    with pytest.raises(BandMismatch, match=r"weed map: 1 species given \(ALOMY\) but the raster has 2 bands"):
        read_weed_geotiff(good_tif, grid, species=["ALOMY"])
    with pytest.raises(BandMismatch, match=r"the mapping names band 3, but the raster has bands 1..2"):
        read_weed_geotiff(good_tif, grid, species={1: "ALOMY", 3: "GALAP"})
    with pytest.raises(BandMismatch, match=r"species ALOMY is given to more than one band"):
        read_weed_geotiff(good_tif, grid, species=["ALOMY", "alomy"])


def test_band_without_description(tmp_path: Path, grid: GridSpec) -> None:
    x0, _s, _e, y1 = grid.bounds_m
    p = write_geotiff(tmp_path / "nd.tif", np.ones((2, 4, 4)), crs=UTM, transform=origin(x0, y1, 1, 1),
                      descriptions=["ALOMY", None])
    with pytest.raises(BandMismatch, match=r"band 2 has no description naming its species"):
        read_weed_geotiff(p, grid)


def test_unknown_species(good_tif: Path, grid: GridSpec) -> None:
    with pytest.raises(UnknownSpecies, match=r"unknown species code XXXXX \(band 2\)") as exc:
        read_weed_geotiff(good_tif, grid, species=["ALOMY", "XXXXX"])
    assert exc.value.codes == ["XXXXX"]


def test_no_overlap(tmp_path: Path, grid: GridSpec) -> None:
    p = write_geotiff(tmp_path / "far.tif", np.ones((4, 4)), crs=UTM, transform=origin(600000, 5000000, 1, 1))
    with pytest.raises(NoOverlap, match=r"far.tif: the raster .* does not overlap the field grid"):
        read_weed_geotiff(p, grid, species=["ALOMY"], name="far.tif")


def test_truncated_tiff(good_tif: Path, grid: GridSpec) -> None:
    data = good_tif.read_bytes()
    with pytest.raises(CorruptFile, match=r"cut.tif: .*truncated or damaged"):
        read_weed_geotiff(data[: len(data) // 2], grid, name="cut.tif")
    with pytest.raises(CorruptFile, match=r"cut.tif: .*truncated or damaged"):
        read_weed_geotiff(data[:200], grid, name="cut.tif")


def test_not_a_tiff_and_no_crs(tmp_path: Path, grid: GridSpec) -> None:
    with pytest.raises(UnsupportedFormat, match=r"map.png: not a TIFF file"):
        read_weed_geotiff(b"\x89PNG\r\n\x1a\n" + b"0" * 100, grid, name="map.png")
    p = write_geotiff(tmp_path / "nocrs.tif", np.ones((4, 4)), crs=None, transform=origin(0, 4, 1, 1))
    with pytest.raises(UnsupportedFormat, match=r"the raster has no CRS"):
        read_weed_geotiff(p, grid, species=["ALOMY"])


@pytest.mark.parametrize(("value", "nodata", "match"), [
    (-2.0, None, r"band 1 \(ALOMY\): negative density -2 plants/m² at row 3, column 5"),
    (np.nan, None, r"band 1 \(ALOMY\): NaN at row 3, column 5 but the raster's nodata is None"),
    (np.inf, np.nan, r"band 1 \(ALOMY\): infinite value at row 3, column 5"),
])
def test_bad_values(tmp_path: Path, grid: GridSpec, value: float, nodata: float | None, match: str) -> None:
    x0, _s, _e, y1 = grid.bounds_m
    a = np.ones((8, 8), dtype=np.float32)
    a[3, 5] = value
    p = write_geotiff(tmp_path / "bad.tif", a, crs=UTM, transform=origin(x0, y1, 1, 1), nodata=nodata)
    with pytest.raises(InvalidData, match=match):
        read_weed_geotiff(p, grid, species=["ALOMY"])


def test_nan_nodata_is_accepted(tmp_path: Path, grid: GridSpec) -> None:
    x0, _s, _e, y1 = grid.bounds_m
    a = np.ones((8, 8), dtype=np.float32)
    a[3, 5] = np.nan
    p = write_geotiff(tmp_path / "nan.tif", a, crs=UTM, transform=origin(x0, y1, 1, 1), nodata=np.nan)
    r = read_weed_geotiff(p, grid, species=["ALOMY"])
    assert not r.covered[3, 5] and r.covered[3, 4]


