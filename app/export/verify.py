"""The export verifier: what a terminal would spray, read back from the file itself.

A prescription that obeys the label in the database is not enough: the farmer
is liable for what the sprayer does with the file on the USB stick. This
module reads an exported artifact with readers that did not write it (lxml and
NumPy for ISOXML, GDAL through pyogrio for shapefiles and GeoJSON, rasterio
for GeoTIFF) and measures it on the ground, in the field's metric CRS:

- area and product sprayed inside the no-spray zones, within each sensitive
  feature's buffer distance and outside the field (all must be 0), and the
  closest sprayed point to each feature;
- the highest rate against the label maximum and the season remainder, and
  area sprayed between 0 and the label minimum;
- total product against the stored prescription (delta and %).

Raster files are checked exactly, not by sampling: every file cell that the
field edge, a zone or a feature's buffer touches (``all_touched`` on the
file's own grid) is turned into its polygon on the ground and intersected
with the zone; every other cell is wholly inside the field and clear of all
zones. Vector zones are intersected polygon by polygon.

It imports the dosing core and geometry helpers only, never the web layer,
so the service (before serving an export), the CLI (``dosewise verify``) and
the tests run the same check.
"""

from __future__ import annotations

import io
import math
import re
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import shapely
from affine import Affine
from lxml import etree
from pyogrio.raw import read as ogr_read
from rasterio import features as rio_features
from rasterio.io import MemoryFile
from shapely.geometry.base import BaseGeometry

from app.domain.units import UnitError, to_canonical_rate
from app.dosing.label import ProductLabel
from app.dosing.masks import EDGE_MARGIN_CELLS, exact_buffer, feature_buffer_m, label_buffers
from app.export.job import ExportError, ExportJob
from app.export.names import ascii_text
from app.export.zones import UNIT_CODES
from app.geo import reproject, transformer

# Floating-point noise in polygon overlays, not spray: 1 mm² and 1 µm.
AREA_TOL_M2 = 1e-6
DIST_TOL_M = 1e-6
# Rates come back through float32 and DDI integers: this much relative excess is rounding.
RATE_RTOL = 1e-6
# Raw DDI units per canonical unit (ISO 11783-11): 1 L/ha = 10,000 x 0.01 mm³/m²; 1 kg/ha = 100 mg/m².
_DDI_CANONICAL: dict[int, tuple[str, float]] = {0x0001: ("L/ha", 10_000.0), 0x0006: ("kg/ha", 100.0)}
_CODE_UNITS = {code: unit for unit, code in UNIT_CODES.items()}


class VerifyError(ExportError):
    """A file the verifier cannot read as a prescription (wrong format, missing parts, unknown units)."""


# --------------------------------------------------------------------------- ground truth


@dataclass(frozen=True)
class FeatureRule:
    """One sensitive feature, in the metric CRS, and the distance no spray may come within."""

    kind: str
    name: str | None
    geometry_m: BaseGeometry
    distance_m: float
    buffer_class: str | None


@dataclass(frozen=True)
class GroundTruth:
    """What the file is checked against, all in the prescription's metric CRS ``crs``.

    ``no_spray_m`` is the prescription's stored no-spray zones (buffers and
    the downwind strip); ``features`` are checked by true distance, so a
    buffer polygon drawn too small cannot hide a violation.
    ``prescribed_total`` is product per product (L or kg) from the stored rates.
    """

    crs: str
    field_m: BaseGeometry
    no_spray_m: BaseGeometry
    features: tuple[FeatureRule, ...]
    products: tuple[ProductLabel, ...]
    season_left: tuple[float | None, ...]
    prescribed_total: tuple[float, ...]

    @classmethod
    def from_job(cls, job: ExportJob) -> GroundTruth:
        """The ground truth of an export job (its field, features, labels and prescription)."""
        pres = job.prescription
        crs = pres.grid.crs
        applied, _ = label_buffers(pres.products)
        rules = []
        for kind, name, geom in job.features_wgs84:
            dist, source = feature_buffer_m(kind, applied)
            rules.append(FeatureRule(kind, name, reproject(geom, "EPSG:4326", crs), dist, source))
        no_spray = job.no_spray_wgs84
        totals = tuple(float(np.nansum(pres.rates[k], dtype=np.float64)) * pres.grid.cell_area_ha
                       for k in range(len(pres.products)))
        left = job.season_left if job.season_left is not None else tuple(
            p.max_season_rate for p in pres.products)
        return cls(
            crs=crs,
            field_m=reproject(job.field_boundary_wgs84, "EPSG:4326", crs),
            no_spray_m=reproject(no_spray, "EPSG:4326", crs) if no_spray is not None else shapely.Polygon(),
            features=tuple(rules), products=tuple(pres.products), season_left=tuple(left),
            prescribed_total=totals,
        )


