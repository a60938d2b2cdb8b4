"""ISO 11783-10 (ISOXML v4.3) task data: a TASKDATA/ folder with one grid task.

The prescription is resampled onto a lat/lon grid (``app.export.latlon``)
and written as grid type 2 (little-endian int32 per cell and product, raw DDI
units) or type 1 (one uint8 treatment-zone code per cell). Treatment zone 0
is "out of field / position lost" at rate 0 for every product.
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod

from app import __version__
from app.dosing.label import ProductLabel
from app.export.job import ExportError, ExportFile, ExportJob
from app.export.latlon import LatLonGrid, latlon_grid_for, resample_to_latlon, sprayable_latlon
from app.export.names import ascii_text, file_stem
from app.export.terminals import Terminal
from app.export.zones import display_unit, quantise_up, rate_classes

SOFTWARE = "Dosewise"
SOFTWARE_VERSION = __version__  # the one version constant, app.__version__
GRID_TYPES: tuple[int, ...] = (1, 2)
MAX_TYPE1_ZONES = 254  # TZN codes 1..254; 0 is out of field
OUT_OF_FIELD_TZN = 0
# ISO 11783-10 names binary files in upper case 8.3 form (GRD00001.BIN); GRD.G holds the name
# without extension. Several terminals refuse a lower-case ".bin".
GRID_FILE = "GRD00001"
# QuantityDDI of a mixture's recipe: 0x0048 Actual Volume Content (mL). The recipe is 1000 L of
# mixture (MixtureRecipeQuantity 1,000,000 mL) and each PRN the millilitres of one product in it,
# so the shares are exact to one part in a million.
MIXTURE_QUANTITY_DDI = 0x0048
MIXTURE_RECIPE_ML = 1_000_000


@dataclass(frozen=True)
class Ddi:
    """A setpoint DDI and how many of its raw units make one canonical unit."""

    ddi: int
    raw_per_canonical: float
    raw_unit: str
    vpn_unit: str


# 1 L/ha = 100 mm³/m² = 10,000 raw (0.01 mm³/m²); 1 kg/ha = 100 mg/m² = 100 raw (1 mg/m²).
DDI_FOR_UNIT: dict[str, Ddi] = {
    "L/ha": Ddi(0x0001, 10_000.0, "0.01 mm³/m²", "l/ha"),
    "kg/ha": Ddi(0x0006, 100.0, "mg/m²", "kg/ha"),
}


def canonical_to_raw(rate: np.ndarray | float, canonical_unit: str) -> np.ndarray:
    """Canonical rates (L/ha or kg/ha) to raw DDI integers, rounded UP (float noise tolerated).

    >>> canonical_to_raw(np.array([1.0, 2.5]), "L/ha").tolist()
    [10000, 25000]
    >>> canonical_to_raw(0.035, "kg/ha").tolist()   # 3.5 mg/m² → 4 (resolution 1 mg/m²)
    4
    """
    x = np.asarray(rate, dtype=np.float64) * DDI_FOR_UNIT[canonical_unit].raw_per_canonical
    # float32 rates carry ~1e-7 relative noise: 2.3386 must not become 23387.
    return np.ceil(x - 1e-3 - 1e-6 * np.abs(x)).astype(np.int64)


def _decimal(value: float, digits: int = 12) -> str:
    """A fixed-point xs:decimal (no exponent), trailing zeros trimmed."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _sub(parent: ET.Element, tag: str, **attrs: object) -> ET.Element:
    return ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v is not None})


def _vpn_for(product: ProductLabel, ddi: Ddi, unit_mode: str) -> tuple[float, int, str, list[str]]:
    """Scale, decimals and unit of the value presentation of one product's rate."""
    shown = display_unit(product, unit_mode)
    scale = shown.per_canonical / ddi.raw_per_canonical
    unit = ddi.vpn_unit if shown.unit == product.canonical_unit else shown.unit
    typical = max(product.max_rate * shown.per_canonical, 1e-9)
    decimals = max(0, min(7, 2 - math.floor(math.log10(typical))))
    decimals = min(decimals, max(0, math.ceil(-math.log10(scale))))
    return scale, decimals, unit, [shown.note] if shown.note else []


def _ring_points(parent: ET.Element, coords: object) -> None:
    for lon, lat in list(coords)[:]:  # type: ignore[call-overload]
        _sub(parent, "PNT", A="2", C=f"{lat:.9f}", D=f"{lon:.9f}")


