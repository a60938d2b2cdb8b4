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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from app.dosing.errors import DosingError
from app.dosing.grid import GridSpec
from app.dosing.label import ProductLabel
from app.dosing.masks import FieldMasks
from app.dosing.mixture import TankMix
from app.dosing.sprayer import SprayerMapping, SprayerProfile, aggregate_blocks, block_shape, map_to_sprayer
from app.dosing.yield_loss import cousens_yield_loss_pct

__all__ = ["DosingError", "MIN_RATE_RULES", "Prescription", "STRATEGIES", "Strategy", "Summary", "prescribe"]

StrategyName = Literal["broadcast", "threshold", "target_efficacy", "economic"]
STRATEGIES: tuple[str, ...] = ("broadcast", "threshold", "target_efficacy", "economic")
MinRateRule = Literal["raise_to_min", "skip"]
MIN_RATE_RULES: tuple[str, ...] = ("raise_to_min", "skip")

_CHUNK_CELLS = 1 << 16   # ~256 KB per float32 buffer: a chunk's working set stays in L2


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
    (``pass``, ``fail`` or ``info``) and ``detail``.
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
            _note(compliance, "crop_stage", "info",
                  f"{p.name}: {crop} up to BBCH {limit}; growth stage not given, not checked")
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


# --------------------------------------------------------------------------- chunked runs