# --------------------------------------------------------------------------- what a file says


@dataclass
class RasterRates:
    """A file's rates on its own north-up grid: ``rates[k, row, col]`` canonical, NaN = no rate (row 0 north)."""

    crs: str
    transform: Affine
    rates: np.ndarray
    reader: str


@dataclass
class VectorRates:
    """A file's zones: ``rates[i, k]`` canonical for geometry ``i`` (``crs``), NaN where it sets no rate for k."""

    crs: str
    geometries: np.ndarray
    rates: np.ndarray
    reader: str


def _product_index(products: Sequence[ProductLabel], name: str, cut: int = 200) -> int:
    wanted = ascii_text(name, cut).strip().casefold()
    for k, p in enumerate(products):
        if ascii_text(p.name, cut).strip().casefold() == wanted:
            return k
    raise VerifyError(f"the file names a product {name!r} that is not in the prescription "
                      f"({', '.join(p.name for p in products)})")


def _zip_member(zf: zipfile.ZipFile, pattern: str) -> str | None:
    rx = re.compile(pattern, re.IGNORECASE)
    hits = [n for n in zf.namelist() if rx.search(n)]
    return hits[0] if hits else None


def read_isoxml(content: bytes, products: Sequence[ProductLabel]) -> RasterRates:
    """The grid of an ISOXML task zip as canonical rates (lxml for the XML, NumPy for the binary grid)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise VerifyError("not a zip file: an ISOXML export is a zip with TASKDATA/TASKDATA.XML") from None
    with zf:
        xml_name = _zip_member(zf, r"(^|/)TASKDATA\.XML$")
        if xml_name is None:
            raise VerifyError("no TASKDATA.XML in the zip")
        # Hardened as the upload reader's defusedxml: no entity expansion, no network, no DTD at all.
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
        root = etree.fromstring(zf.read(xml_name), parser=parser)
        if root.getroottree().docinfo.doctype:
            raise VerifyError("TASKDATA.XML carries a DOCTYPE; ISOXML needs none and it is refused")
        pdt_names = {e.get("A"): e.get("B", "") for e in root.iter("PDT")}
        grd = next(root.iter("GRD"), None)
        if grd is None:
            raise VerifyError("the task has no GRD (grid) element")
        task = grd.getparent()
        folder = xml_name.rsplit("/", 1)[0] + "/" if "/" in xml_name else ""
        bin_name = _zip_member(zf, "^" + re.escape(folder) + re.escape(grd.get("G", "")) + r"\.bin$")
        if bin_name is None:
            raise VerifyError(f"grid file {grd.get('G')}.bin is missing from the zip")
        data = zf.read(bin_name)
    min_lat, min_lon = float(grd.get("A")), float(grd.get("B"))
    dlat, dlon = float(grd.get("C")), float(grd.get("D"))
    n_cols, n_rows, gtype = int(grd.get("E")), int(grd.get("F")), int(grd.get("I"))
    if int(grd.get("H", len(data))) != len(data):
        raise VerifyError(f"GRD H says {grd.get('H')} bytes, the grid file has {len(data)}")
    # A mixture product (PDT F="2") sets one rate for the tank; its PRN children give each component's share.
    mixtures: dict[str, list[tuple[str, float]]] = {}
    for pdt_el in root.iter("PDT"):
        parts = [(prn.get("A", ""), float(prn.get("B", "0"))) for prn in pdt_el.iter("PRN")]
        if pdt_el.get("F") in ("2", "3") and parts:
            total = sum(q for _, q in parts)
            if total <= 0:
                raise VerifyError(f"mixture {pdt_el.get('B')!r} has no component quantities (PRN B)")
            mixtures[pdt_el.get("A", "")] = [(ref, q / total) for ref, q in parts]

    def targets(pdt: str) -> list[tuple[int, str, float]]:
        """(product index, PDT id, share of the PDV's rate) for a PDV's product or each mixture component."""
        parts = mixtures.get(pdt, [(pdt, 1.0)])
        return [(_product_index(products, pdt_names.get(ref, ""), 32), ref, share) for ref, share in parts]

    zones: dict[int, list[tuple[int, str, float]]] = {}
    for tzn in task.iter("TZN"):
        zones[int(tzn.get("A"))] = [(int(p.get("A"), 16), p.get("C", ""), float(p.get("B", "0")))
                                    for p in tzn.iter("PDV")]
    n = len(products)
    rates = np.full((n, n_rows, n_cols), np.nan, dtype=np.float64)

    def canonical(ddi: int, pdt: str, k: int) -> float:
        if ddi not in _DDI_CANONICAL:
            raise VerifyError(f"PDV DDI {ddi:04X} is not a setpoint rate the verifier knows (0001, 0006)")
        unit, per = _DDI_CANONICAL[ddi]
        if unit != products[k].canonical_unit:
            raise VerifyError(f"{pdt_names.get(pdt)}: DDI {ddi:04X} is {unit}, the label is "
                              f"{products[k].canonical_unit}")
        return per

    if gtype == 2:
        pdvs = zones.get(int(grd.get("J", "-1")))
        if not pdvs:
            raise VerifyError("grid type 2 names no treatment zone (GRD J) with PDVs")
        if len(data) != n_rows * n_cols * 4 * len(pdvs):
            raise VerifyError(f"grid type 2 needs {n_rows * n_cols * 4 * len(pdvs)} bytes, got {len(data)}")
        cells = np.frombuffer(data, dtype="<i4").reshape(n_rows, n_cols, len(pdvs))
        for j, (ddi, pdt, _) in enumerate(pdvs):
            for k, ref, share in targets(pdt):
                rates[k] = cells[:, :, j] / canonical(ddi, ref, k) * share
    elif gtype == 1:
        if len(data) != n_rows * n_cols:
            raise VerifyError(f"grid type 1 needs {n_rows * n_cols} bytes, got {len(data)}")
        codes = np.frombuffer(data, dtype=np.uint8).reshape(n_rows, n_cols)
        table = np.full((n, 256), np.nan)
        for code, pdvs in zones.items():
            if 0 <= code < 256:
                for ddi, pdt, value in pdvs:
                    for k, ref, share in targets(pdt):
                        table[k, code] = value / canonical(ddi, ref, k) * share
        for k in range(n):
            rates[k] = table[k][codes]
    else:
        raise VerifyError(f"grid type {gtype} is not 1 or 2")
    transform = Affine(dlon, 0.0, min_lon, 0.0, -dlat, min_lat + n_rows * dlat)
    return RasterRates("EPSG:4326", transform, rates[:, ::-1], "lxml + numpy")


def _vector_bytes(content: bytes) -> tuple[dict[str, object], np.ndarray, dict[str, np.ndarray]]:
    """Read a zipped shapefile or a GeoJSON document with GDAL (pyogrio)."""
    if content[:2] == b"PK":
        with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(io.BytesIO(content)) as zf:
            shp = _zip_member(zf, r"\.shp$")
            if shp is None:
                raise VerifyError("no .shp in the zip")
            zf.extractall(tmp)
            meta, _, wkb, data = ogr_read(str(Path(tmp) / shp))
    else:
        meta, _, wkb, data = ogr_read(content)
    columns = dict(zip(meta["fields"], data, strict=True))
    return meta, shapely.from_wkb(wkb), columns


def read_vector(content: bytes, products: Sequence[ProductLabel]) -> VectorRates:
    """Zones of a zipped shapefile (``RATE_LHA``/``R2_KGHA`` columns) or a GeoJSON (``canonical_rate``)."""
    meta, geoms, cols = _vector_bytes(content)
    crs = str(meta.get("crs") or "EPSG:4326")
    n = len(products)
    rates = np.full((len(geoms), n), np.nan)
    if "canonical_rate" in cols and "product" in cols:  # GeoJSON: one feature per zone and product
        for i, (name, value, unit) in enumerate(zip(cols["product"], cols["canonical_rate"],
                                                    cols["canonical_unit"], strict=True)):
            k = _product_index(products, str(name))
            if unit != products[k].canonical_unit:
                raise VerifyError(f"{name}: canonical_unit {unit!r}, the label is {products[k].canonical_unit}")
            rates[i, k] = float(value)
        return VectorRates(crs, geoms, rates, "pyogrio (GDAL GeoJSON)")
    rate_cols = [c for c in cols if re.fullmatch(r"(RATE|R\d+)_[A-Z]+", c)]
    if len(rate_cols) != n:
        raise VerifyError(f"{len(rate_cols)} rate column(s) ({', '.join(rate_cols) or 'none'}) for {n} product(s)")
    for c in rate_cols:
        prefix, code = c.split("_", 1)
        k = 0 if prefix == "RATE" else int(prefix[1:]) - 1
        unit = _CODE_UNITS.get(code)
        if unit is None or not 0 <= k < n:
            raise VerifyError(f"column {c}: unknown unit code {code!r} or product number")
        try:
            factor = to_canonical_rate(1.0, unit)
        except UnitError as exc:
            raise VerifyError(f"column {c}: {exc}") from None
        rates[:, k] = np.asarray(cols[c], dtype=np.float64) * factor
    return VectorRates(crs, geoms, rates, "pyogrio (GDAL ESRI Shapefile)")


def read_geotiff(content: bytes, products: Sequence[ProductLabel]) -> RasterRates:
    """Bands of a GeoTIFF (rasterio), converted from each band's unit to canonical rates."""
    with MemoryFile(content) as mem, mem.open() as src:
        if src.count != len(products):
            raise VerifyError(f"{src.count} band(s) for {len(products)} product(s)")
        data = src.read(masked=False).astype(np.float64)
        if src.nodata is not None and not math.isnan(src.nodata):
            data[data == src.nodata] = np.nan
        for k in range(src.count):
            unit = src.units[k] or products[k].canonical_unit
            try:
                data[k] *= to_canonical_rate(1.0, unit)
            except UnitError as exc:
                raise VerifyError(f"band {k + 1}: {exc}") from None
        if src.crs is None:
            raise VerifyError("the GeoTIFF has no CRS")
        return RasterRates(src.crs.to_string(), src.transform, data, "rasterio")


def read_export(content: bytes, fmt: str, products: Sequence[ProductLabel]) -> RasterRates | VectorRates:
    """Read an exported file of format ``fmt`` (isoxml, shapefile, geojson, geotiff)."""
    if fmt == "isoxml":
        return read_isoxml(content, products)
    if fmt in ("shapefile", "geojson"):
        return read_vector(content, products)
    if fmt == "geotiff":
        return read_geotiff(content, products)
    raise VerifyError(f"the verifier reads isoxml, shapefile, geojson and geotiff, not {fmt!r}")


def sniff_format(content: bytes) -> str:
    """Guess an export's format from its bytes (for ``dosewise verify FILE``)."""
    if content[:4] in (b"II*\x00", b"MM\x00*"):
        return "geotiff"
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            return "isoxml" if _zip_member(zf, r"TASKDATA\.XML$") else "shapefile"
    if content.lstrip()[:1] == b"{":
        return "geojson"
    raise VerifyError("cannot tell the file's format: expected an ISOXML or shapefile zip, GeoJSON or GeoTIFF")


# --------------------------------------------------------------------------- the report


@dataclass
class ZoneCheck:
    """Spray found inside one place where there must be none."""

    zone: str
    area_m2: float
    product: list[float]
    ok: bool


@dataclass
class FeatureCheck:
    """A sensitive feature: the buffer the label demands and how close the file sprays."""

    kind: str
    name: str | None
    buffer_class: str | None
    required_m: float
    closest_sprayed_m: float | None
    area_m2_within: float
    ok: bool


@dataclass
class ProductCheck:
    """One product's rates and amount in the file against its label and the prescription."""

    product: str
    unit: str
    max_rate: float
    label_max: float
    season_left: float | None
    over_max_area_m2: float
    below_min_area_m2: float
    label_min: float
    file_total: float
    prescribed_total: float
    delta: float
    delta_pct: float
    total_unit: str
    ok: bool


@dataclass
class VerifyReport:
    """What the verifier found in one file; ``ok`` is True when nothing breaks the label."""

    format: str
    reader: str
    ok: bool
    zones: list[ZoneCheck]
    features: list[FeatureCheck]
    products: list[ProductCheck]
    problems: list[str]
    seconds: float = 0.0
    sampled_cells: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """JSON-able, rounded for people (areas to 0.0001 m², rates and totals to 7 significant digits)."""
        rounded = _round(asdict(self))
        assert isinstance(rounded, dict)
        return rounded

    def product_delta_pct(self) -> float:
        """The largest product increase over the prescription, in % (0 when none)."""
        return max((p.delta_pct for p in self.products), default=0.0)


def _round(value: object) -> object:
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.7g}")
    return value


