from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.dosing.grid import GridSpec
from app.geo import transformer
from app.ingest import (
    CorruptFile,
    IngestError,
    InvalidData,
    InvalidGeometry,
    PointDetections,
    UnknownSpecies,
    UnsupportedFormat,
    aggregate_points,
    plant_total,
    points_from_csv,
    points_from_geojson,
)

UTM = "EPSG:32631"
# 3 x 2 cells of 2 m (4 m² each), west edge 500000, north edge 5400006
GRID = GridSpec(UTM, 500000.0, 5400006.0, 2.0, 3, 2)


def test_tiny_case_is_exact() -> None:
    x = [500000.5, 500001.9, 500003.0, 500000.1, 500003.9, 499999.0]
    y = [5400005.0, 5400004.1, 5400001.0, 5400000.5, 5400002.5, 5400005.0]
    sp = ["ALOMY", "ALOMY", "GALAP", "ALOMY", "ALOMY", "ALOMY"]
    r = aggregate_points(PointDetections.from_arrays(x, y, sp, crs=UTM, count=[1, 2, 3, 1, 1, 1]), GRID)
    np.testing.assert_array_equal(r.densities_plants_m2["ALOMY"], [[0.75, 0.0], [0.0, 0.25], [0.25, 0.0]])
    np.testing.assert_array_equal(r.densities_plants_m2["GALAP"], [[0.0, 0.0], [0.0, 0.0], [0.0, 0.75]])
    assert (r.n_used, r.n_outside, r.n_below_confidence) == (5, 1, 0)
    assert r.notes == ["1 of 6 detections fall outside the grid and were left out"]


def test_confidence_weighting_and_threshold() -> None:
    x = [500000.5] * 4
    y = [5400005.0] * 4
    d = PointDetections.from_arrays(x, y, ["ALOMY"] * 4, crs=UTM, confidence=[1.0, 0.8, 0.4, 0.2])
    assert aggregate_points(d, GRID).densities_plants_m2["ALOMY"][0, 0] == pytest.approx(2.4 / 4)
    assert aggregate_points(d, GRID, weight_by_confidence=False).densities_plants_m2["ALOMY"][0, 0] == 1.0
    r = aggregate_points(d, GRID, min_confidence=0.5)
    assert r.densities_plants_m2["ALOMY"][0, 0] == pytest.approx(1.8 / 4)
    assert r.n_below_confidence == 2 and r.n_used == 2
    with pytest.raises(IngestError, match=r"min_confidence: 1.5 is outside 0..1"):
        aggregate_points(d, GRID, min_confidence=1.5)


def test_lon_lat_points_land_in_the_right_cell() -> None:
    to_ll = transformer(UTM, "EPSG:4326")
    lon, lat = to_ll.transform([500003.0, 500001.0], [5400001.0, 5400005.0])
    d = PointDetections.from_arrays(lon, lat, ["STEME", "STEME"])
    dens = aggregate_points(d, GRID).densities_plants_m2["STEME"]
    assert dens[2, 1] == 0.25 and dens[0, 0] == 0.25 and dens.sum() == 0.5


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 3.999), st.floats(0, 5.999), st.floats(0, 1)), min_size=1, max_size=50))
def test_plants_are_conserved(pts: list[tuple[float, float, float]]) -> None:
    x = [500000.0 + p[0] for p in pts]
    y = [5400006.0 - p[1] for p in pts]  # cells hold their north and west edges
    conf = [p[2] for p in pts]
    d = PointDetections.from_arrays(x, y, ["ALOMY"] * len(pts), crs=UTM, confidence=conf)
    r = aggregate_points(d, GRID)
    assert r.n_outside == 0
    assert plant_total(r.densities_plants_m2["ALOMY"], GRID) == pytest.approx(sum(np.float32(conf)), abs=1e-4)


def test_geojson_points() -> None:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.1, 48.5]},
         "properties": {"species": "ALOMY", "confidence": 0.9, "count": 3}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.2, 48.6]},
         "properties": {"species": "galap", "confidence": 0.5, "count": 1}},
    ]}
    d = points_from_geojson(json.dumps(fc))
    assert d.species_codes == ("ALOMY", "GALAP") and d.count.tolist() == [3, 1]
    fc["features"][1]["properties"]["confidence"] = 1.5
    with pytest.raises(InvalidData, match=r"detections\[1\].confidence: 1.5 is outside 0..1"):
        points_from_geojson(fc)
    fc["features"][1]["geometry"] = {"type": "LineString", "coordinates": [[2, 48], [2, 49]]}
    with pytest.raises(InvalidGeometry, match=r"features\[1\].geometry: a LineString, expected a Point"):
        points_from_geojson(fc)


def test_csv_lon_lat_and_x_y() -> None:
    d = points_from_csv(b"species,lon,lat,confidence\nALOMY,2.1,48.5,0.5\nSTEME,2.2,48.6,1\n")
    assert d.crs == "EPSG:4326" and d.x.tolist() == [2.1, 2.2] and d.confidence.tolist() == [0.5, 1.0]
    d = points_from_csv("x;y;species;count\n500001;5400005;ALOMY;4\n", crs=UTM)
    assert aggregate_points(d, GRID).densities_plants_m2["ALOMY"][0, 0] == 1.0


@pytest.mark.parametrize(("text", "kwargs", "err", "match"), [
    ("x,y,species\n1,2,ALOMY\n", {}, IngestError, r"x,y columns need the crs"),
    ("lon,lat\n2,48\n", {}, UnsupportedFormat, r"no species column; header is lon,lat"),
    ("lon,lat,species\n2,148,ALOMY\n", {}, InvalidGeometry,
     r"pts.csv\[0\]: latitude 148 is out of range \[-90, 90\] \(were longitude and latitude swapped\?\)"),
    ("lon,lat,species\n2,48,ZZZZZ\n", {}, UnknownSpecies, r"unknown species code ZZZZZ"),
    ("lon,lat,species\n2,48\n", {}, CorruptFile, r"line 2 has 2 fields, the header has 3"),
    ("lon,lat,species\n2,abc,ALOMY\n", {}, InvalidData, r"line 2: lat 'abc' is not a number"),
    ("lon,lat,species,count\n2,48,ALOMY,-1\n", {}, InvalidData, r"\[0\].count: -1 plants"),
])
def test_csv_errors(text: str, kwargs: dict, err: type[Exception], match: str) -> None:
    with pytest.raises(err, match=match):
        points_from_csv(text, name="pts.csv", **kwargs)
