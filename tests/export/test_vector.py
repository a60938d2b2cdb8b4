"""Shapefile and GeoJSON read back with pyogrio (GDAL)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import shapely
from helpers import read_vector, shp_ring_signed_areas, to_metric, unzip

from app.domain.units import to_canonical_rate
from app.export import ExportError, render

FL_OZ_PER_L_HA = 1 / to_canonical_rate(1.0, "fl oz/acre")


@pytest.mark.parametrize(("terminal", "prefix"), [
    ("john-deere", "Rx/"), ("cnh", ""), ("trimble", ""), ("raven", ""), ("generic", ""),
])
def test_shapefile_layout_per_terminal(job, tmp_path, terminal, prefix):
    names = unzip(render(job, "shapefile", terminal=terminal).content, tmp_path)
    assert sorted(names) == sorted(f"{prefix}NORTHFIE{s}" for s in (".shp", ".shx", ".dbf", ".prj", ".cpg"))
    for n in names:
        stem, ext = n.rsplit("/", 1)[-1].split(".")
        assert len(stem) <= 8 and len(ext) == 3 and re.fullmatch(r"[A-Z0-9_]+", stem)


def test_shapefile_rates_areas_and_wgs84(job, tmp_path):
    unzip(render(job, "shapefile").content, tmp_path)
    geoms, cols, meta = read_vector(tmp_path / "NORTHFIE.shp")
    assert "4326" in meta["crs"]
    assert "WGS" in (tmp_path / "NORTHFIE.prj").read_text()
    assert set(cols) >= {"RATE_FLOZA", "ZONE", "AREA_HA"}
    rates = job.prescription.rates[0]
    cell_ha = job.prescription.grid.cell_area_ha
    areas_ha = shapely.area(to_metric(geoms, job.prescription.grid.crs)) / 1e4
    for rate_floz, area_ha, dbf_area in zip(cols["RATE_FLOZA"], areas_ha, cols["AREA_HA"], strict=True):
        expected_ha = np.sum(np.isclose(rates * FL_OZ_PER_L_HA, rate_floz, rtol=1e-6)) * cell_ha
        assert area_ha == pytest.approx(expected_ha, rel=1e-6)
        assert dbf_area == pytest.approx(expected_ha, rel=1e-9)
    assert sorted(cols["RATE_FLOZA"]) == pytest.approx([0.0, 2.0 * FL_OZ_PER_L_HA])


def test_shapefile_exterior_rings_are_clockwise(mix_job, tmp_path):
    unzip(render(mix_job, "shapefile").content, tmp_path)
    shp = (tmp_path / "NORTHFIE.shp").read_bytes()
    geoms, _, _ = read_vector(tmp_path / "NORTHFIE.shp")
    for record, geom in zip(shp_ring_signed_areas(shp), geoms, strict=True):
        n_exteriors = shapely.get_num_geometries(geom)
        n_holes = int(shapely.get_num_interior_rings(shapely.get_parts(geom)).sum())
        assert sum(a < 0 for a in record) == n_exteriors  # clockwise = negative shoelace
        assert sum(a > 0 for a in record) == n_holes


def test_tank_mix_shapefile_has_one_unit_named_column_per_product(mix_job, tmp_path):
    unzip(render(mix_job, "shapefile").content, tmp_path)
    _, cols, _ = read_vector(tmp_path / "NORTHFIE.shp")
    assert {"R1_FLOZA", "R2_GHA"} <= set(cols)
    assert all(len(c) <= 10 for c in cols)
    assert set(cols["R2_GHA"]) == {0.0, 200.0, 350.0}


def _many_rates(job):
    r = job.prescription.rates.copy()
    sprayed = r[0] > 0
    r[0][sprayed] = np.linspace(0.5, 2.5, int(sprayed.sum()), dtype=np.float32)
    job.prescription.rates = r
    return job


def test_zone_cap_rounds_rates_up_into_fewer_zones(job, tmp_path):
    job = _many_rates(job)
    out = render(job, "shapefile", terminal="raven")  # caps at 100 zones (assumed)
    assert out.stats["zones"] <= 100
    assert any("rounded up" in n for n in out.notes)
    unzip(out.content, tmp_path)
    geoms, cols, _ = read_vector(tmp_path / "NORTHFIE.shp")
    metric = to_metric(geoms, job.prescription.grid.crs)
    g = job.prescription.grid
    rows, cc = np.nonzero(job.prescription.rates[0] > 0)
    pts = shapely.points(g.x0_m + (cc + 0.5) * g.cell_size_m, g.y0_m - (rows + 0.5) * g.cell_size_m)
    got = np.full(len(pts), np.nan)
    for geom, rate in zip(metric, cols["RATE_FLOZA"], strict=True):
        got[shapely.contains(geom, pts)] = rate / FL_OZ_PER_L_HA
    need = job.prescription.rates[0][rows, cc]
    assert not np.isnan(got).any()
    assert np.all(got >= need - 1e-5), "a cell got less than prescribed"
    assert got.max() == pytest.approx(need.max(), rel=1e-6)


def test_zone_cap_without_fitting_is_an_error(job):
    job = _many_rates(job)
    with pytest.raises(ExportError, match=r"\d+ rate zones; raven accepts at most 100"):
        render(job, "shapefile", terminal="raven", fit=False)


def test_geojson_zones(job, tmp_path):
    out = render(job, "geojson")
    doc = json.loads(out.content)
    assert doc["type"] == "FeatureCollection"
    path = tmp_path / out.filename
    path.write_bytes(out.content)
    geoms, cols, meta = read_vector(path)
    assert set(cols) >= {"rate", "unit", "product", "area_ha"}
    assert set(cols["unit"]) == {"fl oz/acre"}
    areas = shapely.area(to_metric(geoms, job.prescription.grid.crs)) / 1e4
    np.testing.assert_allclose(areas, cols["area_ha"], rtol=2e-3)  # 1e-7 degree rounding of 1 m cells
    cell_ha = job.prescription.grid.cell_area_ha
    sprayed = cols["canonical_rate"] > 0
    assert cols["area_ha"][sprayed].sum() == pytest.approx((job.prescription.rates[0] > 0).sum() * cell_ha)
    for feat in doc["features"]:
        for poly in feat["geometry"]["coordinates"]:
            ring = np.array(poly[0])
            assert (ring[0] == ring[-1]).all()
            assert shapely.Polygon(ring).exterior.is_ccw
            for hole in poly[1:]:
                assert not shapely.LinearRing(hole).is_ccw
            assert np.all(np.abs(ring * 1e7 - np.round(ring * 1e7)) < 1e-6)  # 7 decimals
            assert np.all((-180 <= ring[:, 0]) & (ring[:, 0] <= 180) & (ring[:, 1] > 44) & (ring[:, 1] < 46))


def test_geojson_cells_one_feature_per_in_field_cell(mix_job):
    doc = json.loads(render(mix_job, "geojson", cells=True, unit="canonical").content)
    rates = mix_job.prescription.rates
    n_cells = int((~np.isnan(rates[0])).sum())
    assert len(doc["features"]) == 2 * n_cells
    by_product = {}
    for f in doc["features"]:
        by_product.setdefault(f["properties"]["product"], []).append(f["properties"]["rate"])
    assert sum(by_product["Tribenuron WG"]) == pytest.approx(float(np.nansum(rates[1])), rel=1e-5)
    assert {f["properties"]["unit"] for f in doc["features"]} == {"L/ha", "kg/ha"}


def test_ops_center_layout_is_flat_beside_the_usb_layout(job, tmp_path):
    usb = render(job, "shapefile", terminal="john-deere")
    flat = render(job, "shapefile", terminal="john-deere", layout="ops-center")
    usb_names = unzip(usb.content, tmp_path / "usb")
    flat_names = unzip(flat.content, tmp_path / "flat")
    assert all(n.startswith("Rx/") for n in usb_names)
    assert sorted(flat_names) == sorted(n.removeprefix("Rx/") for n in usb_names)
    assert flat.filename != usb.filename and "flat" in flat.filename
    geoms, cols, _ = read_vector(tmp_path / "flat" / "NORTHFIE.shp")
    assert len(geoms) == 2 and "RATE_FLOZA" in cols
    with pytest.raises(ExportError, match="valid layouts: usb, ops-center"):
        render(job, "shapefile", layout="stick")


def test_tiny_zone_area_keeps_full_precision(grid, liquid, tmp_path):
    """A 2 m² zone is 0.0002 ha: four decimals would make it 0.0002 or 0.0003, 12.6 % off for 2.2 m²."""
    from conftest import make_job, threshold_by_hand

    target = np.zeros(grid.shape, dtype=bool)
    target[30, 30:32] = True  # two 1 m cells
    job = make_job(threshold_by_hand(grid, [liquid], [2.0], target))
    unzip(render(job, "shapefile").content, tmp_path)
    geoms, cols, _ = read_vector(tmp_path / "NORTHFIE.shp")
    sprayed = cols["RATE_FLOZA"] > 0
    metric_ha = shapely.area(to_metric(geoms, grid.crs)) / 1e4
    assert cols["AREA_HA"][sprayed] == pytest.approx([0.0002], rel=1e-9)
    assert cols["AREA_HA"] == pytest.approx(metric_ha, rel=1e-6)