def _bands(n_rows: int, align: int, n_threads: int) -> list[tuple[int, int]]:
    blocks = -(-n_rows // align)
    per = -(-blocks // n_threads)
    return [(b * align, min((b + per) * align, n_rows)) for b in range(0, blocks, per)]


def _run(kernel: Callable[[int, int, dict[str, np.ndarray]], dict[str, float]], n_rows: int,
         n_cols: int, align: int, threads: int, buffers: Sequence[tuple[str, Any]]) -> dict[str, float]:
    """Run ``kernel(r0, r1, bufs)`` over aligned row chunks, one band per thread; sum its dicts."""
    step = max(align, (_CHUNK_CELLS // max(n_cols, 1)) // align * align)

    def band(r0: int, r1: int) -> dict[str, float]:
        bufs = {name: np.empty((step, *(shape if isinstance(shape, tuple) else (n_cols,))),
                               dtype=np.bool_ if name.startswith("b_") else np.float32)
                for name, shape in buffers}
        acc: dict[str, float] = {}
        with np.errstate(all="ignore"):
            for c0 in range(r0, r1, step):
                _merge(acc, kernel(c0, min(c0 + step, r1), bufs))
        return acc

    spans = _bands(n_rows, align, threads)
    if len(spans) == 1:
        parts = [band(*spans[0])]
    else:
        with ThreadPoolExecutor(max_workers=len(spans)) as pool:
            parts = list(pool.map(lambda s: band(*s), spans))
    total: dict[str, float] = {}
    for part in parts:
        _merge(total, part)
    return total


def _merge(acc: dict[str, float], part: dict[str, float]) -> None:
    """Add chunk statistics into ``acc``; keys starting ``max_`` keep the maximum."""
    for k, v in part.items():
        if k.startswith("max_"):
            acc[k] = max(acc.get(k, -math.inf), v)
        else:
            acc[k] = acc.get(k, 0.0) + v


# --------------------------------------------------------------------------- the engine


def _f32_at_most(x: float) -> np.float32:
    v = np.float32(x)
    return v if float(v) <= x else np.nextafter(v, np.float32(-np.inf))


def _f32_at_least(x: float) -> np.float32:
    v = np.float32(x)
    return v if float(v) >= x else np.nextafter(v, np.float32(np.inf))


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
    if not products:
        raise DosingError("at least one product is needed")
    names = [p.name for p in products]
    if len(set(names)) != len(names):
        raise DosingError(f"a product appears twice in the mix: {names}")
    species = list(densities_plants_m2)
    dens = [densities_plants_m2[s] for s in species]
    for code, arr in zip(species, dens, strict=True):
        if getattr(arr, "shape", None) != grid.shape:
            raise DosingError(
                f"density grid of {code} has shape {getattr(arr, 'shape', None)}, grid is {grid.shape}"
            )
    for name, arr in (("in_field", masks.in_field), ("sprayable", masks.sprayable),
                      ("full_rate", masks.full_rate if masks.full_rate is not None else masks.in_field)):
        if arr.shape != grid.shape:
            raise DosingError(f"mask {name} has shape {arr.shape}, grid is {grid.shape}")
    n_rows, n_cols = grid.shape
    threads = threads or min(4, os.cpu_count() or 1)
    in_field = masks.in_field.astype(bool, copy=False)
    spray_ok = masks.sprayable.astype(bool, copy=False)

    stage = timings if timings is not None else {}
    compliance: list[dict[str, object]] = []
    _check_crop(products, crop, growth_stage_bbch, compliance)
    _check_masks(products, masks, compliance)
    season_left = _season_left(products, season_used, compliance)

    # Reference rates: the tank ratio, and the rate of broadcast/threshold.
    if strategy.rates:
        if len(strategy.rates) != len(products):
            raise DosingError(
                f"strategy.rates has {len(strategy.rates)} values for {len(products)} products"
            )
        ref = [float(r) for r in strategy.rates]
        for p, r, left in zip(products, ref, season_left, strict=True):
            cap = p.max_rate if left is None else min(p.max_rate, left)
            if not p.min_rate <= r <= cap:
                raise DosingError(
                    f"rate {r:g} {p.canonical_unit} for {p.name} is outside the label range "
                    f"[{p.min_rate:g}, {cap:g}] {p.canonical_unit}"
                    + ("" if cap == p.max_rate else " left this season")
                )
    else:
        ref = [p.max_rate for p in products]
    mix = TankMix(products, ref, season_left=season_left)
    if mix.lam_min > mix.lam_max * (1 + 1e-12):
        raise DosingError(
            "no dose of this tank mix keeps every product within its label: at the mix ratio "
            f"{', '.join(f'{p.name} {r:g}' for p, r in zip(products, ref, strict=True))} the minimum "
            "of one product needs more than another's maximum"
        )
    lam_min, lam_max = mix.lam_min, mix.lam_max
    lam_ref = min(1.0, lam_max)
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
                    f"({', '.join(names)}); {strategy.name} needs one for every species mapped"
                )

    # ---- sprayer geometry -------------------------------------------------
    if sprayer is None:
        fr = fc = 1
        nb = 1
    else:
        fr, fc = block_shape(sprayer, grid.cell_size_m)
        nb = max(1, round(sprayer.boom_width_m / (fc * grid.cell_size_m)))
    rb, cb = -(-n_rows // fr), -(-n_cols // fc)
    cb_pad = -(-cb // nb) * nb
    lam_p = np.zeros((rb * fr, cb * fc), dtype=np.float32)   # dose scale per cell, padded
    lam = lam_p[:n_rows, :n_cols]

    # ---- dosing: one dose scale per cell --------------------------------
    h = strategy.control_half_density_plants_m2
    span = strategy.control_target - strategy.control_min
    presence = strategy.presence_plants_m2
    f_lam_min, f_lam_max = np.float32(lam_min), np.float32(lam_max)
    raise_rule = strategy.min_rate_rule == "raise_to_min"

    def finish(r0: int, r1: int, out: np.ndarray, b: dict[str, np.ndarray]) -> dict[str, float]:
        n = r1 - r0
        nspr = np.logical_not(spray_ok[r0:r1], out=b["b_0"][:n])
        np.copyto(out, 0.0, where=nspr)
        over = np.greater(out, f_lam_max, out=b["b_1"][:n])
        unreached = int(np.count_nonzero(over))
        np.minimum(out, f_lam_max, out=out)
        below = np.less(out, f_lam_min, out=b["b_1"][:n])
        below &= np.greater(out, 0.0, out=b["b_0"][:n])
        n_below = int(np.count_nonzero(below))
        if n_below:
            np.copyto(out, f_lam_min if raise_rule else np.float32(0.0), where=below)
        return {"unreached": unreached, "below_min": n_below}

    def k_broadcast(r0: int, r1: int, b: dict[str, np.ndarray]) -> dict[str, float]:
        out = lam[r0:r1]
        np.multiply(spray_ok[r0:r1], np.float32(lam_ref), out=out)
        return {}

    def k_threshold(r0: int, r1: int, b: dict[str, np.ndarray]) -> dict[str, float]:
        n = r1 - r0
        out, tot, t = lam[r0:r1], b["f_0"][:n], b["f_1"][:n]
        tot[...] = 0.0
        for d in dens:
            np.fmax(d[r0:r1], 0.0, out=t)
            tot += t
        hit = np.greater_equal(tot, np.float32(strategy.threshold_plants_m2), out=b["b_0"][:n])
        hit &= np.greater(tot, 0.0, out=b["b_1"][:n])
        hit &= spray_ok[r0:r1]
        np.multiply(hit, np.float32(lam_ref), out=out)
        return {}

    def k_target(r0: int, r1: int, b: dict[str, np.ndarray]) -> dict[str, float]:
        n = r1 - r0
        out, c, need = lam[r0:r1], b["f_0"][:n], b["f_1"][:n]
        work = (b["f_2"][:n], b["f_3"][:n])
        here = b["b_0"][:n]
        out[...] = 0.0
        for s, d in zip(species, dens, strict=True):
            dv = d[r0:r1]
            np.greater(dv, presence, out=here)
            if not here.any():
                continue
            # control = target - span * h / (N + h): non-decreasing in N, exactly, in float32
            np.add(dv, np.float32(h), out=c)
            np.divide(np.float32(h), c, out=c)
            c *= np.float32(-span)
            c += np.float32(strategy.control_target)
            mix.scale_for_control(s, c, out=need, work=work)
            np.maximum(out, need, out=out, where=here)
        return finish(r0, r1, out, b)

    def k_economic(r0: int, r1: int, b: dict[str, np.ndarray]) -> dict[str, float]:
        n = r1 - r0
        out, load, best, cost, t = (lam[r0:r1], b["f_0"][:n], b["f_1"][:n], b["f_2"][:n], b["f_3"][:n])
        better = b["b_1"][:n]
        ns = [b[f"n_{j}"][:n] for j in range(len(species))]
        load[...] = 0.0
        for j, d in enumerate(dens):
            np.fmax(d[r0:r1], 0.0, out=ns[j])
            np.multiply(ns[j], np.float32(ci[j]), out=t)
            load += t
        out[...] = 0.0
        cousens_yield_loss_pct(load, yi, ya, out=best)
        best *= np.float32(value_per_pct)
        if not load.any():
            return {}
        for lam_k, herb_k, w_k in candidates:
            load[...] = 0.0
            for j in range(len(species)):
                np.multiply(ns[j], w_k[j], out=t)
                load += t
            cousens_yield_loss_pct(load, yi, ya, out=cost)
            cost *= np.float32(value_per_pct)
            cost += np.float32(herb_k)
            np.less(cost, best, out=better)
            np.copyto(best, cost, where=better)
            np.copyto(out, np.float32(lam_k), where=better)
        return finish(r0, r1, out, b)

    ci = [float(strategy.competitive_index.get(s, 1.0)) for s in species]
    yi, ya = strategy.cousens_i_pct_per_plant_m2, strategy.cousens_a_pct
    value_per_pct = strategy.crop_price_per_t * strategy.expected_yield_t_ha / 100.0
    if strategy.product_prices_per_unit:
        if len(strategy.product_prices_per_unit) != len(products):
            raise DosingError(
                f"product_prices_per_unit has {len(strategy.product_prices_per_unit)} values "
                f"for {len(products)} products"
            )
        prices = [float(v) for v in strategy.product_prices_per_unit]
    else:
        prices = [p.price_per_unit for p in products]
    price_per_scale = sum(pr * r for pr, r in zip(prices, ref, strict=True))   # currency/ha per unit scale
    candidates: list[tuple[float, float, list[np.float32]]] = []
    if strategy.name == "economic":
        for lam_k in np.linspace(lam_min, lam_max, strategy.economic_candidates):
            w = [np.float32(ci[j] * float(mix.survival(s, float(lam_k)))) for j, s in enumerate(species)]
            candidates.append((float(lam_k), price_per_scale * float(lam_k), w))

    kernel = {"broadcast": k_broadcast, "threshold": k_threshold,
              "target_efficacy": k_target, "economic": k_economic}[strategy.name]
    bufs: list[tuple[str, Any]] = [("f_0", None), ("f_1", None), ("f_2", None), ("f_3", None),
                                   ("b_0", None), ("b_1", None)]
    bufs += [(f"n_{j}", None) for j in range(len(species))] if strategy.name == "economic" else []
    clock = time.perf_counter()
    dose_stats = _run(kernel, n_rows, n_cols, 1, threads, bufs)
    stage["dose"] = time.perf_counter() - clock
    unreached = int(dose_stats.get("unreached", 0))
    if masks.full_rate is not None:
        # Cells with no weed data that the caller chose to broadcast: the reference rate, buffers still masked.
        np.copyto(lam, np.float32(lam_ref), where=masks.full_rate & spray_ok)
    below_min = int(dose_stats.get("below_min", 0))

    # ---- sprayer mapping on blocks ------------------------------------------
    clock = time.perf_counter()
    blocks = aggregate_blocks(lam_p, fr, fc, cb_pad)
    mapping = SprayerMapping(blocks=blocks, rows_per_block=1, cols_per_block=1)
    if sprayer is not None:
        levels = None
        if sprayer.rate_levels:
            scaled = np.array(sorted(sprayer.rate_levels), dtype=np.float64) / ref[0]
            legal = scaled[(scaled >= lam_min * (1 - 1e-9)) & (scaled <= lam_max * (1 + 1e-9))]
            legal = np.clip(legal, lam_min, lam_max)
            if legal.size == 0:
                raise DosingError(
                    "no rate level of the sprayer ("
                    f"{', '.join(f'{v:g}' for v in sorted(sprayer.rate_levels))} "
                    f"{products[0].canonical_unit} of {products[0].name}) lies within the label range "
                    f"[{lam_min * ref[0]:g}, {lam_max * ref[0]:g}]"
                )
            levels = legal
        if strategy.name != "broadcast" or levels is not None:
            mapping = map_to_sprayer(blocks, sprayer, rows_per_block=fr, cols_per_block=fc,
                                     cell_size_m=grid.cell_size_m, lam_min=lam_min, levels_scale=levels)
        mapping.rows_per_block, mapping.cols_per_block = fr, fc

    stage["sprayer"] = time.perf_counter() - clock
    clock = time.perf_counter()

    # ---- rates, masking after mapping, and totals ---------------------------
    n_prod = len(products)
    rates = np.empty((n_prod, n_rows, n_cols), dtype=np.float32)
    r32 = [np.float32(r) for r in ref]
    hi32 = [_f32_at_most(c) for c in mix.caps]
    # The cap is law. Where the label minimum equals the maximum (single-rate
    # labels) and float32 cannot hold it, the minimum may round up past the cap:
    # then cells get the cap, one float32 step (~1e-7 relative) under the minimum.
    lo32 = [min(_f32_at_least(p.min_rate), hi) for p, hi in zip(products, hi32, strict=True)]
    k_ref = [1.0 - float(mix.survival(s, lam_ref)) for s in species]
    ci32 = [np.float32(v) for v in ci]
    kref_ci = [np.float32(ci[j] * k_ref[j]) for j in range(len(species))]
    nan32 = np.float32(np.nan)

    def k_emit(r0: int, r1: int, b: dict[str, np.ndarray]) -> dict[str, float]:
        n = r1 - r0
        b0, b1 = r0 // fr, -(-r1 // fr)
        nb_rows = b1 - b0
        blk = blocks[b0:b1, :cb]
        lam_p[r0:r0 + nb_rows * fr].reshape(nb_rows, fr, cb, fc)[...] = blk[:, None, :, None]
        lc = lam[r0:r1]
        spr, inf_ = spray_ok[r0:r1], in_field[r0:r1]
        np.multiply(lc, spr, out=lc)
        pos = np.greater(lc, 0.0, out=b["b_0"][:n])
        outside = np.logical_not(inf_, out=b["b_1"][:n])
        zone = np.logical_not(spr, out=b["b_2"][:n])
        zone &= inf_                                  # buffer zones and edge cells inside the field
        acc: dict[str, float] = {"treated": float(np.count_nonzero(pos)),
                                 "lam_sum": float(lc.sum(dtype=np.float32))}
        for k in range(n_prod):
            o = rates[k, r0:r1]
            np.multiply(lc, r32[k], out=o)
            np.minimum(o, hi32[k], out=o)
            np.maximum(o, lo32[k], out=o, where=pos)
            acc[f"max_{k}"] = float(o.max(initial=0.0, where=pos))
            acc[f"max_negmin_{k}"] = -float(o.min(initial=np.inf, where=pos))
            acc[f"max_zone_{k}"] = float(o.max(initial=0.0, where=zone))
            np.copyto(o, nan32, where=outside)
        # weeds and yield loss
        kc_full, nbuf, t = b["g_0"], b["f_0"][:n], b["f_1"][:n]
        cl0, clk, clb = b["f_2"][:n], b["f_3"][:n], b["f_4"][:n]
        cl0[...] = 0.0
        clk[...] = 0.0
        clb[...] = 0.0
        kc = kc_full[:n, :n_cols]
        for j, s in enumerate(species):
            np.fmax(dens[j][r0:r1], 0.0, out=nbuf)
            np.multiply(nbuf, inf_, out=nbuf)
            acc[f"n_{j}"] = float(nbuf.sum())
            kb = mix.survival(s, blk)
            np.subtract(np.float32(1.0), kb, out=kb)
            kc_full[:nb_rows * fr].reshape(nb_rows, fr, cb, fc)[...] = kb[:, None, :, None]
            np.multiply(kc, spr, out=kc)
            np.multiply(kc, nbuf, out=kc)
            acc[f"killed_{j}"] = float(kc.sum())
            np.multiply(kc, ci32[j], out=kc)
            clk += kc
            np.multiply(nbuf, ci32[j], out=t)
            cl0 += t
            np.multiply(nbuf, kref_ci[j], out=t)
            clb += t
        np.multiply(clb, spr, out=clb)
        np.subtract(cl0, clb, out=clb)
        np.subtract(cl0, clk, out=clk)
        for name, load in (("yl0", cl0), ("yl", clk), ("ylb", clb)):
            cousens_yield_loss_pct(load, yi, ya, out=t)
            acc[name] = float(t.sum())
        return acc

    ebufs: list[tuple[str, Any]] = [(f"f_{i}", None) for i in range(5)]
    ebufs += [("b_0", None), ("b_1", None), ("b_2", None), ("g_0", (cb * fc,))]
    st = _run(k_emit, n_rows, n_cols, fr, threads, ebufs)
    stage["emit"] = time.perf_counter() - clock

    # ---- summary --------------------------------------------------------
    cell_ha = grid.cell_area_ha
    n_field = int(np.count_nonzero(in_field))
    n_spray = int(np.count_nonzero(spray_ok))
    field_ha, spray_ha = n_field * cell_ha, n_spray * cell_ha
    lam_area = st["lam_sum"] * cell_ha
    totals = [lam_area * r for r in ref]
    bcast = [lam_ref * r * spray_ha for r in ref]
    saved = [b_ - t_ for b_, t_ in zip(bcast, totals, strict=True)]
    treated_ha = st["treated"] * cell_ha
    cell_m2 = grid.cell_area_m2
    untreated = [st[f"n_{j}"] * cell_m2 for j in range(len(species))]
    surviving = [(st[f"n_{j}"] - st[f"killed_{j}"]) * cell_m2 for j in range(len(species))]
    control = [100.0 * (1.0 - sv / un) if un > 0 and mix.has_curve(s) else None
               for s, un, sv in zip(species, untreated, surviving, strict=True)]
    yl0 = st["yl0"] / n_field if n_field else 0.0
    yl = st["yl"] / n_field if n_field else 0.0
    ylb = st["ylb"] / n_field if n_field else 0.0
    volume = treated_ha * (sprayer.carrier_l_ha if sprayer else 0.0)
    summary = Summary(
        field_area_ha=field_ha,
        sprayable_area_ha=spray_ha,
        treated_area_ha=treated_ha,
        product_total=totals,
        broadcast_total=bcast,
        saving_pct=[100.0 * s_ / b_ if b_ > 0 else 0.0 for s_, b_ in zip(saved, bcast, strict=True)],
        product_names=names,
        product_units=[p.canonical_unit.split("/")[0] for p in products],
        product_saved=saved,
        herbicide_cost=sum(pr * t_ for pr, t_ in zip(prices, totals, strict=True)),
        money_saved=sum(pr * s_ for pr, s_ in zip(prices, saved, strict=True)),
        species=species,
        weeds_untreated=untreated,
        weeds_surviving=surviving,
        control_pct=control,
        yield_loss_untreated_pct=yl0,
        yield_loss_pct=yl,
        yield_loss_broadcast_pct=ylb,
        yield_loss_vs_untreated_pct=yl - yl0,
        yield_loss_vs_broadcast_pct=yl - ylb,
        spray_volume_l=volume,
        tank_loads=math.ceil(volume / sprayer.tank_l - 1e-9) if sprayer else 0,
        min_rate_rule=strategy.min_rate_rule,
        cells_raised_to_min=below_min if raise_rule else 0,
        cells_skipped_below_min=0 if raise_rule else below_min,
        cells_target_unreached=unreached,
        block_m=[fr * grid.cell_size_m, fc * grid.cell_size_m],
    )

    # ---- compliance of the result -----------------------------------------
    for k, p in enumerate(products):
        top, low = st.get(f"max_{k}", 0.0), -st.get(f"max_negmin_{k}", -math.inf)
        cap = mix.caps[k]
        _note(compliance, "max_rate", "pass" if top <= cap else "fail",
              f"{p.name}: highest cell rate {top:g} {p.canonical_unit}, cap {cap:g}")
        ok_min = st["treated"] == 0 or low >= float(lo32[k])
        _note(compliance, "min_rate", "pass" if ok_min else "fail",
              f"{p.name}: lowest sprayed rate {low if st['treated'] else 0:g}, label minimum "
              f"{p.min_rate:g} {p.canonical_unit}")
        zone = st.get(f"max_zone_{k}", 0.0)
        _note(compliance, "no_spray_zones", "pass" if zone == 0 else "fail",
              f"{p.name}: highest rate in buffers and on the field edge {zone:g} {p.canonical_unit}")
    detail = (f"rule {strategy.min_rate_rule}: {below_min} cells needed less than the label minimum and were "
              + ("raised to it" if raise_rule else "left unsprayed"))
    _note(compliance, "min_rate_rule", "info", detail)
    if strategy.name == "target_efficacy" and unreached:
        _note(compliance, "control_target", "info",
              f"{unreached} cells need more than the label allows for the control target; "
              "dosed at the maximum")
    if sprayer is not None:
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
    return Prescription(grid=grid, products=products, rates=rates, summary=summary, compliance=compliance)
