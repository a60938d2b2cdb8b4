"""ISOXML read back with PyPI isoxml and validated against the ISO 11783-10 v4.3 XSD."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xmlschema
from helpers import unzip
from isoxml.converter.np_grid import to_numpy_array
from isoxml.models.ddi_entities import DDEntity
from isoxml.util.isoxml_io import isoxml_from_path

from app.export import ExportError, render
from app.geo import transformer

XSD = Path(__file__).resolve().parent / "xsd" / "ISO11783_TaskFile_V4-3.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def _read(job, tmp_path, **opts):
    out = render(job, "isoxml", **opts)
    names = unzip(out.content, tmp_path)
    assert sorted(names) == ["TASKDATA/GRD00001.BIN", "TASKDATA/TASKDATA.XML"]
    task_data, refs = isoxml_from_path(tmp_path / "TASKDATA")
    return out, task_data, refs, (tmp_path / "TASKDATA" / "TASKDATA.XML").read_text("utf-8")


def _source_cells_latlon(rx):
    """Lon/lat of every in-field prescription cell centre and its rates."""
    g = rx.grid
    rows, cols = np.nonzero(~np.isnan(rx.rates[0]))
    x = g.x0_m + (cols + 0.5) * g.cell_size_m
    y = g.y0_m - (rows + 0.5) * g.cell_size_m
    lon, lat = transformer(g.crs, "EPSG:4326").transform(x, y)
    return np.asarray(lon), np.asarray(lat), rx.rates[:, rows, cols]


def _cell_of(grd, lon, lat):
    r = np.floor((lat - float(grd.minimum_north_position)) / grd.cell_north_size).astype(int)
    c = np.floor((lon - float(grd.minimum_east_position)) / grd.cell_east_size).astype(int)
    return r, c


@pytest.mark.parametrize("grid_type", [1, 2])
def test_taskdata_is_valid_against_the_xsd(job, mix_job, schema, tmp_path, grid_type):
    for i, j in enumerate((job, mix_job)):
        _, _, _, xml = _read(j, tmp_path / str(i), grid_type=grid_type)
        schema.validate(xml)


def test_xml_uses_double_quotes_and_plain_ids(job, tmp_path):
    _, _, _, xml = _read(job, tmp_path)
    assert "='" not in xml
    ids = re.findall(r' A="([A-Z]{3}-?\d+)"', xml)
    assert {"CTR1", "FRM1", "PFD1", "PDT1", "VPN1", "TSK1"} <= set(ids)
    assert not [i for i in ids if "-" in i]
    assert 'VersionMajor="4" VersionMinor="3"' in xml
    assert 'DataTransferOrigin="1"' in xml


def test_type2_grid_never_lowers_a_cell_and_reads_back_in_mm3_per_m2(job, tmp_path):
    out, td, refs, _ = _read(job, tmp_path)
    task = td.tasks[0]
    grd = task.grids[0]
    assert int(grd.type.value) == 2
    assert grd.filelength == len(refs["GRD00001"]) == grd.maximum_row * grd.maximum_column * 4
    values = to_numpy_array(refs["GRD00001"], grd, ddi_list=[DDEntity.from_id(1)])  # mm³/m², row 0 south
    values = values.reshape(grd.maximum_row, grd.maximum_column)
    assert set(np.unique(values).tolist()) == {0.0, 200.0}  # 2.0 L/ha = 200 mm³/m²

    lon, lat, rates = _source_cells_latlon(job.prescription)
    r, c = _cell_of(grd, lon, lat)
    got = values[r, c]
    assert np.all(got >= rates[0] * 100 - 1e-3), "a sprayed cell lost dose"
    sprayed = rates[0] > 0
    np.testing.assert_allclose(got[sprayed], 200.0)
    # Max resampling grows patches by at most about one cell along their outline.
    src_ha = sprayed.sum() * job.prescription.grid.cell_area_ha
    cell_m2 = 1.0  # lat/lon cells sized like the 1 m metric cells
    out_ha = (values > 0).sum() * cell_m2 / 1e4
    assert src_ha <= out_ha <= src_ha * 1.3


def test_grid_is_south_up_west_to_east(job, tmp_path):
    _, td, refs, _ = _read(job, tmp_path)
    grd = td.tasks[0].grids[0]
    values = to_numpy_array(refs["GRD00001"], grd, ddi_list=[DDEntity.from_id(1)]).reshape(
        grd.maximum_row, grd.maximum_column)
    # Patch A (image rows 20-30, west) lies north of patch B (image rows 35-50, east):
    # row 0 is the south, so A must sit in higher rows than B.
    rows, cols = np.nonzero(values > 0)
    west = cols < grd.maximum_column / 2
    assert rows[west].min() > rows[~west].max()
    assert cols[west].max() < cols[~west].min()


def test_boundary_treatment_zones_and_vpn(job, tmp_path):
    _, td, _, xml = _read(job, tmp_path)
    pfd = td.partfields[0]
    ring = pfd.polygons[0].line_strings[0].points
    lats = [float(p.north) for p in ring]
    lons = [float(p.east) for p in ring]
    minx, miny, maxx, maxy = job.field_boundary_wgs84.bounds
    assert min(lons) == pytest.approx(minx, abs=1e-8) and max(lats) == pytest.approx(maxy, abs=1e-8)
    task = td.tasks[0]
    codes = {int(z.code): z for z in task.treatment_zones}
    assert int(task.out_of_field_treatment_zone_code) in codes
    off = codes[int(task.out_of_field_treatment_zone_code)]
    assert all(int(v.process_data_value) == 0 for v in off.process_data_variables)
    # raw 0.01 mm³/m² = 1e-4 L/ha -> fl oz/acre, from the exact definitions (acre in ha, US fl oz in L)
    scale = 1e-4 * 0.40468564224 / 0.0295735295625
    assert f'C="{scale:.12f}"' in xml and 'E="fl oz/acre"' in xml


def test_canonical_vpn_is_litres_per_hectare(job, tmp_path):
    _, _, _, xml = _read(job, tmp_path, unit="canonical")
    assert re.search(r'<VPN A="VPN1" B="0" C="0.0001" D="\d" E="l/ha"', xml)


def test_tank_mix_one_value_per_product_per_cell(mix_job, tmp_path):
    out, td, refs, xml = _read(mix_job, tmp_path)
    grd = td.tasks[0].grids[0]
    ddis = [DDEntity.from_id(1), DDEntity.from_id(6)]
    values = to_numpy_array(refs["GRD00001"], grd, ddi_list=ddis)  # [rows, cols, 2]
    assert values.shape == (grd.maximum_row, grd.maximum_column, 2)
    grid_tzn = [z for z in td.tasks[0].treatment_zones if int(z.code) == int(grd.treatment_zone_code)][0]
    assert [bytes(v.process_data_ddi).hex() for v in grid_tzn.process_data_variables] == ["0001", "0006"]
    assert xml.count("<PDT ") == 2
    lon, lat, rates = _source_cells_latlon(mix_job.prescription)
    r, c = _cell_of(grd, lon, lat)
    assert np.all(values[r, c, 0] >= rates[0] * 100 - 1e-3)   # mm³/m²
    assert np.all(values[r, c, 1] >= rates[1] * 100 - 1e-3)   # mg/m²
    assert set(np.unique(values[..., 1]).tolist()) == {0.0, 20.0, 35.0}  # 0.2 and 0.35 kg/ha


def test_type1_codes_point_at_zones_with_the_right_rates(mix_job, tmp_path):
    _, td, refs, _ = _read(mix_job, tmp_path, grid_type=1)
    grd = td.tasks[0].grids[0]
    codes = to_numpy_array(refs["GRD00001"], grd)
    assert codes.dtype == np.uint8 and grd.filelength == codes.size
    zones = {int(z.code): [int(v.process_data_value) for v in z.process_data_variables]
             for z in td.tasks[0].treatment_zones}
    assert set(np.unique(codes).tolist()) <= set(zones)
    lon, lat, rates = _source_cells_latlon(mix_job.prescription)
    r, c = _cell_of(grd, lon, lat)
    per_cell = np.array([zones[int(k)] for k in codes[r, c]])
    assert np.all(per_cell[:, 0] >= np.round(rates[0] * 10_000))
    assert np.all(per_cell[:, 1] >= np.round(rates[1] * 100))


def _many_rates(job):
    rx = job.prescription
    r = rx.rates.copy()
    sprayed = r[0] > 0
    r[0][sprayed] = np.linspace(0.5, 2.5, int(sprayed.sum()), dtype=np.float32)  # 300+ distinct rates
    rx.rates = r
    return job


def test_type1_with_too_many_zones_is_an_error_with_numbers(job):
    job = _many_rates(job)
    with pytest.raises(ExportError, match=r"at most 254 rate zones; this prescription has \d{3}"):
        render(job, "isoxml", grid_type=1)


def test_type1_zone_cap_rounds_rates_up(job, tmp_path):
    job = _many_rates(job)
    out, td, refs, _ = _read(job, tmp_path, terminal="raven")
    assert any("rounded up" in n for n in out.notes)
    grd = td.tasks[0].grids[0]
    assert int(grd.type.value) == 1
    zones = {int(z.code): int(z.process_data_variables[0].process_data_value)
             for z in td.tasks[0].treatment_zones}
    assert len(zones) <= 101
    codes = to_numpy_array(refs["GRD00001"], grd)
    lon, lat, rates = _source_cells_latlon(job.prescription)
    r, c = _cell_of(grd, lon, lat)
    got = np.array([zones[int(k)] for k in codes[r, c]])
    assert np.all(got >= np.round(rates[0] * 10_000))
    assert got.max() <= 25_000  # never above the highest prescribed rate


def test_terminal_without_type2_refuses_it(job):
    with pytest.raises(ExportError, match="grid type"):
        render(job, "isoxml", terminal="raven", grid_type=2)


def test_grid_file_is_upper_case_bin_named_by_the_grd(job, tmp_path):
    """ISO 11783-10 file names are upper case 8.3: GRD.G="GRD00001" is the file GRD00001.BIN."""
    _, td, refs, xml = _read(job, tmp_path)
    assert 'G="GRD00001"' in xml
    assert (tmp_path / "TASKDATA" / "GRD00001.BIN").stat().st_size == td.tasks[0].grids[0].filelength
    assert not list((tmp_path / "TASKDATA").glob("*.bin"))
    assert refs["GRD00001"]  # isoxml found the binary through the GRD reference


def _same_ratio_mix_job(job):
    """Two liquids from one tank: 2.0 and 0.5 L/ha wherever the patch is sprayed (ratio 4:1)."""
    from dataclasses import replace

    from conftest import make_job

    from app.dosing.label import ProductLabel

    rx = job.prescription
    second = ProductLabel("Adjuvant Oil", "L/ha", 0.0, 1.0, label_unit="L/ha")
    rates = np.concatenate([rx.rates, rx.rates * np.float32(0.25)])
    mixed = replace(rx, products=[rx.products[0], second], rates=rates)
    return make_job(mixed, customer_name="Dupont", farm_name="Les Granges")


@pytest.mark.parametrize("grid_type", [1, 2])
def test_fixed_ratio_tank_mix_is_one_mixture_product_with_prn(job, schema, tmp_path, grid_type):
    mix = _same_ratio_mix_job(job)
    out, td, refs, xml = _read(mix, tmp_path, grid_type=grid_type)
    schema.validate(xml)
    mixtures = [p for p in td.products if int(p.type.value) == 2]
    assert len(mixtures) == 1 and len(td.products) == 3
    relations = mixtures[0].relations
    assert [str(r.product_id_ref) for r in relations] == ["PDT1", "PDT2"]
    quantities = [int(r.quantity_value) for r in relations]
    assert quantities == [800_000, 200_000]  # mL of each in 1000 L of mixture: 2.0 + 0.5 L/ha
    assert int(mixtures[0].mixture_recipe_quantity) == 1_000_000
    assert bytes(mixtures[0].quantity_ddi).hex() == "0048"
    grid_tzns = [z for z in td.tasks[0].treatment_zones if int(z.code) != 0]
    for zone in grid_tzns:  # every zone sets the mixture only
        assert [str(v.product_id_ref) for v in zone.process_data_variables] == ["PDT3"]
    grd = td.tasks[0].grids[0]
    if grid_type == 2:
        values = to_numpy_array(refs["GRD00001"], grd, ddi_list=[DDEntity.from_id(1)])
        assert grd.filelength == grd.maximum_row * grd.maximum_column * 4  # one int32 per cell: the mixture
        assert set(np.unique(values).tolist()) == {0.0, 250.0}  # 2.5 L/ha = 250 mm³/m²
    else:
        codes = to_numpy_array(refs["GRD00001"], grd)
        zones = {int(z.code): int(z.process_data_variables[0].process_data_value)
                 for z in td.tasks[0].treatment_zones}
        assert {zones[int(c)] for c in np.unique(codes)} == {0, 25_000}
    assert any("mixture product PDT3" in n for n in out.notes)
    from app.export.verify import read_isoxml

    back = read_isoxml(out.content, mix.prescription.products)  # the verifier splits the mixture again
    assert set(np.unique(back.rates[0][~np.isnan(back.rates[0])]).round(6).tolist()) == {0.0, 2.0}
    assert set(np.unique(back.rates[1][~np.isnan(back.rates[1])]).round(6).tolist()) == {0.0, 0.5}


def test_tank_mix_of_varying_ratio_stays_separate_products(mix_job, tmp_path):
    _, td, _, xml = _read(mix_job, tmp_path)
    assert "<PRN " not in xml and all(int(p.type.value) == 1 for p in td.products)
