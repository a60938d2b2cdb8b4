"""Field boundaries and sensitive features from the shapes farm data arrives in.

Every reader returns GeoJSON in WGS84 longitude/latitude with closed rings and
counter-clockwise exteriors (RFC 7946), already checked by
``app.geo.parse_geojson``, so its output can go straight into ``FieldCreate``:

- GeoJSON: a geometry, a Feature or a FeatureCollection (polygons of a
  collection are unioned into one (Multi)Polygon); a legacy ``crs`` member is
  honoured by reprojecting;
- a zipped ESRI shapefile, reprojected from the CRS in its ``.prj``;
- an ISOXML ``TASKDATA.XML`` partfield (``PFD → PLN A="1" → LSG → PNT``), as
  XML or inside a task-data zip;
- the telematics ring form ``{"rings": [{"type", "points": [{"lat", "lon"}]}]}``
  (latitude first, as the machine sends it).

Sensitive features come back as ``[{"kind", "name", "geometry"}]``, the shape
``FieldCreate.sensitive_features`` takes.
"""

from __future__ import annotations

import json
import math
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import defusedxml.ElementTree as defused_et
import numpy as np
import shapely
from defusedxml import DefusedXmlException
from pyogrio import read_info as ogr_read_info
from pyogrio.errors import DataLayerError, DataSourceError
from pyogrio.raw import read as ogr_read
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from app import budgets
from app.domain.vocabulary import FEATURE_KINDS
from app.geo import GeometryError, parse_geojson, reproject
from app.ingest.errors import CorruptFile, IngestError, InvalidGeometry, UnsupportedFormat
from app.ingest.safezip import SafeZip, is_zip

FEATURE_GEOMETRY_TYPES: tuple[str, ...] = ("Point", "MultiPoint", "LineString", "MultiLineString",
                                           "Polygon", "MultiPolygon")

# ISO 11783-10 PLN type (attribute A) → sensitive-feature kind. Types 1, 9 and
# 10 are the field itself (boundary, mainfield, headland) and 2 is a treatment
# zone; a building is taken as residential, the cautious reading.
ISOXML_FEATURE_KINDS: dict[int, str] = {3: "water", 4: "residential", 11: "other"}

WGS84 = "EPSG:4326"
_WGS84_NAMES = {"EPSG:4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84",
                "urn:ogc:def:crs:EPSG::4326", "OGC:CRS84"}


# --------------------------------------------------------------------------- output

def _listify(obj: Any) -> Any:
    if isinstance(obj, tuple | list):
        return [_listify(v) for v in obj]
    return obj