def _cell_polygons(transform: Affine, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    # Both grids here are north-up (no rotation terms): corners straight from the affine's coefficients.
    x0 = transform.c + cols * transform.a
    y0 = transform.f + rows * transform.e
    x1, y1 = x0 + transform.a, y0 + transform.e
    return shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1))


def _to_crs(geoms: np.ndarray, src: str, dst: str) -> np.ndarray:
    if src == dst:
        return geoms
    t = transformer(src, dst)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def _row_areas_m2(r: RasterRates, crs: str) -> np.ndarray:
    """Area of one cell of each row, in ``crs`` metres² (cells of a row are alike on these grids)."""
    rows = np.arange(r.rates.shape[1])
    polys = _cell_polygons(r.transform, rows, np.zeros_like(rows))
    return np.asarray(shapely.area(_to_crs(polys, r.crs, crs)))


def _from_file_crs(geom: BaseGeometry, file_crs: str, crs: str) -> BaseGeometry:
    """A metric geometry drawn in the file's CRS, edges densified so they stay where they are on the ground."""
    if file_crs == crs:
        return geom
    return reproject(shapely.segmentize(geom, 5.0), crs, file_crs)


class _Accumulator:
    """Sums, over sprayed pieces (cells or zones) in the metric CRS, what lands where it must not."""

    def __init__(self, truth: GroundTruth) -> None:
        self.truth = truth
        n = len(truth.products)
        self.no_spray_area = np.zeros(n)
        self.no_spray_product = np.zeros(n)
        self.outside_area = np.zeros(n)
        self.outside_product = np.zeros(n)
        self.feature_closest = [math.inf] * len(truth.features)
        self.feature_area = np.zeros((len(truth.features), n))
        self.zones_m = [exact_buffer(f.geometry_m, f.distance_m) if f.distance_m > 0 else f.geometry_m
                        for f in truth.features]

    def add(self, pieces_m: np.ndarray, rates: np.ndarray) -> None:
        """``pieces_m`` polygons in the metric CRS; ``rates[i, k]`` canonical (NaN or 0 = not sprayed)."""
        if len(pieces_m) == 0:
            return
        t = self.truth
        sprayed = np.nan_to_num(rates, nan=0.0) > 0  # [pieces, products]
        per_ha = np.nan_to_num(rates, nan=0.0) / 10_000.0
        if not t.no_spray_m.is_empty:
            a = shapely.area(shapely.intersection(pieces_m, t.no_spray_m))
            self.no_spray_area += (a[:, None] * sprayed).sum(axis=0)
            self.no_spray_product += (a[:, None] * per_ha).sum(axis=0)
        a_out = shapely.area(shapely.difference(pieces_m, t.field_m))
        self.outside_area += (a_out[:, None] * sprayed).sum(axis=0)
        self.outside_product += (a_out[:, None] * per_ha).sum(axis=0)
        any_sprayed = sprayed.any(axis=1)
        for j, f in enumerate(t.features):
            near = any_sprayed & shapely.intersects(pieces_m, shapely.buffer(f.geometry_m, f.distance_m + 1.0))
            if not near.any():
                continue
            d = float(shapely.distance(pieces_m[near], f.geometry_m).min())
            self.feature_closest[j] = min(self.feature_closest[j], d)
            a = shapely.area(shapely.intersection(pieces_m[near], self.zones_m[j]))
            self.feature_area[j] += (a[:, None] * sprayed[near]).sum(axis=0)


