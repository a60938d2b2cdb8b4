from __future__ import annotations

import json
from typing import get_args

import pytest
import shapely
from shapely.geometry import mapping, shape

from app.domain import vocabulary
from app.domain.field import FieldCreate
from app.domain.vocabulary import FeatureKind
from app.geo import reproject
from app.ingest import (
    FEATURE_KINDS,
    CorruptFile,
    IngestError,
    InvalidGeometry,
    UnsafeArchive,
    UnsupportedFormat,
    boundary_from_geojson,
    boundary_from_isoxml,
    boundary_from_rings,
    boundary_from_shapefile_zip,
    detect_format,
    features_from_geojson,
    features_from_isoxml,
    features_from_rings,
    features_from_shapefile_zip,
    read_boundary,
)
from tests.ingest.helpers import BLOCK, FIELD, isoxml, lsg, same_shape, shapefile_zip, zip_bytes


def _is_rfc7946(doc: dict) -> None:
    g = shape(doc)
    polys = [g] if g.geom_type == "Polygon" else list(g.geoms)
    for p in polys:
        assert p.exterior.is_ccw
        assert all(not r.is_ccw for r in p.interiors)
    for poly in ([doc["coordinates"]] if doc["type"] == "Polygon" else doc["coordinates"]):
        for ring in poly:
            assert ring[0] == ring[-1]
    json.dumps(doc)  # plain lists and floats


def test_feature_kinds_are_the_domain_vocabulary() -> None:
    # one definition: ingest checks kinds against the same tuple the documents' Literal is built from
    assert FEATURE_KINDS is vocabulary.FEATURE_KINDS
    assert FEATURE_KINDS == get_args(FeatureKind) and "water" in FEATURE_KINDS


# ------------------------------------------------------------------ GeoJSON

def test_geojson_polygon_round_trip_keeps_hole_and_fixes_winding() -> None:
    cw = shapely.orient_polygons(FIELD, exterior_cw=True)
    out = boundary_from_geojson(json.dumps(mapping(cw)))
    assert out["type"] == "Polygon" and len(out["coordinates"]) == 2
    assert same_shape(shape(out), FIELD)
    _is_rfc7946(out)
    FieldCreate(name="f", crop="maize", boundary=out)


def test_geojson_feature_collection_unions_into_multipolygon() -> None:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": mapping(FIELD)},
        {"type": "Feature", "properties": {}, "geometry": mapping(BLOCK)},
    ]}
    out = boundary_from_geojson(fc)
    assert out["type"] == "MultiPolygon"
    assert same_shape(shape(out), shapely.MultiPolygon([FIELD, BLOCK]))
    _is_rfc7946(out)


def test_geojson_legacy_crs_member_is_reprojected() -> None:
    utm = reproject(FIELD, "EPSG:4326", "EPSG:32631")
    doc = {"type": "Feature", "properties": {},
           "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32631"}},
           "geometry": mapping(utm)}
    assert same_shape(shape(boundary_from_geojson(doc)), FIELD, tol=1e-8)


@pytest.mark.parametrize(("doc", "match"), [
    ({"type": "Point", "coordinates": [2.1, 48.5]}, r"boundary: a Point cannot be a field boundary"),
    ({"type": "Polygon", "coordinates": [[[2.1, 98.5], [2.2, 98.5], [2.2, 98.6], [2.1, 98.5]]]},
     r"boundary.coordinates\[0\]\[0\]: latitude 98.5 is out of range \[-90, 90\] .*swapped"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, r"Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, r"not closed"),
])
def test_geojson_bad_boundaries(doc: dict, match: str) -> None:
    with pytest.raises(IngestError, match=match):
        boundary_from_geojson(doc)


def test_geojson_bad_json_is_corrupt() -> None:
    with pytest.raises(CorruptFile, match=r"field.geojson: not valid JSON"):
        boundary_from_geojson(b'{"type": "Polygon", ', name="field.geojson")


def test_geojson_features_with_kinds() -> None:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": "water", "name": "Ru"},
         "geometry": {"type": "LineString", "coordinates": [[2.0995, 48.4998], [2.0995, 48.502]]}},
        {"type": "Feature", "properties": {"kind": "well"},
         "geometry": {"type": "Point", "coordinates": [2.102, 48.504]}},
    ]}
    feats = features_from_geojson(fc)
    assert [(f["kind"], f["name"]) for f in feats] == [("water", "Ru"), ("well", None)]
    FieldCreate(name="f", crop="maize", boundary=mapping(FIELD), sensitive_features=feats)
    fc["features"][1]["properties"]["kind"] = "volcano"
    with pytest.raises(IngestError, match=r"features\[1\]: kind 'volcano' is not one of water, lake"):
        features_from_geojson(fc)


# ------------------------------------------------------------------ shapefile

def test_shapefile_round_trip_wgs84() -> None:
    out = boundary_from_shapefile_zip(shapefile_zip([FIELD]))
    assert same_shape(shape(out), FIELD)
    assert len(out["coordinates"]) == 2
    _is_rfc7946(out)