def _boundary(pfd: ET.Element, job: ExportJob) -> None:
    geom = job.field_boundary_wgs84
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    for poly in polys:
        pln = _sub(pfd, "PLN", A="1", B=ascii_text(job.field_name, 32))
        _ring_points(_sub(pln, "LSG", A="1"), poly.exterior.coords)
        for hole in poly.interiors:
            _ring_points(_sub(pln, "LSG", A="2"), hole.coords)


def _raw_grid(job: ExportJob, ll: LatLonGrid, resampled: np.ndarray, notes: list[str]) -> np.ndarray:
    """Resampled canonical rates → raw DDI integers as float64 (NaN out of field)."""
    raw = np.empty(resampled.shape, dtype=np.float64)
    for k, product in enumerate(job.prescription.products):
        ddi = DDI_FOR_UNIT[product.canonical_unit]
        inside = ~np.isnan(resampled[k])
        vals = canonical_to_raw(resampled[k][inside], product.canonical_unit)
        cap = math.floor(product.max_rate * ddi.raw_per_canonical + 1e-6)
        over = vals > cap
        if over.any():
            vals[over] = cap
            notes.append(
                f"{product.name}: the DDI resolution ({ddi.raw_unit}) cannot hold some rates exactly; "
                f"{int(over.sum())} cells written at the label maximum {cap / ddi.raw_per_canonical:g} "
                f"{product.canonical_unit} instead of rounding above it"
            )
        exact = vals / ddi.raw_per_canonical
        err = np.abs(exact - resampled[k][inside])
        worst = float(err.max()) if err.size else 0.0
        if worst > 0.005 * max(product.max_rate, 1e-12):
            notes.append(
                f"{product.name}: rates rounded up to the DDI resolution {ddi.raw_unit} "
                f"({1 / ddi.raw_per_canonical:g} {product.canonical_unit}); largest change {worst:.4g} "
                f"{product.canonical_unit}"
            )
        raw[k] = np.nan
        raw[k][inside] = vals
    return raw


def _unspray_edges(job: ExportJob, ll: LatLonGrid, resampled: np.ndarray, notes: list[str]) -> None:
    """Rate 0 on every lat/lon cell the field edge or a no-spray zone touches (label first, in place).

    The lat/lon cells do not line up with the dosing cells, so a cell that
    straddles a buffer edge would otherwise take its sprayed neighbour's rate.
    """
    ok = sprayable_latlon(ll, job.field_boundary_wgs84, job.no_spray_wgs84, job.prescription.grid.crs)
    has_rate = ~np.isnan(resampled).any(axis=0)
    lost = has_rate & ~ok & (np.nan_to_num(resampled, nan=0.0) > 0).any(axis=0)
    resampled[:, has_rate & ~ok] = 0.0
    if lost.any():
        notes.append(f"{int(lost.sum())} grid cells touching the field edge or a no-spray zone set to 0 "
                     "(they overlap it on the ground)")