def _zone_geometries_in(truth: GroundTruth, file_crs: str, margin: float) -> list[BaseGeometry]:
    """Everything whose touching cells need an exact look, drawn in the file's CRS.

    The field edge and the zones are grown by ``margin`` (file CRS units) as
    the masks are (:data:`app.dosing.masks.EDGE_MARGIN_CELLS`): GDAL's
    all_touched alone would not look at a cell the edge crosses by a hair.
    """
    geoms = [_from_file_crs(truth.field_m.boundary, file_crs, truth.crs)]
    if not truth.no_spray_m.is_empty:
        geoms.append(_from_file_crs(truth.no_spray_m, file_crs, truth.crs))
    geoms = [shapely.buffer(g, margin, quad_segs=1) for g in geoms]
    for f in truth.features:
        # 1 m beyond the distance: cells touching this are the only ones that can come too close.
        geoms.append(_from_file_crs(f.geometry_m.buffer(f.distance_m + 1.0), file_crs, truth.crs))
    return geoms


def _check_raster(r: RasterRates, truth: GroundTruth, acc: _Accumulator, area_row: np.ndarray
                  ) -> tuple[np.ndarray, int]:
    """Exact checks of a raster file; returns product totals (L or kg) and the number of cells looked at."""
    n, n_rows, n_cols = r.rates.shape
    totals = np.array([float(np.nansum(np.nansum(r.rates[k], axis=1) * area_row)) / 10_000.0 for k in range(n)])
    sprayed = (np.nan_to_num(r.rates, nan=0.0) > 0).any(axis=0)
    if not sprayed.any():
        return totals, 0
    shape = (n_rows, n_cols)

    def burn(geom: BaseGeometry, all_touched: bool) -> np.ndarray:
        if geom.is_empty:
            return np.zeros(shape, dtype=bool)
        return rio_features.rasterize([(geom, 1)], out_shape=shape, transform=r.transform,
                                      all_touched=all_touched, fill=0, dtype="uint8").view(bool)

    zones = _zone_geometries_in(truth, r.crs, EDGE_MARGIN_CELLS * max(abs(r.transform.a), abs(r.transform.e)))
    touched = np.zeros(shape, dtype=bool)
    for g in zones:
        touched |= burn(g, True)
    # Wholly outside the field: centre outside and the edge does not touch it.
    inside_centre = burn(_from_file_crs(truth.field_m, r.crs, truth.crs), False)
    look = sprayed & (touched | ~inside_centre)
    rows, cols = np.nonzero(look)
    polys = _to_crs(_cell_polygons(r.transform, rows, cols), r.crs, truth.crs)
    acc.add(polys, r.rates[:, rows, cols].T)
    return totals, len(rows)


