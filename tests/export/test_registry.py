"""The service-facing calls: render, preflight, and their errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_job

from app.export import FORMATS, TERMINALS, ExportError, ExportJob, preflight, render


def test_unknown_format_lists_the_valid_ones(job):
    with pytest.raises(ExportError, match="valid formats: isoxml, shapefile, geojson, geotiff, png"):
        render(job, "kml")
    assert issubclass(ExportError, ValueError)


def test_unknown_terminal_lists_the_valid_ones(job):
    with pytest.raises(ExportError, match="valid terminals: generic, john-deere, cnh, trimble, raven"):
        render(job, "shapefile", terminal="agco")


def test_unknown_option_lists_the_valid_ones(job):
    with pytest.raises(ExportError, match="valid options: .*grid_type"):
        render(job, "isoxml", colour="red")


def test_boundary_must_be_lon_lat(threshold_rx):
    import shapely

    with pytest.raises(ExportError, match="lon/lat"):
        ExportJob(threshold_rx, "F", shapely.box(500000, 5000000, 500100, 5000100))


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("terminal", list(TERMINALS))
def test_every_format_renders_for_every_terminal_and_preflight_is_json(mix_job, fmt, terminal):
    out = render(mix_job, fmt, terminal=terminal)
    assert out.content and out.filename and out.media_type == FORMATS[fmt].media_type
    report = preflight(mix_job, fmt, terminal)
    json.dumps(report)
    assert report["error"] is None
    if fmt in ("isoxml", "shapefile", "geojson", "geotiff"):
        assert report["verify"]["ok"] is True  # read back: nothing breaks the label
        within = all(a["delta_pct"] <= report["tolerance_pct"] for a in report["product_added"])
        assert report["ok"] is (within and all(c["ok"] for c in report["checks"]))
        assert (report["trade_off"] is None) is within
    else:
        assert report["ok"] and report["verify"] is None
    assert report["bytes"] == len(out.content)
    assert [u["unit"] for u in report["units"]] == ["fl oz/acre", "g/ha"]
    for check in report["checks"]:
        assert check["assumed"] in (True, False)


def test_preflight_reports_zones_vertices_and_limits(job):
    report = preflight(job, "shapefile", "raven")
    assert report["zones"] == 2
    assert report["vertices"] > 8
    assert report["crs"] == "EPSG:4326"
    assert report["terminal_limits"]["max_zones"] == 100
    assert {"limit": "max_zones", "cap": 100, "value": 2, "ok": True, "assumed": True} in report["checks"]
    iso = preflight(job, "isoxml", "raven")
    assert iso["grid"]["grid_type"] == 1 and iso["isoxml_grid_types_supported"] == [1]


def test_preflight_says_why_it_cannot_fit(grid, liquid):
    # A checkerboard of sprayed cells: thousands of outlines that no honest simplification can merge.
    from conftest import threshold_by_hand

    ii, jj = np.indices(grid.shape)
    rx = threshold_by_hand(grid, [liquid], [2.0], (ii + jj) % 2 == 0)
    job = make_job(rx)
    report = preflight(job, "shapefile", "trimble")
    if report["ok"]:  # small enough after all: then the limit check must say so
        assert all(c["ok"] for c in report["checks"])
    else:
        assert "bytes" in report["error"] and "256000" in report["error"]


def test_oversized_shapefile_error_has_the_numbers(grid, liquid):
    from dataclasses import replace

    from conftest import threshold_by_hand

    big = replace(grid, cell_size_m=0.25, n_rows=240, n_cols=320)
    ii, jj = np.indices(big.shape)
    rx = threshold_by_hand(big, [liquid], [2.0], (ii // 2 + jj // 2) % 2 == 0)
    with pytest.raises(ExportError, match=r"shapefile is \d+ bytes .* trimble accepts at most 256000 bytes"):
        render(make_job(rx), "shapefile", terminal="trimble")
    report = preflight(make_job(rx), "shapefile", "trimble")
    assert not report["ok"] and "256000" in report["error"]


def test_prescription_from_the_dosing_core_exports(dosing_core_rx, tmp_path):
    job = make_job(dosing_core_rx)
    for fmt in FORMATS:
        assert render(job, fmt).content