def render_isoxml(job: ExportJob, terminal: Terminal, *, grid_type: int | None = None,
                  resample: str = "max", oversample: int = 1, coarsen: int = 1, max_zones: int | None = None,
                  unit: str = "label", fit: bool = True, _fitting: bool = False) -> ExportFile:
    """A TASKDATA zip: TASKDATA/TASKDATA.XML and TASKDATA/GRD00001.BIN.

    ``grid_type`` 2 (int32 rates, default) or 1 (uint8 zone codes, at most
    254 rate zones; ``max_zones`` or a terminal's zone cap rounds rates up to
    fit). ``resample`` ``max`` never lowers a cell's rate.
    """
    if grid_type is None:
        grid_type = 2 if 2 in terminal.isoxml_grid_types else 1
    if grid_type not in GRID_TYPES:
        raise ExportError(f"unknown grid_type {grid_type!r}; valid: 1, 2")
    if grid_type not in terminal.isoxml_grid_types:
        raise ExportError(
            f"terminal {terminal.name!r} takes ISOXML grid type(s) "
            f"{', '.join(map(str, terminal.isoxml_grid_types))}, not {grid_type}"
        )
    pres = job.prescription
    notes: list[str] = []
    inside = ~np.isnan(pres.rates).any(axis=0)
    ll = latlon_grid_for(pres.grid, inside, oversample=oversample, coarsen=coarsen)
    resampled = resample_to_latlon(pres.rates, pres.grid, ll, method=resample)
    notes.append(
        f"grid resampled ({resample}) from {pres.grid.cell_size_m:g} m cells in {pres.grid.crs} to "
        f"{ll.n_rows} x {ll.n_cols} lat/lon cells of {ll.cell_lat_deg:.3e} x {ll.cell_lon_deg:.3e} deg"
    )
    _unspray_edges(job, ll, resampled, notes)
    raw = _raw_grid(job, ll, resampled, notes)

    if grid_type == 1:
        caps = [c for c in (MAX_TYPE1_ZONES, terminal.max_zones, max_zones) if c is not None]
        cap = min(caps)
        _, table = rate_classes(raw)
        if len(table) > cap:
            terminal_cap = fit and terminal.max_zones is not None and cap < MAX_TYPE1_ZONES
            asked = max_zones is not None or terminal_cap or _fitting
            if not asked:
                raise ExportError(
                    f"grid type 1 holds at most {MAX_TYPE1_ZONES} rate zones; this prescription has "
                    f"{len(table)}. Use grid_type=2, or max_zones=N to round rates up into N zones"
                )
            raw, changed = quantise_up(raw, cap)
            notes.extend(changed)

    xml, grid_bin = _build(job, ll, raw, grid_type, unit, notes)
    size = len(xml) + len(grid_bin)
    if terminal.max_bytes is not None and size > terminal.max_bytes:
        if fit and not _fitting:
            return _fit_size(job, terminal, ll, grid_type, size, resample=resample, oversample=oversample,
                             coarsen=coarsen, max_zones=max_zones, unit=unit)
        raise ExportError(
            f"ISOXML task is {size} bytes ({ll.n_rows} x {ll.n_cols} cells, grid type {grid_type}); "
            f"{terminal.name} accepts at most {terminal.max_bytes} bytes"
        )

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("TASKDATA/TASKDATA.XML", xml)
        zf.writestr(f"TASKDATA/{GRID_FILE}.BIN", grid_bin)
    _, table = rate_classes(raw)
    stats = {
        "grid_type": grid_type, "grid_rows": ll.n_rows, "grid_cols": ll.n_cols,
        "cell_size_deg": [ll.cell_lat_deg, ll.cell_lon_deg], "zones": len(table),
        "vertices": _boundary_vertices(job), "bytes_unzipped": size, "crs": "EPSG:4326",
    }
    return ExportFile(f"{file_stem(job.field_name)}_TASKDATA.zip", "application/zip", buf.getvalue(),
                      notes, stats)


# Lat/lon cells this many times the dosing cell, tried in turn when a terminal's size cap demands it.
COARSEN_STEPS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)


def _fit_size(job: ExportJob, terminal: Terminal, ll: LatLonGrid, grid_type: int, size: int, *,
              resample: str, oversample: int, coarsen: int, max_zones: int | None, unit: str) -> ExportFile:
    """The finest ISOXML grid that fits ``terminal.max_bytes``: grid type 1 first, then larger cells.

    Type 1 stores one byte per cell instead of four per product (rates
    rounded up into at most 254 zones); larger cells cost product where a
    cell straddles a patch edge. Cells touching the field edge or a no-spray
    zone stay 0 at every size, and the verifier reports the product added.
    """
    cap = terminal.max_bytes or size
    n = len(job.prescription.products)
    types = [t for t in (1, 2) if t in terminal.isoxml_grid_types]
    cells_now = ll.n_rows * ll.n_cols
    tried = []
    for step in COARSEN_STEPS:
        c = coarsen * step
        for gt in types:
            if (c, gt) == (coarsen, grid_type):
                continue
            # Estimate from the cell count before rendering; the XML itself is small.
            est = cells_now * (coarsen / c) ** 2 * (1 if gt == 1 else 4 * n)
            if est > cap:
                continue
            try:
                out = render_isoxml(job, terminal, grid_type=gt, resample=resample, oversample=oversample, coarsen=c,
                                    max_zones=max_zones, unit=unit, fit=True, _fitting=True)
            except ExportError as exc:
                tried.append(f"type {gt} at {c}x cells: {exc}")
                continue
            out.notes.insert(0, f"grid type {grid_type} was {size} bytes, over the {cap}-byte limit of "
                                f"{terminal.name}: written as grid type {gt} with cells {c} x the dosing cell "
                                f"({job.prescription.grid.cell_size_m * c / oversample:g} m); cells touching the "
                                f"field edge or a no-spray zone stay unsprayed")
            return out
    raise ExportError(f"ISOXML task is {size} bytes ({ll.n_rows} x {ll.n_cols} cells, grid type {grid_type}); "
                      f"{terminal.name} accepts at most {cap} bytes, and no grid up to {COARSEN_STEPS[-1]} x the "
                      f"dosing cell fits" + (f" ({'; '.join(tried[-2:])})" if tried else ""))