def _check_vector(v: VectorRates, truth: GroundTruth, acc: _Accumulator) -> np.ndarray:
    geoms_m = _to_crs(v.geometries, v.crs, truth.crs)
    areas = np.asarray(shapely.area(geoms_m))
    acc.add(geoms_m, v.rates)
    return np.nansum(v.rates * areas[:, None], axis=0) / 10_000.0


def _rate_checks(rates: np.ndarray, areas_m2: np.ndarray, truth: GroundTruth, totals: np.ndarray
                 ) -> tuple[list[ProductCheck], list[str]]:
    """``rates[i, k]`` per piece with piece areas ``areas_m2`` (used for over/under areas)."""
    checks, problems = [], []
    for k, p in enumerate(truth.products):
        rk = rates[:, k]
        pos = np.nan_to_num(rk, nan=0.0) > 0
        max_rate = float(rk[pos].max()) if pos.any() else 0.0
        left = truth.season_left[k]
        cap = min(p.max_rate, left) if left is not None else p.max_rate
        over = pos & (np.nan_to_num(rk) > cap * (1 + RATE_RTOL) + 1e-12)
        under = pos & (np.nan_to_num(rk) < p.min_rate * (1 - RATE_RTOL) - 1e-12)
        over_a, under_a = float(areas_m2[over].sum()), float(areas_m2[under].sum())
        before = truth.prescribed_total[k]
        delta = float(totals[k]) - before
        pct = 100.0 * delta / before if before > 0 else (0.0 if abs(delta) < 1e-12 else math.inf)
        unit = p.canonical_unit.split("/")[0]
        ok = over_a == 0 and under_a == 0
        if over_a:
            problems.append(f"{p.name}: {over_a:.4g} m² at up to {max_rate:.6g} {p.canonical_unit}, above the "
                            f"{'season remainder' if left is not None and left < p.max_rate else 'label maximum'} "
                            f"{cap:.6g} {p.canonical_unit}")
        if under_a:
            problems.append(f"{p.name}: {under_a:.4g} m² sprayed below the label minimum "
                            f"{p.min_rate:.6g} {p.canonical_unit}")
        checks.append(ProductCheck(p.name, p.canonical_unit, max_rate, p.max_rate, left, over_a, under_a,
                                   p.min_rate, float(totals[k]), before, delta, pct, unit, ok))
    return checks, problems


