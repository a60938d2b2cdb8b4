"""The export verifier, and what it proves about every format: read back by third-party readers, on the ground."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from conftest import CRS, X0, Y0, _field_m, make_job
from helpers import unzip
from isoxml.converter.np_grid import to_numpy_array
from isoxml.models.ddi_entities import DDEntity
from isoxml.util.isoxml_io import isoxml_from_path

from app.dosing.grid import GridSpec
from app.dosing.label import ProductLabel
from app.dosing.masks import SensitiveFeature, build_masks
from app.dosing.prescribe import Strategy, prescribe
from app.export import render
from app.export.registry import ExportRefused, preflight
from app.export.verify import GroundTruth, sniff_format, verify
from app.geo import reproject, transformer

FORMATS = ("isoxml", "shapefile", "geojson", "geotiff")


def _job_with_feature(kind: str, feature_m: shapely.Geometry, label: ProductLabel, cell_m: float = 1.0,
                      density: float = 5.0):
    n_rows, n_cols = int(round(60 / cell_m)), int(round(80 / cell_m))
    grid = GridSpec(crs=CRS, x0_m=X0, y0_m=Y0, cell_size_m=cell_m, n_rows=n_rows, n_cols=n_cols)
    field_m = _field_m()
    masks = build_masks(grid, field_m, [SensitiveFeature(kind, feature_m)], [label])
    dens = np.full(grid.shape, density, np.float32)
    rx = prescribe({"AVEFA": dens}, grid, masks, [label], Strategy("threshold", rates=(label.max_rate,)))
    no_spray = reproject(masks.no_spray_m.intersection(field_m), CRS, "EPSG:4326")
    feat = reproject(feature_m, CRS, "EPSG:4326")
    return make_job(rx, no_spray_wgs84=no_spray, features_wgs84=((kind, "it", feat),)), masks


@pytest.fixture(scope="module")
def pond_job():
    label = ProductLabel("Clethodim 240", "L/ha", 0.0, 2.5, label_unit="fl oz/acre", buffers_m={"water": 6.0})
    return _job_with_feature("water", shapely.Point(X0 + 30, Y0 - 30), label)[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_keeps_out_of_buffers_and_the_field_edge(pond_job, fmt):
    out = render(pond_job, fmt)
    report = verify(out.content, fmt, GroundTruth.from_job(pond_job))
    assert report.ok, report.problems
    assert [z.area_m2 for z in report.zones] == [0.0, 0.0]
    (feat,) = report.features
    assert feat.required_m == 6.0 and feat.closest_sprayed_m >= 6.0
    assert sniff_format(out.content) == fmt


def test_isoxml_grid_read_by_pypi_isoxml_sprays_nothing_within_the_buffer_or_outside(pond_job, tmp_path):
    """Cross-check with another reader: before the fix, cells straddling the buffer took their neighbour's rate."""
    out = render(pond_job, "isoxml")
    unzip(out.content, tmp_path)
    td, refs = isoxml_from_path(tmp_path / "TASKDATA")
    grd = td.tasks[0].grids[0]
    values = to_numpy_array(refs["GRD00001"], grd, ddi_list=[DDEntity.from_id(1)])
    values = values.reshape(grd.maximum_row, grd.maximum_column)
    rows, cols = np.nonzero(values > 0)
    lat0, lon0 = float(grd.minimum_north_position), float(grd.minimum_east_position)
    lats = lat0 + rows * grd.cell_north_size
    lons = lon0 + cols * grd.cell_east_size
    cells = shapely.box(lons, lats, lons + grd.cell_east_size, lats + grd.cell_north_size)
    t = transformer("EPSG:4326", CRS)
    cells_m = shapely.transform(cells, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    assert len(cells_m) > 500
    assert shapely.distance(cells_m, shapely.Point(X0 + 30, Y0 - 30)).min() >= 6.0
    assert shapely.area(shapely.difference(cells_m, _field_m())).max() < 1e-6


def test_a_file_spraying_a_buffer_is_refused_with_the_reason(pond_job):
    """A prescription stored before buffers were right: every file of it is refused (422), never served."""
    from dataclasses import replace

    rates = pond_job.prescription.rates.copy()
    rates[0][~np.isnan(rates[0])] = 2.5  # broadcast, buffer and all
    bad = replace(pond_job, prescription=replace(pond_job.prescription, rates=rates))
    for fmt in ("shapefile", "geotiff"):
        with pytest.raises(ExportRefused, match=r"m² sprayed inside the no-spray zones"):
            render(bad, fmt)
    # ISOXML is resampled anyway, so it is fixed instead: cells touching a zone or the edge get 0;
    # GeoJSON zones are trimmed to stay clear of every zone (the rounding margin).
    fixed = render(bad, "isoxml")
    assert fixed.stats["verify"]["ok"] is True
    assert any("set to 0" in n for n in fixed.notes)
    trimmed = render(bad, "geojson")
    assert trimmed.stats["verify"]["ok"] is True
    assert any("trimmed" in n for n in trimmed.notes)
    check = preflight(bad, "geotiff")
    assert check["ok"] is False and "demands 6 m" in check["error"]
    assert check["verify"]["ok"] is False


def test_rates_above_the_label_or_season_remainder_are_found(pond_job):
    from dataclasses import replace

    truth = GroundTruth.from_job(replace(pond_job, season_left=(2.0,)))
    report = verify(render(pond_job, "geotiff").content, "geotiff", truth)
    (p,) = report.products
    assert not report.ok and p.max_rate == pytest.approx(2.5) and p.over_max_area_m2 > 0
    assert "season remainder" in " ".join(report.problems)


def test_product_delta_is_the_files_amount_minus_the_prescriptions(pond_job):
    rx = pond_job.prescription
    prescribed = float(np.nansum(rx.rates[0], dtype=np.float64)) * rx.grid.cell_area_ha
    tif = verify(render(pond_job, "geotiff").content, "geotiff", GroundTruth.from_job(pond_job))
    assert tif.products[0].prescribed_total == pytest.approx(prescribed, rel=1e-12)
    assert tif.products[0].delta == pytest.approx(0.0, abs=1e-6)
    iso = verify(render(pond_job, "isoxml").content, "isoxml", GroundTruth.from_job(pond_job))
    p = iso.products[0]
    assert p.delta == pytest.approx(p.file_total - prescribed, rel=1e-9)
    assert p.delta_pct == pytest.approx(100 * p.delta / prescribed, rel=1e-9)


@pytest.mark.parametrize("fmt", FORMATS)
def test_known_answer_nothing_sprayed_closer_than_100_000_m_to_a_well(fmt):
    """Inscribed buffer polygons let cells be sprayed at 99.92 m; the label says 100 m at every point."""
    label = ProductLabel("Atrazine 4L", "L/ha", 0.0, 2.0, buffers_m={"well": 100.0})
    x0, y0 = 500_000.0, 5_000_000.0
    grid = GridSpec(crs=CRS, x0_m=x0, y0_m=y0, cell_size_m=0.5, n_rows=500, n_cols=500)
    field_m = shapely.box(x0 + 1, y0 - 249, x0 + 249, y0 - 1)
    well = shapely.Point(x0 + 125.3, y0 - 124.9)
    masks = build_masks(grid, field_m, [SensitiveFeature("well", well)], [label])
    rows, cols = np.nonzero(masks.sprayable)
    cells = shapely.box(x0 + cols * 0.5, y0 - (rows + 1) * 0.5, x0 + (cols + 1) * 0.5, y0 - rows * 0.5)
    assert shapely.distance(cells, well).min() >= 100.0  # the mask itself
    rx = prescribe({"AVEFA": np.full(grid.shape, 9.0, np.float32)}, grid, masks, [label],
                   Strategy("threshold", rates=(2.0,)))
    job = make_job(rx, no_spray_wgs84=reproject(masks.no_spray_m.intersection(field_m), CRS, "EPSG:4326"),
                   features_wgs84=(("well", "W1", reproject(well, CRS, "EPSG:4326")),))
    job = __import__("dataclasses").replace(job, field_boundary_wgs84=reproject(field_m, CRS, "EPSG:4326"))
    report = verify(render(job, fmt).content, fmt, GroundTruth.from_job(job))
    (feat,) = report.features
    assert report.ok, report.problems
    assert round(feat.closest_sprayed_m, 3) >= 100.000


def test_a_lake_under_a_water_only_label_gets_the_water_buffer():
    label = ProductLabel("Callisto", "L/ha", 0.0, 0.3, buffers_m={"water": 5.0})
    lake = shapely.Point(X0 + 30, Y0 - 35).buffer(4.0)
    job, masks = _job_with_feature("lake", lake, label)
    assert masks.features_applied == [{"kind": "lake", "buffer_class": "water", "distance_m": 5.0}]
    report = verify(render(job, "shapefile").content, "shapefile", GroundTruth.from_job(job))
    (feat,) = report.features
    assert feat.buffer_class == "water" and feat.required_m == 5.0
    assert feat.closest_sprayed_m >= 5.0 - 1e-6  # 1 µm: the WGS84 round trip of the shapefile
    assert report.ok


def test_solid_product_on_100_ha_fits_trimble_as_isoxml_with_the_product_added_reported():
    """The dead end: the shapefile said "use ISOXML" and ISOXML was refused as too big for Trimble."""
    import json

    from shapely.geometry import shape

    from app.domain.field import FieldCreate
    from app.domain.label import LabelDoc
    from app.domain.prescription import StrategyIn
    from app.domain.weed_map import WeedMapCreate
    from app.export import ExportJob
    from app.pipeline import run_documents
    from app.species import DATA_DIR

    folder = DATA_DIR / "sample_fields" / "us-ia-story-county"
    field = FieldCreate.model_validate_json((folder / "field.json").read_text())
    wm = WeedMapCreate.model_validate_json((folder / "weed_map.json").read_text())
    doc = json.loads((DATA_DIR / "labels" / "enlist-one.json").read_text())
    doc.update(name="Granular X", formulation="solid", rate_unit="lb/acre", min_rate=0.5, max_rate=1.0,
               max_season_rate=3.0, typical_rate=1.0,
               active_ingredients=[{"name": "x", "concentration": 750, "concentration_unit": "g/kg"}])
    doc["price"]["per"] = "kg"
    geometry, core, no_spray = run_documents(field, wm, [LabelDoc.model_validate(doc)],
                                             StrategyIn(name="target_efficacy"))
    job = ExportJob(prescription=core, field_name=field.name, field_boundary_wgs84=geometry.boundary_wgs84,
                    no_spray_wgs84=shape(no_spray), features_wgs84=tuple(geometry.features))
    check = preflight(job, "isoxml", "trimble")
    assert check["error"] is None and check["bytes_unzipped"] <= 250 * 1024
    assert check["verify"]["ok"] is True
    added = check["product_added"][0]
    assert added["unit"] == "kg" and added["delta_pct"] > 0
    assert (check["ok"] is False) is (added["delta_pct"] > 5) and "written as grid type" in check["changes"][0]
