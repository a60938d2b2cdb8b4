"""From documents (field, weed map, labels) to a prescription, without a database.

Both the HTTP API and the ``dosewise prescribe`` command go through here, so
they agree to the cell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from pyproj import CRS, Proj
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.domain.crops import normalise_crop
from app.domain.field import FieldCreate
from app.domain.label import LabelDoc
from app.domain.prescription import SprayerIn, StrategyIn
from app.domain.units import from_canonical_rate, to_canonical_rate
from app.domain.weed_map import WeedMapCreate, grid_to_array
from app.dosing.grid import GridSpec
from app.dosing.masks import FieldMasks, SensitiveFeature, build_masks
from app.dosing.prescribe import DosingError, Prescription, Strategy, prescribe
from app.dosing.sprayer import SprayerProfile
from app.geo import reproject, utm_crs_for
from app.species import catalogue, resistance_floors, species_economics


class InputError(ValueError):
    """Documents that cannot be combined; the message names the one at fault."""


# What happens to field cells the weed map does not cover (see :class:`CoverageRule`).
UNCOVERED_RULES: tuple[str, ...] = ("refuse", "broadcast", "no_spray")
DEFAULT_MIN_COVERAGE_PCT = 95.0
# The computation grid grows to the field when the map covers only part of it; past this many cells
# (400 ha at 0.25 m) the request is refused rather than allocating silently.
MAX_GRID_CELLS = 64_000_000


@dataclass(frozen=True)
class CoverageRule:
    """How a weed map that covers only part of the field is handled; never silently.

    The field's area is always the field's, counted on a grid grown to cover
    it; cells outside the map have no density (NaN). ``coverage_pct`` is the
    share of the field's cells the map covers.

    - below ``min_coverage_pct`` the prescription is refused (HTTP 422) with
      the coverage and the setting in the message;
    - ``uncovered="refuse"`` (default): ``min_coverage_pct`` defaults to 95;
      the uncovered remainder that passes is not sprayed, and reported;
    - ``uncovered="broadcast"``: uncovered field cells get the reference
      (label) rate, still masked by buffers and the field edge;
      ``min_coverage_pct`` defaults to 0;
    - ``uncovered="no_spray"``: uncovered cells get 0; ``min_coverage_pct``
      defaults to 0.

    >>> CoverageRule().threshold_pct, CoverageRule("broadcast").threshold_pct
    (95.0, 0.0)
    >>> CoverageRule("spray_all")
    Traceback (most recent call last):
    ...
    app.pipeline.InputError: uncovered: 'spray_all' is not one of refuse, broadcast, no_spray
    """

    uncovered: str = "refuse"
    min_coverage_pct: float | None = None

    def __post_init__(self) -> None:
        if self.uncovered not in UNCOVERED_RULES:
            raise InputError(f"uncovered: {self.uncovered!r} is not one of {', '.join(UNCOVERED_RULES)}")
        if self.min_coverage_pct is not None and not 0.0 <= self.min_coverage_pct <= 100.0:
            raise InputError(f"min_coverage_pct: {self.min_coverage_pct:g} is not between 0 and 100")

    @property
    def threshold_pct(self) -> float:
        """The coverage (% of the field's cells) below which the prescription is refused."""
        if self.min_coverage_pct is not None:
            return float(self.min_coverage_pct)
        return DEFAULT_MIN_COVERAGE_PCT if self.uncovered == "refuse" else 0.0


def grid_over_field(grid: GridSpec, field_m: BaseGeometry, *, max_cells: int = MAX_GRID_CELLS) -> GridSpec:
    """``grid`` grown on its own lattice until it covers ``field_m``'s bounding box (never shrunk).

    Raises ``InputError`` when the grown grid would hold more than
    ``max_cells`` cells.

    >>> g = GridSpec("EPSG:32631", 0.0, 10.0, 1.0, 10, 3)
    >>> grid_over_field(g, shapely.box(0, 0, 10, 10))
    GridSpec(crs='EPSG:32631', x0_m=0.0, y0_m=10.0, cell_size_m=1.0, n_rows=10, n_cols=10)
    """
    west, south, east, north = grid.bounds_m
    fw, fs, fe, fn = field_m.bounds
    cs = grid.cell_size_m
    # Whole cells outward. A sliver under 1 cm (lon/lat rounding of the boundary) holds no cell centre.
    tol = min(0.01, 0.25 * cs) / cs
    add_w = max(0, math.ceil((west - fw) / cs - tol))
    add_n = max(0, math.ceil((fn - north) / cs - tol))
    add_e = max(0, math.ceil((fe - east) / cs - tol))
    add_s = max(0, math.ceil((south - fs) / cs - tol))
    if not (add_w or add_n or add_e or add_s):
        return grid
    rows, cols = grid.n_rows + add_n + add_s, grid.n_cols + add_w + add_e
    if rows * cols > max_cells:
        raise InputError(f"weed map: covering the whole field needs a grid of {rows} x {cols} cells at "
                         f"{cs:g} m, more than the {max_cells} cells allowed; send a map that covers the field "
                         f"or use larger cells")
    return GridSpec(crs=grid.crs, x0_m=grid.x0_m - add_w * cs, y0_m=grid.y0_m + add_n * cs, cell_size_m=cs,
                    n_rows=rows, n_cols=cols)


def _on_grid(densities: Mapping[str, np.ndarray], grid: GridSpec, grown: GridSpec
             ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Densities placed on ``grown`` (NaN outside the map) and the cells the map covers with data."""
    r0 = round((grown.y0_m - grid.y0_m) / grid.cell_size_m)
    c0 = round((grid.x0_m - grown.x0_m) / grid.cell_size_m)
    window = (slice(r0, r0 + grid.n_rows), slice(c0, c0 + grid.n_cols))
    covered = np.zeros(grown.shape, dtype=bool)
    out: dict[str, np.ndarray] = {}
    for code, d in densities.items():
        if grown is grid:
            arr = d
        else:
            arr = np.full(grown.shape, np.nan, dtype=np.float32)
            arr[window] = d
        covered[window] |= np.isfinite(arr[window])
        out[code] = arr
    return out, covered


@dataclass(frozen=True)
class FieldGeometry:
    boundary_wgs84: BaseGeometry
    features: list[tuple[str, str | None, BaseGeometry]]  # kind, name, WGS84 geometry

    @classmethod
    def from_documents(cls, boundary: Mapping[str, Any],
                       features: Sequence[Mapping[str, Any]]) -> FieldGeometry:
        return cls(
            boundary_wgs84=shape(boundary),
            features=[(f["kind"], f.get("name"), shape(f["geometry"])) for f in features],
        )

    def working_crs(self) -> str:
        c = self.boundary_wgs84.centroid
        return utm_crs_for(c.x, c.y)

    def area_ha(self) -> float:
        return reproject(self.boundary_wgs84, "EPSG:4326", self.working_crs()).area / 10_000.0


# A grid's metres must be ground metres at the field: UTM stays within about 0.1 % across its zone.
MAX_SCALE_ERROR = 0.0025


def check_metric_crs(crs: str, at_lonlat: tuple[float, float] | None = None) -> CRS:
    """The CRS of a grid; it must be projected with metre axes, and true to scale at the field.

    With ``at_lonlat`` (the field's centre), a CRS whose point scale there is
    more than :data:`MAX_SCALE_ERROR` from 1 is refused (Web Mercator at 52° N
    has 1.62: its areas come out 2.7 times too big and a 20 m buffer is 12 m
    on the ground); the message names the field's UTM zone.
    """
    try:
        parsed = CRS.from_user_input(crs)
    except Exception:
        raise InputError(f"crs: {crs!r} is not a CRS pyproj knows") from None
    if not parsed.is_projected:
        raise InputError(f"crs: {crs} is geographic (degrees); a weed grid needs a projected CRS in metres, "
                         f"e.g. the field's UTM zone")
    units = {a.unit_name for a in parsed.axis_info}
    if units - {"metre"}:
        raise InputError(f"crs: {crs} has axis units {sorted(units)}; a weed grid needs metres")
    if at_lonlat is not None:
        lon, lat = at_lonlat
        f = Proj(parsed).get_factors(lon, lat)
        scales = (float(f.meridional_scale), float(f.parallel_scale))
        worst = max(scales, key=lambda k: abs(k - 1.0))
        if not all(np.isfinite(scales)) or abs(worst - 1.0) > MAX_SCALE_ERROR:
            raise InputError(
                f"crs: {crs} is not true to scale at the field (scale {worst:.4g} at lon {lon:.4f}, lat {lat:.4f}: "
                f"one of its metres is {1 / worst:.3g} m on the ground), so areas, rates and buffers would be "
                f"wrong; send the grid in the field's UTM zone, {utm_crs_for(lon, lat)}")
    return parsed


def to_core_strategy(strategy: StrategyIn, labels: Sequence[LabelDoc], crop: str | None = None) -> Strategy:
    rates: tuple[float, ...] = ()
    if strategy.rates is not None:
        if len(strategy.rates) != len(labels):
            raise InputError(f"strategy.rates: {len(strategy.rates)} rates for {len(labels)} products")
        for r, lab in zip(strategy.rates, labels, strict=True):
            if not lab.min_rate <= r <= lab.max_rate:
                raise InputError(f"strategy.rates: {r:g} {lab.rate_unit} for {lab.name} is outside the "
                                 f"label range {lab.min_rate:g}–{lab.max_rate:g} {lab.rate_unit}")
        rates = tuple(to_canonical_rate(r, lab.rate_unit) for r, lab in zip(strategy.rates, labels, strict=True))
    fields = strategy.model_dump(exclude={"rates", "competitive_index", "product_prices_per_unit", "weed_stages",
                                          "discount_rate_pct"})
    # Species without an index given get the catalogue's (illustrative) one.
    index = {code: float(f["competitive_index"]) for code, f in catalogue().items() if "competitive_index" in f}
    index.update(strategy.competitive_index)
    prices: tuple[float, ...] = ()
    if strategy.product_prices_per_unit is not None:
        if len(strategy.product_prices_per_unit) != len(labels):
            raise InputError(f"strategy.product_prices_per_unit: {len(strategy.product_prices_per_unit)} prices "
                             f"for {len(labels)} products")
        prices = tuple(strategy.product_prices_per_unit)
    # Sourced yield-loss and seed parameters for the field's crop, and the
    # resistance floors of the mix's modes of action (data/species.json).
    return Strategy(rates=rates, competitive_index=index, product_prices_per_unit=prices,
                    species_economics=species_economics(crop), discount_rate=strategy.discount_rate_pct / 100.0,
                    resistance_floors=resistance_floors([(lab.name, lab.hrac_group) for lab in labels]), **fields)


def to_core_sprayer(sprayer: SprayerIn, labels: Sequence[LabelDoc]) -> SprayerProfile:
    levels: tuple[float, ...] = ()
    if sprayer.rate_levels:
        if len(labels) != 1:
            raise InputError("sprayer.rate_levels: discrete rate levels are supported for one product only")
        levels = tuple(sorted(to_canonical_rate(r, labels[0].rate_unit) for r in sprayer.rate_levels))
    fields = sprayer.model_dump(exclude={"rate_levels"})
    return SprayerProfile(rate_levels=levels, **fields)


def no_spray_wgs84(masks: FieldMasks, field_m: BaseGeometry, crs: str) -> dict[str, Any]:
    """The buffers and no-spray zones inside the field, as GeoJSON in WGS84."""
    inside = masks.no_spray_m.intersection(field_m) if not masks.no_spray_m.is_empty else masks.no_spray_m
    return shapely.geometry.mapping(reproject(inside, crs, "EPSG:4326")) if not inside.is_empty else \
        {"type": "GeometryCollection", "geometries": []}


def _apply_coverage(masks: FieldMasks, covered: np.ndarray, rule: CoverageRule, cell_ha: float
                    ) -> dict[str, Any]:
    """Check the map's coverage of the field against ``rule`` and mark the uncovered cells in ``masks``."""
    n_field = int(np.count_nonzero(masks.in_field))
    n_cov = int(np.count_nonzero(covered & masks.in_field))
    pct = 100.0 * n_cov / n_field
    info = {"covered_area_ha": n_cov * cell_ha, "uncovered_area_ha": (n_field - n_cov) * cell_ha,
            "coverage_pct": pct, "uncovered": rule.uncovered, "min_coverage_pct": rule.threshold_pct}
    if pct < rule.threshold_pct:
        raise InputError(
            f"weed map: it covers {pct:.1f} % of the field ({n_cov * cell_ha:.4g} of {n_field * cell_ha:.4g} ha), "
            f"below min_coverage_pct {rule.threshold_pct:g} %; send a map of the whole field, or declare what the "
            f"uncovered part gets with uncovered='broadcast' (label rate) or uncovered='no_spray' (nothing), "
            f"or lower min_coverage_pct")
    if n_cov < n_field:
        gap = masks.in_field & ~covered
        if rule.uncovered == "broadcast":
            masks.full_rate = gap
        else:
            masks.sprayable &= ~gap
    return info


def _coverage_note(info: Mapping[str, Any]) -> dict[str, object]:
    gap = info["uncovered_area_ha"]
    if gap <= 0:
        detail = "the weed map covers the whole field"
    else:
        treated = {"broadcast": "get the reference (label) rate, outside buffers and the field edge",
                   "no_spray": "are not sprayed", "refuse": "are not sprayed (within min_coverage_pct)"}
        detail = (f"the weed map covers {info['coverage_pct']:.1f} % of the field; the uncovered "
                  f"{gap:.4g} ha {treated[info['uncovered']]} (uncovered={info['uncovered']!r})")
    return {"check": "map_coverage", "outcome": "pass" if gap <= 0 else "info", "detail": detail,
            "coverage_pct": round(float(info["coverage_pct"]), 4), "uncovered": info["uncovered"],
            "min_coverage_pct": info["min_coverage_pct"]}


def check_label_countries(labels: Sequence[LabelDoc], field_country: str | None, *,
                          allow_foreign_labels: bool = False) -> list[dict[str, object]]:
    """Compliance notes on each label's country against the field's; refuse a foreign label unless allowed.

    A label is law only where it is registered: a US label says nothing about
    a field in France. With ``allow_foreign_labels`` (an agronomist's explicit
    choice, e.g. for a trial) the prescription goes ahead with a warning.
    """
    notes: list[dict[str, object]] = []
    for lab in labels:
        if field_country is None or lab.country is None:
            notes.append({"check": "label_country", "outcome": "info",
                          "detail": f"{lab.name}: label country {lab.country or 'not given'}, field country "
                                    f"{field_country or 'not given'}; not checked"})
        elif lab.country.upper() == field_country.upper():
            notes.append({"check": "label_country", "outcome": "pass",
                          "detail": f"{lab.name}: labelled in {lab.country.upper()}, as the field"})
        elif allow_foreign_labels:
            notes.append({"check": "label_country", "outcome": "warning",
                          "detail": f"{lab.name} is labelled in {lab.country.upper()}, the field is in "
                                    f"{field_country.upper()}; prescribed because allow_foreign_labels was set"})
        else:
            raise DosingError(f"product_ids: {lab.name} is labelled in {lab.country.upper()}, but the field is in "
                              f"{field_country.upper()}; a label applies only where it is registered. Use a "
                              f"{field_country.upper()} label, or set allow_foreign_labels: true to override")
    return notes


def run(geometry: FieldGeometry, grid: GridSpec, densities_plants_m2: Mapping[str, np.ndarray],
        labels: Sequence[LabelDoc], strategy: StrategyIn, sprayer: SprayerIn, *,
        wind_from_deg: float | None = None, crop: str | None = None, growth_stage_bbch: int | None = None,
        season_used: Mapping[str, float] | None = None, field_country: str | None = None,
        allow_foreign_labels: bool = False, coverage: CoverageRule | None = None,
        max_cells: int = MAX_GRID_CELLS) -> tuple[Prescription, dict[str, Any]]:
    """Dose every cell of the field for ``labels``, on the weed map's grid grown to cover the field.

    Returns the prescription (its ``grid`` is the grown grid) and its no-spray
    zones inside the field (GeoJSON, WGS84). Field cells the map does not
    cover are handled by ``coverage`` (:class:`CoverageRule`, default: refuse
    below 95 %) and reported in the summary (``coverage_pct``,
    ``covered_area_ha``, ``uncovered_area_ha``, ``uncovered``).
    Raises ``InputError`` when the documents do not fit together and
    ``DosingError`` when the label forbids what was asked (a label of another
    country than ``field_country`` included, unless ``allow_foreign_labels``).
    """
    rule = coverage or CoverageRule()
    country_notes = check_label_countries(labels, field_country, allow_foreign_labels=allow_foreign_labels)
    crop = None if crop is None else normalise_crop(crop)
    c = geometry.boundary_wgs84.centroid
    check_metric_crs(grid.crs, (c.x, c.y))
    field_m = reproject(geometry.boundary_wgs84, "EPSG:4326", grid.crs)
    grid_box = shapely.box(*grid.bounds_m)
    if not field_m.intersects(grid_box):
        raise InputError("weed map: the grid does not overlap the field boundary")
    grown = grid_over_field(grid, field_m, max_cells=max_cells)
    densities, covered = _on_grid(densities_plants_m2, grid, grown)
    features_m = [SensitiveFeature(kind, reproject(g, "EPSG:4326", grid.crs)) for kind, _n, g in geometry.features]
    products = [lab.to_core(strategy.weed_stages) for lab in labels]
    masks = build_masks(grown, field_m, features_m, products, wind_from_deg=wind_from_deg)
    if not masks.in_field.any():
        raise InputError("weed map: no cell centre of the grid lies inside the field")
    info = _apply_coverage(masks, covered, rule, grown.cell_area_ha)
    rx = prescribe(densities, grown, masks, products,
                   to_core_strategy(strategy, labels, crop), to_core_sprayer(sprayer, labels),
                   crop=crop, growth_stage_bbch=growth_stage_bbch, season_used=season_used)
    for key, value in info.items():
        setattr(rx.summary, key, value)
    rx.compliance.append(_coverage_note(info))
    rx.compliance[:0] = country_notes
    for (kind, name, _g), applied in zip(geometry.features, masks.features_applied or [], strict=True):
        source = applied["buffer_class"]
        rx.compliance.append({
            "check": "feature_buffer", "outcome": "pass", "kind": kind, "name": name,
            "buffer_class": source, "distance_m": applied["distance_m"],
            "detail": f"{kind} {name or ''}".strip() + (
                f": {applied['distance_m']:g} m unsprayed on the ground ({source} buffer of the label)"
                if source else ": no label buffer for this kind; the feature itself is not sprayed"),
        })
    return rx, no_spray_wgs84(masks, field_m, grid.crs)


def weed_map_arrays(doc: WeedMapCreate) -> tuple[GridSpec, dict[str, np.ndarray]]:
    """A weed-map document's grid and its density arrays (plants/m²), checked.

    Raises ``InputError`` naming the species grid at fault.
    """
    try:
        densities = {code: grid_to_array(v, f"species.{code}") for code, v in doc.species.items()}
    except ValueError as exc:
        raise InputError(str(exc)) from None
    rows, cols = next(iter(densities.values())).shape
    grid = GridSpec(crs=doc.crs, x0_m=doc.origin.x, y0_m=doc.origin.y, cell_size_m=doc.cell_size_m,
                    n_rows=rows, n_cols=cols)
    return grid, densities


def run_documents(field: FieldCreate, weed_map: WeedMapCreate, labels: Sequence[LabelDoc], strategy: StrategyIn,
                  sprayer: SprayerIn | None = None, *, wind_from_deg: float | None = None,
                  allow_foreign_labels: bool = False, coverage: CoverageRule | None = None
                  ) -> tuple[FieldGeometry, Prescription, dict[str, Any]]:
    """``run`` on documents as files and requests hold them; returns the field geometry too."""
    grid, densities = weed_map_arrays(weed_map)
    geometry = FieldGeometry.from_documents(field.boundary, [f.model_dump() for f in field.sensitive_features])
    core, no_spray = run(geometry, grid, densities, labels, strategy, sprayer or SprayerIn(),
                         wind_from_deg=wind_from_deg, crop=field.crop, growth_stage_bbch=field.growth_stage_bbch,
                         field_country=field.country, allow_foreign_labels=allow_foreign_labels,
                         coverage=coverage)
    return geometry, core, no_spray


def product_totals(prescription: Prescription, labels: Sequence[LabelDoc],
                   product_ids: Sequence[int | None] | None = None,
                   season_used: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """Totals per product: amounts in L or kg, rates in the label's unit.

    ``season_used`` (canonical rate per product name) is recorded so the
    export verifier can check files against the season remainder later.
    """
    s = prescription.summary
    out = []
    for k, lab in enumerate(labels):
        core = prescription.products[k]
        out.append({
            "product_id": product_ids[k] if product_ids else None,
            "name": lab.name,
            "unit": lab.rate_unit,
            "total_unit": core.canonical_unit.split("/")[0],
            "total": round(s.product_total[k], 4),
            "broadcast_total": round(s.broadcast_total[k], 4),
            "saving_pct": round(s.saving_pct[k], 2),
            "max_rate": lab.max_rate,
            "min_rate": lab.min_rate,
            "season_used": float((season_used or {}).get(core.name, 0.0)),
        })
    return out


def rates_in_label_units(prescription: Prescription, labels: Sequence[LabelDoc]) -> np.ndarray:
    """The rate stack converted from canonical units to each label's unit."""
    out = prescription.rates.copy()
    for k, lab in enumerate(labels):
        out[k] = out[k] * np.float32(from_canonical_rate(1.0, lab.rate_unit))
    return out


__all__ = ["CoverageRule", "DosingError", "FieldGeometry", "InputError", "grid_over_field", "product_totals", "run"]