def _boundary_vertices(job: ExportJob) -> int:
    return int(shapely.get_num_coordinates(job.field_boundary_wgs84))


def mixture_shares(products: Sequence[ProductLabel], raw: np.ndarray) -> list[float] | None:
    """Each product's share of a tank mix sprayed in a fixed ratio, or None when it is not one.

    A mixture product (PDT with PRN components) has one rate per cell, so the
    ratio between products must be the same in every sprayed cell (one tank),
    and the products must add up in one unit (all liquid). Ratios that vary
    cell to cell stay separate products, one setpoint each.

    >>> from app.dosing.label import ProductLabel
    >>> a, b = ProductLabel("A", "L/ha", 0, 2), ProductLabel("B", "L/ha", 0, 1)
    >>> mixture_shares([a, b], np.array([[[0, 20000.0]], [[0, 5000.0]]]))
    [0.8, 0.2]
    >>> mixture_shares([a, b], np.array([[[10000, 20000.0]], [[5000, 5000.0]]])) is None
    True
    """
    if len(products) < 2 or len({p.canonical_unit for p in products}) != 1 or products[0].canonical_unit != "L/ha":
        return None
    filled = np.nan_to_num(raw, nan=0.0)
    total = filled.sum(axis=0)
    sprayed = total > 0
    if not sprayed.any():
        return None
    ref = np.unravel_index(int(np.argmax(total)), total.shape)
    shares = [float(filled[k][ref] / total[ref]) for k in range(len(products))]
    for k, share in enumerate(shares):
        # raw values are rounded up to one DDI unit each, so allow a unit per product of slack.
        if np.abs(filled[k][sprayed] - share * total[sprayed]).max() > len(products):
            return None
    return shares


def _mixture_element(root: ET.Element, products: Sequence[ProductLabel], raw: np.ndarray, shares: list[float],
                     unit: str, pdv_specs: list[tuple[str, str, str]], notes: list[str]) -> np.ndarray:
    """Write the mixture PDT with its PRN components; return its per-cell raw rate (1, rows, cols)."""
    n = len(products)
    mix_raw = np.nansum(raw, axis=0, keepdims=True)
    mix_raw[:, np.isnan(raw).all(axis=0)] = np.nan
    peak_l_ha = float(np.nanmax(mix_raw)) / DDI_FOR_UNIT["L/ha"].raw_per_canonical
    name = " + ".join(p.name for p in products)
    mixture = ProductLabel(f"Tank mix {name}", "L/ha", 0.0, max(peak_l_ha, 1e-9),
                           label_unit=products[0].label_unit
                           if len({p.label_unit for p in products}) == 1 else "")
    ddi = DDI_FOR_UNIT["L/ha"]
    scale, decimals, vpn_unit, vnotes = _vpn_for(mixture, ddi, unit)
    notes.extend(vnotes)
    vpn_id, pdt_id = "VPN1", f"PDT{n + 1}"
    _sub(root, "VPN", A=vpn_id, B="0", C=_decimal(scale), D=decimals, E=ascii_text(vpn_unit, 32))
    recipe_ml = [int(round(s * MIXTURE_RECIPE_ML)) for s in shares]
    mix = _sub(root, "PDT", A=pdt_id, B=ascii_text(f"Mix {name}", 32), E=f"{MIXTURE_QUANTITY_DDI:04X}",
               F="2", G=sum(recipe_ml))
    for k, ml in enumerate(recipe_ml):
        _sub(mix, "PRN", A=f"PDT{k + 1}", B=ml)
    pdv_specs.append((f"{ddi.ddi:04X}", pdt_id, vpn_id))
    notes.append(f"tank mix written as one mixture product {pdt_id} ({name}, "
                 + ", ".join(f"{s:.1%} {p.name}" for s, p in zip(shares, products, strict=True))
                 + ") with its components as PRN; the grid holds the mixture's rate")
    return mix_raw


