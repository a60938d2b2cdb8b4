"""The dosing step: densities and masks in, a rate per cell and product out.

Every strategy decides a *dose scale* per cell (see :mod:`app.dosing.mixture`):
cell rate of product ``i`` = scale * reference rate ``r_i``. The scale grid is
then laid onto the sprayer's blocks (:func:`app.dosing.sprayer.map_to_sprayer`),
masked to the sprayable cells, and turned into rates. Work runs over row
chunks that fit in cache, in a couple of threads (NumPy releases the GIL).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from app.dosing.economics import SpeciesEconomics, seed_cost_per_seed
from app.dosing.errors import DosingError
from app.dosing.grid import GridSpec
from app.dosing.kernels import (
    BlockLayout,
    BroadcastKernel,
    DoseContext,
    DoseStats,
    EconomicCandidate,
    EconomicKernel,
    EmitKernel,
    EmitStats,
    SpeciesCost,
    TargetEfficacyKernel,
    ThresholdKernel,
    run_chunks,
)
from app.dosing.label import ProductLabel
from app.dosing.masks import FieldMasks
from app.dosing.mixture import TankMix
from app.dosing.sprayer import SprayerMapping, SprayerProfile, aggregate_blocks, block_shape, map_to_sprayer

__all__ = ["DosingError", "MIN_RATE_RULES", "Prescription", "STRATEGIES", "Strategy", "Summary", "prescribe"]

StrategyName = Literal["broadcast", "threshold", "target_efficacy", "economic"]
STRATEGIES: tuple[str, ...] = ("broadcast", "threshold", "target_efficacy", "economic")
MinRateRule = Literal["raise_to_min", "skip"]
MIN_RATE_RULES: tuple[str, ...] = ("raise_to_min", "skip")

@dataclass(frozen=True)
class Strategy:
    """How doses are chosen.

    Parameters
    ----------
    name
        ``broadcast`` (reference rate on every sprayable cell), ``threshold``
        (reference rate where the total density >= ``threshold_plants_m2``),
        ``target_efficacy`` (the dose the hardest present species needs for a
        control level rising with its density, as Crop Protection Online does)
        or ``economic`` (per cell the dose minimising herbicide cost plus the
        value of the yield lost to surviving weeds).
    rates
        Reference rate of each product (canonical unit, L/ha or kg/ha): the
        rate of ``broadcast``/``threshold`` and the tank-mix ratio of the other
        strategies. Default: each label maximum (capped by the season remainder).
    threshold_plants_m2
        Total density (plants/m²) from which ``threshold`` sprays a cell.
    control_target, control_min, control_half_density_plants_m2
        ``target_efficacy`` requires, for a species at density ``N`` plants/m²,
        the control fraction ``control_target - (control_target - control_min)
        * h / (N + h)`` with ``h = control_half_density_plants_m2``: from
        ``control_min`` for a lone plant up to ``control_target`` for dense
        patches. Fractions 0..1 of plants killed, vs untreated.
    presence_plants_m2
        A species counts as present in a cell above this density (plants/m²).
    min_rate_rule
        A cell needing a dose below the label minimum gets the minimum
        (``raise_to_min``) or nothing (``skip``); never a dose in between.
    crop_price_per_t, expected_yield_t_ha
        Crop price (currency/t) and weed-free yield (t/ha) for ``economic``
        and the yield-loss summary.
    cousens_i_pct_per_plant_m2, cousens_a_pct
        Cousens ``I`` (% yield loss per plant/m² at low density) and ``A``
        (maximum % loss). Defaults are DOMAIN.md's SSYL check values.
    competitive_index
        Species code -> plant equivalents per plant (default 1.0 each).
    product_prices_per_unit
        Price per L or kg of each product; default each label's ``price_per_unit``.
    economic_candidates
        Number of dose scales tried per cell between the label minimum and
        maximum by ``economic`` (0 is always tried too).
    species_economics
        Species code -> sourced Cousens and seed parameters for the crop
        (:class:`app.dosing.economics.SpeciesEconomics`). A species without an
        entry uses ``I = cousens_i_pct_per_plant_m2 * competitive_index``,
        ``A = cousens_a_pct`` and no seed term; the summary lists it.
    application_cost_per_ha
        Cost of driving the sprayer over a treated hectare (currency/ha), for
        ``economic``.
    seasons_ahead, discount_rate, next_season_control
        ``economic`` counts the seeds this season's survivors shed as the
        discounted yield loss their seedlings cause over ``seasons_ahead``
        seasons (0 = this season only), escaping ``next_season_control``
        (fraction killed by those seasons' own programme).
    resistance_floors
        Product name -> species code -> lowest fraction (0..1] of the product's
        label maximum a sprayed cell with that species present may get
        (resistance-management guidance: reduced rates on resistance-prone
        pairs select for resistance). Applied by ``target_efficacy`` and
        ``economic`` unless ``override_resistance_floors``.
    override_resistance_floors
        Explicitly allow doses below the resistance floors (reported).

    Examples
    --------
    >>> Strategy(name="target_efficacy", control_target=0.95).control_min
    0.7
    >>> Strategy(name="spray_all")
    Traceback (most recent call last):
    ...
    app.dosing.errors.DosingError: unknown strategy 'spray_all'; valid strategies: broadcast, \
threshold, target_efficacy, economic
    """

    name: StrategyName = "threshold"
    rates: tuple[float, ...] = ()
    threshold_plants_m2: float = 1.0
    control_target: float = 0.9
    control_min: float = 0.7
    control_half_density_plants_m2: float = 10.0
    presence_plants_m2: float = 0.0
    min_rate_rule: MinRateRule = "raise_to_min"
    crop_price_per_t: float = 200.0
    expected_yield_t_ha: float = 7.5
    cousens_i_pct_per_plant_m2: float = 6.6027
    cousens_a_pct: float = 34.894
    competitive_index: Mapping[str, float] = field(default_factory=dict)
    product_prices_per_unit: tuple[float, ...] = ()
    economic_candidates: int = 33
    species_economics: Mapping[str, SpeciesEconomics] = field(default_factory=dict)
    application_cost_per_ha: float = 0.0
    seasons_ahead: int = 3
    discount_rate: float = 0.05
    next_season_control: float = 0.9
    resistance_floors: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    override_resistance_floors: bool = False

    def __post_init__(self) -> None:
        if self.name not in STRATEGIES:
            raise DosingError(
                f"unknown strategy {self.name!r}; valid strategies: {', '.join(STRATEGIES)}"
            )
        if self.min_rate_rule not in MIN_RATE_RULES:
            raise DosingError(
                f"unknown min_rate_rule {self.min_rate_rule!r}; valid rules: {', '.join(MIN_RATE_RULES)}"
            )
        if self.threshold_plants_m2 < 0:
            raise DosingError("threshold_plants_m2 must not be negative")
        if not 0 < self.control_min <= self.control_target < 1:
            raise DosingError("need 0 < control_min <= control_target < 1 (fractions of plants killed)")
        for name in ("control_half_density_plants_m2", "presence_plants_m2", "crop_price_per_t",
                     "expected_yield_t_ha", "cousens_i_pct_per_plant_m2", "cousens_a_pct"):
            if not getattr(self, name) >= 0:
                raise DosingError(f"{name} must not be negative, got {getattr(self, name)}")
        if any(v < 0 for v in self.competitive_index.values()):
            raise DosingError("competitive_index values must not be negative")
        if any(v < 0 for v in self.product_prices_per_unit):
            raise DosingError("product_prices_per_unit must not be negative")
        if self.economic_candidates < 2:
            raise DosingError("economic_candidates must be at least 2")
        if not self.application_cost_per_ha >= 0 or not self.discount_rate >= 0:
            raise DosingError("application_cost_per_ha and discount_rate must not be negative")
        if self.seasons_ahead < 0:
            raise DosingError("seasons_ahead must not be negative")
        if not 0 <= self.next_season_control <= 1:
            raise DosingError("next_season_control must be a fraction 0..1")
        for product, floors in self.resistance_floors.items():
            for code, frac in floors.items():
                if not 0 < frac <= 1:
                    raise DosingError(f"resistance floor of {product} on {code} must be in (0, 1], got {frac}")


@dataclass
class Summary:
    """Totals of a prescription; every value is JSON-able.

    Areas in ha; product amounts in each product's canonical unit (L or kg,
    per ``product_units``); money in the currency of the prices; weeds in
    plants; yield losses in % of weed-free yield, averaged over the field.
    ``broadcast_*`` is the reference rate on every sprayable cell, the
    baseline for savings. ``control_pct`` is the density-weighted expected
    control per species (``None`` where no product has a curve for it; such
    species count as surviving in ``weeds_surviving`` and yield loss).

    For the advice (fields an adviser must see):

    ``cells_target_unreached``
        cells where ``target_efficacy`` needed more than the label allows (dosed at the maximum);
    ``economic_unsourced_species``
        species whose yield-loss parameters are defaults without a source
        (``economic`` and the yield-loss figures rest on them);
    ``economic_seed_term_species``
        species whose seed return was costed over the seasons ahead;
    ``resistance_floor_pct``
        per species, the lowest rate (% of the label maximum) a sprayed cell
        with it may get for resistance management, ``None`` if no floor;
    ``resistance_floors_overridden``
        the strategy explicitly allowed doses under those floors;
    ``cells_raised_to_resistance_floor``
        cells whose dose was raised to a floor.
    """

    field_area_ha: float
    sprayable_area_ha: float
    treated_area_ha: float
    product_total: list[float]
    broadcast_total: list[float]
    saving_pct: list[float]
    product_names: list[str] = field(default_factory=list)
    product_units: list[str] = field(default_factory=list)
    product_saved: list[float] = field(default_factory=list)
    herbicide_cost: float = 0.0
    money_saved: float = 0.0
    species: list[str] = field(default_factory=list)
    weeds_untreated: list[float] = field(default_factory=list)
    weeds_surviving: list[float] = field(default_factory=list)
    control_pct: list[float | None] = field(default_factory=list)
    yield_loss_untreated_pct: float = 0.0
    yield_loss_pct: float = 0.0
    yield_loss_broadcast_pct: float = 0.0
    yield_loss_vs_untreated_pct: float = 0.0
    yield_loss_vs_broadcast_pct: float = 0.0
    spray_volume_l: float = 0.0
    tank_loads: int = 0
    min_rate_rule: str = "raise_to_min"
    cells_raised_to_min: int = 0
    cells_skipped_below_min: int = 0
    cells_target_unreached: int = 0
    block_m: list[float] = field(default_factory=list)
    economic_unsourced_species: list[str] = field(default_factory=list)
    economic_seed_term_species: list[str] = field(default_factory=list)
    resistance_floor_pct: list[float | None] = field(default_factory=list)
    resistance_floors_overridden: bool = False
    cells_raised_to_resistance_floor: int = 0
    # Weed-map coverage of the field (set by the pipeline): areas in ha, the
    # rule for uncovered cells and the coverage below which it refuses.
    coverage_pct: float = 100.0
    covered_area_ha: float | None = None
    uncovered_area_ha: float = 0.0
    uncovered: str | None = None
    min_coverage_pct: float | None = None

    def as_dict(self) -> dict[str, object]:
        """The summary as plain JSON-able values (floats, ints, strings, lists, None)."""
        return asdict(self)


@dataclass
class Prescription:
    """Rates per product and cell in canonical units: ``rates[k, row, col]``.

    Cells outside the field are ``NaN``; cells in the field but not sprayed are 0.
    ``compliance`` lists every check made: dicts with ``check``, ``outcome``
    (``pass``, ``fail``, ``warning`` — a check the label needs that could not be
    made, or an explicit override — or ``info``) and ``detail``.
    """

    grid: GridSpec
    products: Sequence[ProductLabel]
    rates: np.ndarray
    summary: Summary
    compliance: list[dict[str, object]] = field(default_factory=list)


# --------------------------------------------------------------------------- checks


def _note(compliance: list[dict[str, object]], check: str, outcome: str, detail: str) -> None:
    compliance.append({"check": check, "outcome": outcome, "detail": detail})


def _check_crop(products: Sequence[ProductLabel], crop: str | None, bbch: int | None,
                compliance: list[dict[str, object]]) -> None:
    for p in products:
        if not p.crops:
            _note(compliance, "crop_stage", "pass", f"{p.name}: label sets no crop restriction")
            continue
        if crop is None:
            _note(compliance, "crop_stage", "info",
                  f"{p.name}: label restricts crops ({', '.join(sorted(p.crops))}); "
                  "no crop given, not checked")
            continue
        if crop not in p.crops:
            raise DosingError(
                f"{p.name} is not labelled for crop {crop!r}; labelled crops: {', '.join(sorted(p.crops))}"
            )
        limit = p.crops[crop]
        if limit is None:
            _note(compliance, "crop_stage", "pass", f"{p.name}: labelled for {crop}, no stage limit")
        elif bbch is None:
            # The label restricts stages and nobody checked: the agronomist must, before spraying.
            _note(compliance, "crop_stage", "warning",
                  f"{p.name}: labelled for {crop} only up to BBCH {limit}; the field's growth stage is not "
                  f"given, so the label's stage limit was not checked: check the crop stage before spraying")
        elif bbch > limit:
            raise DosingError(
                f"{p.name} is labelled for {crop} only up to BBCH {limit}; the crop is at BBCH {bbch}"
            )
        else:
            _note(compliance, "crop_stage", "pass", f"{p.name}: {crop} at BBCH {bbch} <= {limit}")


def _check_masks(products: Sequence[ProductLabel], masks: FieldMasks,
                 compliance: list[dict[str, object]]) -> None:
    if masks.buffers_m is None:
        _note(compliance, "buffer_zones", "info", "masks do not record their buffers; not checked")
    else:
        for p in products:
            for kind, dist in p.buffers_m.items():
                if masks.buffers_m.get(kind, 0.0) + 1e-9 < dist:
                    raise DosingError(
                        f"{p.name} needs a {dist:g} m buffer around {kind} but the masks were built "
                        f"with {masks.buffers_m.get(kind, 0.0):g} m; "
                        "rebuild them with every product of the mix"
                    )
        _note(compliance, "buffer_zones", "pass",
              "no-spray buffers applied: "
              + (", ".join(f"{k} {v:g} m" for k, v in sorted(masks.buffers_m.items())) or "none required"))
    need = max((p.downwind_buffer_m for p in products), default=0.0)
    if need <= 0:
        return
    if masks.downwind_buffer_m is None:
        _note(compliance, "downwind_buffer", "info",
              f"{need:g} m downwind buffer required; masks do not record it, not checked")
    elif masks.downwind_buffer_m + 1e-9 < need:
        raise DosingError(
            f"the mix needs a {need:g} m downwind buffer but the masks were built with "
            f"{masks.downwind_buffer_m:g} m; rebuild them with every product of the mix"
        )
    elif masks.wind_from_deg is None:
        _note(compliance, "downwind_buffer", "pass",
              f"{need:g} m downwind buffer laid all round the field edge (wind direction unknown)")
    else:
        _note(compliance, "downwind_buffer", "pass",
              f"{need:g} m buffer downwind of wind from {masks.wind_from_deg:g} deg")


def _season_left(products: Sequence[ProductLabel], season_used: Mapping[str, float] | None,
                 compliance: list[dict[str, object]]) -> list[float | None]:
    used = dict(season_used or {})
    unknown = set(used) - {p.name for p in products}
    if unknown:
        raise DosingError(f"season_used names products not in the mix: {', '.join(sorted(unknown))}")
    left: list[float | None] = []
    for p in products:
        u = float(used.get(p.name, 0.0))
        if u < 0:
            raise DosingError(f"season_used for {p.name} must not be negative")
        if p.max_season_rate is None:
            left.append(None)
            _note(compliance, "season_max", "pass", f"{p.name}: label sets no season maximum")
            continue
        rest = p.max_season_rate - u
        if rest <= 0 or rest < p.min_rate:
            raise DosingError(
                f"{p.name}: {u:g} of the season maximum {p.max_season_rate:g} {p.canonical_unit} is used; "
                f"{max(rest, 0.0):g} left is below the label minimum {p.min_rate:g}"
            )
        left.append(rest)
        _note(compliance, "season_max", "pass",
              f"{p.name}: at most {min(rest, p.max_rate):g} {p.canonical_unit} this application "
              f"({u:g} of {p.max_season_rate:g} used this season)")
    return left


# --------------------------------------------------------------------------- the engine


def _f32_at_most(x: float) -> np.float32:
    v = np.float32(x)
    return v if float(v) <= x else np.nextafter(v, np.float32(-np.inf))


def _f32_at_least(x: float) -> np.float32:
    v = np.float32(x)
    return v if float(v) >= x else np.nextafter(v, np.float32(np.inf))


def _check_inputs(densities_plants_m2: Mapping[str, np.ndarray], grid: GridSpec, masks: FieldMasks,
                  products: Sequence[ProductLabel]) -> None:
    if not products:
        raise DosingError("at least one product is needed")
    names = [p.name for p in products]
    if len(set(names)) != len(names):
        raise DosingError(f"a product appears twice in the mix: {names}")
    for code, arr in densities_plants_m2.items():
        if getattr(arr, "shape", None) != grid.shape:
            raise DosingError(
                f"density grid of {code} has shape {getattr(arr, 'shape', None)}, grid is {grid.shape}"
            )
    for name, arr in (("in_field", masks.in_field), ("sprayable", masks.sprayable),
                      ("full_rate", masks.full_rate if masks.full_rate is not None else masks.in_field)):
        if arr.shape != grid.shape:
            raise DosingError(f"mask {name} has shape {arr.shape}, grid is {grid.shape}")


def _reference_rates(products: Sequence[ProductLabel], strategy: Strategy,
                     season_left: Sequence[float | None]) -> list[float]:
    """The tank ratio (and the rate of broadcast/threshold): the strategy's rates or each label maximum."""
    if not strategy.rates:
        return [p.max_rate for p in products]
    if len(strategy.rates) != len(products):
        raise DosingError(f"strategy.rates has {len(strategy.rates)} values for {len(products)} products")
    ref = [float(r) for r in strategy.rates]
    for p, r, left in zip(products, ref, season_left, strict=True):
        cap = p.max_rate if left is None else min(p.max_rate, left)
        if not p.min_rate <= r <= cap:
            raise DosingError(
                f"rate {r:g} {p.canonical_unit} for {p.name} is outside the label range "
                f"[{p.min_rate:g}, {cap:g}] {p.canonical_unit}"
                + ("" if cap == p.max_rate else " left this season")
            )
    return ref