def test_shapefile_in_a_folder_and_multipolygon() -> None:
    out = boundary_from_shapefile_zip(shapefile_zip([FIELD, BLOCK], folder="Rx"))
    assert same_shape(shape(out), shapely.MultiPolygon([FIELD, BLOCK]))


def test_shapefile_projected_prj_is_reprojected() -> None:
    lambert = reproject(FIELD, "EPSG:4326", "EPSG:2154")
    out = boundary_from_shapefile_zip(shapefile_zip([lambert], crs="EPSG:2154"))
    assert same_shape(shape(out), FIELD, tol=1e-8)


def test_shapefile_without_prj() -> None:
    out = boundary_from_shapefile_zip(shapefile_zip([FIELD], keep=(".shp", ".shx", ".dbf")))
    assert same_shape(shape(out), FIELD)
    utm = reproject(FIELD, "EPSG:4326", "EPSG:32631")
    with pytest.raises(UnsupportedFormat, match=r"no .prj beside field.shp .* not longitude/latitude"):
        boundary_from_shapefile_zip(shapefile_zip([utm], crs="EPSG:32631", keep=(".shp", ".shx", ".dbf")))


def test_shapefile_missing_part_and_lines() -> None:
    with pytest.raises(CorruptFile, match=r"field.dbf is missing"):
        boundary_from_shapefile_zip(shapefile_zip([FIELD], keep=(".shp", ".shx", ".prj")))
    line = shapely.LineString([(2.1, 48.5), (2.2, 48.6)])
    with pytest.raises(UnsupportedFormat, match=r"a LineString cannot be a field boundary"):
        boundary_from_shapefile_zip(shapefile_zip([line], geometry_type="LineString"))


def test_shapefile_features_with_kind_column() -> None:
    pond = shapely.box(2.0990, 48.4990, 2.0995, 48.4995)
    house = shapely.box(2.1045, 48.5005, 2.1047, 48.5007)
    z = shapefile_zip([pond, house], columns={"kind": ["lake", "residential"], "name": ["Mare", "Ferme"]})
    feats = features_from_shapefile_zip(z)
    assert [(f["kind"], f["name"], f["geometry"]["type"]) for f in feats] == [
        ("lake", "Mare", "Polygon"), ("residential", "Ferme", "Polygon")]
    assert same_shape(shape(feats[1]["geometry"]), house)
    stream = shapely.LineString([(2.0995, 48.4998), (2.0995, 48.502)])
    lines = features_from_shapefile_zip(shapefile_zip([stream], geometry_type="LineString"), default_kind="water")
    assert lines[0]["kind"] == "water" and lines[0]["geometry"]["coordinates"] == [[2.0995, 48.4998], [2.0995, 48.502]]
    with pytest.raises(IngestError, match=r"features.zip: no 'kind' column \(columns: id\)"):
        features_from_shapefile_zip(shapefile_zip([stream], geometry_type="LineString"))


# ------------------------------------------------------------------ ISOXML

def _field_isoxml() -> str:
    ext = list(FIELD.exterior.coords)[:-1]
    hole = list(FIELD.interiors[0].coords)[:-1]
    other = list(BLOCK.exterior.coords)
    pond = shapely.box(2.1011, 48.5011, 2.1014, 48.5014)
    return isoxml(
        f'<PFD A="PFD1" C="Other" D="40000"><PLN A="1">{lsg("1", other)}</PLN></PFD>'
        f'<PFD A="PFD2" C="Les Pres" D="100000"><PLN A="1">{lsg("1", ext)}{lsg("2", hole)}</PLN>'
        f'<PLN A="3" B="Mare">{lsg("1", list(pond.exterior.coords))}</PLN></PFD>')


def test_isoxml_round_trip_by_designator_keeps_hole() -> None:
    out = boundary_from_isoxml(_field_isoxml(), partfield="Les Pres")
    assert same_shape(shape(out), FIELD)
    assert len(out["coordinates"]) == 2
    _is_rfc7946(out)
    assert same_shape(shape(boundary_from_isoxml(_field_isoxml())), BLOCK)  # the first partfield


def test_isoxml_in_a_taskdata_zip_and_features() -> None:
    z = zip_bytes({"TASKDATA/TASKDATA.XML": _field_isoxml().encode()})
    assert detect_format(z) == "isoxml"
    assert same_shape(shape(read_boundary(z, partfield="PFD2")), FIELD)
    feats = features_from_isoxml(z, partfield="Les Pres")
    assert [(f["kind"], f["name"]) for f in feats] == [("water", "Mare")]