def verify(content: bytes, fmt: str, truth: GroundTruth) -> VerifyReport:
    """Read ``content`` (an export of format ``fmt``) and check it against ``truth``.

    Raises ``VerifyError`` when the file cannot be read as a prescription for
    these products.
    """
    t0 = time.perf_counter()
    read = read_export(content, fmt, truth.products)
    acc = _Accumulator(truth)
    if isinstance(read, RasterRates):
        area_row = _row_areas_m2(read, truth.crs)
        totals, looked = _check_raster(read, truth, acc, area_row)
        areas = np.broadcast_to(area_row[:, None], read.rates.shape[1:]).ravel()
        flat = read.rates.reshape(read.rates.shape[0], -1).T
    else:
        totals = _check_vector(read, truth, acc)
        looked = len(read.geometries)
        areas = np.asarray(shapely.area(_to_crs(read.geometries, read.crs, truth.crs)))
        flat = read.rates
    products, problems = _rate_checks(flat, areas, truth, totals)

    zones = []
    for label, area, product in (("no-spray zones", acc.no_spray_area, acc.no_spray_product),
                                 ("outside the field", acc.outside_area, acc.outside_product)):
        a = float(area.max()) if len(area) else 0.0
        ok = a <= AREA_TOL_M2
        zones.append(ZoneCheck(label, a, [float(x) for x in product], ok))
        if not ok:
            amounts = ", ".join(f"{x:.4g} {p.canonical_unit.split('/')[0]} {p.name}"
                                for x, p in zip(product, truth.products, strict=True))
            problems.append(f"{a:.4g} m² sprayed {'inside the ' if label.startswith('no') else ''}{label} "
                            f"({amounts})")
    feats = []
    for j, f in enumerate(truth.features):
        closest = acc.feature_closest[j]
        within = float(acc.feature_area[j].max()) if acc.feature_area.size else 0.0
        # A feature without a label buffer must not be sprayed itself; with one, nothing may come closer.
        ok = within <= AREA_TOL_M2 and (f.distance_m <= 0 or closest >= f.distance_m - DIST_TOL_M)
        feats.append(FeatureCheck(f.kind, f.name, f.buffer_class, f.distance_m,
                                  None if math.isinf(closest) else closest, within, ok))
        if not ok:
            problems.append(f"{f.kind} {f.name or ''}".strip() + f": sprayed {closest:.3f} m away, the label "
                            f"demands {f.distance_m:g} m ({within:.4g} m² within it)")
    ok = all(z.ok for z in zones) and all(f.ok for f in feats) and all(p.ok for p in products)
    return VerifyReport(fmt, read.reader, ok, zones, feats, products, problems,
                        time.perf_counter() - t0, looked)