def _as_geojson(geom: BaseGeometry) -> dict[str, Any]:
    geom = shapely.force_2d(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        geom = shapely.orient_polygons(geom, exterior_cw=False)
    m = mapping(geom)
    return {"type": m["type"], "coordinates": _listify(m["coordinates"])}


def _checked(doc: dict[str, Any], allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    try:
        parse_geojson(doc, allowed=allowed, where=where)
    except GeometryError as exc:
        raise InvalidGeometry(str(exc)) from None
    return doc


def _boundary_doc(geoms: Sequence[BaseGeometry], where: str) -> dict[str, Any]:
    """One Polygon, or a MultiPolygon when the polygons do not merge into one."""
    polys: list[BaseGeometry] = []
    for g in geoms:
        if g.is_empty:
            continue
        if g.geom_type == "Polygon":
            polys.append(g)
        elif g.geom_type == "MultiPolygon":
            polys.extend(g.geoms)
        else:
            raise UnsupportedFormat(f"{where}: a {g.geom_type} cannot be a field boundary; polygons are needed")
    if not polys:
        raise InvalidGeometry(f"{where}: no polygon found")
    for i, p in enumerate(polys):
        if not p.is_valid:
            raise InvalidGeometry(f"{where}: polygon {i} is invalid: {shapely.is_valid_reason(p)}")
    merged = polys[0] if len(polys) == 1 else _union(polys)
    if merged.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidGeometry(f"{where}: the polygons do not form an area")
    return _checked(_as_geojson(merged), ("Polygon", "MultiPolygon"), where)


def _union(polys: Sequence[BaseGeometry]) -> BaseGeometry:
    """The union of valid polygons, merging only those that touch or overlap.

    A field exported as 100,000 separate cells took 220 s through one
    ``union_all``; grouping the polygons into connected clusters with an
    STRtree first makes disjoint parts free and keeps each union small.
    """
    arr = np.asarray(polys, dtype=object)
    left, right = shapely.STRtree(arr).query(arr, predicate="intersects")
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(len(arr), len(arr)))
    n_groups, group = connected_components(graph, directed=False)
    parts: list[BaseGeometry] = []
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    for members in np.split(order, bounds):
        piece = arr[members[0]] if len(members) == 1 else shapely.union_all(arr[members])
        parts.extend(piece.geoms if piece.geom_type == "MultiPolygon" else [piece])
    if n_groups == 1 and len(parts) == 1:
        return parts[0]
    return shapely.MultiPolygon([p for p in parts if p.geom_type == "Polygon" and not p.is_empty])


def _feature_doc(kind: Any, fname: Any, geom: BaseGeometry, where: str) -> dict[str, Any]:
    if kind not in FEATURE_KINDS:
        raise IngestError(f"{where}: kind {kind!r} is not one of {', '.join(FEATURE_KINDS)}")
    if geom.is_empty:
        raise InvalidGeometry(f"{where}: empty geometry")
    doc = _checked(_as_geojson(geom), FEATURE_GEOMETRY_TYPES, f"{where}.geometry")
    return {"kind": kind, "name": None if fname is None else str(fname), "geometry": doc}


# --------------------------------------------------------------------------- GeoJSON

def _load_json(obj: Any, name: str) -> Any:
    if isinstance(obj, bytes | bytearray):
        try:
            obj = bytes(obj).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CorruptFile(f"{name}: not UTF-8 text") from None
    if isinstance(obj, str):
        try:
            return json.loads(obj)
        except json.JSONDecodeError as exc:
            raise CorruptFile(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    return obj


def _crs_member(obj: Mapping[str, Any], name: str) -> str:
    """The CRS of a GeoJSON document: WGS84 unless a legacy (2008) ``crs`` member says otherwise."""
    crs = obj.get("crs")
    if crs is None:
        return WGS84
    try:
        value = str(crs["properties"]["name"])
    except (KeyError, TypeError):
        raise UnsupportedFormat(f"{name}.crs: only named CRSs ({{'type': 'name', 'properties': {{'name': ...}}}}) "
                                f"are understood") from None
    if value in _WGS84_NAMES:
        return WGS84
    from pyproj import CRS

    try:
        return CRS.from_user_input(value).to_string()
    except Exception:
        raise UnsupportedFormat(f"{name}.crs: {value!r} is not a CRS pyproj knows") from None


def _geojson_geometries(obj: Any, name: str) -> list[tuple[str, dict[str, Any], Mapping[str, Any]]]:
    """(where, geometry dict, properties) for every geometry in a GeoJSON document."""
    if not isinstance(obj, Mapping) or "type" not in obj:
        raise UnsupportedFormat(f"{name}: expected a GeoJSON object with a 'type'")
    t = obj["type"]
    if t == "FeatureCollection":
        feats = obj.get("features")
        if not isinstance(feats, list):
            raise InvalidGeometry(f"{name}.features: expected a list")
        out = []
        for i, f in enumerate(feats):
            out.extend(_geojson_geometries(f, f"{name}.features[{i}]"))
        return out
    if t == "Feature":
        geom = obj.get("geometry")
        props = obj.get("properties") or {}
        if geom is None:
            return []
        if not isinstance(props, Mapping):
            raise InvalidGeometry(f"{name}.properties: expected an object")
        return [(f"{name}.geometry", geom, props)]
    if t == "GeometryCollection":
        out = []
        for i, g in enumerate(obj.get("geometries") or []):
            out.extend(_geojson_geometries(g, f"{name}.geometries[{i}]"))
        return out
    if t in FEATURE_GEOMETRY_TYPES:
        return [(name, dict(obj), {})]
    raise UnsupportedFormat(f"{name}: GeoJSON type {t!r} is not supported")


def _geojson_shape(where: str, geom: Mapping[str, Any], crs: str, allowed: tuple[str, ...]) -> BaseGeometry:
    if crs == WGS84:
        # parse_geojson checks ranges, closure and axis-order hints on the raw input
        return _wrap_geometry_error(lambda: parse_geojson(dict(geom), allowed=allowed, where=where))
    if geom.get("type") not in allowed:
        raise InvalidGeometry(f"{where}: geometry type {geom.get('type')!r} not allowed; "
                              f"expected one of {', '.join(allowed)}")
    try:
        g = shape(geom)
    except Exception as exc:
        raise InvalidGeometry(f"{where}: invalid geometry: {exc}") from None
    return reproject(g, crs, WGS84)


def _wrap_geometry_error(fn: Any) -> Any:
    try:
        return fn()
    except GeometryError as exc:
        raise InvalidGeometry(str(exc)) from None


def boundary_from_geojson(obj: Any, *, name: str = "boundary") -> dict[str, Any]:
    """A field boundary from GeoJSON text, bytes or a parsed object.

    Accepts a Polygon or MultiPolygon geometry, a Feature, a FeatureCollection
    or a GeometryCollection; several polygons are unioned. Holes are kept.

    Returns
    -------
    dict
        GeoJSON Polygon or MultiPolygon, WGS84 [lon, lat], exteriors CCW.

    Examples
    --------
    >>> sq = {"type": "Polygon", "coordinates": [[[2, 48], [2, 48.01], [2.01, 48.01], [2.01, 48], [2, 48]]]}
    >>> boundary_from_geojson(sq)["coordinates"][0][1]   # CW in, CCW out
    [2.01, 48.0]
    """
    obj = _load_json(obj, name)
    crs = _crs_member(obj, name) if isinstance(obj, Mapping) else WGS84
    geoms = []
    for where, g, _props in _geojson_geometries(obj, name):
        if g.get("type") not in ("Polygon", "MultiPolygon"):
            raise UnsupportedFormat(f"{where}: a {g.get('type')} cannot be a field boundary; "
                                    f"expected Polygon or MultiPolygon")
        geoms.append(_geojson_shape(where, g, crs, ("Polygon", "MultiPolygon")))
    return _boundary_doc(geoms, name)


def features_from_geojson(obj: Any, *, name: str = "sensitive_features", default_kind: str | None = None,
                          kind_property: str = "kind", name_property: str = "name") -> list[dict[str, Any]]:
    """Sensitive features from GeoJSON; each Feature's ``kind`` property picks its kind.

    A bare geometry takes ``default_kind``. Points, lines and polygons are all
    accepted.

    Examples
    --------
    >>> fc = {"type": "FeatureCollection", "features": [{"type": "Feature",
    ...       "properties": {"kind": "water", "name": "Ru"},
    ...       "geometry": {"type": "LineString", "coordinates": [[2, 48], [2, 48.01]]}}]}
    >>> [(f["kind"], f["name"], f["geometry"]["type"]) for f in features_from_geojson(fc)]
    [('water', 'Ru', 'LineString')]
    """
    obj = _load_json(obj, name)
    crs = _crs_member(obj, name) if isinstance(obj, Mapping) else WGS84
    out = []
    for where, g, props in _geojson_geometries(obj, name):
        geom = _geojson_shape(where, g, crs, FEATURE_GEOMETRY_TYPES)
        at = where.removesuffix(".geometry")
        kind = props.get(kind_property, default_kind)
        if kind is None:
            raise IngestError(f"{at}: no {kind_property!r} property; expected one of {', '.join(FEATURE_KINDS)}")
        out.append(_feature_doc(kind, props.get(name_property), geom, at))
    return out


# --------------------------------------------------------------------------- shapefile

def _read_shapefile_zip(data: bytes | Path, name: str, layer: str | None
                        ) -> tuple[list[BaseGeometry | None], dict[str, np.ndarray], str]:
    """WGS84 geometries (None for null shapes), attribute columns, and the source CRS."""
    with SafeZip(data, name=name) as zf:
        shps = zf.find(suffix=".shp")
        if not shps:
            raise UnsupportedFormat(f"{name}: no .shp file in the zip (members: {', '.join(zf.members[:10])})")
        if layer is not None:
            shps = [s for s in shps if PurePosixPath(s).stem.lower() == layer.lower()]
            if not shps:
                raise IngestError(f"{name}: no layer {layer!r}; layers: "
                                  f"{', '.join(PurePosixPath(s).stem for s in zf.find(suffix='.shp'))}")
        if len(shps) > 1:
            raise IngestError(f"{name}: {len(shps)} shapefiles ({', '.join(PurePosixPath(s).stem for s in shps)}); "
                              f"say which layer to read")
        stem = shps[0][:-4]
        parts = {m[len(stem):].lower(): m for m in zf.members if m[:-4] == stem and len(m) == len(stem) + 4}
        for need in (".shx", ".dbf"):
            if need not in parts:
                raise CorruptFile(f"{name}: {PurePosixPath(stem).name}{need} is missing beside the .shp")
        with tempfile.TemporaryDirectory(prefix="dosewise-shp-") as tmp:
            wanted = [parts[e] for e in (".shp", ".shx", ".dbf", ".prj", ".cpg") if e in parts]
            paths = zf.extract(wanted, Path(tmp))
            # base names may differ in case between parts; give them one stem
            for p in paths:
                p.rename(Path(tmp) / ("layer" + p.suffix.lower()))
            try:
                # the record count is in the header: refuse before reading a single shape
                n_records = int(ogr_read_info(Path(tmp) / "layer.shp")["features"])
                budgets.current().check("import_records", n_records, f"{name}: records")
                meta, _fids, wkb, field_data = ogr_read(Path(tmp) / "layer.shp")
            except (DataSourceError, DataLayerError) as exc:
                raise CorruptFile(f"{name}: {PurePosixPath(stem).name}.shp cannot be read ({exc})") from None
    crs = meta.get("crs")
    geoms = [None if b is None else shapely.from_wkb(b) for b in wkb]
    n_vertices = int(shapely.get_num_coordinates(np.array([g for g in geoms if g is not None], dtype=object)).sum())
    budgets.current().check("geometry_vertices", n_vertices, f"{name}: vertices")
    if crs is None:
        xy = np.concatenate([shapely.get_coordinates(g) for g in geoms if g is not None] or [np.empty((0, 2))])
        if len(xy) and (np.abs(xy[:, 0]).max() > 180 or np.abs(xy[:, 1]).max() > 90):
            raise UnsupportedFormat(
                f"{name}: no .prj beside {PurePosixPath(stem).name}.shp and the coordinates (e.g. "
                f"{xy[0, 0]:.1f}, {xy[0, 1]:.1f}) are not longitude/latitude; include the .prj file")
        crs = WGS84
    elif crs != WGS84:
        geoms = [None if g is None else reproject(g, crs, WGS84) for g in geoms]
    columns = {f: field_data[i] for i, f in enumerate(meta["fields"])}
    return geoms, columns, crs


def boundary_from_shapefile_zip(data: bytes | Path, *, name: str = "boundary.zip",
                                layer: str | None = None) -> dict[str, Any]:
    """A field boundary from a zipped polygon shapefile in any CRS (its ``.prj``).

    All polygons of the layer are unioned. Without a ``.prj`` the coordinates
    must be plainly longitude/latitude.

    Examples
    --------
    >>> boundary_from_shapefile_zip(b"not a zip", name="f.zip")
    Traceback (most recent call last):
    ...
    app.ingest.errors.CorruptFile: f.zip: not a readable zip archive (File is not a zip file)
    """
    geoms, _cols, _crs = _read_shapefile_zip(data, name, layer)
    return _boundary_doc([g for g in geoms if g is not None], name)


def features_from_shapefile_zip(data: bytes | Path, *, name: str = "features.zip", layer: str | None = None,
                                kind_field: str = "kind", name_field: str = "name",
                                default_kind: str | None = None) -> list[dict[str, Any]]:
    """Sensitive features from a zipped shapefile; the ``kind`` column (or ``default_kind``) gives the kind."""
    geoms, cols, _crs = _read_shapefile_zip(data, name, layer)
    lower = {k.lower(): v for k, v in cols.items()}
    kinds = lower.get(kind_field.lower())
    names = lower.get(name_field.lower())
    if kinds is None and default_kind is None:
        raise IngestError(f"{name}: no {kind_field!r} column (columns: {', '.join(cols) or 'none'}); "
                          f"add one or pass default_kind")
    out = []
    for i, g in enumerate(geoms):
        if g is None:
            continue
        kind = default_kind if kinds is None or kinds[i] in (None, "") else str(kinds[i]).strip()
        out.append(_feature_doc(kind, None if names is None else names[i], g, f"{name}: record {i}"))
    return out


# --------------------------------------------------------------------------- ISOXML

def _isoxml_root(data: bytes | str, name: str) -> ET.Element:
    """The task data root, with externally referenced (XFR) PFD files merged in."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    zf: SafeZip | None = None
    if is_zip(data):
        zf = SafeZip(data, name=name)
        found = zf.find(basename="TASKDATA.XML")
        if not found:
            zf.close()
            raise UnsupportedFormat(f"{name}: no TASKDATA.XML in the zip")
        main = found[0]
        xml = zf.read(main)
        name = f"{name}:{main}"
    else:
        xml = data
    try:
        root = _parse_xml(xml, name)
        if root.tag != "ISO11783_TaskData":
            raise UnsupportedFormat(f"{name}: root element is <{root.tag}>, not <ISO11783_TaskData>")
        for xfr in root.findall("XFR"):
            ref = xfr.get("A", "")
            if not ref.startswith("PFD"):
                continue
            if zf is None:
                raise UnsupportedFormat(f"{name}: partfields are in the external file {ref}.XML; "
                                        f"upload the whole TASKDATA zip")
            hits = zf.find(basename=f"{ref}.XML")
            if not hits:
                raise CorruptFile(f"{name}: external file {ref}.XML named by XFR is missing from the zip")
            ext = _parse_xml(zf.read(hits[0]), f"{name}:{hits[0]}")
            root.extend(list(ext))
    finally:
        if zf is not None:
            zf.close()
    return root


def _parse_xml(xml: bytes, name: str) -> ET.Element:
    """Parse with defusedxml: ISOXML needs no DTD, so any DTD, entity or external
    reference is refused wherever it stands in the document (no entity expansion)."""
    try:
        return defused_et.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsupportedFormat(f"{name}: XML with a DOCTYPE, entities or external references is refused "
                                f"({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise CorruptFile(f"{name}: not well-formed XML ({exc})") from None


def _pick_partfield(root: ET.Element, partfield: str | None, name: str) -> ET.Element:
    pfds = root.findall("PFD")
    if not pfds:
        raise IngestError(f"{name}: no partfield (PFD) in the task data")
    if partfield is None:
        return pfds[0]
    for p in pfds:
        if partfield in (p.get("C"), p.get("A")):
            return p
    listed = ", ".join(f"{p.get('A')} {p.get('C')!r}" for p in pfds)
    raise IngestError(f"{name}: no partfield with designator or id {partfield!r}; partfields: {listed}")


def _isoxml_ring(lsg: ET.Element, where: str) -> list[tuple[float, float]]:
    ring = []
    for k, pnt in enumerate(lsg.findall("PNT")):
        at = f"{where}/PNT[{k}]"
        lat, lon = _number(pnt.get("C"), f"{at}@C (latitude)"), _number(pnt.get("D"), f"{at}@D (longitude)")
        ring.append(_lon_lat(lat, lon, at, "C=lat, D=lon"))
    return ring


def _isoxml_polygons(pln: ET.Element, where: str) -> list[BaseGeometry]:
    ext, inner = [], []
    for j, lsg in enumerate(pln.findall("LSG")):
        t = lsg.get("A")
        if t == "1":
            ext.append(_close(_isoxml_ring(lsg, f"{where}/LSG[{j}]"), f"{where}/LSG[{j}]"))
        elif t == "2":
            inner.append(_close(_isoxml_ring(lsg, f"{where}/LSG[{j}]"), f"{where}/LSG[{j}]"))
    return _assemble(ext, inner, where)


def boundary_from_isoxml(data: bytes | str, *, partfield: str | None = None,
                         name: str = "TASKDATA.XML") -> dict[str, Any]:
    """A field boundary from ISOXML task data (``TASKDATA.XML`` text or a task-data zip).

    Reads the partfield whose designator (``PFD@C``) or id (``PFD@A``) is
    ``partfield``, or the first one: its boundary polygons (``PLN A="1"``),
    exterior rings ``LSG A="1"``, holes ``LSG A="2"``, points ``PNT C=lat D=lon``.

    Examples
    --------
    >>> xml = ('<ISO11783_TaskData VersionMajor="4" VersionMinor="3"><PFD A="PFD1" C="North" D="0">'
    ...        '<PLN A="1"><LSG A="1"><PNT A="2" C="48.0" D="2.0"/><PNT A="2" C="48.0" D="2.01"/>'
    ...        '<PNT A="2" C="48.01" D="2.01"/></LSG></PLN></PFD></ISO11783_TaskData>')
    >>> boundary_from_isoxml(xml)["coordinates"]
    [[[2.0, 48.0], [2.01, 48.0], [2.01, 48.01], [2.0, 48.0]]]
    """
    root = _isoxml_root(data, name)
    pfd = _pick_partfield(root, partfield, name)
    where = f"{name}: PFD {pfd.get('A')}"
    polys = []
    for i, pln in enumerate(pfd.findall("PLN")):
        if pln.get("A") == "1":
            polys.extend(_isoxml_polygons(pln, f"{where}/PLN[{i}]"))
    if not polys:
        raise IngestError(f"{where} ({pfd.get('C')!r}) has no boundary polygon (PLN A=\"1\")")
    return _boundary_doc(polys, where)


def features_from_isoxml(data: bytes | str, *, partfield: str | None = None, name: str = "TASKDATA.XML",
                         kinds: Mapping[int, str] | None = None) -> list[dict[str, Any]]:
    """Sensitive features of an ISOXML partfield: polygons whose PLN type maps to a kind.

    ``kinds`` maps PLN type (``A``) to a feature kind; default
    ``ISOXML_FEATURE_KINDS`` (3 water, 4 building → residential, 11 buffer zone → other).
    """
    kinds = ISOXML_FEATURE_KINDS if kinds is None else kinds
    root = _isoxml_root(data, name)
    pfd = _pick_partfield(root, partfield, name)
    out = []
    for i, pln in enumerate(pfd.findall("PLN")):
        try:
            t = int(pln.get("A", ""))
        except ValueError:
            continue
        if t not in kinds:
            continue
        where = f"{name}: PFD {pfd.get('A')}/PLN[{i}]"
        polys = _isoxml_polygons(pln, where)
        if not polys:
            continue
        geom = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
        out.append(_feature_doc(kinds[t], pln.get("B"), geom, where))
    return out


# --------------------------------------------------------------------------- telematics rings

def _points(points: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(points, list):
        raise InvalidGeometry(f"{where}: expected a list of {{lat, lon}} points")
    out = []
    for k, p in enumerate(points):
        at = f"{where}[{k}]"
        if not isinstance(p, Mapping):
            raise InvalidGeometry(f"{at}: expected {{\"lat\": ..., \"lon\": ...}}, got {p!r}")
        out.append(_lon_lat(_number(p.get("lat"), f"{at}.lat"), _number(p.get("lon"), f"{at}.lon"), at,
                            "{lat, lon}"))
    return out


def _rings_polygons(rings: Any, where: str) -> list[BaseGeometry]:
    if not isinstance(rings, list) or not rings:
        raise InvalidGeometry(f"{where}: expected a non-empty list of rings")
    ext: list[list[tuple[float, float]]] = []
    inner: list[list[tuple[float, float]]] = []
    for i, r in enumerate(rings):
        at = f"{where}[{i}]"
        if not isinstance(r, Mapping):
            raise InvalidGeometry(f"{at}: expected a ring object")
        t = str(r.get("type", "")).lower()
        if t not in ("exterior", "interior"):
            raise InvalidGeometry(f"{at}.type: {r.get('type')!r} is not 'exterior' or 'interior'")
        ring = _close(_points(r.get("points"), f"{at}.points"), at)
        (ext if t == "exterior" else inner).append(ring)
    return _assemble(ext, inner, where)


def _ring_groups(obj: Any, name: str) -> list[BaseGeometry]:
    if isinstance(obj, Mapping) and "multipolygons" in obj:
        polys: list[BaseGeometry] = []
        for i, mp in enumerate(obj["multipolygons"] or []):
            if not isinstance(mp, Mapping):
                raise InvalidGeometry(f"{name}.multipolygons[{i}]: expected an object with 'rings'")
            polys.extend(_rings_polygons(mp.get("rings"), f"{name}.multipolygons[{i}].rings"))
        return polys
    if isinstance(obj, Mapping) and "rings" in obj:
        return _rings_polygons(obj["rings"], f"{name}.rings")
    raise UnsupportedFormat(f"{name}: expected {{\"rings\": [...]}} or {{\"multipolygons\": [...]}}")


def boundary_from_rings(obj: Any, *, name: str = "boundary") -> dict[str, Any]:
    """A field boundary from the telematics ring form (latitude first).

    ``{"rings": [{"type": "exterior"|"interior", "points": [{"lat", "lon"}, ...]}]}``,
    or ``{"multipolygons": [{"rings": [...]}, ...]}``. Open rings are closed;
    each interior ring becomes a hole of the exterior that contains it.

    Examples
    --------
    >>> b = boundary_from_rings({"rings": [{"type": "exterior", "points": [
    ...     {"lat": 48.0, "lon": 2.0}, {"lat": 48.0, "lon": 2.01}, {"lat": 48.01, "lon": 2.01}]}]})
    >>> b["coordinates"][0][0], len(b["coordinates"][0])
    ([2.0, 48.0], 4)
    """
    obj = _load_json(obj, name)
    return _boundary_doc(_ring_groups(obj, name), name)


def features_from_rings(obj: Any, *, name: str = "sensitive_features") -> list[dict[str, Any]]:
    """Sensitive features in the ring form: ``[{"kind", "name", "rings": [...]}]``.

    A feature may instead carry ``"points": [{"lat", "lon"}, ...]``: one point
    is a Point, more a LineString. ``{"features": [...]}`` is accepted too.
    """
    obj = _load_json(obj, name)
    if isinstance(obj, Mapping):
        obj = obj.get("features")
    if not isinstance(obj, list):
        raise UnsupportedFormat(f"{name}: expected a list of features (or {{\"features\": [...]}})")
    out = []
    for i, f in enumerate(obj):
        at = f"{name}[{i}]"
        if not isinstance(f, Mapping):
            raise InvalidGeometry(f"{at}: expected an object")
        geom: BaseGeometry
        if "rings" in f or "multipolygons" in f:
            polys = _ring_groups(f, at)
            geom = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
        elif "points" in f:
            pts = _points(f["points"], f"{at}.points")
            if not pts:
                raise InvalidGeometry(f"{at}.points: no points")
            geom = shapely.Point(pts[0]) if len(pts) == 1 else shapely.LineString(pts)
        else:
            raise InvalidGeometry(f"{at}: expected 'rings' or 'points'")
        out.append(_feature_doc(f.get("kind"), f.get("name"), geom, at))
    return out


# --------------------------------------------------------------------------- shared helpers

def _number(v: Any, where: str) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InvalidGeometry(f"{where}: {v!r} is not a number") from None
    if not math.isfinite(x):
        raise InvalidGeometry(f"{where}: {v!r} is not finite")
    return x


def _lon_lat(lat: float, lon: float, where: str, form: str) -> tuple[float, float]:
    if not -90.0 <= lat <= 90.0:
        hint = f" (points are {form}; were latitude and longitude swapped?)" if abs(lon) <= 90 else ""
        raise InvalidGeometry(f"{where}: latitude {lat:g} is out of range [-90, 90]{hint}")
    if not -180.0 <= lon <= 180.0:
        raise InvalidGeometry(f"{where}: longitude {lon:g} is out of range [-180, 180]")
    return (lon, lat)


def _close(ring: list[tuple[float, float]], where: str) -> list[tuple[float, float]]:
    if ring and ring[0] != ring[-1]:
        ring = [*ring, ring[0]]
    if len(ring) < 4:
        raise InvalidGeometry(f"{where}: a ring needs at least 3 distinct points, got {max(len(ring) - 1, 0)}")
    return ring


def _assemble(exteriors: list[list[tuple[float, float]]], interiors: list[list[tuple[float, float]]],
              where: str) -> list[BaseGeometry]:
    """Polygons from exterior rings, each interior ring a hole of the exterior that contains it."""
    if interiors and not exteriors:
        raise InvalidGeometry(f"{where}: interior rings without an exterior ring")
    shells = [shapely.Polygon(e) for e in exteriors]
    holes: list[list[list[tuple[float, float]]]] = [[] for _ in shells]
    for k, ring in enumerate(interiors):
        probe = shapely.Polygon(ring).representative_point()
        owner = next((i for i, s in enumerate(shells) if s.contains(probe)), None)
        if owner is None:
            raise InvalidGeometry(f"{where}: interior ring {k} lies outside every exterior ring")
        holes[owner].append(ring)
    return [shapely.Polygon(e, h) for e, h in zip(exteriors, holes, strict=True)]


# --------------------------------------------------------------------------- dispatch

FORMATS: tuple[str, ...] = ("geojson", "shapefile", "isoxml", "rings")


def detect_format(data: Any, *, name: str = "upload") -> str:
    """Which reader fits ``data``: one of ``FORMATS``, judged from its first bytes.

    >>> detect_format(b'{"type": "Polygon", "coordinates": []}'), detect_format({"rings": []})
    ('geojson', 'rings')
    """
    if isinstance(data, Mapping | list):
        obj = data
    else:
        raw = data.encode() if isinstance(data, str) else bytes(data)
        if is_zip(raw):
            with SafeZip(raw, name=name) as zf:
                if zf.find(basename="TASKDATA.XML"):
                    return "isoxml"
                if zf.find(suffix=".shp"):
                    return "shapefile"
                raise UnsupportedFormat(f"{name}: a zip with neither a .shp nor a TASKDATA.XML")
        head = raw[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"<"):
            return "isoxml"
        if not head.startswith((b"{", b"[")):
            raise UnsupportedFormat(f"{name}: not GeoJSON, a zipped shapefile, ISOXML or the ring form; "
                                    f"supported formats: {', '.join(FORMATS)}")
        obj = _load_json(raw, name)
    if isinstance(obj, Mapping) and ("rings" in obj or "multipolygons" in obj):
        return "rings"
    if isinstance(obj, list) and obj and isinstance(obj[0], Mapping) and ("rings" in obj[0] or "points" in obj[0]):
        return "rings"
    if isinstance(obj, Mapping) and "type" in obj:
        return "geojson"
    raise UnsupportedFormat(f"{name}: JSON that is neither GeoJSON nor the ring form")


def read_boundary(data: Any, *, name: str = "boundary", format: str | None = None,
                  partfield: str | None = None, layer: str | None = None) -> dict[str, Any]:
    """A field boundary from any supported upload; ``format`` (one of ``FORMATS``) or sniffed."""
    fmt = format or detect_format(data, name=name)
    if fmt == "geojson":
        return boundary_from_geojson(data, name=name)
    if fmt == "rings":
        return boundary_from_rings(data, name=name)
    if fmt == "shapefile":
        return boundary_from_shapefile_zip(data, name=name, layer=layer)
    if fmt == "isoxml":
        return boundary_from_isoxml(data, partfield=partfield, name=name)
    raise UnsupportedFormat(f"{name}: format {fmt!r} is not one of {', '.join(FORMATS)}")


def read_features(data: Any, *, name: str = "sensitive_features", format: str | None = None,
                  partfield: str | None = None, layer: str | None = None,
                  default_kind: str | None = None) -> list[dict[str, Any]]:
    """Sensitive features from any supported upload; ``format`` (one of ``FORMATS``) or sniffed."""
    fmt = format or detect_format(data, name=name)
    if fmt == "geojson":
        return features_from_geojson(data, name=name, default_kind=default_kind)
    if fmt == "rings":
        return features_from_rings(data, name=name)
    if fmt == "shapefile":
        return features_from_shapefile_zip(data, name=name, layer=layer, default_kind=default_kind)
    if fmt == "isoxml":
        return features_from_isoxml(data, partfield=partfield, name=name)
    raise UnsupportedFormat(f"{name}: format {fmt!r} is not one of {', '.join(FORMATS)}")