def test_isoxml_errors() -> None:
    with pytest.raises(IngestError, match=r"no partfield with designator or id 'Nord'; partfields: PFD1 'Other'"):
        boundary_from_isoxml(_field_isoxml(), partfield="Nord")
    with pytest.raises(CorruptFile, match=r"TASKDATA.XML: not well-formed XML"):
        boundary_from_isoxml(_field_isoxml()[:-30])
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><ISO11783_TaskData/>'
    with pytest.raises(UnsupportedFormat, match=r"DOCTYPE"):
        boundary_from_isoxml(bomb)
    # the DOCTYPE behind a 5 KB comment, out of reach of a look at the first 4 KB
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    late = (f'<?xml version="1.0"?><!--{"x" * 5000}--><!DOCTYPE t [<!ENTITY l0 "lol">{laughs}]>'
            f'<ISO11783_TaskData><PFD A="PFD1" C="&l9;"/></ISO11783_TaskData>')
    with pytest.raises(UnsupportedFormat, match=r"DOCTYPE"):
        boundary_from_isoxml(late)
    swapped = isoxml(f'<PFD A="PFD1" C="x"><PLN A="1">{lsg("1", [(48.5, 2.1), (48.5, 2.2), (48.6, 2.2)])}'
                     f'</PLN></PFD>').replace('C="2.1"', 'C="150"')
    with pytest.raises(InvalidGeometry, match=r"PNT\[0\]: latitude 150 is out of range"):
        boundary_from_isoxml(swapped)


# ------------------------------------------------------------------ telematics rings

def _rings(poly: shapely.Polygon) -> dict:
    def pts(ring: shapely.LinearRing) -> list[dict]:
        return [{"lat": y, "lon": x} for x, y in list(ring.coords)[:-1]]
    return {"rings": [{"type": "exterior", "points": pts(poly.exterior)}]
            + [{"type": "interior", "points": pts(r)} for r in poly.interiors]}


def test_rings_round_trip_latitude_first() -> None:
    out = boundary_from_rings(_rings(FIELD))
    assert same_shape(shape(out), FIELD)
    assert len(out["coordinates"]) == 2
    _is_rfc7946(out)
    assert detect_format(json.dumps(_rings(FIELD)).encode()) == "rings"


def test_rings_multipolygons() -> None:
    doc = {"multipolygons": [_rings(FIELD), _rings(BLOCK)]}
    assert same_shape(shape(boundary_from_rings(doc)), shapely.MultiPolygon([FIELD, BLOCK]))


def test_rings_latitude_150_is_refused() -> None:
    doc = _rings(FIELD)
    doc["rings"][0]["points"][2] = {"lat": 150.0, "lon": 2.1}
    with pytest.raises(InvalidGeometry, match=r"boundary.rings\[0\].points\[2\]: latitude 150 is out of range "
                                              r"\[-90, 90\] \(points are \{lat, lon\}; were latitude and "
                                              r"longitude swapped\?\)"):
        boundary_from_rings(doc)


def test_rings_errors() -> None:
    with pytest.raises(InvalidGeometry, match=r"rings\[0\].type: 'outer' is not 'exterior' or 'interior'"):
        boundary_from_rings({"rings": [{"type": "outer", "points": []}]})
    hole_outside = _rings(FIELD)
    hole_outside["rings"][1]["points"] = [{"lat": 10.0, "lon": 10.0}, {"lat": 10.0, "lon": 10.1},
                                         {"lat": 10.1, "lon": 10.1}]
    with pytest.raises(InvalidGeometry, match=r"interior ring 0 lies outside every exterior ring"):
        boundary_from_rings(hole_outside)
    with pytest.raises(InvalidGeometry, match=r"points\[1\].lon: None is not a number"):
        boundary_from_rings({"rings": [{"type": "exterior", "points": [{"lat": 1, "lon": 1}, {"lat": 1}]}]})


def test_rings_features() -> None:
    feats = features_from_rings({"features": [
        {"kind": "water", "name": "Ru", "points": [{"lat": 48.4998, "lon": 2.0995}, {"lat": 48.502, "lon": 2.0995}]},
        {"kind": "residential", **_rings(shapely.box(2.1045, 48.5005, 2.1047, 48.5007))},
    ]})
    assert [(f["kind"], f["geometry"]["type"]) for f in feats] == [("water", "LineString"),
                                                                   ("residential", "Polygon")]


# ------------------------------------------------------------------ dispatch and zips

def test_detect_format_refuses_unknown_bytes() -> None:
    with pytest.raises(UnsupportedFormat, match=r"upload: not GeoJSON, a zipped shapefile, ISOXML"):
        detect_format(b"GIF89a....")


def test_shapefile_zip_with_traversal_is_refused() -> None:
    z = zip_bytes({"../field.shp": b"x", "field.shx": b"x", "field.dbf": b"x"})
    with pytest.raises(UnsafeArchive, match=r"field.zip: member '../field.shp' escapes the archive"):
        boundary_from_shapefile_zip(z, name="field.zip")


def test_isoxml_external_partfield_file() -> None:
    ext = list(FIELD.exterior.coords)[:-1]
    main = isoxml('<XFR A="PFD00001" B="1"/>')
    pfd = f'<XFC><PFD A="PFD1" C="Ext"><PLN A="1">{lsg("1", ext)}</PLN></PFD></XFC>'
    z = zip_bytes({"TASKDATA/TASKDATA.XML": main.encode(), "TASKDATA/PFD00001.XML": pfd.encode()})
    assert same_shape(shape(boundary_from_isoxml(z)), shapely.Polygon(FIELD.exterior))
    with pytest.raises(UnsupportedFormat, match=r"partfields are in the external file PFD00001.XML; upload the whole"):
        boundary_from_isoxml(main)