def _product_prices(products: Sequence[ProductLabel], strategy: Strategy) -> list[float]:
    if not strategy.product_prices_per_unit:
        return [p.price_per_unit for p in products]
    if len(strategy.product_prices_per_unit) != len(products):
        raise DosingError(
            f"product_prices_per_unit has {len(strategy.product_prices_per_unit)} values "
            f"for {len(products)} products"
        )
    return [float(v) for v in strategy.product_prices_per_unit]


def _block_layout(grid: GridSpec, sprayer: SprayerProfile | None) -> tuple[BlockLayout, int]:
    """Sprayer blocks on the grid, and the block columns padded to whole booms."""
    if sprayer is None:
        rows_per_block = cols_per_block = 1
        blocks_per_boom = 1
    else:
        rows_per_block, cols_per_block = block_shape(sprayer, grid.cell_size_m)
        blocks_per_boom = max(1, round(sprayer.boom_width_m / (cols_per_block * grid.cell_size_m)))
    n_rows, n_cols = grid.shape
    block_cols = -(-n_cols // cols_per_block)
    layout = BlockLayout(rows_per_block=rows_per_block, cols_per_block=cols_per_block,
                         block_rows=-(-n_rows // rows_per_block), block_cols=block_cols)
    return layout, -(-block_cols // blocks_per_boom) * blocks_per_boom


def _species_costs(strategy: Strategy, species: Sequence[str],
                   competitive_index: Sequence[float]) -> tuple[list[SpeciesCost], list[str], list[str]]:
    """Per species constants of yield loss and seed cost; species on unsourced defaults; species with seeds."""
    value_per_ha = strategy.crop_price_per_t * strategy.expected_yield_t_ha
    costs, unsourced, seeded = [], [], []
    for code, ci in zip(species, competitive_index, strict=True):
        p = strategy.species_economics.get(code)
        if p is None:
            p = SpeciesEconomics(strategy.cousens_i_pct_per_plant_m2 * ci, strategy.cousens_a_pct)
        if not p.source:
            unsourced.append(code)
        per_seed = seed_cost_per_seed(p, crop_value_per_ha=value_per_ha, seasons=strategy.seasons_ahead,
                                      discount_rate=strategy.discount_rate,
                                      next_control=strategy.next_season_control)
        if per_seed * p.seeds_per_plant > 0:
            seeded.append(code)
        costs.append(SpeciesCost(i_pct=p.cousens_i_pct,
                                 i_over_a=p.cousens_i_pct / p.cousens_a_pct if p.cousens_a_pct > 0 else 0.0,
                                 seed_cost_per_plant=per_seed * p.seeds_per_plant,
                                 seed_density_a_m2=p.seed_density_a_m2))
    return costs, unsourced, seeded


def _resistance_floors(strategy: Strategy, products: Sequence[ProductLabel], species: Sequence[str],
                       ref: Sequence[float], mix: TankMix) -> tuple[list[tuple[int, float]], list[float | None]]:
    """Floors as dose scales per species index, and per species the floor in % of the label maximum.

    A floor of fraction ``phi`` on product ``k`` means a scale of at least
    ``phi * max_rate_k / ref_k``; never above the mix's maximum scale.
    """
    unknown = set(strategy.resistance_floors) - {p.name for p in products}
    if unknown:
        raise DosingError(f"resistance_floors name products not in the mix: {', '.join(sorted(unknown))}")
    scales: list[tuple[int, float]] = []
    pct: list[float | None] = []
    for j, code in enumerate(species):
        best_scale, best_pct = 0.0, None
        for p, r in zip(products, ref, strict=True):
            frac = strategy.resistance_floors.get(p.name, {}).get(code)
            if frac is None:
                continue
            scale = min(frac * p.max_rate / r, mix.lam_max)
            if scale >= best_scale:
                best_scale, best_pct = scale, 100.0 * frac
        pct.append(best_pct)
        if best_pct is not None and best_scale > 0:
            scales.append((j, best_scale))
    return scales, pct


def _dose_kernel(strategy: Strategy, ctx: DoseContext, mix: TankMix, species_cost: Sequence[SpeciesCost],
                 price_per_scale: float) -> BroadcastKernel | ThresholdKernel | TargetEfficacyKernel | \
        EconomicKernel:
    if strategy.name == "broadcast":
        return BroadcastKernel(ctx)
    if strategy.name == "threshold":
        return ThresholdKernel(ctx, strategy.threshold_plants_m2)
    if strategy.name == "target_efficacy":
        return TargetEfficacyKernel(ctx, mix, control_target=strategy.control_target,
                                    control_min=strategy.control_min,
                                    half_density_plants_m2=strategy.control_half_density_plants_m2,
                                    presence_plants_m2=strategy.presence_plants_m2)
    candidates = [
        EconomicCandidate(
            scale=float(s),
            cost_per_ha=price_per_scale * float(s) + (strategy.application_cost_per_ha if s > 0 else 0.0),
            survival=tuple(np.float32(mix.survival(code, float(s))) for code in ctx.species),
        )
        for s in np.linspace(ctx.scale_min, ctx.scale_max, strategy.economic_candidates)
    ]
    return EconomicKernel(ctx, species_cost=species_cost,
                          value_per_pct=strategy.crop_price_per_t * strategy.expected_yield_t_ha / 100.0,
                          candidates=candidates)


def _map_blocks(blocks: np.ndarray, layout: BlockLayout, grid: GridSpec, sprayer: SprayerProfile | None,
                strategy: Strategy, mix: TankMix, products: Sequence[ProductLabel],
                ref: Sequence[float]) -> SprayerMapping:
    """Fit the block scales to the sprayer: sections, patch buffers, rate levels, turndown."""
    mapping = SprayerMapping(blocks=blocks, rows_per_block=1, cols_per_block=1)
    if sprayer is None:
        return mapping
    levels = None
    if sprayer.rate_levels:
        scaled = np.array(sorted(sprayer.rate_levels), dtype=np.float64) / ref[0]
        legal = scaled[(scaled >= mix.lam_min * (1 - 1e-9)) & (scaled <= mix.lam_max * (1 + 1e-9))]
        legal = np.clip(legal, mix.lam_min, mix.lam_max)
        if legal.size == 0:
            raise DosingError(
                "no rate level of the sprayer ("
                f"{', '.join(f'{v:g}' for v in sorted(sprayer.rate_levels))} "
                f"{products[0].canonical_unit} of {products[0].name}) lies within the label range "
                f"[{mix.lam_min * ref[0]:g}, {mix.lam_max * ref[0]:g}]"
            )
        levels = legal
    if strategy.name != "broadcast" or levels is not None:
        mapping = map_to_sprayer(blocks, sprayer, rows_per_block=layout.rows_per_block,
                                 cols_per_block=layout.cols_per_block, cell_size_m=grid.cell_size_m,
                                 lam_min=mix.lam_min, levels_scale=levels)
    mapping.rows_per_block, mapping.cols_per_block = layout.rows_per_block, layout.cols_per_block
    return mapping


def _build_summary(*, grid: GridSpec, in_field: np.ndarray, spray_ok: np.ndarray,
                   products: Sequence[ProductLabel], species: Sequence[str], mix: TankMix,
                   ref: Sequence[float], scale_ref: float, prices: Sequence[float], strategy: Strategy,
                   sprayer: SprayerProfile | None, dose: DoseStats, emitted: EmitStats,
                   layout: BlockLayout) -> Summary:
    cell_ha = grid.cell_area_ha
    n_field = int(np.count_nonzero(in_field))
    spray_ha = int(np.count_nonzero(spray_ok)) * cell_ha
    scale_area_ha = emitted.scale_sum * cell_ha
    totals = [scale_area_ha * r for r in ref]
    bcast = [scale_ref * r * spray_ha for r in ref]
    saved = [b_ - t_ for b_, t_ in zip(bcast, totals, strict=True)]
    treated_ha = emitted.treated_cells * cell_ha
    cell_m2 = grid.cell_area_m2
    untreated = [v * cell_m2 for v in emitted.density_sum]
    surviving = [(d - k) * cell_m2 for d, k in zip(emitted.density_sum, emitted.killed_sum, strict=True)]
    control = [100.0 * (1.0 - sv / un) if un > 0 and mix.has_curve(s) else None
               for s, un, sv in zip(species, untreated, surviving, strict=True)]

    def mean_over_field(total: float) -> float:
        return total / n_field if n_field else 0.0

    loss_untreated = mean_over_field(emitted.yield_loss_untreated_sum)
    loss = mean_over_field(emitted.yield_loss_sum)
    loss_broadcast = mean_over_field(emitted.yield_loss_broadcast_sum)
    volume = treated_ha * (sprayer.carrier_l_ha if sprayer else 0.0)
    raise_rule = strategy.min_rate_rule == "raise_to_min"
    return Summary(
        field_area_ha=n_field * cell_ha,
        sprayable_area_ha=spray_ha,
        treated_area_ha=treated_ha,
        product_total=totals,
        broadcast_total=bcast,
        saving_pct=[100.0 * s_ / b_ if b_ > 0 else 0.0 for s_, b_ in zip(saved, bcast, strict=True)],
        product_names=[p.name for p in products],
        product_units=[p.canonical_unit.split("/")[0] for p in products],
        product_saved=saved,
        herbicide_cost=sum(pr * t_ for pr, t_ in zip(prices, totals, strict=True)),
        money_saved=sum(pr * s_ for pr, s_ in zip(prices, saved, strict=True)),
        species=list(species),
        weeds_untreated=untreated,
        weeds_surviving=surviving,
        control_pct=control,
        yield_loss_untreated_pct=loss_untreated,
        yield_loss_pct=loss,
        yield_loss_broadcast_pct=loss_broadcast,
        yield_loss_vs_untreated_pct=loss - loss_untreated,
        yield_loss_vs_broadcast_pct=loss - loss_broadcast,
        spray_volume_l=volume,
        tank_loads=math.ceil(volume / sprayer.tank_l - 1e-9) if sprayer else 0,
        min_rate_rule=strategy.min_rate_rule,
        cells_raised_to_min=dose.cells_below_min if raise_rule else 0,
        cells_skipped_below_min=0 if raise_rule else dose.cells_below_min,
        cells_target_unreached=dose.cells_target_unreached,
        block_m=[layout.rows_per_block * grid.cell_size_m, layout.cols_per_block * grid.cell_size_m],
    )


def _result_compliance(compliance: list[dict[str, object]], *, products: Sequence[ProductLabel],
                       mix: TankMix, rate_floors: Sequence[np.float32], strategy: Strategy,
                       dose: DoseStats, emitted: EmitStats, grid: GridSpec, layout: BlockLayout,
                       sprayer: SprayerProfile | None, mapping: SprayerMapping) -> None:
    """Checks of the result itself: caps, minima, zones, and what the rules changed."""
    for k, p in enumerate(products):
        top, low = emitted.max_rate[k], emitted.min_sprayed_rate[k]
        cap = mix.caps[k]
        _note(compliance, "max_rate", "pass" if top <= cap else "fail",
              f"{p.name}: highest cell rate {top:g} {p.canonical_unit}, cap {cap:g}")
        ok_min = emitted.treated_cells == 0 or low >= float(rate_floors[k])
        _note(compliance, "min_rate", "pass" if ok_min else "fail",
              f"{p.name}: lowest sprayed rate {low if emitted.treated_cells else 0:g}, label minimum "
              f"{p.min_rate:g} {p.canonical_unit}")
        zone = emitted.max_rate_in_zones[k]
        _note(compliance, "no_spray_zones", "pass" if zone == 0 else "fail",
              f"{p.name}: highest rate in buffers and on the field edge {zone:g} {p.canonical_unit}")
    raise_rule = strategy.min_rate_rule == "raise_to_min"
    detail = (f"rule {strategy.min_rate_rule}: {dose.cells_below_min} cells needed less than the label "
              "minimum and were " + ("raised to it" if raise_rule else "left unsprayed"))
    _note(compliance, "min_rate_rule", "info", detail)
    if strategy.name == "target_efficacy" and dose.cells_target_unreached:
        _note(compliance, "control_target", "info",
              f"{dose.cells_target_unreached} cells need more than the label allows for the control "
              "target; dosed at the maximum")
    if sprayer is not None:
        fr, fc = layout.rows_per_block, layout.cols_per_block
        _note(compliance, "sprayer_blocks", "info",
              f"blocks of {fr} x {fc} cells ({fr * grid.cell_size_m:g} m along track x "
              f"{fc * grid.cell_size_m:g} m across); travel assumed north-south; "
              f"patch buffer {mapping.buffer_blocks[0]} x {mapping.buffer_blocks[1]} blocks; "
              f"{mapping.patches_enlarged} patches enlarged to {sprayer.min_patch_m2:g} m2")
        if sprayer.rate_levels:
            _note(compliance, "rate_levels", "info" if mapping.level_capped else "pass",
                  f"rates snapped up to sprayer levels; {mapping.level_capped} blocks needed more than the "
                  "highest legal level and were capped at it")
        _note(compliance, "turndown", "info",
              f"{mapping.turndown_raised} blocks raised to the boom's turndown floor "
              f"(1/{sprayer.turndown_ratio:g} of the highest rate across the boom)")


def _agronomy_compliance(compliance: list[dict[str, object]], *, strategy: Strategy, species: Sequence[str],
                         floor_pct: Sequence[float | None], floors_apply: bool,
                         floor_scales: Sequence[tuple[int, float]], scale_ref: float, dose: DoseStats,
                         unsourced: Sequence[str], seeded: Sequence[str]) -> None:
    """Resistance floors and the sources of the economic parameters, as checks an adviser can read."""
    floored = [f"{s} {p:g} %" for s, p in zip(species, floor_pct, strict=True) if p is not None]
    if floored:
        if strategy.override_resistance_floors:
            _note(compliance, "resistance_floor", "info",
                  "resistance floors OVERRIDDEN by the strategy (doses below them allowed): " + ", ".join(floored))
        elif floors_apply:
            _note(compliance, "resistance_floor", "pass",
                  f"sprayed cells with a resistance-prone species get at least {', '.join(floored)} of the label "
                  f"maximum; {dose.cells_raised_to_floor} cells raised to a floor")
        else:
            low = [species[j] for j, sc in floor_scales if scale_ref < sc * (1 - 1e-9)]
            _note(compliance, "resistance_floor", "fail" if low else "pass",
                  f"{strategy.name} sprays the reference rate; floors {', '.join(floored)}"
                  + (f"; the reference rate is below the floor for {', '.join(low)}" if low else ""))
    if strategy.name == "economic":
        _note(compliance, "economic_parameters", "info" if unsourced else "pass",
              ("yield-loss parameters without a source (defaults used): " + ", ".join(unsourced))
              if unsourced else "yield-loss parameters of every species have a source")
        if strategy.seasons_ahead > 0:
            no_seed = [s for s in species if s not in seeded]
            _note(compliance, "economic_seasons", "info",
                  f"seed return costed over {strategy.seasons_ahead} seasons at {100 * strategy.discount_rate:g} % "
                  f"discount for {', '.join(seeded) or 'no species'}"
                  + (f"; no seed data (this season only) for {', '.join(no_seed)}" if no_seed else ""))


def prescribe(densities_plants_m2: Mapping[str, np.ndarray], grid: GridSpec, masks: FieldMasks,
              products: Sequence[ProductLabel], strategy: Strategy,
              sprayer: SprayerProfile | None = None, *,
              season_used: Mapping[str, float] | None = None, crop: str | None = None,
              growth_stage_bbch: int | None = None, threads: int | None = None,
              timings: dict[str, float] | None = None) -> Prescription:
    """Decide the rate of every cell for every product of a tank mix.

    Parameters
    ----------
    densities_plants_m2
        Species code -> grid of plants/m² shaped like ``grid`` (NaN = no data,
        counted as no weeds).
    grid, masks
        The dosing grid and its masks (:func:`app.dosing.masks.build_masks`).
    products
        The tank mix; rates stay inside each product's own label.
    strategy
        How doses are chosen (:class:`Strategy`).
    sprayer
        Sections, along-track resolution, patch buffer, rate levels (in the
        canonical unit of ``products[0]``; the others follow at the tank
        ratio), turndown, tank. ``None``: an ideal sprayer at cell resolution.
    season_used
        Product name -> amount (canonical unit per ha) already applied this
        season; the rest of ``max_season_rate`` caps this application.
    crop, growth_stage_bbch
        Checked against ``ProductLabel.crops``.
    threads
        Worker threads (default: CPU count, at most 4).
    timings
        If given, filled with the wall time (s) of each stage: ``dose``,
        ``sprayer``, ``emit`` (rates, masking and totals).

    Returns
    -------
    Prescription
        ``rates`` float32 ``[n_products, rows, cols]`` in canonical units
        (NaN outside the field, 0 where not sprayed), ``summary`` and
        ``compliance``.

    Raises
    ------
    DosingError
        When the prescription cannot be made within the label, with the reason.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> from app.dosing.masks import FieldMasks
    >>> g = GridSpec(crs="EPSG:32631", x0_m=0.0, y0_m=3.0, cell_size_m=1.0, n_rows=3, n_cols=3)
    >>> m = FieldMasks(np.ones((3, 3), bool), np.ones((3, 3), bool), shapely.Polygon())
    >>> dens = {"SINAR": np.array([[0, 0, 0], [0, 5, 0], [0, 0, 0]], np.float32)}
    >>> p = prescribe(dens, g, m, [ProductLabel("A", "L/ha", 0.5, 2.0)], Strategy(name="threshold"))
    >>> p.rates[0].tolist()
    [[0.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]
    >>> round(p.summary.saving_pct[0], 1)
    88.9
    """
    _check_inputs(densities_plants_m2, grid, masks, products)
    species = list(densities_plants_m2)
    densities = [densities_plants_m2[s] for s in species]
    n_rows, n_cols = grid.shape
    threads = threads or min(4, os.cpu_count() or 1)
    in_field = masks.in_field.astype(bool, copy=False)
    spray_ok = masks.sprayable.astype(bool, copy=False)
    stage = timings if timings is not None else {}

    # ---- label checks before any cell is dosed -----------------------------
    compliance: list[dict[str, object]] = []
    _check_crop(products, crop, growth_stage_bbch, compliance)
    _check_masks(products, masks, compliance)
    season_left = _season_left(products, season_used, compliance)
    ref = _reference_rates(products, strategy, season_left)
    mix = TankMix(products, ref, season_left=season_left)
    if mix.lam_min > mix.lam_max * (1 + 1e-12):
        raise DosingError(
            "no dose of this tank mix keeps every product within its label: at the mix ratio "
            f"{', '.join(f'{p.name} {r:g}' for p, r in zip(products, ref, strict=True))} the minimum "
            "of one product needs more than another's maximum"
        )
    scale_ref = min(1.0, mix.lam_max)
    _note(compliance, "label_rate_range", "pass",
          "; ".join(f"{p.name} {p.min_rate:g}-{c:g} {p.canonical_unit}"
                    for p, c in zip(products, mix.caps, strict=True)))
    if len(products) > 1:
        _note(compliance, "tank_mix", "info",
              "tank ratio " + ", ".join(f"{p.name} {r:g} {p.canonical_unit}"
                                        for p, r in zip(products, ref, strict=True))
              + "; efficacy by concentration addition")
    if strategy.name in ("target_efficacy", "economic"):
        for s in species:
            if not mix.has_curve(s):
                raise DosingError(
                    f"species {s!r} has no dose-response curve in any product of the mix "
                    f"({', '.join(p.name for p in products)}); {strategy.name} needs one for every "
                    "species mapped"
                )
    prices = _product_prices(products, strategy)
    competitive_index = [float(strategy.competitive_index.get(s, 1.0)) for s in species]
    species_cost, unsourced, seeded = _species_costs(strategy, species, competitive_index)
    floor_scales, floor_pct = _resistance_floors(strategy, products, species, ref, mix)
    floors_apply = strategy.name in ("target_efficacy", "economic") and not strategy.override_resistance_floors

    # ---- dosing: one dose scale per cell ----------------------------------
    layout, padded_block_cols = _block_layout(grid, sprayer)
    scale_padded = np.zeros((layout.block_rows * layout.rows_per_block,
                             layout.block_cols * layout.cols_per_block), dtype=np.float32)
    ctx = DoseContext(densities=densities, species=species, sprayable=spray_ok,
                      scale=scale_padded[:n_rows, :n_cols], scale_min=mix.lam_min, scale_max=mix.lam_max,
                      scale_ref=scale_ref, raise_to_min=strategy.min_rate_rule == "raise_to_min",
                      presence_plants_m2=strategy.presence_plants_m2,
                      floors=floor_scales if floors_apply else ())
    price_per_scale = sum(pr * r for pr, r in zip(prices, ref, strict=True))   # currency/ha per unit scale
    kernel = _dose_kernel(strategy, ctx, mix, species_cost, price_per_scale)
    clock = time.perf_counter()
    dose = run_chunks(kernel, n_rows, n_cols, align=1, threads=threads)
    stage["dose"] = time.perf_counter() - clock
    if masks.full_rate is not None:
        # Cells with no weed data that the caller chose to broadcast: the reference rate, buffers still masked.
        np.copyto(ctx.scale, np.float32(scale_ref), where=masks.full_rate & spray_ok)

    # ---- sprayer mapping on blocks ----------------------------------------
    clock = time.perf_counter()
    blocks = aggregate_blocks(scale_padded, layout.rows_per_block, layout.cols_per_block, padded_block_cols)
    mapping = _map_blocks(blocks, layout, grid, sprayer, strategy, mix, products, ref)
    stage["sprayer"] = time.perf_counter() - clock

    # ---- rates, masking after mapping, and totals -------------------------
    clock = time.perf_counter()
    rates = np.empty((len(products), n_rows, n_cols), dtype=np.float32)
    caps32 = [_f32_at_most(c) for c in mix.caps]
    # The cap is law. Where the label minimum equals the maximum (single-rate
    # labels) and float32 cannot hold it, the minimum may round up past the cap:
    # then cells get the cap, one float32 step (~1e-7 relative) under the minimum.
    floors32 = [min(_f32_at_least(p.min_rate), hi) for p, hi in zip(products, caps32, strict=True)]
    emit = EmitKernel(blocks=blocks, layout=layout, scale_padded=scale_padded, rates=rates,
                      in_field=in_field, sprayable=spray_ok, mix=mix, species=species, densities=densities,
                      ref_rates=ref, rate_caps=caps32, rate_floors=floors32,
                      species_cost=species_cost, scale_ref=scale_ref)
    emitted = run_chunks(emit, n_rows, n_cols, align=layout.rows_per_block, threads=threads)
    stage["emit"] = time.perf_counter() - clock

    summary = _build_summary(grid=grid, in_field=in_field, spray_ok=spray_ok, products=products,
                             species=species, mix=mix, ref=ref, scale_ref=scale_ref, prices=prices,
                             strategy=strategy, sprayer=sprayer, dose=dose, emitted=emitted, layout=layout)
    summary.economic_unsourced_species = unsourced
    summary.economic_seed_term_species = seeded if strategy.name == "economic" else []
    summary.resistance_floor_pct = floor_pct
    summary.resistance_floors_overridden = strategy.override_resistance_floors and any(
        v is not None for v in floor_pct)
    summary.cells_raised_to_resistance_floor = dose.cells_raised_to_floor
    _agronomy_compliance(compliance, strategy=strategy, species=species, floor_pct=floor_pct,
                         floors_apply=floors_apply, floor_scales=floor_scales, scale_ref=scale_ref, dose=dose,
                         unsourced=unsourced, seeded=seeded)
    _result_compliance(compliance, products=products, mix=mix, rate_floors=floors32, strategy=strategy,
                       dose=dose, emitted=emitted, grid=grid, layout=layout, sprayer=sprayer, mapping=mapping)
    return Prescription(grid=grid, products=products, rates=rates, summary=summary, compliance=compliance)