def _build(job: ExportJob, ll: LatLonGrid, raw: np.ndarray, grid_type: int, unit: str,
           notes: list[str]) -> tuple[bytes, bytes]:
    pres = job.prescription
    root = ET.Element("ISO11783_TaskData", {
        "VersionMajor": "4", "VersionMinor": "3",
        "ManagementSoftwareManufacturer": SOFTWARE, "ManagementSoftwareVersion": SOFTWARE_VERSION,
        "DataTransferOrigin": "1",
    })
    ctr = frm = None
    if job.customer_name:
        ctr = "CTR1"
        _sub(root, "CTR", A=ctr, B=ascii_text(job.customer_name, 32) or "Customer")
    if job.farm_name:
        frm = "FRM1"
        _sub(root, "FRM", A=frm, B=ascii_text(job.farm_name, 32) or "Farm", I=ctr)
    area_m2, _ = Geod(ellps="WGS84").geometry_area_perimeter(job.field_boundary_wgs84)
    pfd = _sub(root, "PFD", A="PFD1", C=ascii_text(job.field_name, 32) or "Field",
               D=int(round(abs(area_m2))), E=ctr, F=frm)
    _boundary(pfd, job)

    pdv_specs: list[tuple[str, str, str]] = []  # (DDI hex, PDT id, VPN id) per product
    shares = mixture_shares(pres.products, raw)
    for k, product in enumerate(pres.products):
        ddi = DDI_FOR_UNIT[product.canonical_unit]
        pdt_id = f"PDT{k + 1}"
        if shares is None:
            scale, decimals, vpn_unit, vnotes = _vpn_for(product, ddi, unit)
            notes.extend(vnotes)
            vpn_id = f"VPN{k + 1}"
            _sub(root, "VPN", A=vpn_id, B="0", C=_decimal(scale), D=decimals, E=ascii_text(vpn_unit, 32))
            pdv_specs.append((f"{ddi.ddi:04X}", pdt_id, vpn_id))
        _sub(root, "PDT", A=pdt_id, B=ascii_text(product.name, 32) or f"Product {k + 1}", F="1")
    if shares is not None:
        raw = _mixture_element(root, pres.products, raw, shares, unit, pdv_specs, notes)

    task = _sub(root, "TSK", A="TSK1", B=ascii_text(job.title, 32), C=ctr, D=frm, E="PFD1", G="1",
                H=OUT_OF_FIELD_TZN, I=OUT_OF_FIELD_TZN, J=OUT_OF_FIELD_TZN)

    def tzn(code: int, name: str, values: list[int]) -> None:
        zone = _sub(task, "TZN", A=code, B=name)
        for (ddi_hex, pdt_id, vpn_id), value in zip(pdv_specs, values, strict=True):
            _sub(zone, "PDV", A=ddi_hex, B=value, C=pdt_id, E=vpn_id)

    n = len(pdv_specs)
    tzn(OUT_OF_FIELD_TZN, "Out of field", [0] * n)
    if grid_type == 2:
        grid_tzn = 1
        tzn(grid_tzn, "Prescription grid", [0] * n)
        cells = np.nan_to_num(raw, nan=0.0).astype("<i4")
        # Interleave: for each cell (row 0 south), one int32 per PDV of the grid TZN.
        grid_bin = np.ascontiguousarray(np.moveaxis(cells, 0, -1)).tobytes()
    else:
        codes, table = rate_classes(raw)
        for i, row in enumerate(table):
            tzn(i + 1, f"Zone {i + 1}", [int(v) for v in row])
        grid_bin = np.where(codes >= 0, codes + 1, OUT_OF_FIELD_TZN).astype(np.uint8).tobytes()
        grid_tzn = None
    _sub(task, "GRD", A=f"{ll.min_lat:.9f}", B=f"{ll.min_lon:.9f}", C=_decimal(ll.cell_lat_deg, 15),
         D=_decimal(ll.cell_lon_deg, 15), E=ll.n_cols, F=ll.n_rows, G=GRID_FILE, H=len(grid_bin),
         I=grid_type, J=grid_tzn)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8"), grid_bin
